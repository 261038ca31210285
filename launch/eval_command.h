// launch/eval_command.h — `vrf eval`: the metrics of DESIGN.md section 6 for one checkpoint.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vrf::launch {

// args: everything after `vrf eval`. Runs under mpirun/srun (any number of ranks) or alone.
int run_eval_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace vrf::launch
