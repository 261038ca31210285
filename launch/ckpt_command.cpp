// launch/ckpt_command.cpp — `vrf ckpt inspect PATH [--json]`.
#include "launch/ckpt_command.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/errors.h"
#include "io/checkpoint_directory.h"
#include "io/tensor_file.h"
#include "launch/command_options.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace vrf::launch {
namespace {

// What one step directory holds and whether it is committed and valid.
nlohmann::json describe_step(const std::string& dir) {
  nlohmann::json out = {{"path", dir}, {"committed", io::is_committed(dir)}};
  if (!out["committed"]) {
    out["valid"] = false;
    out["error"] = "no manifest.json: an interrupted write, never loaded";
    return out;
  }
  try {
    const auto manifest = io::validate_checkpoint(dir);
    out["valid"] = true;
    out["step"] = manifest.step;
    out["epoch"] = manifest.epoch;
    out["world_size"] = manifest.world_size;
    out["store"] = manifest.store;
    out["model"] = manifest.config.value("model", nlohmann::json::object());
    int64_t bytes = 0;
    nlohmann::json shards = nlohmann::json::array();
    for (const auto& f : manifest.files) bytes += f.bytes;
    for (const auto& f : manifest.users_files()) {
      shards.push_back({{"file", f.name},
                        {"users", {f.user_begin, f.user_end}},
                        {"num_users", f.user_end - f.user_begin},
                        {"bytes", f.bytes}});
    }
    out["bytes"] = bytes;
    out["shards"] = shards;
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [name, tensor] :
         io::read_tensor_file((fs::path(dir) / io::kSharedFileName).string(), "/params")) {
      params[name] = tensor.sizes().vec();
    }
    out["parameters"] = params;
  } catch (const DataError& e) {
    out["valid"] = false;
    out["error"] = e.what();
  }
  return out;
}

void print_step(const nlohmann::json& s, std::ostream& out) {
  out << s["path"].get<std::string>() << ": "
      << (!s["committed"] ? "NOT COMMITTED"
          : s["valid"]    ? "committed, valid"
                          : "INVALID")
      << "\n";
  if (!s["valid"]) {
    out << "  " << s["error"].get<std::string>() << "\n";
    return;
  }
  out << "  step " << s["step"] << ", epoch " << s["epoch"] << ", world size " << s["world_size"]
      << ", " << s["bytes"] << " bytes\n"
      << "  model " << s["model"].dump() << "\n  store " << s["store"].dump() << "\n";
  for (const auto& shard : s["shards"]) {
    out << "  " << shard["file"].get<std::string>() << ": users [" << shard["users"][0] << ", "
        << shard["users"][1] << ") = " << shard["num_users"] << ", " << shard["bytes"]
        << " bytes\n";
  }
  out << "  parameters:\n";
  for (const auto& [name, shape] : s["parameters"].items()) {
    out << "    " << name << " " << shape.dump() << "\n";
  }
}

int run_inspect(const std::vector<std::string>& args, std::ostream& out) {
  std::string path;
  bool json = false;
  po::options_description options("vrf ckpt inspect options");
  options.add_options()("path", po::value(&path)->required(),
                        "a step directory, or a checkpoint directory (positional)")(
      "json", po::bool_switch(&json), "print one JSON object");
  const auto vm = parse_command_options("ckpt inspect", "vrf ckpt inspect PATH [--json]", options,
                                        args, out, {"path"});
  if (!vm) return 0;
  if (!fs::is_directory(path)) throw DataError(path + ": no such directory");
  nlohmann::json report;
  bool valid = false;
  const auto steps = io::list_step_directories(path);
  if (fs::exists(fs::path(path) / io::kManifestName) || steps.empty()) {
    report = describe_step(path);
    valid = report["valid"];
  } else {
    report = {{"checkpoint_dir", path}, {"steps", nlohmann::json::array()}};
    for (const auto& [step, dir] : steps) report["steps"].push_back(describe_step(dir));
    for (auto it = report["steps"].rbegin(); it != report["steps"].rend(); ++it) {
      if ((*it)["valid"]) {
        report["newest_valid"] = (*it)["path"];
        valid = true;
        break;
      }
    }
  }
  if (json) {
    out << report.dump(2) << "\n";
  } else if (report.contains("steps")) {
    out << "checkpoint directory " << path << ": " << steps.size() << " step(s); newest valid: "
        << (valid ? report["newest_valid"].get<std::string>() : "none") << "\n";
    for (const auto& s : report["steps"]) print_step(s, out);
  } else {
    print_step(report, out);
  }
  return valid ? 0 : 1;
}

}  // namespace

int run_ckpt_command(const std::vector<std::string>& args, std::ostream& out) {
  const std::string help =
      "Usage: vrf ckpt inspect PATH [--json]\n\n"
      "  inspect   what a checkpoint holds and whether it is committed and valid\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    out << help;
    return 0;
  }
  if (args[0] == "inspect") return run_inspect({args.begin() + 1, args.end()}, out);
  throw ConfigError("vrf ckpt: unknown command '" + args[0] + "'\n" + help);
}

}  // namespace vrf::launch
