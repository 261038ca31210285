// core/pair_batch.h — the padded batch of users that every reward model consumes.
#pragma once

#include <torch/torch.h>

namespace vrf::core {

// B users, each with up to C context pairs (fed to the encoder) and up to Q query pairs (scored).
// Deltas are raw embedding differences phi(chosen) - phi(rejected); models standardize them.
// Masks are 1 for a real pair and 0 for padding, in the floating dtype of the deltas; padded rows
// may hold any value (even NaN) and never reach a result. C or Q may be 0.
struct PairBatch {
  torch::Tensor context_delta;  // [B, C, D]
  torch::Tensor context_mask;   // [B, C]
  torch::Tensor query_delta;    // [B, Q, D]
  torch::Tensor query_mask;     // [B, Q]
  // [B, Q, D] phi(chosen) of the query pairs; needed only by a model with a nonlinear basis trunk
  // (rejected = chosen - delta). Undefined otherwise.
  torch::Tensor query_chosen;
  torch::Tensor user_rows;  // [B] int64, global user index of each row

  int64_t num_users() const { return query_delta.size(0); }
  int64_t input_dim() const { return query_delta.size(2); }

  // TORCH_CHECKs every shape and dtype contract above against embedding width `input_dim`.
  void check(int64_t input_dim) const;
  // The same batch on another device / floating dtype (user_rows stays int64).
  PairBatch to(torch::Device device, torch::ScalarType dtype) const;
  // Users [begin, end) of this batch, as a batch of their own.
  PairBatch slice_users(int64_t begin, int64_t end) const;
};

}  // namespace vrf::core
