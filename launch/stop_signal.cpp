// launch/stop_signal.cpp — the stop flag and its signal handlers.
#include "launch/stop_signal.h"

#include <csignal>

namespace vrf::launch {
namespace {

volatile std::sig_atomic_t g_stop = 0;  // a signal handler can only reach a global

extern "C" void on_stop_signal(int) { g_stop = 1; }

}  // namespace

void install_stop_signal_handlers() {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGUSR1, on_stop_signal);
}

bool stop_requested() { return g_stop != 0; }

void set_stop_requested(bool value) { g_stop = value ? 1 : 0; }

}  // namespace vrf::launch
