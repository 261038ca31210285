// launch/train_command.h — `vrf train`: flags -> TrainConfig, MPI start-up, the Trainer.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vrf::launch {

// args: everything after `vrf train`. Initializes MPI (unless already initialized) and finalizes
// it on success; on failure the exception propagates with MPI still running, so that main()
// can abort the whole job.
int run_train_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace vrf::launch
