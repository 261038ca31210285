// launch/command_options.h — parsing of one subcommand's options: command line, then an optional
// INI file given by --config, with --help.
#pragma once

#include <boost/program_options.hpp>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace vrf::launch {

// Adds --help and --config to `options`, parses `args` (and the INI file of --config, whose
// values the command line overrides). `positional` names options that may be given without a flag
// (in order). Returns nullopt after printing the help (usage line + options) to `out`. Unknown or
// malformed options throw vrf::ConfigError naming the command.
std::optional<boost::program_options::variables_map> parse_command_options(
    const std::string& command, const std::string& usage,
    boost::program_options::options_description options, const std::vector<std::string>& args,
    std::ostream& out, const std::vector<std::string>& positional = {});

}  // namespace vrf::launch
