// core/reward_model.cpp — RewardModelImpl helpers and the model factory.
#include "core/reward_model.h"

#include "core/bt_model.h"
#include "core/factorized_model.h"
#include "core/vpl_model.h"
#include "core/vrf_model.h"

namespace vrf::core {

RewardModelImpl::RewardModelImpl(const ModelConfig& config) : config_(config) {
  standardizer_ = register_module("standardizer", InputStandardizer(config.input_dim));
}

std::pair<torch::Tensor, torch::Tensor> RewardModelImpl::standardized_queries(
    const PairBatch& batch) const {
  batch.check(config_.input_dim);
  // Padded rows are zeroed first so that nothing in them reaches a margin or a gradient.
  const auto real = (batch.query_mask > 0).unsqueeze(-1);
  const auto zero = torch::zeros({}, batch.query_delta.options());
  const auto delta = standardizer_->standardize_delta(torch::where(real, batch.query_delta, zero));
  if (!batch.query_chosen.defined()) return {delta, torch::Tensor()};
  return {delta, standardizer_->standardize(torch::where(real, batch.query_chosen, zero))};
}

torch::Tensor RewardModelImpl::mask_margins(const torch::Tensor& margins,
                                            const torch::Tensor& mask) {
  return torch::where(mask > 0, margins, torch::zeros({}, margins.options()));
}

Posterior RewardModelImpl::encode(const PairBatch& /*batch*/) { return {}; }

std::shared_ptr<RewardModelImpl> make_reward_model(const ModelConfig& config) {
  config.validate();
  switch (config.kind) {
    case ModelKind::kBt:
      return std::make_shared<BtModelImpl>(config);
    case ModelKind::kFactorized:
      return std::make_shared<FactorizedModelImpl>(config);
    case ModelKind::kVpl:
      return std::make_shared<VplModelImpl>(config);
    case ModelKind::kVrf:
      return std::make_shared<VrfModelImpl>(config);
  }
  TORCH_CHECK(false, "make_reward_model: unhandled model kind");
}

}  // namespace vrf::core
