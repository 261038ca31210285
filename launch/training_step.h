// launch/training_step.h — one data-parallel optimization step: local forward, global attenuation
// normalizer, backward, agreed health check, gradient all-reduce, AdamW on the shared parameters
// and row-wise Adam on the rank's per-user rows.
#pragma once

#include <memory>
#include <optional>

#include "core/preference_loss.h"
#include "core/reward_model.h"
#include "core/user_parameter_table.h"
#include "distributed/communicator.h"
#include "distributed/gradient_all_reducer.h"
#include "io/tensor_file.h"

namespace vrf::launch {

struct OptimizerConfig {
  double lr = 3e-3;
  double weight_decay = 0.0;   // AdamW decoupled weight decay of the shared parameters
  double user_init_std = 0.1;  // initial std of per-user rows (factorized)
  int64_t bucket_bytes = int64_t{25} << 20;
  uint64_t seed = 0;
};

// What one rank asks of a step; every rank learns whether any rank asked.
struct StepRequests {
  bool stop = false;        // a stop signal arrived
  bool checkpoint = false;  // a timed checkpoint is due (--ckpt-every-minutes, rank 0's clock)
};

struct StepResult {
  bool applied = false;         // false: skipped by every rank (a non-finite loss or gradient)
  bool stop_requested = false;  // some rank asked to stop (signal); agreed by all ranks
  bool checkpoint_requested = false;  // some rank asked for a checkpoint; agreed by all ranks
  double loss = 0;                    // global mean loss of the step
  double nll = 0;                     // global mean Bradley-Terry NLL
  int64_t global_users = 0;
  int64_t global_pairs = 0;  // query pairs scored in the step, all ranks
  double comm_seconds = 0;   // time in collectives on this rank
};

// Owns the optimizer state of one rank. The model's shared parameters are broadcast from rank 0
// on construction; the per-user table (models with user parameters) holds rows for the users
// [user_begin, user_end) this rank owns. run() is collective: every rank calls it once per step,
// with its local batch of at least one user.
class TrainingStep {
 public:
  TrainingStep(std::shared_ptr<core::RewardModelImpl> model, dist::Communicator& communicator,
               const OptimizerConfig& config, int64_t user_begin, int64_t user_end);

  // batch.user_rows are global user indices in [user_begin, user_end). `lr` is this step's
  // learning rate; `requests` this rank's; `poison` (tests only) makes the local loss NaN.
  StepResult run(const core::PairBatch& batch, double lr, StepRequests requests = {},
                 bool poison = false);

  // The shared state every rank holds identically: "/params/<name>", "/buffers/<name>" and the
  // AdamW state "/optimizer/<name>/{step,exp_avg,exp_avg_sq}" of parameters that have one.
  io::NamedTensors shared_state() const;
  // Restores what shared_state() returned (keys without their leading "/"-group prefix resolved
  // the same way). Throws vrf::DataError naming `where`, the tensor and both shapes when the saved
  // state does not fit this model.
  void load_shared_state(const io::NamedTensors& state, const std::string& where);

  core::RewardModelImpl& model() { return *model_; }
  const core::PreferenceLoss& loss() const { return loss_; }
  core::UserParameterTable* user_table() { return user_table_ ? &*user_table_ : nullptr; }
  const core::UserParameterTable* user_table() const {
    return user_table_ ? &*user_table_ : nullptr;
  }
  int64_t user_begin() const { return user_begin_; }
  const dist::GradientAllReducer& all_reducer() const { return *all_reducer_; }
  // The rows of the user table for global users `user_rows`, or undefined without a table.
  torch::Tensor user_params_for(const torch::Tensor& user_rows, bool for_training);

 private:
  std::shared_ptr<core::RewardModelImpl> model_;
  dist::Communicator& communicator_;
  core::PreferenceLoss loss_;
  std::vector<torch::Tensor> shared_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<dist::GradientAllReducer> all_reducer_;
  std::optional<core::UserParameterTable> user_table_;
  int64_t user_begin_, user_end_;
};

}  // namespace vrf::launch
