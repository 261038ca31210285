// tests/core/test_batches.cpp — helpers for the core tests.
#include "tests/core/test_batches.h"

#include <gtest/gtest.h>

namespace vrf::test {
namespace {

// A [B, N] 0/1 prefix mask with per-row counts in [min_count, N].
torch::Tensor prefix_mask(int64_t users, int64_t n, int64_t min_count, torch::Generator& gen) {
  const auto counts = torch::randint(min_count, n + 1, {users, 1}, gen, torch::kInt64);
  return (torch::arange(n).unsqueeze(0) < counts).to(torch::kFloat64);
}

}  // namespace

core::PairBatch random_batch(int64_t users, int64_t context, int64_t query, int64_t dim,
                             uint64_t seed, bool with_chosen, double padding_value) {
  auto gen = at::detail::createCPUGenerator(seed);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  core::PairBatch batch;
  batch.context_mask = prefix_mask(users, context, 0, gen);
  if (context > 0) batch.context_mask[0].zero_();
  batch.query_mask = prefix_mask(users, query, 1, gen);
  const auto fill = [&](const torch::Tensor& values, const torch::Tensor& mask) {
    return torch::where(mask.unsqueeze(-1) > 0, values, torch::full({}, padding_value, f64));
  };
  batch.context_delta = fill(torch::randn({users, context, dim}, gen, f64), batch.context_mask);
  batch.query_delta = fill(torch::randn({users, query, dim}, gen, f64), batch.query_mask);
  if (with_chosen) {
    batch.query_chosen = fill(torch::randn({users, query, dim}, gen, f64), batch.query_mask);
  }
  batch.user_rows = torch::arange(users, torch::kInt64);
  return batch;
}

core::ModelConfig tiny_config(core::ModelKind kind) {
  core::ModelConfig config;
  config.kind = kind;
  config.input_dim = 5;
  config.num_bases = 3;
  config.latent_dim = 3;
  config.hidden_dim = 6;
  config.temperature = 0.7;
  config.kl_weight = 0.05;
  return config;
}

void expect_gradients_match_finite_differences(
    const std::vector<std::pair<std::string, torch::Tensor>>& leaves,
    const std::function<torch::Tensor()>& loss, double step, double atol, double rtol) {
  for (const auto& [name, leaf] : leaves) {
    ASSERT_EQ(leaf.scalar_type(), torch::kFloat64) << name;
    if (leaf.grad().defined()) leaf.mutable_grad().zero_();
  }
  loss().backward();
  for (const auto& [name, leaf] : leaves) {
    ASSERT_TRUE(leaf.grad().defined()) << name << " received no gradient";
    const auto analytic = leaf.grad().clone();
    torch::NoGradGuard no_grad;
    auto flat = leaf.view(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double original = flat[i].item<double>();
      flat[i] = original + step;
      const double up = loss().item<double>();
      flat[i] = original - step;
      const double down = loss().item<double>();
      flat[i] = original;
      const double numeric = (up - down) / (2 * step);
      const double exact = analytic.view(-1)[i].item<double>();
      EXPECT_NEAR(exact, numeric, atol + rtol * std::abs(numeric))
          << name << "[" << i << "] autograd " << exact << " vs finite difference " << numeric;
    }
  }
}

void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double atol,
                  double rtol, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  if (actual.numel() == 0) return;
  const auto a = actual.detach().to(torch::kFloat64);
  const auto b = expected.detach().to(torch::kFloat64);
  const auto excess = (a - b).abs() - (atol + rtol * b.abs());
  const int64_t worst = excess.view(-1).argmax().item<int64_t>();
  EXPECT_LE(excess.view(-1)[worst].item<double>(), 0.0)
      << what << ": element " << worst << " is " << a.view(-1)[worst].item<double>()
      << ", expected " << b.view(-1)[worst].item<double>() << " (atol " << atol << ", rtol " << rtol
      << ")";
}

}  // namespace vrf::test
