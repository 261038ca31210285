// launch/cli.h — the `vrf` command line: global options and dispatch to subcommands.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace vrf::launch {

// One subcommand: `vrf <name> ...`. run() gets the arguments after the name and returns the exit
// code; it throws vrf::ConfigError / vrf::DataError on bad input.
struct Command {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args, std::ostream& out)> run;
};

// The subcommands this build provides, in help order.
const std::vector<Command>& commands();

// Parses `vrf [--help] [--version] <command> ...` (args excludes argv[0]) and runs it. Usage
// errors throw vrf::ConfigError; output goes to `out`.
int run_cli(const std::vector<std::string>& args, std::ostream& out);

std::string version_string();

}  // namespace vrf::launch
