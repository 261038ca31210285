// launch/data_commands.h — `vrf data synth | import | inspect`.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace vrf::launch {

// args: everything after `vrf data`. Returns the exit code; bad input throws vrf::ConfigError /
// vrf::DataError (inspect --json reports an invalid store as JSON and returns 1 instead).
int run_data_command(const std::vector<std::string>& args, std::ostream& out);

}  // namespace vrf::launch
