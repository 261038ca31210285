// core/probabilistic_bases.cpp — ProbabilisticBases.
#include "core/probabilistic_bases.h"

#include "core/variational_encoder.h"

namespace vrf::core {

ProbabilisticBasesImpl::ProbabilisticBasesImpl(const ProbabilisticBasesOptions& options) {
  TORCH_CHECK(options.num_bases() > 0 && options.latent_dim() > 0,
              "ProbabilisticBases: K and d must be positive; got ", options.num_bases(), ", ",
              options.latent_dim());
  mean_ = register_parameter("mean", torch::randn({options.num_bases(), options.latent_dim()}));
  logvar_ = register_parameter("logvar", torch::zeros({options.num_bases(), options.latent_dim()}));
}

torch::Tensor ProbabilisticBasesImpl::w2_squared(const torch::Tensor& mu,
                                                 const torch::Tensor& logvar) const {
  TORCH_CHECK(mu.dim() == 2 && mu.size(1) == mean_.size(1) && logvar.sizes() == mu.sizes(),
              "ProbabilisticBases::w2_squared: expected mu and logvar [B, ", mean_.size(1),
              "]; got ", mu.sizes(), " and ", logvar.sizes());
  const auto sigma = torch::exp(0.5 * logvar);                                       // [B, d]
  const auto basis_sigma = torch::exp(0.5 * logvar_.clamp(kMinLogVar, kMaxLogVar));  // [K, d]
  const auto mean_term = (mu.unsqueeze(1) - mean_.unsqueeze(0)).pow(2).sum(-1);
  const auto scale_term = (sigma.unsqueeze(1) - basis_sigma.unsqueeze(0)).pow(2).sum(-1);
  return mean_term + scale_term;
}

torch::Tensor ProbabilisticBasesImpl::weights(const torch::Tensor& mu, const torch::Tensor& logvar,
                                              const torch::Tensor& tau) const {
  return torch::softmax(-w2_squared(mu, logvar) / tau, /*dim=*/-1);
}

}  // namespace vrf::core
