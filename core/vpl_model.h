// core/vpl_model.h — baseline `vpl` (VPL style): a sampled user latent sets a reward direction.
#pragma once

#include "core/reward_model.h"
#include "core/variational_encoder.h"

namespace vrf::core {

// q_u from the shared VariationalEncoder ("encoder"); z = mu_u + sigma_u * eps in training mode
// (reparameterized, eps from torch's global generator), z = mu_u in eval mode; the user's reward
// direction theta_u = A z + b ("reward_direction", Linear(d, D)); Delta_uj = theta_u . delta~_j.
// Trained with the KL term and no attenuation.
class VplModelImpl : public RewardModelImpl {
 public:
  explicit VplModelImpl(const ModelConfig& config);
  using RewardModelImpl::forward;
  ModelOutput forward(const PairBatch& batch, const torch::Tensor& user_params) override;
  Posterior encode(const PairBatch& batch) override;
  ModelOutput forward_with_posterior(const PairBatch& batch, const Posterior& posterior,
                                     const torch::Tensor& user_params) override;

  VariationalEncoder& encoder() { return encoder_; }
  torch::nn::Linear& reward_direction() { return reward_direction_; }

 private:
  VariationalEncoder encoder_{nullptr};
  torch::nn::Linear reward_direction_{nullptr};
};

}  // namespace vrf::core
