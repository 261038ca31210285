// core/vpl_model.cpp — VplModelImpl.
#include "core/vpl_model.h"

namespace vrf::core {

VplModelImpl::VplModelImpl(const ModelConfig& config) : RewardModelImpl(config) {
  encoder_ = register_module(
      "encoder", VariationalEncoder(VariationalEncoderOptions(config.input_dim, config.hidden_dim,
                                                              config.latent_dim)
                                        .aggregator(config.aggregator)));
  reward_direction_ =
      register_module("reward_direction", torch::nn::Linear(config.latent_dim, config.input_dim));
}

Posterior VplModelImpl::encode(const PairBatch& batch) {
  return encoder_->forward(standardizer()->standardize_delta(batch.context_delta),
                           batch.context_mask);
}

ModelOutput VplModelImpl::forward(const PairBatch& batch, const torch::Tensor& user_params) {
  return forward_with_posterior(batch, encode(batch), user_params);
}

ModelOutput VplModelImpl::forward_with_posterior(const PairBatch& batch, const Posterior& posterior,
                                                 const torch::Tensor& /*user_params*/) {
  const auto [delta, chosen] = standardized_queries(batch);
  ModelOutput out;
  out.posterior = posterior;
  auto z = out.posterior.mean;
  if (is_training()) {
    z = z + torch::exp(0.5 * out.posterior.logvar) * torch::randn_like(z);
  }
  const auto theta = reward_direction_->forward(z);  // [B, D]
  out.margins = mask_margins((delta * theta.unsqueeze(1)).sum(-1), batch.query_mask);
  return out;
}

}  // namespace vrf::core
