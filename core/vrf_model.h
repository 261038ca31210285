// core/vrf_model.h — Variational Reward Factorization (DESIGN.md sections 1.2-1.3).
#pragma once

#include "core/basis_rewards.h"
#include "core/probabilistic_bases.h"
#include "core/reward_model.h"
#include "core/variational_encoder.h"

namespace vrf::core {

// q_u = encoder(context pairs); w_u = softmax_k(-W2^2(q_u, p_k) / tau); Delta_uj = g_j . w_u.
// Submodules "encoder", "bases", "basis_rewards"; "log_tau" is a parameter when the temperature
// is learned, else a buffer. Deterministic: no sampling.
class VrfModelImpl : public RewardModelImpl {
 public:
  explicit VrfModelImpl(const ModelConfig& config);
  using RewardModelImpl::forward;
  ModelOutput forward(const PairBatch& batch, const torch::Tensor& user_params) override;
  Posterior encode(const PairBatch& batch) override;
  ModelOutput forward_with_posterior(const PairBatch& batch, const Posterior& posterior,
                                     const torch::Tensor& user_params) override;

  // Basis weights of given posteriors ([B, d] each -> [B, K]), e.g. from a stored posterior table.
  torch::Tensor weights_of(const Posterior& posterior) const;
  torch::Tensor temperature() const { return torch::exp(log_tau_); }

  VariationalEncoder& encoder() { return encoder_; }
  ProbabilisticBases& bases() { return bases_; }
  BasisRewards& basis_rewards() { return basis_rewards_; }

 private:
  VariationalEncoder encoder_{nullptr};
  ProbabilisticBases bases_{nullptr};
  BasisRewards basis_rewards_{nullptr};
  torch::Tensor log_tau_;  // scalar
};

}  // namespace vrf::core
