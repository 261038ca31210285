// launch/evaluator.h — `vrf eval` (DESIGN.md section 6): pairwise accuracy, NLL, calibration,
// terciles of predicted uncertainty and true rationality, the oracle, and best-of-N, for seen users
// (their stored posterior or per-user parameters) and for new users at k context pairs. Each rank
// evaluates a contiguous, pair-balanced share of the users; sums are all-reduced.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "distributed/communicator.h"
#include "io/preference_store.h"
#include "launch/checkpoint_model.h"

namespace vrf::launch {

struct EvalOptions {
  std::vector<int64_t> shots = {1, 2, 5, 10, 20};  // k context pairs of new users
  int64_t batch_users = 256;
  int64_t calibration_bins = 10;
  int64_t fit_steps = 100;  // factorized, new users: Adam steps on b_u with V frozen
  double fit_lr = 0.1;
};

// Predicted probability that the chosen response wins, from a margin Delta and its variance v under
// q_u: sigmoid(Delta / sqrt(1 + pi v / 8)) (the probit approximation of E[sigmoid]); v by the delta
// method, v = sum_i sigma_ui^2 (dDelta/dmu_ui)^2 (exact for vpl, whose margin is linear in z;
// first-order for vrf). Returns the scaled margin Delta / sqrt(1 + pi v / 8).
double predictive_margin(double margin, double variance);

// One user's pairs to put in a batch, as response rows of one store.
struct UserPairRows {
  int64_t user = 0;  // the batch row's user index (PairBatch::user_rows)
  std::vector<int64_t> context_chosen, context_rejected, query_chosen, query_rejected;
};
// The padded batch of `users`, their context rows read from `context_store` and their query rows
// from `query_store` (one gather from each); query_chosen filled when `with_query_chosen` (models
// with a basis trunk).
core::PairBatch build_user_batch(const io::PreferenceStore& context_store,
                                 const io::PreferenceStore& query_store,
                                 const std::vector<UserPairRows>& users, bool with_query_chosen);
inline core::PairBatch build_user_batch(const io::PreferenceStore& store,
                                        const std::vector<UserPairRows>& users,
                                        bool with_query_chosen) {
  return build_user_batch(store, store, users, with_query_chosen);
}

// What scores a user: a posterior (vpl, vrf), logits b_u (factorized), nothing (bt).
struct UserState {
  core::Posterior posterior;
  torch::Tensor user_params;
};
// New users from their pairs, without touching the model: one encoder pass over the batch's
// context (vpl, vrf); for factorized, logits fitted by `fit_steps` Adam steps (lr `fit_lr`) on the
// batch's query pairs with the basis rewards frozen (LoRe's procedure). The batch should hold the
// same pairs as context and as queries.
UserState infer_new_users(core::RewardModelImpl& model, const core::PairBatch& batch,
                          int64_t fit_steps, double fit_lr);
// Margins [B, Q] of the batch's queries under each user's state, and their variance under q_u by
// the delta method (zeros without a posterior).
std::pair<torch::Tensor, torch::Tensor> margins_with_variance(core::RewardModelImpl& model,
                                                              const core::PairBatch& batch,
                                                              const UserState& state);

// Collective. `seen`: the seen users' held-out pairs (test.h5 or val.h5; users matched to `train`
// by id), or nullptr; `unseen`: a store of new users with /users/num_context, or nullptr. Returns
// the report (keys in README.md, "Evaluation").
nlohmann::json evaluate(const CheckpointModel& loaded, const io::PreferenceStore& train,
                        const io::PreferenceStore* seen, const io::PreferenceStore* unseen,
                        const EvalOptions& options, dist::Communicator& communicator);

// The report as a Markdown table.
std::string report_markdown(const nlohmann::json& report);
// Several reports (models x seeds) as one comparison table: one row per "label" (default: the
// model), each column mean +- sample std over that label's runs.
std::string comparison_markdown(const std::vector<nlohmann::json>& reports);

}  // namespace vrf::launch
