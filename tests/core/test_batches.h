// tests/core/test_batches.h — random padded batches, tiny configs and float64 gradient checks
// shared by the core tests.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "core/model_config.h"
#include "core/pair_batch.h"

namespace vrf::test {

// A float64 batch of `users` users with up to `context` context and `query` query pairs each, D
// wide. Masks are random prefixes (user 0 always has zero context pairs, every user has at least
// one query); padded rows hold `padding_value`. query_chosen is filled when `with_chosen`.
core::PairBatch random_batch(int64_t users, int64_t context, int64_t query, int64_t dim,
                             uint64_t seed, bool with_chosen = false, double padding_value = 7.5);

// A small config of the given kind (D = 5, K = 3, d = 3, H = 6).
core::ModelConfig tiny_config(core::ModelKind kind);

// Central finite differences of `loss` (a float64 scalar) w.r.t. every element of `leaves`,
// compared with the autograd gradient; loss() must be deterministic. Reports each mismatch with the
// leaf's name and element index.
void expect_gradients_match_finite_differences(
    const std::vector<std::pair<std::string, torch::Tensor>>& leaves,
    const std::function<torch::Tensor()>& loss, double step = 1e-6, double atol = 1e-7,
    double rtol = 1e-5);

// |a - b| <= atol + rtol * |b| element-wise, with a message naming `what` and the worst element.
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double atol,
                  double rtol, const std::string& what);

}  // namespace vrf::test

namespace vrf::core {
// Readable gtest parameter names.
inline void PrintTo(Attenuation value, std::ostream* os) { *os << to_string(value); }
inline void PrintTo(Aggregator value, std::ostream* os) { *os << to_string(value); }
}  // namespace vrf::core
