// tests/launch/evaluator_test.cpp — the inference pieces of `vrf eval / infer / score`: the
// predictive margin, the delta-method margin variance against vpl's closed form (float64), and new
// users inferred from pairs that all agree with one basis, on a VRF model with hand-set weights.
#include "launch/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/vrf_model.h"

namespace vrf::launch {
namespace {

void set(core::RewardModelImpl& model, const std::string& name, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.named_parameters()) {
    if (p.key() == name) {
      ASSERT_EQ(p.value().sizes(), value.sizes()) << name;
      p.value().copy_(value);
      return;
    }
  }
  FAIL() << "no parameter " << name;
}

// B users with the given deltas as context and as queries.
core::PairBatch batch_of(const torch::Tensor& deltas, const torch::Tensor& mask) {
  core::PairBatch batch;
  batch.context_delta = deltas;
  batch.context_mask = mask;
  batch.query_delta = deltas;
  batch.query_mask = mask;
  batch.user_rows = torch::arange(deltas.size(0), torch::kInt64);
  return batch;
}

TEST(PredictiveMargin, ProbitScaling) {
  EXPECT_DOUBLE_EQ(predictive_margin(1.5, 0.0), 1.5);
  EXPECT_NEAR(predictive_margin(2.0, 8.0 / M_PI), 2.0 / std::sqrt(2.0), 1e-15);
  EXPECT_DOUBLE_EQ(predictive_margin(-1.0, -3.0), -1.0);  // negative variance clamps to 0
}

// vpl's margin is theta_u . delta~ with theta_u = A mu_u + b, linear in mu_u, so the delta method
// is exact: v = sum_i sigma_i^2 (A^T delta~)_i^2.
TEST(MarginVariance, VplMatchesClosedFormInFloat64) {
  torch::manual_seed(7);
  core::ModelConfig config;
  config.kind = core::ModelKind::kVpl;
  config.input_dim = 5;
  config.latent_dim = 3;
  config.hidden_dim = 4;
  auto model = core::make_reward_model(config);
  model->to(torch::kDouble);
  model->eval();
  const auto deltas = torch::randn({2, 4, 5}, torch::kDouble);
  auto mask = torch::ones({2, 4}, torch::kDouble);
  mask[1][3] = 0;
  const auto batch = batch_of(deltas, mask);
  UserState state;
  state.posterior = {torch::randn({2, 3}, torch::kDouble), torch::randn({2, 3}, torch::kDouble)};
  const auto [margins, variance] = margins_with_variance(*model, batch, state);

  torch::Tensor A, b;
  for (auto& p : model->named_parameters()) {
    if (p.key() == "reward_direction.weight") A = p.value().detach();  // [D, d]
    if (p.key() == "reward_direction.bias") b = p.value().detach();
  }
  const auto standardized = model->standardizer()->standardize_delta(deltas);
  for (int64_t u = 0; u < 2; ++u) {
    const auto theta = torch::matmul(A, state.posterior.mean[u]) + b;
    for (int64_t q = 0; q < 4; ++q) {
      const double m = mask[u][q].item<double>();
      const auto gradient = torch::matmul(A.t(), standardized[u][q]);  // dDelta/dmu
      const double v =
          (torch::exp(state.posterior.logvar[u]) * gradient * gradient).sum().item<double>();
      EXPECT_NEAR(margins[u][q].item<double>(),
                  m * (theta * standardized[u][q]).sum().item<double>(), 1e-12);
      EXPECT_NEAR(variance[u][q].item<double>(), m * v, 1e-12) << "user " << u << " query " << q;
    }
  }
}

// A VRF model whose encoder maps a pair to a latent observation along its delta (o = 4 GELU(GELU(3
// delta))), with a constant per-pair log-variance, and two bases at (4, 0) and (0, 4) whose reward
// directions are the two axes. Pairs that all prefer along axis k must put most weight on basis k,
// and more such pairs must give a smaller posterior variance.
class HandSetVrf : public ::testing::Test {
 protected:
  void SetUp() override {
    core::ModelConfig config;
    config.kind = core::ModelKind::kVrf;
    config.input_dim = 2;
    config.latent_dim = 2;
    config.hidden_dim = 2;
    config.num_bases = 2;
    model_ = core::make_reward_model(config);
    model_->eval();
    const auto eye = torch::eye(2);
    set(*model_, "encoder.pair.0.weight", 3 * eye);
    set(*model_, "encoder.pair.0.bias", torch::zeros({2}));
    set(*model_, "encoder.pair.2.weight", eye);
    set(*model_, "encoder.pair.2.bias", torch::zeros({2}));
    set(*model_, "encoder.obs.weight", 4 * eye);
    set(*model_, "encoder.obs.bias", torch::zeros({2}));
    set(*model_, "encoder.logvar.weight", torch::zeros({2, 2}));
    set(*model_, "encoder.logvar.bias", torch::zeros({2}));
    set(*model_, "encoder.prior_mean", torch::zeros({2}));
    set(*model_, "encoder.prior_logvar", torch::zeros({2}));
    set(*model_, "bases.mean", 4 * eye);
    set(*model_, "bases.logvar", torch::full({2, 2}, -2.0));
    set(*model_, "basis_rewards.V", eye);
  }
  // n pairs preferring along axis k, with a little noise on the other axis.
  core::PairBatch pairs_along(int64_t k, int64_t n) const {
    auto deltas = 0.1 * torch::randn({1, n, 2});
    deltas.select(2, k).add_(1.0);
    return batch_of(deltas, torch::ones({1, n}));
  }
  std::shared_ptr<core::RewardModelImpl> model_;
};

TEST_F(HandSetVrf, PairsOfOneBasisPutMostWeightOnIt) {
  torch::manual_seed(3);
  auto& vrf = dynamic_cast<core::VrfModelImpl&>(*model_);
  for (int64_t k = 0; k < 2; ++k) {
    const auto state = infer_new_users(*model_, pairs_along(k, 10), 0, 0.0);
    const auto weights = vrf.weights_of(state.posterior);
    EXPECT_GT(weights[0][k].item<double>(), 0.9) << "basis " << k << ": " << weights;
    EXPECT_NEAR(weights.sum().item<double>(), 1.0, 1e-6);
  }
}

TEST_F(HandSetVrf, MorePairsLowerUncertainty) {
  torch::manual_seed(4);
  double previous = 1e9;
  for (const int64_t n : {1, 2, 5, 10, 20}) {
    const auto state = infer_new_users(*model_, pairs_along(0, n), 0, 0.0);
    const double s = state.posterior.logvar.mean().item<double>();
    EXPECT_LT(s, previous) << n << " pairs";
    previous = s;
  }
}

// factorized: the new user's logits are fitted on its pairs with V frozen.
TEST(FactorizedInference, FitPutsWeightOnTheAgreeingBasis) {
  torch::manual_seed(5);
  core::ModelConfig config;
  config.kind = core::ModelKind::kFactorized;
  config.input_dim = 2;
  config.num_bases = 2;
  auto model = core::make_reward_model(config);
  model->eval();
  set(*model, "basis_rewards.V", torch::eye(2));
  for (auto& p : model->parameters()) p.requires_grad_(false);
  auto deltas = 0.1 * torch::randn({1, 8, 2});
  deltas.select(2, 1).add_(1.0);
  const auto state = infer_new_users(*model, batch_of(deltas, torch::ones({1, 8})), 100, 0.1);
  const auto weights = torch::softmax(state.user_params, -1);
  EXPECT_GT(weights[0][1].item<double>(), 0.9) << weights;
}

}  // namespace
}  // namespace vrf::launch
