// launch/data_commands.cpp — the `vrf data` subcommands: flags -> io configs -> io functions.
#include "launch/data_commands.h"

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/errors.h"
#include "io/jsonl_importer.h"
#include "io/store_summary.h"
#include "io/synthetic_benchmark.h"
#include "launch/command_options.h"

namespace po = boost::program_options;

namespace vrf::launch {
namespace {

int run_synth(const std::vector<std::string>& args, std::ostream& out) {
  io::SynthConfig c;
  std::string dtype = "float32";
  po::options_description options("vrf data synth options");
  // clang-format off
  options.add_options()
      ("out", po::value(&c.out_dir)->required(), "output directory; receives train.h5, val.h5, "
                                                 "test.h5 and unseen.h5")
      ("prompts", po::value(&c.prompts)->default_value(c.prompts), "number of prompts P")
      ("responses-per-prompt", po::value(&c.responses_per_prompt)->default_value(c.responses_per_prompt),
       "responses per prompt M")
      ("attributes", po::value(&c.attributes)->default_value(c.attributes),
       "latent attributes per response A")
      ("dim", po::value(&c.dim)->default_value(c.dim), "embedding width D")
      ("nuisance", po::value(&c.nuisance)->default_value(c.nuisance),
       "std of the Gaussian noise added to the embeddings phi = W a + nuisance * eps")
      ("users", po::value(&c.users)->default_value(c.users), "seen users (train/val/test)")
      ("unseen-users", po::value(&c.unseen_users)->default_value(c.unseen_users),
       "new users (unseen.h5)")
      ("alpha", po::value(&c.alpha)->default_value(c.alpha),
       "Dirichlet concentration of user weights (small: sparse users)")
      ("rationality-min", po::value(&c.rationality_min)->default_value(c.rationality_min),
       "lowest user rationality beta_u (log-uniform)")
      ("rationality-max", po::value(&c.rationality_max)->default_value(c.rationality_max),
       "highest user rationality beta_u")
      ("pairs-min", po::value(&c.pairs_min)->default_value(c.pairs_min),
       "fewest training pairs per seen user")
      ("pairs-max", po::value(&c.pairs_max)->default_value(c.pairs_max),
       "most training pairs per seen user")
      ("pairs-dist", po::value(&c.pairs_dist)->default_value(c.pairs_dist),
       "training pairs per user: uniform or zipf (heavy tail)")
      ("zipf-exponent", po::value(&c.zipf_exponent)->default_value(c.zipf_exponent),
       "exponent s of --pairs-dist zipf, P(n) ~ n^-s")
      ("val-pairs", po::value(&c.val_pairs)->default_value(c.val_pairs),
       "pairs per seen user in val.h5")
      ("test-pairs", po::value(&c.test_pairs)->default_value(c.test_pairs),
       "test pairs per user in test.h5 and unseen.h5")
      ("context-pairs", po::value(&c.context_pairs)->default_value(c.context_pairs),
       "context pairs per unseen user (first in unseen.h5)")
      ("seed", po::value(&c.seed)->default_value(c.seed), "random seed; same seed, same bytes")
      ("dtype", po::value(&dtype)->default_value(dtype), "embedding dtype: float16 or float32")
      ("compress", po::bool_switch(&c.compress), "shuffle + deflate every dataset")
      ("force", po::bool_switch(&c.force), "overwrite existing output files");
  // clang-format on
  const auto vm =
      parse_command_options("data synth", "vrf data synth --out DIR [options]", options, args, out);
  if (!vm) return 0;
  c.dtype = io::parse_embedding_dtype(dtype, "--dtype");
  const auto s = io::write_synthetic_benchmark(c, &std::cerr);
  out << "wrote " << c.out_dir << "/{train,val,test,unseen}.h5: " << s.responses << " responses, "
      << c.users << " seen users (" << s.train_pairs << " train, " << s.val_pairs << " val, "
      << s.test_pairs << " test pairs), " << c.unseen_users << " unseen users (" << s.unseen_pairs
      << " pairs)\n";
  return 0;
}

int run_import(const std::vector<std::string>& args, std::ostream& out) {
  io::JsonlImportOptions o;
  std::string dtype = "float32";
  po::options_description options("vrf data import options");
  // clang-format off
  options.add_options()
      ("jsonl", po::value(&o.jsonl_path)->required(),
       "input: one JSON object per line, {\"user\", \"prompt\", \"chosen\", \"rejected\"} with "
       "embedding arrays or strings (io/jsonl_importer.h)")
      ("out", po::value(&o.out_path)->required(), "the store to write (.h5)")
      ("text-dim", po::value(&o.text_dim)->default_value(o.text_dim),
       "embedding width D of the hashing n-gram featurizer used for string responses")
      ("dtype", po::value(&dtype)->default_value(dtype), "embedding dtype: float16 or float32")
      ("compress", po::bool_switch(&o.compress), "shuffle + deflate every dataset")
      ("sort-memory-mb", po::value(&o.sort_memory_mb)->default_value(o.sort_memory_mb),
       "MiB of pair records sorted in memory before a run is spilled to disk")
      ("force", po::bool_switch(&o.overwrite), "overwrite an existing output file");
  // clang-format on
  const auto vm = parse_command_options("data import", "vrf data import --jsonl FILE --out FILE.h5",
                                        options, args, out);
  if (!vm) return 0;
  o.dtype = io::parse_embedding_dtype(dtype, "--dtype");
  const auto s = io::import_jsonl(o, &std::cerr);
  out << "wrote " << o.out_path << ": " << s.users << " users, " << s.pairs << " pairs, "
      << s.responses << " distinct responses, D = " << s.embedding_dim
      << (s.text ? " (hashed text features)" : " (embeddings)") << "\n";
  return 0;
}

nlohmann::json summary_json(const io::StoreSummary& s) {
  nlohmann::json j;
  j["path"] = s.path;
  j["valid"] = true;
  j["users"] = s.users;
  j["pairs"] = s.pairs;
  j["responses"] = s.responses;
  j["embedding_dim"] = s.embedding_dim;
  j["dtype"] = io::to_string(s.dtype);
  for (const auto& [name, value] : s.pairs_per_user) j["pairs_per_user"][name] = value;
  j["has_num_context"] = s.has_num_context;
  j["has_truth"] = s.has_truth;
  for (const auto& d : s.datasets) {
    j["datasets"][d.path] = {{"shape", d.shape}, {"chunk", d.chunk}, {"deflate", d.compressed}};
  }
  return j;
}

int run_inspect(const std::vector<std::string>& args, std::ostream& out) {
  std::string file;
  bool json = false;
  po::options_description options("vrf data inspect options");
  options.add_options()("file", po::value(&file)->required(), "the store to inspect (positional)")(
      "json", po::bool_switch(&json), "print the summary as one JSON object");
  const auto vm = parse_command_options("data inspect", "vrf data inspect FILE [--json]", options,
                                        args, out, {"file"});
  if (!vm) return 0;
  if (json) {
    try {
      out << summary_json(io::summarize_store(file)).dump(2) << "\n";
    } catch (const DataError& e) {
      out << nlohmann::json{{"path", file}, {"valid", false}, {"error", e.what()}}.dump(2) << "\n";
      return 1;
    }
    return 0;
  }
  const auto s = io::summarize_store(file);
  out << "store:          " << s.path << "\n"
      << "users:          " << s.users << "\n"
      << "pairs:          " << s.pairs << "\n"
      << "responses:      " << s.responses << "\n"
      << "embedding:      D = " << s.embedding_dim << ", " << io::to_string(s.dtype) << "\n"
      << "pairs per user:";
  for (const auto& [name, value] : s.pairs_per_user) out << " " << name << " " << value;
  out << "\nnum_context:    " << (s.has_num_context ? "yes (store of new users)" : "no") << "\n"
      << "truth:          " << (s.has_truth ? "yes" : "no") << "\n"
      << "datasets:\n";
  for (const auto& d : s.datasets) {
    std::ostringstream shape, chunk;
    for (size_t i = 0; i < d.shape.size(); ++i) shape << (i ? " x " : "") << d.shape[i];
    for (size_t i = 0; i < d.chunk.size(); ++i) chunk << (i ? " x " : "") << d.chunk[i];
    out << "  " << std::left << std::setw(22) << d.path << std::setw(14) << shape.str()
        << " chunks " << std::setw(12) << (d.chunk.empty() ? "none" : chunk.str())
        << (d.compressed ? " deflate" : " uncompressed") << "\n";
  }
  out << "valid:          yes (every rule of io/FORMAT.md checked)\n";
  return 0;
}

}  // namespace

int run_data_command(const std::vector<std::string>& args, std::ostream& out) {
  const std::string help =
      "Usage: vrf data <synth|import|inspect> [options]\n\n"
      "  synth     write the synthetic benchmark (train/val/test/unseen stores with truth)\n"
      "  import    convert JSONL preference pairs (embeddings or text) into a store\n"
      "  inspect   summarize and fully validate a store\n\n"
      "Run 'vrf data <command> --help' for its options.\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    out << help;
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "synth") return run_synth(rest, out);
  if (args[0] == "import") return run_import(rest, out);
  if (args[0] == "inspect") return run_inspect(rest, out);
  throw ConfigError("vrf data: unknown command '" + args[0] +
                    "'; expected synth, import or inspect");
}

}  // namespace vrf::launch
