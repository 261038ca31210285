// launch/checkpoint_model.h — a trained model read back from a checkpoint for evaluation,
// inference, scoring and export: the model configured and loaded from shared.h5, and the stored
// state of seen users (posterior table rows, per-user parameters) from the users files.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/reward_model.h"
#include "io/checkpoint_directory.h"

namespace vrf::launch {

// The ModelConfig of a resolved training configuration's "model" object (manifest.config).
// Throws vrf::DataError naming `where` when a field is missing or invalid.
core::ModelConfig model_config_from_json(const nlohmann::json& model, const std::string& where);

struct CheckpointModel {
  io::FoundCheckpoint checkpoint;
  core::ModelConfig config;
  std::shared_ptr<core::RewardModelImpl> model;  // float32, CPU, eval mode
  int64_t eval_context_max = 0;                  // the cap the posterior table was computed with
  std::string train_path;                        // --train of the run (may have moved since)
};

// `path`: a checkpoint directory (its newest valid step) or one committed step directory.
// Validates it (sizes, digests) and loads parameters and buffers. Throws vrf::DataError.
CheckpointModel load_checkpoint_model(const std::string& path);

// The stored state of training-store users [begin, end): their posterior rows (models with an
// encoder; else undefined) and per-user parameter rows (factorized; else undefined), read from
// whichever users files hold them.
struct SeenUsers {
  core::Posterior posterior;  // [n, d] each
  torch::Tensor user_params;  // [n, K]
};
SeenUsers read_seen_users(const CheckpointModel& loaded, int64_t begin, int64_t end);

}  // namespace vrf::launch
