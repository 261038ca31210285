// core/variational_encoder.cpp — VariationalEncoder: pair network, Bayesian and mean aggregation.
#include "core/variational_encoder.h"

namespace vrf::core {

VariationalEncoderImpl::VariationalEncoderImpl(const VariationalEncoderOptions& options)
    : options_(options) {
  TORCH_CHECK(options.input_dim() > 0 && options.hidden_dim() > 0 && options.latent_dim() > 0,
              "VariationalEncoder: D, H, d must be positive; got ", options.input_dim(), ", ",
              options.hidden_dim(), ", ", options.latent_dim());
  const int64_t h = options.hidden_dim();
  pair_ = register_module(
      "pair", torch::nn::Sequential(torch::nn::Linear(options.input_dim(), h), torch::nn::GELU(),
                                    torch::nn::Linear(h, h), torch::nn::GELU()));
  obs_ = register_module("obs", torch::nn::Linear(h, options.latent_dim()));
  logvar_ = register_module("logvar", torch::nn::Linear(h, options.latent_dim()));
  if (options.aggregator() == Aggregator::kBayes) {
    prior_mean_ = register_parameter("prior_mean", torch::zeros({options.latent_dim()}));
    prior_logvar_ = register_parameter("prior_logvar", torch::zeros({options.latent_dim()}));
  }
}

std::pair<torch::Tensor, torch::Tensor> VariationalEncoderImpl::observations(
    const torch::Tensor& delta) {
  const auto h = pair_->forward(delta);
  return {obs_->forward(h), logvar_->forward(h).clamp(kMinLogVar, kMaxLogVar)};
}

Posterior VariationalEncoderImpl::forward(const torch::Tensor& delta, const torch::Tensor& mask) {
  TORCH_CHECK(delta.dim() == 3 && delta.size(2) == options_.input_dim() && mask.dim() == 2 &&
                  mask.size(0) == delta.size(0) && mask.size(1) == delta.size(1),
              "VariationalEncoder: expected delta [B, C, ", options_.input_dim(),
              "] and mask [B, C]; got ", delta.sizes(), " and ", mask.sizes());
  const auto real = (mask > 0).unsqueeze(-1);  // [B, C, 1]
  // Zero the padded rows first so that no value in them (not even NaN) reaches a gradient.
  const auto clean = torch::where(real, delta, torch::zeros_like(delta));
  if (options_.aggregator() == Aggregator::kBayes) {
    const auto [obs, obs_logvar] = observations(clean);
    return bayes_aggregate(obs, obs_logvar, real);
  }
  const auto features =
      torch::where(real, pair_->forward(clean), torch::zeros({}, delta.options()));
  const auto count = real.sum(1).clamp_min(1).to(delta.scalar_type());  // [B, 1]
  const auto pooled = features.sum(1) / count;                          // [B, H]
  return {obs_->forward(pooled), logvar_->forward(pooled).clamp(kMinLogVar, kMaxLogVar)};
}

Posterior VariationalEncoderImpl::bayes_aggregate(const torch::Tensor& obs,
                                                  const torch::Tensor& obs_logvar,
                                                  const torch::Tensor& real) const {
  const auto zero = torch::zeros({}, obs.options());
  const auto prior_logvar = prior_logvar_.clamp(kMinLogVar, kMaxLogVar);
  // 1/sigma_u^2 = 1/sigma_0^2 + sum_j exp(-v_j)
  const auto pair_precision = torch::where(real, torch::exp(-obs_logvar), zero);  // [B, C, d]
  const auto precision = torch::exp(-prior_logvar) + pair_precision.sum(1);       // [B, d]
  // mu_u = mu_0 + sigma_u^2 * sum_j exp(-v_j) (o_j - mu_0)
  const auto evidence = (pair_precision * (obs - prior_mean_)).sum(1);  // [B, d]
  const auto mean = prior_mean_ + evidence / precision;
  return {mean, (-torch::log(precision)).clamp(kMinLogVar, kMaxLogVar)};
}

}  // namespace vrf::core
