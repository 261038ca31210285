// core/probabilistic_bases.h — K diagonal Gaussians in the user latent space, and W2 matching.
#pragma once

#include <torch/torch.h>

namespace vrf::core {

struct ProbabilisticBasesOptions {
  ProbabilisticBasesOptions(int64_t num_bases, int64_t latent_dim)
      : num_bases_(num_bases), latent_dim_(latent_dim) {}
  TORCH_ARG(int64_t, num_bases);   // K
  TORCH_ARG(int64_t, latent_dim);  // d
};

// p_k = N(m_k, diag s_k^2), parameters "mean" [K, d] (init N(0, 1)) and "logvar" [K, d] (init 0;
// clamped to [-8, 8] when used).
class ProbabilisticBasesImpl : public torch::nn::Module {
 public:
  explicit ProbabilisticBasesImpl(const ProbabilisticBasesOptions& options);

  // mu, logvar: [B, d] -> W2^2(q_u, p_k) = ||mu_u - m_k||^2 + ||sigma_u - s_k||^2: [B, K].
  torch::Tensor w2_squared(const torch::Tensor& mu, const torch::Tensor& logvar) const;
  // softmax_k(-W2^2 / tau): [B, K] rows on the simplex. tau: positive scalar tensor.
  torch::Tensor weights(const torch::Tensor& mu, const torch::Tensor& logvar,
                        const torch::Tensor& tau) const;

  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& logvar() const { return logvar_; }

 private:
  torch::Tensor mean_, logvar_;  // both [K, d], registered parameters
};
TORCH_MODULE(ProbabilisticBases);

}  // namespace vrf::core
