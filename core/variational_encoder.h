// core/variational_encoder.h — the amortized posterior q_u = N(mu_u, diag sigma_u^2) of a user.
#pragma once

#include <torch/torch.h>

#include "core/model_config.h"

namespace vrf::core {

// A diagonal Gaussian per user; log-variances clamped to [kMinLogVar, kMaxLogVar].
struct Posterior {
  torch::Tensor mean;    // [B, d]
  torch::Tensor logvar;  // [B, d]
};

constexpr double kMinLogVar = -8.0;
constexpr double kMaxLogVar = 8.0;

struct VariationalEncoderOptions {
  VariationalEncoderOptions(int64_t input_dim, int64_t hidden_dim, int64_t latent_dim)
      : input_dim_(input_dim), hidden_dim_(hidden_dim), latent_dim_(latent_dim) {}
  TORCH_ARG(int64_t, input_dim);   // D
  TORCH_ARG(int64_t, hidden_dim);  // H
  TORCH_ARG(int64_t, latent_dim);  // d
  TORCH_ARG(Aggregator, aggregator) = Aggregator::kBayes;
};

// Pair network Linear(D,H)-GELU-Linear(H,H)-GELU ("pair"), heads "obs" and "logvar" (H -> d).
// kBayes: every context pair is a Gaussian observation (o_j, exp(v_j)) of the user latent,
// combined with the learned prior N(prior_mean, exp(prior_logvar)) by Bayes' rule; zero pairs give
// the prior. kMean: the heads read the masked mean of the pair features (VPL style); zero pairs
// give the heads' biases. Results do not depend on pair order or on padded rows.
class VariationalEncoderImpl : public torch::nn::Module {
 public:
  explicit VariationalEncoderImpl(const VariationalEncoderOptions& options);

  // delta: [B, C, D] standardized context deltas; mask: [B, C] (1 real, 0 padding).
  Posterior forward(const torch::Tensor& delta, const torch::Tensor& mask);

  // Per-pair observations before aggregation: o [B, C, d] and clamped log-variance v [B, C, d].
  std::pair<torch::Tensor, torch::Tensor> observations(const torch::Tensor& delta);

  const VariationalEncoderOptions& options() const { return options_; }

 private:
  Posterior bayes_aggregate(const torch::Tensor& obs, const torch::Tensor& obs_logvar,
                            const torch::Tensor& mask) const;

  VariationalEncoderOptions options_;
  torch::nn::Sequential pair_{nullptr};
  torch::nn::Linear obs_{nullptr}, logvar_{nullptr};
  torch::Tensor prior_mean_, prior_logvar_;  // [d] parameters, registered only for kBayes
};
TORCH_MODULE(VariationalEncoder);

}  // namespace vrf::core
