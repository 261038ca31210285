// core/basis_rewards.h — the K shared basis rewards r_k(x, y) = v_k . f(phi~(x, y)).
#pragma once

#include <torch/torch.h>

namespace vrf::core {

struct BasisRewardsOptions {
  BasisRewardsOptions(int64_t input_dim, int64_t num_bases)
      : input_dim_(input_dim), num_bases_(num_bases) {}
  TORCH_ARG(int64_t, input_dim);      // D
  TORCH_ARG(int64_t, num_bases);      // K
  TORCH_ARG(int64_t, trunk_dim) = 0;  // 0: f = identity; else f = GELU(Linear(D, trunk_dim))
};

// V [F, K] (F = D, or trunk_dim with a trunk) and the optional shared trunk f. Inputs are already
// standardized. Without a trunk the rewards are linear, so a pair's features need only its delta;
// with a trunk they need phi~(chosen) as well.
class BasisRewardsImpl : public torch::nn::Module {
 public:
  explicit BasisRewardsImpl(const BasisRewardsOptions& options);

  bool needs_chosen() const { return !trunk_.is_empty(); }
  // Per-response rewards: phi~ [..., D] -> [..., K].
  torch::Tensor response_rewards(const torch::Tensor& phi);
  // g = r(chosen) - r(rejected): delta~ [..., D] (and chosen~ [..., D] when needs_chosen(), else
  // ignored) -> [..., K].
  torch::Tensor pair_features(const torch::Tensor& delta, const torch::Tensor& chosen);

  const torch::Tensor& V() const { return V_; }

 private:
  BasisRewardsOptions options_;
  torch::nn::Sequential trunk_{nullptr};  // registered as "trunk" when trunk_dim > 0
  torch::Tensor V_;                       // [F, K] registered parameter "V"
};
TORCH_MODULE(BasisRewards);

}  // namespace vrf::core
