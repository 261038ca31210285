// core/user_parameter_table.h — per-user parameter rows (factorized's logits) with a row-wise Adam
// optimizer: only the rows of the users in a step are read and updated.
#pragma once

#include <torch/torch.h>

namespace vrf::core {

struct RowwiseAdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// `rows` x `width` parameters for the global rows [first_row, first_row + rows), initialised
// N(0, init_std^2) from a hash of (seed, global row, column), so a user's initial row does not
// depend on how users are sharded. Each row has its own Adam moments and step count (a row's bias
// correction counts only the steps that touched it). The table is local: in data-parallel training
// each rank holds the rows of the users it owns; nothing here communicates. Not thread-safe.
class UserParameterTable {
 public:
  UserParameterTable(int64_t first_row, int64_t rows, int64_t width, double init_std, uint64_t seed,
                     torch::ScalarType dtype = torch::kFloat32, torch::Device device = torch::kCPU);

  // A leaf copy of the given rows ([B] int64 local indices, any device) that requires grad:
  // [B, width] on the table's device.
  torch::Tensor gather(const torch::Tensor& rows) const;
  // One Adam update of the given rows from the gradient of a gather()ed tensor ([B, width]);
  // repeated rows have their gradients summed first.
  void apply_gradient(const torch::Tensor& rows, const torch::Tensor& grad, double lr);

  // Overwrites local rows [first, first + n) with saved state (a checkpoint): values and moments
  // [n, width], steps [n]. Throws c10::Error when the shapes do not fit.
  void assign_rows(int64_t first, const torch::Tensor& values, const torch::Tensor& first_moment,
                   const torch::Tensor& second_moment, const torch::Tensor& steps);

  int64_t rows() const { return values_.size(0); }
  int64_t width() const { return values_.size(1); }
  const torch::Tensor& values() const { return values_; }  // [rows, width]
  const torch::Tensor& first_moment() const { return m_; }
  const torch::Tensor& second_moment() const { return v_; }
  const torch::Tensor& steps() const { return steps_; }  // [rows] int64

 private:
  RowwiseAdamOptions options_;
  torch::Tensor values_, m_, v_, steps_;
};

}  // namespace vrf::core
