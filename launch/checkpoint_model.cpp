// launch/checkpoint_model.cpp — load_checkpoint_model, read_seen_users.
#include "launch/checkpoint_model.h"

#include <filesystem>
#include <map>

#include "core/errors.h"
#include "io/tensor_file.h"

namespace fs = std::filesystem;

namespace vrf::launch {

core::ModelConfig model_config_from_json(const nlohmann::json& model, const std::string& where) {
  const auto get = [&](const char* key) -> const nlohmann::json& {
    if (!model.is_object() || !model.contains(key)) {
      throw DataError(where + ": the saved configuration has no model." + key);
    }
    return model.at(key);
  };
  try {
    core::ModelConfig c;
    c.kind = core::parse_model_kind(get("kind").get<std::string>());
    c.input_dim = get("input_dim").get<int64_t>();
    c.num_bases = get("bases").get<int64_t>();
    c.latent_dim = get("latent_dim").get<int64_t>();
    c.hidden_dim = get("hidden").get<int64_t>();
    c.basis_hidden = get("basis_hidden").get<int64_t>();
    c.temperature = get("temperature").get<double>();
    c.learn_temperature = get("learn_temperature").get<bool>();
    c.kl_weight = get("kl_weight").get<double>();
    c.aggregator = core::parse_aggregator(get("aggregator").get<std::string>());
    c.attenuation = core::parse_attenuation(get("attenuation").get<std::string>());
    c.attenuation_lambda = get("attenuation_lambda").get<double>();
    c.validate();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where + ": the saved model configuration is malformed (" + e.what() + ")");
  } catch (const ConfigError& e) {
    throw DataError(where + ": the saved model configuration is invalid (" + e.what() + ")");
  }
}

CheckpointModel load_checkpoint_model(const std::string& path) {
  CheckpointModel loaded;
  loaded.checkpoint = io::resolve_checkpoint(path);
  const auto& config = loaded.checkpoint.manifest.config;
  const std::string where = "checkpoint " + loaded.checkpoint.dir;
  loaded.config = model_config_from_json(config.value("model", nlohmann::json()), where);
  loaded.eval_context_max = config.value("eval_context_max", int64_t{0});
  loaded.train_path = config.value("train", std::string());
  loaded.model = core::make_reward_model(loaded.config);

  const std::string shared = (fs::path(loaded.checkpoint.dir) / io::kSharedFileName).string();
  std::map<std::string, torch::Tensor> saved;
  for (const char* group : {"/params", "/buffers"}) {
    for (auto& [name, tensor] : io::read_tensor_file(shared, group)) {
      saved[std::string(group) + "/" + name] = tensor;
    }
  }
  const auto take = [&](const std::string& name, torch::Tensor into) {
    const auto found = saved.find(name);
    if (found == saved.end() || found->second.sizes() != into.sizes()) {
      throw DataError(shared + ": " + name +
                      (found == saved.end() ? " is missing" : " has the wrong shape") +
                      " for the model its manifest describes");
    }
    into.copy_(found->second);
  };
  torch::NoGradGuard no_grad;
  for (auto& p : loaded.model->named_parameters()) take("/params/" + p.key(), p.value());
  for (auto& b : loaded.model->named_buffers()) take("/buffers/" + b.key(), b.value());
  loaded.model->eval();
  // Frozen: evaluation and inference differentiate only through user state (posteriors, logits).
  for (auto& p : loaded.model->parameters()) p.requires_grad_(false);
  return loaded;
}

SeenUsers read_seen_users(const CheckpointModel& loaded, int64_t begin, int64_t end) {
  const auto& manifest = loaded.checkpoint.manifest;
  const bool has_encoder =
      loaded.config.kind == core::ModelKind::kVrf || loaded.config.kind == core::ModelKind::kVpl;
  const bool has_params = loaded.config.kind == core::ModelKind::kFactorized;
  const int64_t n = end - begin;
  SeenUsers seen;
  if (has_encoder) {
    seen.posterior.mean = torch::zeros({n, loaded.config.latent_dim});
    seen.posterior.logvar = torch::zeros({n, loaded.config.latent_dim});
  }
  if (has_params) seen.user_params = torch::zeros({n, loaded.config.num_bases});
  int64_t covered = 0;
  for (const auto& file : manifest.users_files()) {
    const int64_t lo = std::max(begin, file.user_begin), hi = std::min(end, file.user_end);
    if (lo >= hi) continue;
    covered += hi - lo;
    const std::string path = (fs::path(loaded.checkpoint.dir) / file.name).string();
    const auto rows = [&](const std::string& name) {
      return io::read_tensor_rows(path, name, lo - file.user_begin, hi - file.user_begin);
    };
    if (has_encoder) {
      seen.posterior.mean.slice(0, lo - begin, hi - begin).copy_(rows("/posterior/mean"));
      seen.posterior.logvar.slice(0, lo - begin, hi - begin).copy_(rows("/posterior/logvar"));
    }
    if (has_params) {
      seen.user_params.slice(0, lo - begin, hi - begin).copy_(rows("/user_params/values"));
    }
  }
  if (covered != n) {
    throw DataError("checkpoint " + loaded.checkpoint.dir + ": its users files cover " +
                    std::to_string(covered) + " of the requested users [" + std::to_string(begin) +
                    ", " + std::to_string(end) + ")");
  }
  return seen;
}

}  // namespace vrf::launch
