// launch/command_options.cpp — parse_command_options.
#include "launch/command_options.h"

#include <fstream>
#include <ostream>

#include "core/errors.h"

namespace po = boost::program_options;

namespace vrf::launch {

std::optional<po::variables_map> parse_command_options(const std::string& command,
                                                       const std::string& usage,
                                                       po::options_description options,
                                                       const std::vector<std::string>& args,
                                                       std::ostream& out,
                                                       const std::vector<std::string>& positional) {
  options.add_options()("config", po::value<std::string>(),
                        "INI file with more of these options (name = value); the command line "
                        "overrides it")("help,h", "print this help and exit");
  po::positional_options_description positions;
  for (const auto& name : positional) positions.add(name.c_str(), 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positions).run(), vm);
    if (vm.count("help")) {
      out << "Usage: " << usage << "\n\n" << options;
      return std::nullopt;
    }
    if (vm.count("config")) {
      const auto file = vm["config"].as<std::string>();
      std::ifstream in(file);
      if (!in)
        throw ConfigError("vrf " + command + ": --config " + file + ": cannot read the file");
      po::store(po::parse_config_file(in, options), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError("vrf " + command + ": " + e.what() + "; run 'vrf " + command +
                      " --help' for the options");
  }
  return vm;
}

}  // namespace vrf::launch
