// launch/eval_command.cpp — `vrf eval`.
#include "launch/eval_command.h"

#include <mpi.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "core/errors.h"
#include "distributed/communicator_factory.h"
#include "distributed/mpi_communicator.h"
#include "distributed/rank_agreement.h"
#include "launch/command_options.h"
#include "launch/evaluator.h"

namespace po = boost::program_options;

namespace vrf::launch {
namespace {

std::vector<int64_t> parse_shots(const std::string& text) {
  std::vector<int64_t> shots;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long k = std::stoll(item, &used);
      if (used != item.size() || k < 1) throw std::invalid_argument(item);
      shots.push_back(k);
    } catch (const std::exception&) {
      throw ConfigError("--shots: '" + item + "' is not a positive integer (e.g. --shots 1,2,5)");
    }
  }
  if (shots.empty()) throw ConfigError("--shots: give at least one k, e.g. --shots 1,2,5,10,20");
  return shots;
}

void write_text(const std::string& path, const std::string& text) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::ofstream file(path);
  file << text;
  if (!file) throw DataError(path + ": cannot write the report");
}

}  // namespace

int run_eval_command(const std::vector<std::string>& args, std::ostream& out) {
  std::string ckpt, train_path, test_path, unseen_path, shots = "1,2,5,10,20", report_path,
                                                        markdown_path;
  std::string label;
  std::vector<std::string> combine;
  EvalOptions options;
  po::options_description description("vrf eval options");
  // clang-format off
  description.add_options()
      ("ckpt", po::value(&ckpt),
       "checkpoint directory (its newest valid step) or one step directory")
      ("train", po::value(&train_path),
       "training store of the run (default: the --train recorded in the checkpoint)")
      ("test", po::value(&test_path),
       "held-out pairs of the seen users (test.h5; val.h5 to choose hyperparameters)")
      ("unseen", po::value(&unseen_path), "store of new users with context pairs (unseen.h5)")
      ("shots", po::value(&shots)->default_value(shots), "context pairs k of new users, a list")
      ("out", po::value(&report_path), "write the JSON report here")
      ("label", po::value(&label), "name of this run in comparison tables (default: the model)")
      ("combine", po::value(&combine)->multitoken(),
       "instead of evaluating: combine these JSON reports into one table (mean +- std per label)")
      ("markdown", po::value(&markdown_path), "write a Markdown table here")
      ("batch-users", po::value(&options.batch_users)->default_value(options.batch_users),
       "users scored per forward pass")
      ("bins", po::value(&options.calibration_bins)->default_value(options.calibration_bins),
       "equal-width bins of the expected calibration error")
      ("fit-steps", po::value(&options.fit_steps)->default_value(options.fit_steps),
       "factorized, new users: Adam steps fitting b_u with V frozen")
      ("fit-lr", po::value(&options.fit_lr)->default_value(options.fit_lr),
       "factorized, new users: learning rate of that fit");
  // clang-format on
  const auto vm = parse_command_options(
      "eval",
      "[mpirun -np N] vrf eval --ckpt PATH [--test FILE] [--unseen FILE] [--out REPORT.json]\n"
      "       vrf eval --combine REPORT.json... [--markdown TABLE.md]",
      description, args, out);
  if (!vm) return 0;
  if (!combine.empty()) {
    std::vector<nlohmann::json> reports;
    for (const auto& path : combine) {
      std::ifstream in(path);
      try {
        reports.push_back(nlohmann::json::parse(in));
      } catch (const nlohmann::json::exception& e) {
        throw DataError(path + ": not a JSON report of vrf eval (" + e.what() + ")");
      }
    }
    const std::string table = comparison_markdown(reports);
    if (!markdown_path.empty()) write_text(markdown_path, table);
    out << table;
    return 0;
  }
  if (ckpt.empty()) throw ConfigError("--ckpt is required (or --combine REPORTS...)");
  options.shots = parse_shots(shots);
  if (test_path.empty() && unseen_path.empty()) {
    throw ConfigError("give --test (seen users), --unseen (new users) or both");
  }
  if (options.batch_users < 1 || options.calibration_bins < 1 || options.fit_steps < 0) {
    throw ConfigError("--batch-users and --bins must be positive, --fit-steps >= 0");
  }

  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    VRF_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
  }
  int world = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  try {
    const auto communicator = dist::make_communicator("mpi");
    // Reading the inputs calls no collective: the ranks agree on its outcome, so a bad input
    // ends every rank with its message instead of aborting the job.
    std::optional<CheckpointModel> loaded;
    std::unique_ptr<io::PreferenceStore> train, test, unseen;
    dist::run_on_every_rank(*communicator, "setup", [&] {
      loaded = load_checkpoint_model(ckpt);
      if (train_path.empty()) train_path = loaded->train_path;
      train = std::make_unique<io::PreferenceStore>(train_path);
      const auto& shape = loaded->checkpoint.manifest.store;
      if (shape.value("users", int64_t{-1}) != train->num_users() ||
          shape.value("embedding_dim", int64_t{-1}) != train->embedding_dim()) {
        throw DataError("checkpoint " + loaded->checkpoint.dir +
                        " was trained on a store of shape " + shape.dump() + " but --train " +
                        train_path + " has " + std::to_string(train->num_users()) +
                        " users of dimension " + std::to_string(train->embedding_dim()) +
                        "; pass the run's training store");
      }
      if (!test_path.empty()) test = std::make_unique<io::PreferenceStore>(test_path);
      if (!unseen_path.empty()) unseen = std::make_unique<io::PreferenceStore>(unseen_path);
      for (const auto* store : {test.get(), unseen.get()}) {
        if (store != nullptr && store->embedding_dim() != loaded->config.input_dim) {
          throw DataError(store->path() + ": embedding_dim " +
                          std::to_string(store->embedding_dim()) + " but the model expects " +
                          std::to_string(loaded->config.input_dim));
        }
      }
    });
    auto report = evaluate(*loaded, *train, test.get(), unseen.get(), options, *communicator);
    report["label"] = label.empty() ? report["model"].get<std::string>() : label;
    if (rank == 0) {
      if (!report_path.empty()) write_text(report_path, report.dump(2) + "\n");
      const std::string markdown = report_markdown(report);
      if (!markdown_path.empty()) write_text(markdown_path, markdown);
      out << markdown;
    }
  } catch (const std::exception&) {
    // main reports it: an agreed failure ends every rank, any other aborts the job so that no
    // rank is left waiting in a collective. A single process reports a plain error.
    if (world == 1 && !initialized) MPI_Finalize();
    throw;
  }
  if (!initialized) MPI_Finalize();
  return 0;
}

}  // namespace vrf::launch
