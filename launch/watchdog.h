// launch/watchdog.h — aborts the job when one training step takes longer than a limit, so that a
// rank stuck in a collective (a peer died, a deadlock) never hangs the job.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace vrf::launch {

// A background thread checks every 50 ms whether the armed step has run past `timeout`; if so it
// calls `on_timeout(step, seconds)` once (which is expected not to return: it aborts the job).
// arm()/disarm() are called by the training thread around each step.
class Watchdog {
 public:
  Watchdog(double timeout_seconds, std::function<void(int64_t step, double seconds)> on_timeout);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(int64_t step);
  void disarm();

 private:
  void watch();

  double timeout_;
  std::function<void(int64_t, double)> on_timeout_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false, stopping_ = false;
  int64_t step_ = 0;
  std::chrono::steady_clock::time_point since_;
  std::thread thread_;
};

}  // namespace vrf::launch
