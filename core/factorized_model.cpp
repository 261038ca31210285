// core/factorized_model.cpp — FactorizedModelImpl.
#include "core/factorized_model.h"

namespace vrf::core {

FactorizedModelImpl::FactorizedModelImpl(const ModelConfig& config) : RewardModelImpl(config) {
  basis_rewards_ = register_module(
      "basis_rewards",
      BasisRewards(
          BasisRewardsOptions(config.input_dim, config.num_bases).trunk_dim(config.basis_hidden)));
}

ModelOutput FactorizedModelImpl::forward(const PairBatch& batch, const torch::Tensor& user_params) {
  const auto [delta, chosen] = standardized_queries(batch);
  TORCH_CHECK(user_params.defined() && user_params.dim() == 2 &&
                  user_params.size(0) == batch.num_users() &&
                  user_params.size(1) == config().num_bases,
              "factorized model needs per-user logits [B, K] = [", batch.num_users(), ", ",
              config().num_bases, "]; got ",
              user_params.defined() ? user_params.sizes() : c10::IntArrayRef{});
  ModelOutput out;
  out.weights = torch::softmax(user_params, -1);                // [B, K]
  const auto g = basis_rewards_->pair_features(delta, chosen);  // [B, Q, K]
  out.margins = mask_margins((g * out.weights.unsqueeze(1)).sum(-1), batch.query_mask);
  return out;
}

}  // namespace vrf::core
