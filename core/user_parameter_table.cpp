// core/user_parameter_table.cpp — UserParameterTable.
#include "core/user_parameter_table.h"

#include <cmath>

namespace vrf::core {
namespace {

// SplitMix64 finalizer: a well-mixed 64-bit hash.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A standard normal draw determined by (seed, row, column) (Box-Muller on two hashed uniforms).
double hashed_normal(uint64_t seed, int64_t row, int64_t column) {
  const uint64_t h =
      mix(mix(mix(seed) ^ static_cast<uint64_t>(row)) ^ static_cast<uint64_t>(column));
  const double u1 = (double((h >> 11) | 1)) / 9007199254740992.0;  // (0, 1)
  const double u2 = double(mix(h) >> 11) / 9007199254740992.0;     // [0, 1)
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

UserParameterTable::UserParameterTable(int64_t first_row, int64_t rows, int64_t width,
                                       double init_std, uint64_t seed, torch::ScalarType dtype,
                                       torch::Device device) {
  TORCH_CHECK(first_row >= 0 && rows >= 0 && width > 0,
              "UserParameterTable: need first_row, rows >= 0 and width > 0; got ", first_row, ", ",
              rows, " x ", width);
  auto initial = torch::empty({rows, width}, torch::kFloat64);
  auto* data = initial.data_ptr<double>();
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < width; ++j) {
      data[i * width + j] = init_std * hashed_normal(seed, first_row + i, j);
    }
  }
  values_ = initial.to(device, dtype);
  m_ = torch::zeros_like(values_);
  v_ = torch::zeros_like(values_);
  steps_ = torch::zeros({rows}, torch::TensorOptions().dtype(torch::kInt64).device(device));
}

torch::Tensor UserParameterTable::gather(const torch::Tensor& rows) const {
  TORCH_CHECK(rows.dim() == 1 && rows.scalar_type() == torch::kInt64,
              "UserParameterTable::gather: rows must be int64 [B]; got ", rows.sizes());
  TORCH_CHECK(rows.numel() == 0 ||
                  (rows.min().item<int64_t>() >= 0 && rows.max().item<int64_t>() < values_.size(0)),
              "UserParameterTable::gather: a row lies outside [0, ", values_.size(0), ")");
  return values_.index_select(0, rows.to(values_.device())).detach().requires_grad_();
}

void UserParameterTable::apply_gradient(const torch::Tensor& rows, const torch::Tensor& grad,
                                        double lr) {
  TORCH_CHECK(grad.dim() == 2 && grad.size(0) == rows.size(0) && grad.size(1) == width(),
              "UserParameterTable::apply_gradient: grad must be [", rows.size(0), ", ", width(),
              "]; got ", grad.sizes());
  torch::NoGradGuard no_grad;
  const auto [unique, inverse] =
      at::_unique(rows.to(values_.device()), /*sorted=*/true, /*return_inverse=*/true);
  const auto g = torch::zeros({unique.size(0), width()}, values_.options())
                     .index_add_(0, inverse, grad.to(values_.scalar_type()));
  const auto step = steps_.index_select(0, unique) + 1;
  steps_.index_copy_(0, unique, step);
  const auto m = options_.beta1 * m_.index_select(0, unique) + (1 - options_.beta1) * g;
  const auto v = options_.beta2 * v_.index_select(0, unique) + (1 - options_.beta2) * g * g;
  m_.index_copy_(0, unique, m);
  v_.index_copy_(0, unique, v);
  const auto t = step.to(values_.scalar_type()).unsqueeze(1);
  const auto m_hat = m / (1 - torch::pow(options_.beta1, t));
  const auto v_hat = v / (1 - torch::pow(options_.beta2, t));
  values_.index_copy_(0, unique,
                      values_.index_select(0, unique) - lr * m_hat / (v_hat.sqrt() + options_.eps));
}

void UserParameterTable::assign_rows(int64_t first, const torch::Tensor& values,
                                     const torch::Tensor& first_moment,
                                     const torch::Tensor& second_moment,
                                     const torch::Tensor& steps) {
  const int64_t n = values.size(0);
  TORCH_CHECK(values.dim() == 2 && values.size(1) == width(),
              "UserParameterTable::assign_rows: ", "saved rows of shape ", values.sizes(),
              " do not fit a table of width ", width());
  TORCH_CHECK(first >= 0 && first + n <= rows(), "UserParameterTable::assign_rows: rows [", first,
              ", ", first + n, ") outside [0, ", rows(), ")");
  TORCH_CHECK(first_moment.sizes() == values.sizes() && second_moment.sizes() == values.sizes() &&
                  steps.dim() == 1 && steps.size(0) == n,
              "UserParameterTable::assign_rows: moments or steps do not match the rows");
  values_.slice(0, first, first + n).copy_(values);
  m_.slice(0, first, first + n).copy_(first_moment);
  v_.slice(0, first, first + n).copy_(second_moment);
  steps_.slice(0, first, first + n).copy_(steps);
}

}  // namespace vrf::core
