// launch/ckpt_command.h — `vrf ckpt inspect`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vrf::launch {

// args: everything after `vrf ckpt`. Returns the exit code: 0 when the inspected checkpoint (or,
// for a checkpoint directory, its newest committed one) is committed and valid, 1 otherwise.
int run_ckpt_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace vrf::launch
