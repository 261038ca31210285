// core/pair_batch.cpp — shape checks and conversions of PairBatch.
#include "core/pair_batch.h"

namespace vrf::core {
namespace {

torch::Tensor maybe_to(const torch::Tensor& t, torch::Device device, torch::ScalarType dtype) {
  return t.defined() ? t.to(device, dtype) : t;
}

torch::Tensor maybe_slice(const torch::Tensor& t, int64_t begin, int64_t end) {
  return t.defined() ? t.slice(0, begin, end) : t;
}

}  // namespace

void PairBatch::check(int64_t expected_dim) const {
  TORCH_CHECK(query_delta.defined() && query_delta.dim() == 3,
              "PairBatch.query_delta must be [B, Q, D]; got ",
              query_delta.defined() ? query_delta.sizes() : c10::IntArrayRef{});
  TORCH_CHECK(query_delta.is_floating_point(), "PairBatch.query_delta must be floating point");
  const int64_t b = query_delta.size(0);
  const int64_t q = query_delta.size(1);
  TORCH_CHECK(query_delta.size(2) == expected_dim, "PairBatch.query_delta has embedding width ",
              query_delta.size(2), " but the model expects D = ", expected_dim);
  TORCH_CHECK(query_mask.defined() && query_mask.sizes() == torch::IntArrayRef({b, q}),
              "PairBatch.query_mask must be [B, Q] = [", b, ", ", q, "]; got ",
              query_mask.defined() ? query_mask.sizes() : c10::IntArrayRef{});
  TORCH_CHECK(context_delta.defined() && context_delta.dim() == 3 && context_delta.size(0) == b &&
                  context_delta.size(2) == expected_dim,
              "PairBatch.context_delta must be [B, C, D] with B = ", b, ", D = ", expected_dim,
              "; got ", context_delta.defined() ? context_delta.sizes() : c10::IntArrayRef{});
  const int64_t c = context_delta.size(1);
  TORCH_CHECK(context_mask.defined() && context_mask.sizes() == torch::IntArrayRef({b, c}),
              "PairBatch.context_mask must be [B, C] = [", b, ", ", c, "]; got ",
              context_mask.defined() ? context_mask.sizes() : c10::IntArrayRef{});
  const auto dtype = query_delta.scalar_type();
  for (const auto* t : {&query_mask, &context_delta, &context_mask}) {
    TORCH_CHECK(t->scalar_type() == dtype, "PairBatch tensors must share one floating dtype; got ",
                t->scalar_type(), " and ", dtype);
  }
  if (query_chosen.defined()) {
    TORCH_CHECK(query_chosen.sizes() == query_delta.sizes() && query_chosen.scalar_type() == dtype,
                "PairBatch.query_chosen must match query_delta ", query_delta.sizes(), "; got ",
                query_chosen.sizes());
  }
  TORCH_CHECK(user_rows.defined() && user_rows.dim() == 1 && user_rows.size(0) == b &&
                  user_rows.scalar_type() == torch::kInt64,
              "PairBatch.user_rows must be int64 [B] = [", b, "]; got ",
              user_rows.defined() ? user_rows.sizes() : c10::IntArrayRef{});
}

PairBatch PairBatch::to(torch::Device device, torch::ScalarType dtype) const {
  return PairBatch{maybe_to(context_delta, device, dtype), maybe_to(context_mask, device, dtype),
                   maybe_to(query_delta, device, dtype),   maybe_to(query_mask, device, dtype),
                   maybe_to(query_chosen, device, dtype),  user_rows.to(device)};
}

PairBatch PairBatch::slice_users(int64_t begin, int64_t end) const {
  TORCH_CHECK(0 <= begin && begin <= end && end <= num_users(), "slice_users(", begin, ", ", end,
              ") out of range for a batch of ", num_users(), " users");
  return PairBatch{context_delta.slice(0, begin, end),    context_mask.slice(0, begin, end),
                   query_delta.slice(0, begin, end),      query_mask.slice(0, begin, end),
                   maybe_slice(query_chosen, begin, end), user_rows.slice(0, begin, end)};
}

}  // namespace vrf::core
