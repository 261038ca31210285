// core/basis_rewards.cpp — BasisRewards.
#include "core/basis_rewards.h"

#include <cmath>

namespace vrf::core {

BasisRewardsImpl::BasisRewardsImpl(const BasisRewardsOptions& options) : options_(options) {
  TORCH_CHECK(options.input_dim() > 0 && options.num_bases() > 0 && options.trunk_dim() >= 0,
              "BasisRewards: invalid options D = ", options.input_dim(),
              ", K = ", options.num_bases(), ", trunk_dim = ", options.trunk_dim());
  int64_t features = options.input_dim();
  if (options.trunk_dim() > 0) {
    trunk_ = register_module(
        "trunk", torch::nn::Sequential(torch::nn::Linear(options.input_dim(), options.trunk_dim()),
                                       torch::nn::GELU()));
    features = options.trunk_dim();
  }
  V_ = register_parameter("V", torch::randn({features, options.num_bases()}) /
                                   std::sqrt(static_cast<double>(features)));
}

torch::Tensor BasisRewardsImpl::response_rewards(const torch::Tensor& phi) {
  TORCH_CHECK(phi.size(-1) == options_.input_dim(), "BasisRewards: expected [..., ",
              options_.input_dim(), "]; got ", phi.sizes());
  const auto features = needs_chosen() ? trunk_->forward(phi) : phi;
  return torch::matmul(features, V_);
}

torch::Tensor BasisRewardsImpl::pair_features(const torch::Tensor& delta,
                                              const torch::Tensor& chosen) {
  if (!needs_chosen()) return response_rewards(delta);
  TORCH_CHECK(
      chosen.defined() && chosen.sizes() == delta.sizes(),
      "BasisRewards with a trunk (--basis-hidden > 0) needs phi(chosen) of every query pair "
      "(PairBatch.query_chosen) shaped like the deltas ",
      delta.sizes());
  return response_rewards(chosen) - response_rewards(chosen - delta);
}

}  // namespace vrf::core
