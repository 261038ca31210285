// core/bt_model.h — baseline `bt`: one shared linear reward for every user.
#pragma once

#include "core/reward_model.h"

namespace vrf::core {

// Delta_uj = theta . delta~_j, theta [D] registered as "theta". No encoder, no per-user state.
class BtModelImpl : public RewardModelImpl {
 public:
  explicit BtModelImpl(const ModelConfig& config);
  using RewardModelImpl::forward;
  ModelOutput forward(const PairBatch& batch, const torch::Tensor& user_params) override;

  const torch::Tensor& theta() const { return theta_; }

 private:
  torch::Tensor theta_;
};

}  // namespace vrf::core
