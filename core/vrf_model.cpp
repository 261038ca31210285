// core/vrf_model.cpp — VrfModelImpl.
#include "core/vrf_model.h"

#include <cmath>

namespace vrf::core {

VrfModelImpl::VrfModelImpl(const ModelConfig& config) : RewardModelImpl(config) {
  encoder_ = register_module(
      "encoder", VariationalEncoder(VariationalEncoderOptions(config.input_dim, config.hidden_dim,
                                                              config.latent_dim)
                                        .aggregator(config.aggregator)));
  bases_ = register_module(
      "bases", ProbabilisticBases(ProbabilisticBasesOptions(config.num_bases, config.latent_dim)));
  basis_rewards_ = register_module(
      "basis_rewards",
      BasisRewards(
          BasisRewardsOptions(config.input_dim, config.num_bases).trunk_dim(config.basis_hidden)));
  const auto log_tau = torch::full({}, std::log(config.temperature));
  log_tau_ = config.learn_temperature ? register_parameter("log_tau", log_tau)
                                      : register_buffer("log_tau", log_tau);
}

torch::Tensor VrfModelImpl::weights_of(const Posterior& posterior) const {
  return bases_->weights(posterior.mean, posterior.logvar, temperature());
}

Posterior VrfModelImpl::encode(const PairBatch& batch) {
  return encoder_->forward(standardizer()->standardize_delta(batch.context_delta),
                           batch.context_mask);
}

ModelOutput VrfModelImpl::forward(const PairBatch& batch, const torch::Tensor& user_params) {
  return forward_with_posterior(batch, encode(batch), user_params);
}

ModelOutput VrfModelImpl::forward_with_posterior(const PairBatch& batch, const Posterior& posterior,
                                                 const torch::Tensor& /*user_params*/) {
  const auto [delta, chosen] = standardized_queries(batch);
  ModelOutput out;
  out.posterior = posterior;
  out.weights = weights_of(out.posterior);                      // [B, K]
  const auto g = basis_rewards_->pair_features(delta, chosen);  // [B, Q, K]
  out.margins = mask_margins((g * out.weights.unsqueeze(1)).sum(-1), batch.query_mask);
  return out;
}

}  // namespace vrf::core
