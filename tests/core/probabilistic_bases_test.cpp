// tests/core/probabilistic_bases_test.cpp — closed-form W2 against the general Gaussian formula,
// weights on the simplex, temperature limits.
#include "core/probabilistic_bases.h"

#include <gtest/gtest.h>

#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

// Symmetric positive semi-definite square root through an eigendecomposition.
torch::Tensor sqrtm(const torch::Tensor& a) {
  const auto [values, vectors] = torch::linalg_eigh(a, "L");
  return vectors.matmul(torch::diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
}

// W2^2(N(m1, S1), N(m2, S2)) = |m1 - m2|^2 + tr(S1 + S2 - 2 (S2^1/2 S1 S2^1/2)^1/2).
double general_w2_squared(const torch::Tensor& m1, const torch::Tensor& s1, const torch::Tensor& m2,
                          const torch::Tensor& s2) {
  const auto root2 = sqrtm(s2);
  const auto cross = sqrtm(root2.matmul(s1).matmul(root2));
  return ((m1 - m2).pow(2).sum() + torch::trace(s1 + s2 - 2 * cross)).item<double>();
}

class ProbabilisticBasesTest : public ::testing::TestWithParam<int> {};

TEST_P(ProbabilisticBasesTest, ClosedFormEqualsGeneralFormula) {
  const int seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  torch::manual_seed(seed);
  const int64_t k = 4, d = 5, b = 3;
  ProbabilisticBases bases(ProbabilisticBasesOptions(k, d));
  bases->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    bases->logvar().copy_(torch::randn({k, d}, torch::kFloat64));
  }
  const auto mu = torch::randn({b, d}, torch::kFloat64);
  const auto logvar = 2 * torch::randn({b, d}, torch::kFloat64);
  const auto w2 = bases->w2_squared(mu, logvar);
  // A random rotation applied to both Gaussians leaves W2 unchanged and makes the covariances
  // non-diagonal, so the general formula's matrix square roots do real work.
  const auto rotation =
      std::get<0>(torch::linalg_qr(torch::randn({d, d}, torch::kFloat64), "reduced"));
  for (int64_t u = 0; u < b; ++u) {
    for (int64_t j = 0; j < k; ++j) {
      const auto s_user = torch::diag(logvar[u].exp());
      const auto s_basis = torch::diag(bases->logvar()[j].exp());
      const double expected = general_w2_squared(mu[u], s_user, bases->mean()[j], s_basis);
      EXPECT_NEAR(w2[u][j].item<double>(), expected, 1e-9 + 1e-9 * expected) << u << "," << j;
      const double rotated = general_w2_squared(
          rotation.matmul(mu[u]), rotation.matmul(s_user).matmul(rotation.t()),
          rotation.matmul(bases->mean()[j]), rotation.matmul(s_basis).matmul(rotation.t()));
      EXPECT_NEAR(w2[u][j].item<double>(), rotated, 1e-8 + 1e-8 * expected) << u << "," << j;
    }
  }
  // A basis identical to the user is at distance 0.
  EXPECT_NEAR(bases->w2_squared(bases->mean().slice(0, 1, 2), bases->logvar().slice(0, 1, 2))[0][1]
                  .item<double>(),
              0.0, 1e-12);
}

TEST_P(ProbabilisticBasesTest, WeightsLieOnTheSimplex) {
  torch::manual_seed(GetParam());
  ProbabilisticBases bases(ProbabilisticBasesOptions(6, 4));
  bases->to(torch::kFloat64);
  const auto mu = 3 * torch::randn({10, 4}, torch::kFloat64);
  const auto logvar = torch::randn({10, 4}, torch::kFloat64);
  for (double tau : {1e-3, 0.1, 1.0, 50.0}) {
    const auto w = bases->weights(mu, logvar, torch::tensor(tau, torch::kFloat64));
    EXPECT_TRUE((w >= 0).all().item<bool>()) << "tau " << tau;
    test::expect_close(w.sum(-1), torch::ones({10}, torch::kFloat64), 1e-12, 0,
                       "row sums at tau " + std::to_string(tau));
  }
}

TEST_P(ProbabilisticBasesTest, TemperatureLimits) {
  torch::manual_seed(GetParam());
  ProbabilisticBases bases(ProbabilisticBasesOptions(5, 3));
  bases->to(torch::kFloat64);
  const auto mu = 2 * torch::randn({8, 3}, torch::kFloat64);
  const auto logvar = torch::randn({8, 3}, torch::kFloat64);
  const auto nearest = bases->w2_squared(mu, logvar).argmin(-1);
  // tau -> 0: all weight on the nearest basis.
  const auto cold = bases->weights(mu, logvar, torch::tensor(1e-6, torch::kFloat64));
  test::expect_close(cold, torch::one_hot(nearest, 5).to(torch::kFloat64), 1e-9, 0,
                     "tau -> 0 weights");
  // tau -> infinity: uniform weights.
  const auto hot = bases->weights(mu, logvar, torch::tensor(1e9, torch::kFloat64));
  test::expect_close(hot, torch::full({8, 5}, 0.2, torch::kFloat64), 1e-7, 0, "tau -> inf");
}

INSTANTIATE_TEST_SUITE_P(Seeds, ProbabilisticBasesTest, ::testing::Values(0, 1, 2));

}  // namespace
}  // namespace vrf::core
