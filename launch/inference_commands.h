// launch/inference_commands.h — using a trained checkpoint: `vrf infer` (new users' posterior,
// weights and uncertainty from their pairs), `vrf score` (rank candidate responses for a seen or a
// new user), `vrf export` (weights, standardization and seen users' state in one HDF5 file).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vrf::launch {

// args: everything after the command's name. Single process (no MPI). Return the exit code.
int run_infer_command(const std::vector<std::string>& args, std::ostream& out);
int run_score_command(const std::vector<std::string>& args, std::ostream& out);
int run_export_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace vrf::launch
