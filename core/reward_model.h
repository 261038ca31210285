// core/reward_model.h — the interface shared by vrf and its baselines, and the factory by name.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "core/input_standardizer.h"
#include "core/model_config.h"
#include "core/pair_batch.h"
#include "core/variational_encoder.h"

namespace vrf::core {

// What a forward pass produces for B users. Fields a model does not have stay undefined.
struct ModelOutput {
  torch::Tensor margins;  // [B, Q] personalized margins Delta_uj; exactly 0 at padded query rows
  Posterior posterior;    // [B, d] each: q_u (vpl, vrf)
  torch::Tensor weights;  // [B, K] basis weights w_u (factorized, vrf)
};

// A reward model over standardized embeddings, configured by a ModelConfig. forward() is pure given
// the parameters, except vpl's latent sample in training mode (torch's global generator).
// Not thread-safe (a torch::nn::Module).
class RewardModelImpl : public torch::nn::Module {
 public:
  explicit RewardModelImpl(const ModelConfig& config);

  // user_params: [B, user_param_dim()] rows of a per-user table kept by the caller (factorized's
  // logits b_u, so that the table can be sharded across ranks); ignored when user_param_dim() == 0.
  virtual ModelOutput forward(const PairBatch& batch, const torch::Tensor& user_params) = 0;
  ModelOutput forward(const PairBatch& batch) { return forward(batch, torch::Tensor()); }

  // The posterior q_u of the batch's context pairs (vpl, vrf); undefined tensors for models
  // without an encoder.
  virtual Posterior encode(const PairBatch& batch);
  // forward() with each user's posterior given instead of encoded from the batch's context (rows of
  // a stored posterior table, or encode()'s output): how seen users are scored. The batch's
  // context is ignored. Models without an encoder ignore `posterior` and run forward().
  virtual ModelOutput forward_with_posterior(const PairBatch& batch, const Posterior& posterior,
                                             const torch::Tensor& user_params) {
    (void)posterior;
    return forward(batch, user_params);
  }

  // Width of the per-user parameter rows forward() consumes; 0 for models without any.
  virtual int64_t user_param_dim() const { return 0; }

  const ModelConfig& config() const { return config_; }
  InputStandardizer& standardizer() { return standardizer_; }

 protected:
  // Checks the batch and returns its standardized query deltas [B, Q, D] (and phi~(chosen), or
  // undefined when the batch has none).
  std::pair<torch::Tensor, torch::Tensor> standardized_queries(const PairBatch& batch) const;
  // Zero margins at padded query rows (whatever the padding held).
  static torch::Tensor mask_margins(const torch::Tensor& margins, const torch::Tensor& mask);

 private:
  ModelConfig config_;
  InputStandardizer standardizer_{nullptr};  // registered as "standardizer"
};

// bt, factorized, vpl or vrf as config.kind says; validates the config first (vrf::ConfigError).
std::shared_ptr<RewardModelImpl> make_reward_model(const ModelConfig& config);

}  // namespace vrf::core
