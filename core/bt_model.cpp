// core/bt_model.cpp — BtModelImpl.
#include "core/bt_model.h"

#include <cmath>

namespace vrf::core {

BtModelImpl::BtModelImpl(const ModelConfig& config) : RewardModelImpl(config) {
  theta_ = register_parameter(
      "theta", torch::randn({config.input_dim}) / std::sqrt(static_cast<double>(config.input_dim)));
}

ModelOutput BtModelImpl::forward(const PairBatch& batch, const torch::Tensor& /*user_params*/) {
  const auto [delta, chosen] = standardized_queries(batch);
  ModelOutput out;
  out.margins = mask_margins(torch::matmul(delta, theta_), batch.query_mask);
  return out;
}

}  // namespace vrf::core
