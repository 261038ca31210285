// core/input_standardizer.h — per-dimension standardization of response embeddings (buffers).
#pragma once

#include <torch/torch.h>

namespace vrf::core {

// phi~ = (phi - mean) / std, with mean and std [D] set once from the training store and saved
// with the model as buffers (not parameters: never trained, never all-reduced). Until set they are
// 0 and 1, i.e. the identity. For a pair delta the mean cancels: delta~ = delta / std.
class InputStandardizerImpl : public torch::nn::Module {
 public:
  explicit InputStandardizerImpl(int64_t input_dim);

  // mean, std: [D]. Dimensions whose std is below 1e-12 (constant in the data, so zero in every
  // delta) get std 1 so that the division stays finite. TORCH_CHECKs shapes and finiteness.
  void set_statistics(const torch::Tensor& mean, const torch::Tensor& std);
  // Mean and std over the rows of `embeddings` [R, D], computed in float64.
  static std::pair<torch::Tensor, torch::Tensor> statistics_of(const torch::Tensor& embeddings);

  torch::Tensor standardize(const torch::Tensor& phi) const;          // [..., D] -> [..., D]
  torch::Tensor standardize_delta(const torch::Tensor& delta) const;  // [..., D] -> [..., D]

  const torch::Tensor& mean() const { return mean_; }
  const torch::Tensor& std() const { return std_; }

 private:
  torch::Tensor mean_, std_;  // [D] registered buffers
};
TORCH_MODULE(InputStandardizer);

}  // namespace vrf::core
