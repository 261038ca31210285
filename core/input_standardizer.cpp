// core/input_standardizer.cpp — InputStandardizer.
#include "core/input_standardizer.h"

namespace vrf::core {

InputStandardizerImpl::InputStandardizerImpl(int64_t input_dim) {
  TORCH_CHECK(input_dim > 0, "InputStandardizer: input_dim must be positive; got ", input_dim);
  mean_ = register_buffer("mean", torch::zeros({input_dim}));
  std_ = register_buffer("std", torch::ones({input_dim}));
}

void InputStandardizerImpl::set_statistics(const torch::Tensor& mean, const torch::Tensor& std) {
  TORCH_CHECK(mean.sizes() == mean_.sizes() && std.sizes() == std_.sizes(),
              "InputStandardizer::set_statistics: expected mean and std of shape ", mean_.sizes(),
              "; got ", mean.sizes(), " and ", std.sizes());
  TORCH_CHECK(torch::isfinite(mean).all().item<bool>() && torch::isfinite(std).all().item<bool>(),
              "InputStandardizer::set_statistics: mean and std must be finite");
  TORCH_CHECK((std >= 0).all().item<bool>(), "InputStandardizer::set_statistics: std must be >= 0");
  torch::NoGradGuard no_grad;
  mean_.copy_(mean);
  std_.copy_(torch::where(std < 1e-12, torch::ones_like(std), std));
}

std::pair<torch::Tensor, torch::Tensor> InputStandardizerImpl::statistics_of(
    const torch::Tensor& embeddings) {
  TORCH_CHECK(embeddings.dim() == 2 && embeddings.size(0) > 0,
              "InputStandardizer::statistics_of: expected embeddings [R, D] with R > 0; got ",
              embeddings.sizes());
  const auto x = embeddings.to(torch::kFloat64);
  return {x.mean(0), x.std(0, /*unbiased=*/false)};
}

torch::Tensor InputStandardizerImpl::standardize(const torch::Tensor& phi) const {
  return (phi - mean_.to(phi.dtype())) / std_.to(phi.dtype());
}

torch::Tensor InputStandardizerImpl::standardize_delta(const torch::Tensor& delta) const {
  return delta / std_.to(delta.dtype());
}

}  // namespace vrf::core
