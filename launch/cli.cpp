// launch/cli.cpp — top-level option parsing and subcommand dispatch.
#include "launch/cli.h"

#include <algorithm>
#include <boost/program_options.hpp>
#include <iomanip>
#include <ostream>

#include "core/errors.h"
#include "launch/ckpt_command.h"
#include "launch/data_commands.h"
#include "launch/eval_command.h"
#include "launch/inference_commands.h"
#include "launch/train_command.h"

namespace po = boost::program_options;

namespace vrf::launch {
namespace {

void print_help(const po::options_description& options, std::ostream& out) {
  const bool has_commands = !commands().empty();
  out << "vrf " << version_string()
      << " - Variational Reward Factorization: personalized reward models for LLMs,\n"
         "trained data-parallel over MPI ranks.\n\n"
      << "Usage: vrf [options]" << (has_commands ? " <command> [command options]" : "") << "\n\n"
      << options;
  if (has_commands) {
    out << "\nCommands:\n";
    for (const auto& command : commands()) {
      out << "  " << std::left << std::setw(16) << command.name << command.summary << "\n";
    }
    out << "\nRun 'vrf <command> --help' for the options of a command.\n";
  }
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"data", "synthesize, import and inspect preference stores", run_data_command},
      {"train", "train a model data-parallel (run under mpirun / srun)", run_train_command},
      {"eval", "evaluate a checkpoint: seen and new users, calibration, best-of-N",
       run_eval_command},
      {"infer", "a new user's posterior, weights and uncertainty from a few pairs",
       run_infer_command},
      {"score", "rank candidate responses for a seen or a new user", run_score_command},
      {"export", "write a checkpoint's weights to one portable HDF5 file", run_export_command},
      {"ckpt", "inspect checkpoints: committed, valid, what they hold", run_ckpt_command},
  };
  return kCommands;
}

std::string version_string() { return VRF_VERSION; }

int run_cli(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description options("Options");
  options.add_options()("help,h", "print this help and exit")("version",
                                                              "print the version and exit");
  // Everything from the first positional argument on belongs to the subcommand.
  const auto first_positional = std::find_if(
      args.begin(), args.end(), [](const std::string& a) { return a.empty() || a[0] != '-'; });
  const std::vector<std::string> global(args.begin(), first_positional);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(global).options(options).run(), vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + "; run 'vrf --help' for the options");
  }
  if (vm.count("help") || args.empty()) {
    print_help(options, out);
    return 0;
  }
  if (vm.count("version")) {
    out << "vrf " << version_string() << "\n";
    return 0;
  }
  if (first_positional == args.end()) {
    throw ConfigError("no command given; run 'vrf --help'");
  }
  for (const auto& command : commands()) {
    if (command.name == *first_positional) {
      return command.run(std::vector<std::string>(first_positional + 1, args.end()), out);
    }
  }
  throw ConfigError("unknown command '" + *first_positional + "'; run 'vrf --help' for the list");
}

}  // namespace vrf::launch
