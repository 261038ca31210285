// core/preference_loss.cpp — PreferenceLoss.
#include "core/preference_loss.h"

namespace vrf::core {

LossOptions loss_options_for(const ModelConfig& config) {
  switch (config.kind) {
    case ModelKind::kVrf:
      return {config.attenuation, config.attenuation_lambda, config.kl_weight};
    case ModelKind::kVpl:
      return {Attenuation::kNone, config.attenuation_lambda, config.kl_weight};
    case ModelKind::kBt:
    case ModelKind::kFactorized:
      break;
  }
  return {Attenuation::kNone, config.attenuation_lambda, 0.0};
}

torch::Tensor PreferenceLoss::bradley_terry_nll(const torch::Tensor& margins,
                                                const torch::Tensor& mask) {
  TORCH_CHECK(margins.dim() == 2 && margins.sizes() == mask.sizes(),
              "bradley_terry_nll: expected margins and mask [B, Q]; got ", margins.sizes(), " and ",
              mask.sizes());
  const auto real = mask > 0;
  const auto per_pair = torch::where(real, torch::softplus(-margins), torch::zeros_like(margins));
  const auto count = real.sum(1).clamp_min(1).to(margins.scalar_type());
  return per_pair.sum(1) / count;
}

torch::Tensor PreferenceLoss::kl_to_standard_normal(const Posterior& posterior) {
  const auto& mu = posterior.mean;
  const auto& logvar = posterior.logvar;
  return 0.5 * (torch::exp(logvar) + mu.pow(2) - 1.0 - logvar).sum(-1);
}

torch::Tensor PreferenceLoss::user_logvar_mean(const Posterior& posterior) {
  return posterior.logvar.mean(-1);
}

torch::Tensor PreferenceLoss::attenuation_scores(const Posterior& posterior) {
  return torch::sigmoid(-user_logvar_mean(posterior)).detach();
}

torch::Tensor PreferenceLoss::attenuation_score_sum(const ModelOutput& out) const {
  if (options_.attenuation != Attenuation::kInverseVariance) {
    return torch::zeros({}, out.margins.options());
  }
  TORCH_CHECK(out.posterior.logvar.defined(),
              "inverse-variance attenuation needs a model with a posterior (vrf)");
  return attenuation_scores(out.posterior).sum();
}

torch::Tensor PreferenceLoss::attenuation_weights(const ModelOutput& out, int64_t global_users,
                                                  const torch::Tensor& global_score_sum) const {
  const int64_t b = out.margins.size(0);
  if (options_.attenuation != Attenuation::kInverseVariance) {
    return torch::ones({b}, out.margins.options());
  }
  TORCH_CHECK(global_users > 0, "attenuation_weights: global batch must have users; got ",
              global_users);
  return attenuation_scores(out.posterior) * static_cast<double>(global_users) /
         global_score_sum.detach().to(out.margins.options());
}

LossSum PreferenceLoss::user_sum(const ModelOutput& out, const PairBatch& batch,
                                 const torch::Tensor& weights) const {
  const auto nll = bradley_terry_nll(out.margins, batch.query_mask);  // [B]
  const bool has_posterior = out.posterior.logvar.defined();
  TORCH_CHECK(has_posterior || options_.attenuation == Attenuation::kNone, "attenuation '",
              to_string(options_.attenuation), "' needs a model with a posterior (vrf)");
  torch::Tensor attenuated;
  switch (options_.attenuation) {
    case Attenuation::kInverseVariance:
      TORCH_CHECK(weights.defined() && weights.sizes() == nll.sizes(),
                  "user_sum: attenuation weights must be [B] = ", nll.sizes(), "; got ",
                  weights.defined() ? weights.sizes() : c10::IntArrayRef{});
      attenuated = weights.detach() * nll;
      break;
    case Attenuation::kKendallGal: {
      const auto s = user_logvar_mean(out.posterior);
      attenuated = torch::exp(-s) * nll + options_.attenuation_lambda * s;
      break;
    }
    case Attenuation::kNone:
      attenuated = nll;
      break;
  }
  LossSum sum;
  sum.total = attenuated.sum();
  sum.nll = nll.sum().detach();
  sum.kl = torch::zeros({}, nll.options());
  if (has_posterior) {
    const auto kl = kl_to_standard_normal(out.posterior);
    sum.total = sum.total + options_.kl_weight * kl.sum();
    sum.kl = kl.sum().detach();
  }
  return sum;
}

torch::Tensor PreferenceLoss::batch_mean(const ModelOutput& out, const PairBatch& batch) const {
  const int64_t b = out.margins.size(0);
  TORCH_CHECK(b > 0, "batch_mean: the batch has no users");
  const auto weights = attenuation_weights(out, b, attenuation_score_sum(out));
  return user_sum(out, batch, weights).total / static_cast<double>(b);
}

}  // namespace vrf::core
