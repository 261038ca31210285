// core/preference_loss.h — Bradley-Terry NLL, variance attenuation and KL, as sums over users.
#pragma once

#include <torch/torch.h>

#include "core/model_config.h"
#include "core/pair_batch.h"
#include "core/reward_model.h"

namespace vrf::core {

struct LossOptions {
  Attenuation attenuation = Attenuation::kNone;
  double attenuation_lambda = 1.0;
  double kl_weight = 0.0;  // beta
};

// The loss a model trains with: vrf takes attenuation and beta from the config; vpl beta only;
// bt and factorized neither.
LossOptions loss_options_for(const ModelConfig& config);

// Scalar sums over the users of one (local) batch.
struct LossSum {
  torch::Tensor total;  // sum_u (L_u + beta * KL_u), differentiable
  torch::Tensor nll;    // sum_u l_u, detached
  torch::Tensor kl;     // sum_u KL_u, detached (0 without a posterior)
};

// DESIGN.md section 1.3, split so that the global batch may live on many ranks:
//   1. each rank sums the attenuation scores of its users (attenuation_score_sum);
//   2. the caller all-reduces that scalar and the user count into the global batch's;
//   3. attenuation_weights() turns them into a_u = B_global a~_u / sum_global a~ (detached);
//   4. user_sum() gives sum_u (L_u + beta KL_u) over the rank's users; the caller sums those
//      across ranks (through the gradients) and divides by B_global.
// Stateless apart from its options; thread-compatible.
class PreferenceLoss {
 public:
  explicit PreferenceLoss(const LossOptions& options) : options_(options) {}

  // l_u = mean over real query pairs of softplus(-Delta); 0 for a user without queries.
  // margins, mask: [B, Q] -> [B].
  static torch::Tensor bradley_terry_nll(const torch::Tensor& margins, const torch::Tensor& mask);
  // KL(N(mu, diag exp(logvar)) || N(0, I)) per user: [B, d] -> [B].
  static torch::Tensor kl_to_standard_normal(const Posterior& posterior);
  // s_u = mean_i log sigma_u,i^2: [B, d] -> [B].
  static torch::Tensor user_logvar_mean(const Posterior& posterior);
  // a~_u = 1 / (1 + exp(s_u)), detached: [B].
  static torch::Tensor attenuation_scores(const Posterior& posterior);

  // sum_u a~_u over this batch (detached scalar); 0 unless the attenuation is inverse-variance.
  torch::Tensor attenuation_score_sum(const ModelOutput& out) const;
  // a_u [B], detached: B_global * a~_u / global_score_sum for inverse-variance, else ones.
  torch::Tensor attenuation_weights(const ModelOutput& out, int64_t global_users,
                                    const torch::Tensor& global_score_sum) const;
  // Sums over this batch's users; `weights` are a_u from attenuation_weights().
  LossSum user_sum(const ModelOutput& out, const PairBatch& batch,
                   const torch::Tensor& weights) const;
  // The whole batch as the global batch (one process): user_sum(...).total / B.
  torch::Tensor batch_mean(const ModelOutput& out, const PairBatch& batch) const;

  const LossOptions& options() const { return options_; }

 private:
  LossOptions options_;
};

}  // namespace vrf::core
