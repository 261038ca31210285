// launch/inference_commands.cpp — `vrf infer`, `vrf score`, `vrf export`.
#include "launch/inference_commands.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "core/errors.h"
#include "core/vrf_model.h"
#include "io/preference_store.h"
#include "io/tensor_file.h"
#include "io/text_featurizer.h"
#include "launch/command_options.h"
#include "launch/evaluator.h"

namespace po = boost::program_options;

namespace vrf::launch {
namespace {

// One response: an embedding array of the model's width, or text featurized to that width.
std::vector<float> response_vector(const nlohmann::json& value, int64_t dim,
                                   const std::string& where) {
  std::vector<float> out(static_cast<size_t>(dim), 0.0f);
  if (value.is_string()) {
    io::TextFeaturizer(dim).featurize(value.get<std::string>(), out.data());
  } else if (value.is_array() && static_cast<int64_t>(value.size()) == dim) {
    for (int64_t i = 0; i < dim; ++i) {
      if (!value[i].is_number())
        throw DataError(where + ": element " + std::to_string(i) +
                        " of the embedding is not a number");
      out[i] = value[i].get<float>();
    }
  } else {
    throw DataError(where + ": expected an embedding array of " + std::to_string(dim) +
                    " numbers (the model's input dimension) or a text string");
  }
  return out;
}

// Calls visit(object, "FILE:LINE") for each non-blank line of a JSONL file; throws vrf::DataError
// naming the line when it is not a JSON object with every key of `required`.
template <typename Visit>
void for_each_jsonl_object(const std::string& path, const std::vector<std::string>& required,
                           const std::string& expected, Visit visit) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(where + ": not JSON (" + e.what() + ")");
    }
    bool complete = j.is_object();
    for (const auto& key : required) complete = complete && j.contains(key);
    if (!complete) throw DataError(where + ": expected " + expected);
    visit(j, where);
  }
}

// A JSON scalar id as text: strings as they are, numbers as written.
std::string id_text(const nlohmann::json& id) {
  return id.is_string() ? id.get<std::string>() : id.dump();
}

// New users given by their pairs.
struct PairsOfUser {
  std::string id;
  std::vector<std::vector<float>> chosen, rejected;
};

// JSONL lines {"user": ..., "chosen": ..., "rejected": ...} (users in order of first appearance),
// or a store (each user's context pairs when it has /users/num_context, else all its pairs).
std::vector<PairsOfUser> read_new_users(const std::string& path, int64_t dim) {
  std::vector<PairsOfUser> users;
  if (path.size() > 3 && path.substr(path.size() - 3) == ".h5") {
    const io::PreferenceStore store(path);
    if (store.embedding_dim() != dim) {
      throw DataError(path + ": embedding_dim " + std::to_string(store.embedding_dim()) +
                      " but the model expects " + std::to_string(dim));
    }
    std::vector<int64_t> chosen, rejected;
    std::vector<float> row(static_cast<size_t>(dim));
    for (int64_t u = 0; u < store.num_users(); ++u) {
      const int64_t from = store.offsets()[u];
      const int64_t to = store.has_num_context() && !store.num_context().empty()
                             ? from + store.num_context()[u]
                             : store.offsets()[u + 1];
      store.read_pairs(from, to, chosen, rejected);
      PairsOfUser user{std::to_string(store.user_ids()[u]), {}, {}};
      for (size_t j = 0; j < chosen.size(); ++j) {
        store.read_embeddings(chosen[j], chosen[j] + 1, row.data());
        user.chosen.push_back(row);
        store.read_embeddings(rejected[j], rejected[j] + 1, row.data());
        user.rejected.push_back(row);
      }
      users.push_back(std::move(user));
    }
    return users;
  }
  std::map<std::string, size_t> index;
  for_each_jsonl_object(
      path, {"user", "chosen", "rejected"},
      "{\"user\": ..., \"chosen\": ..., \"rejected\": ...} (or give a .h5 store)",
      [&](const nlohmann::json& j, const std::string& where) {
        const auto [it, added] = index.emplace(id_text(j["user"]), users.size());
        if (added) users.push_back({id_text(j["user"]), {}, {}});
        users[it->second].chosen.push_back(response_vector(j["chosen"], dim, where + " chosen"));
        users[it->second].rejected.push_back(
            response_vector(j["rejected"], dim, where + " rejected"));
      });
  if (users.empty()) throw DataError(path + ": no pairs");
  return users;
}

// The users' pairs as both context and queries (what infer_new_users expects).
core::PairBatch new_user_batch(const std::vector<PairsOfUser>& users, int64_t dim) {
  int64_t most = 1;
  for (const auto& u : users) most = std::max<int64_t>(most, static_cast<int64_t>(u.chosen.size()));
  const int64_t b = static_cast<int64_t>(users.size());
  core::PairBatch batch;
  batch.context_delta = torch::zeros({b, most, dim});
  batch.context_mask = torch::zeros({b, most});
  batch.query_chosen = torch::zeros({b, most, dim});
  batch.user_rows = torch::arange(b, torch::kInt64);
  for (int64_t i = 0; i < b; ++i) {
    for (size_t j = 0; j < users[i].chosen.size(); ++j) {
      const auto c = torch::tensor(users[i].chosen[j]), r = torch::tensor(users[i].rejected[j]);
      batch.context_delta[i][j].copy_(c - r);
      batch.context_mask[i][j] = 1;
      batch.query_chosen[i][j].copy_(c);
    }
  }
  batch.query_delta = batch.context_delta;
  batch.query_mask = batch.context_mask;
  return batch;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Basis weights of users in `state` (vrf, factorized); undefined for bt and vpl.
torch::Tensor weights_of(core::RewardModelImpl& model, const UserState& state) {
  torch::NoGradGuard no_grad;
  if (auto* vrf = dynamic_cast<core::VrfModelImpl*>(&model)) {
    return vrf->weights_of(state.posterior);
  }
  if (state.user_params.defined()) return torch::softmax(state.user_params, -1);
  return {};
}

void write_json(const std::string& path, const nlohmann::json& json, std::ostream& out) {
  if (path.empty() || path == "-") {
    out << json.dump(2) << "\n";
    return;
  }
  std::ofstream file(path);
  file << json.dump(2) << "\n";
  if (!file) throw DataError(path + ": cannot write");
}

int64_t train_row_of(const io::PreferenceStore& train, const std::string& id_text) {
  int64_t id = 0;
  try {
    size_t used = 0;
    id = std::stoll(id_text, &used);
    if (used != id_text.size()) throw std::invalid_argument(id_text);
  } catch (const std::exception&) {
    throw ConfigError("--user " + id_text + ": seen user ids are the int64 ids of the store");
  }
  const auto& ids = train.user_ids();
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) {
    throw DataError("--user " + id_text + ": no such user in the training store " + train.path() +
                    " (a new user is scored from its pairs: --pairs FILE)");
  }
  return it - ids.begin();
}

}  // namespace

int run_infer_command(const std::vector<std::string>& args, std::ostream& out) {
  std::string ckpt, pairs, out_path;
  int64_t fit_steps = 100;
  double fit_lr = 0.1;
  po::options_description description("vrf infer options");
  // clang-format off
  description.add_options()
      ("ckpt", po::value(&ckpt)->required(), "checkpoint directory or step directory")
      ("pairs", po::value(&pairs)->required(),
       "the new users' pairs: JSONL {\"user\", \"chosen\", \"rejected\"} (embedding arrays or "
       "text) or a .h5 store (its context pairs)")
      ("out", po::value(&out_path), "write the JSON here (default: stdout)")
      ("fit-steps", po::value(&fit_steps)->default_value(fit_steps),
       "factorized: Adam steps fitting b_u with V frozen")
      ("fit-lr", po::value(&fit_lr)->default_value(fit_lr), "factorized: learning rate of that fit");
  // clang-format on
  const auto vm = parse_command_options(
      "infer", "vrf infer --ckpt PATH --pairs FILE [--out FILE.json]", description, args, out);
  if (!vm) return 0;
  const auto loaded = load_checkpoint_model(ckpt);
  auto& model = *loaded.model;
  const auto users = read_new_users(pairs, loaded.config.input_dim);
  const auto batch = new_user_batch(users, loaded.config.input_dim);
  const auto state = infer_new_users(model, batch, fit_steps, fit_lr);
  const auto weights = weights_of(model, state);
  nlohmann::json result = {{"model", core::to_string(loaded.config.kind)},
                           {"checkpoint", loaded.checkpoint.dir},
                           {"users", nlohmann::json::array()}};
  for (size_t i = 0; i < users.size(); ++i) {
    nlohmann::json user = {{"user", users[i].id}, {"pairs", users[i].chosen.size()}};
    if (state.posterior.mean.defined()) {
      user["posterior_mean"] = to_vector(state.posterior.mean[i]);
      user["posterior_variance"] = to_vector(torch::exp(state.posterior.logvar[i]));
      user["uncertainty"] = state.posterior.logvar[i].mean().item<double>();
    }
    if (weights.defined()) user["weights"] = to_vector(weights[i]);
    if (state.user_params.defined()) user["logits"] = to_vector(state.user_params[i]);
    result["users"].push_back(user);
  }
  write_json(out_path, result, out);
  return 0;
}

int run_score_command(const std::vector<std::string>& args, std::ostream& out) {
  std::string ckpt, user, pairs, candidates, train_path, out_path;
  int64_t fit_steps = 100;
  double fit_lr = 0.1;
  po::options_description description("vrf score options");
  // clang-format off
  description.add_options()
      ("ckpt", po::value(&ckpt)->required(), "checkpoint directory or step directory")
      ("user", po::value(&user), "a seen user's id (its stored posterior or logits)")
      ("pairs", po::value(&pairs),
       "a new user's pairs, JSONL or .h5 (instead of --user; with several users, --user picks)")
      ("candidates", po::value(&candidates)->required(),
       "JSONL lines {\"id\": ..., \"response\": embedding array or text}")
      ("train", po::value(&train_path),
       "training store, to find --user (default: the checkpoint's --train)")
      ("out", po::value(&out_path), "also write the ranking as JSON here")
      ("fit-steps", po::value(&fit_steps)->default_value(fit_steps),
       "factorized, new user: Adam steps fitting b_u with V frozen")
      ("fit-lr", po::value(&fit_lr)->default_value(fit_lr), "factorized, new user: learning rate");
  // clang-format on
  const auto vm = parse_command_options(
      "score", "vrf score --ckpt PATH (--user ID | --pairs FILE) --candidates FILE", description,
      args, out);
  if (!vm) return 0;
  if (user.empty() && pairs.empty()) {
    throw ConfigError("give --user ID (a seen user) or --pairs FILE (a new user)");
  }
  const auto loaded = load_checkpoint_model(ckpt);
  auto& model = *loaded.model;
  const int64_t dim = loaded.config.input_dim;

  UserState state;
  std::string who;
  if (!pairs.empty()) {
    auto users = read_new_users(pairs, dim);
    if (!user.empty()) {
      const auto it = std::find_if(users.begin(), users.end(),
                                   [&](const PairsOfUser& u) { return u.id == user; });
      if (it == users.end()) throw DataError(pairs + ": no pairs of user " + user);
      users = {*it};
    } else if (users.size() != 1) {
      throw ConfigError(pairs + " holds " + std::to_string(users.size()) +
                        " users; pick one with --user ID");
    }
    state = infer_new_users(model, new_user_batch(users, dim), fit_steps, fit_lr);
    who = "new user " + users[0].id + " (" + std::to_string(users[0].chosen.size()) + " pairs)";
  } else {
    const io::PreferenceStore train(train_path.empty() ? loaded.train_path : train_path);
    const int64_t row = train_row_of(train, user);
    const auto seen = read_seen_users(loaded, row, row + 1);
    state.posterior = seen.posterior;
    state.user_params = seen.user_params;
    who = "seen user " + user;
  }

  // Candidates as queries against the mean response (standardized to 0): each margin is the
  // candidate's reward minus the mean response's (0 for models without a basis trunk).
  std::vector<std::string> ids;
  std::vector<torch::Tensor> rows;
  for_each_jsonl_object(
      candidates, {"response"}, "{\"id\": ..., \"response\": ...}",
      [&](const nlohmann::json& j, const std::string& where) {
        ids.push_back(j.contains("id") ? id_text(j["id"]) : std::to_string(ids.size()));
        rows.push_back(torch::tensor(response_vector(j["response"], dim, where)));
      });
  if (rows.empty()) throw DataError(candidates + ": no candidates");
  const auto phi = torch::stack(rows).unsqueeze(0);  // [1, N, D]
  const int64_t n = phi.size(1);
  core::PairBatch batch;
  batch.context_delta = torch::zeros({1, 0, dim});
  batch.context_mask = torch::zeros({1, 0});
  batch.query_delta = phi - model.standardizer()->mean().view({1, 1, dim});
  batch.query_mask = torch::ones({1, n});
  batch.query_chosen = phi;
  batch.user_rows = torch::zeros({1}, torch::kInt64);
  torch::Tensor rewards;
  {
    torch::NoGradGuard no_grad;
    rewards = model.forward_with_posterior(batch, state.posterior, state.user_params).margins[0];
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  const auto reward = to_vector(rewards);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return reward[a] > reward[b]; });
  nlohmann::json ranking = nlohmann::json::array();
  out << "candidates for " << who << ", best first (" << core::to_string(loaded.config.kind) << ", "
      << loaded.checkpoint.dir << "):\n";
  for (size_t rank = 0; rank < order.size(); ++rank) {
    const int64_t i = order[rank];
    out << std::setw(4) << rank + 1 << "  " << std::setw(12) << std::setprecision(6) << reward[i]
        << "  " << ids[i] << "\n";
    ranking.push_back({{"rank", rank + 1}, {"id", ids[i]}, {"reward", reward[i]}});
  }
  if (!out_path.empty()) {
    write_json(out_path, {{"user", who}, {"candidates", ranking}}, out);
  }
  return 0;
}

int run_export_command(const std::vector<std::string>& args, std::ostream& out) {
  std::string ckpt, out_path, train_path;
  bool force = false;
  po::options_description description("vrf export options");
  // clang-format off
  description.add_options()
      ("ckpt", po::value(&ckpt)->required(), "checkpoint directory or step directory")
      ("out", po::value(&out_path)->required(), "the HDF5 file to write")
      ("train", po::value(&train_path),
       "training store, for the seen users' ids (default: the checkpoint's --train)")
      ("force", po::bool_switch(&force), "overwrite an existing --out");
  // clang-format on
  const auto vm = parse_command_options("export", "vrf export --ckpt PATH --out FILE.h5",
                                        description, args, out);
  if (!vm) return 0;
  if (std::filesystem::exists(out_path) && !force) {
    throw ConfigError(out_path + " exists; add --force to overwrite it");
  }
  const auto loaded = load_checkpoint_model(ckpt);
  auto& model = *loaded.model;
  const io::PreferenceStore train(train_path.empty() ? loaded.train_path : train_path);
  const int64_t users = loaded.checkpoint.manifest.store.value("users", int64_t{-1});
  if (train.num_users() != users) {
    throw DataError(train.path() + " has " + std::to_string(train.num_users()) +
                    " users but the checkpoint was trained on " + std::to_string(users) +
                    "; pass the run's store with --train");
  }
  io::NamedTensors tensors;
  for (const auto& p : model.named_parameters())
    tensors.emplace_back("/params/" + p.key(), p.value());
  for (const auto& b : model.named_buffers())
    tensors.emplace_back("/buffers/" + b.key(), b.value());
  const auto seen = read_seen_users(loaded, 0, users);
  tensors.emplace_back("/users/id", torch::tensor(train.user_ids(), torch::kInt64));
  UserState state{seen.posterior, seen.user_params};
  const auto weights = weights_of(model, state);
  if (weights.defined()) tensors.emplace_back("/users/weights", weights);
  if (seen.posterior.mean.defined()) {
    tensors.emplace_back("/users/posterior_mean", seen.posterior.mean);
    tensors.emplace_back("/users/posterior_logvar", seen.posterior.logvar);
  }
  if (seen.user_params.defined()) tensors.emplace_back("/users/logits", seen.user_params);
  const nlohmann::json model_json =
      loaded.checkpoint.manifest.config.value("model", nlohmann::json());
  io::write_tensor_file(out_path, tensors,
                        {{"format", "vrf-export 1"},
                         {"model", core::to_string(loaded.config.kind)},
                         {"config", model_json.dump()},
                         {"checkpoint", loaded.checkpoint.dir}});
  out << "exported " << core::to_string(loaded.config.kind) << " from " << loaded.checkpoint.dir
      << " (step " << loaded.checkpoint.manifest.step << ", " << users << " users) to " << out_path
      << "\n";
  return 0;
}

}  // namespace vrf::launch
