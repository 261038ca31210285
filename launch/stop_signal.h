// launch/stop_signal.h — SIGTERM / SIGUSR1 (SLURM's warning before the time limit) as a stop
// request that the training loop polls and the ranks agree on.
#pragma once

namespace vrf::launch {

// Installs handlers for SIGTERM and SIGUSR1 that only set a flag (async-signal-safe). The flag is
// process-wide, as signals are.
void install_stop_signal_handlers();
bool stop_requested();
// Tests: set or clear the flag as a signal would.
void set_stop_requested(bool value);

}  // namespace vrf::launch
