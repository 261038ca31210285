// tests/launch/watchdog_test.cpp — the watchdog fires once for a step that runs too long, and never
// for steps that finish in time.
#include "launch/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>

namespace vrf::launch {
namespace {

TEST(WatchdogTest, FiresOnceForAStepPastTheTimeout) {
  std::atomic<int> fired{0};
  std::atomic<int64_t> fired_step{-1};
  {
    Watchdog watchdog(0.2, [&](int64_t step, double seconds) {
      EXPECT_GT(seconds, 0.2);
      fired_step = step;
      ++fired;
    });
    for (int64_t step = 0; step < 5; ++step) {  // quick steps: no alarm
      watchdog.arm(step);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      watchdog.disarm();
    }
    EXPECT_EQ(fired, 0);
    watchdog.arm(7);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  EXPECT_EQ(fired, 1) << "fires once per armed step";
  EXPECT_EQ(fired_step, 7);
}

}  // namespace
}  // namespace vrf::launch
