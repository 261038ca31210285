// launch/watchdog.cpp — Watchdog.
#include "launch/watchdog.h"

namespace vrf::launch {

Watchdog::Watchdog(double timeout_seconds,
                   std::function<void(int64_t step, double seconds)> on_timeout)
    : timeout_(timeout_seconds), on_timeout_(std::move(on_timeout)) {
  thread_ = std::thread([this] { watch(); });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Watchdog::arm(int64_t step) {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
  step_ = step;
  since_ = std::chrono::steady_clock::now();
}

void Watchdog::disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
}

void Watchdog::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    changed_.wait_for(lock, std::chrono::milliseconds(50));
    if (!armed_) continue;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
    if (seconds > timeout_) {
      armed_ = false;
      const int64_t step = step_;
      lock.unlock();
      on_timeout_(step, seconds);
      lock.lock();
    }
  }
}

}  // namespace vrf::launch
