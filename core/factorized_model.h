// core/factorized_model.h — baseline `factorized` (LoRe / PReF style): point weights per user.
#pragma once

#include "core/basis_rewards.h"
#include "core/reward_model.h"

namespace vrf::core {

// w_u = softmax(b_u) with b_u [K] a per-user logit row owned by the caller (sharded with the
// users, updated by a row-wise optimizer); Delta_uj = g_j . w_u with g_j from the shared
// BasisRewards ("basis_rewards"). Only the basis rewards are shared parameters.
class FactorizedModelImpl : public RewardModelImpl {
 public:
  explicit FactorizedModelImpl(const ModelConfig& config);
  using RewardModelImpl::forward;
  // user_params: [B, K] logits b_u (required).
  ModelOutput forward(const PairBatch& batch, const torch::Tensor& user_params) override;
  int64_t user_param_dim() const override { return config().num_bases; }

  BasisRewards& basis_rewards() { return basis_rewards_; }

 private:
  BasisRewards basis_rewards_{nullptr};
};

}  // namespace vrf::core
