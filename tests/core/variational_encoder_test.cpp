// tests/core/variational_encoder_test.cpp — Bayesian aggregation against sequential Bayesian
// updates; invariance to pair order and padding; the prior for zero pairs; shrinking variance.
#include "core/variational_encoder.h"

#include <gtest/gtest.h>

#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

constexpr int64_t kD = 5, kH = 7, kLatent = 3;

VariationalEncoder make_encoder(Aggregator aggregator, int seed) {
  torch::manual_seed(seed);
  VariationalEncoder encoder(VariationalEncoderOptions(kD, kH, kLatent).aggregator(aggregator));
  encoder->to(torch::kFloat64);
  if (aggregator == Aggregator::kBayes) {
    torch::NoGradGuard no_grad;
    for (auto& p : encoder->parameters()) {
      if (p.dim() == 1 && p.size(0) == kLatent) p.copy_(0.5 * torch::randn_like(p));  // prior too
    }
  }
  return encoder;
}

class BayesAggregationTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    seed_ = GetParam();
    encoder_ = make_encoder(Aggregator::kBayes, seed_);
    batch_ = test::random_batch(4, 6, 1, kD, seed_);
    prior_mean_ = *encoder_->named_parameters().find("prior_mean");
    prior_logvar_ = *encoder_->named_parameters().find("prior_logvar");
  }
  int seed_ = 0;
  VariationalEncoder encoder_{nullptr};
  PairBatch batch_;
  torch::Tensor prior_mean_, prior_logvar_;
};

TEST_P(BayesAggregationTest, EqualsSequentialUpdates) {
  SCOPED_TRACE("seed " + std::to_string(seed_));
  const auto posterior = encoder_->forward(batch_.context_delta, batch_.context_mask);
  const auto [obs, obs_logvar] = encoder_->observations(batch_.context_delta);
  for (int64_t u = 0; u < batch_.num_users(); ++u) {
    // One Gaussian update per observed pair: P' = P + p_j, m' = (P m + p_j o_j) / P'.
    auto mean = prior_mean_.detach().clone();
    auto precision = torch::exp(-prior_logvar_.detach());
    for (int64_t j = 0; j < batch_.context_mask.size(1); ++j) {
      if (batch_.context_mask[u][j].item<double>() == 0) continue;
      const auto p = torch::exp(-obs_logvar[u][j]).detach();
      const auto updated = precision + p;
      mean = (precision * mean + p * obs[u][j].detach()) / updated;
      precision = updated;
    }
    test::expect_close(posterior.mean[u], mean, 1e-12, 1e-12, "mean of user " + std::to_string(u));
    test::expect_close(posterior.logvar[u], -torch::log(precision), 1e-12, 1e-12,
                       "logvar of user " + std::to_string(u));
  }
}

TEST_P(BayesAggregationTest, ZeroPairsGiveThePrior) {
  ASSERT_EQ(batch_.context_mask[0].sum().item<double>(), 0.0);
  const auto posterior = encoder_->forward(batch_.context_delta, batch_.context_mask);
  test::expect_close(posterior.mean[0], prior_mean_, 0, 0, "prior mean");
  test::expect_close(posterior.logvar[0], prior_logvar_, 1e-15, 0, "prior logvar");
  // Also with no context columns at all.
  const auto none = encoder_->forward(torch::zeros({2, 0, kD}, torch::kFloat64),
                                      torch::zeros({2, 0}, torch::kFloat64));
  test::expect_close(none.mean, prior_mean_.expand({2, kLatent}), 0, 0, "prior mean, C = 0");
}

TEST_P(BayesAggregationTest, VarianceNeverGrowsWhenAPairIsAdded) {
  const int64_t c = batch_.context_delta.size(1);
  auto previous = encoder_->forward(batch_.context_delta, torch::zeros_like(batch_.context_mask));
  for (int64_t n = 1; n <= c; ++n) {
    const auto mask = (torch::arange(c) < n).to(torch::kFloat64).expand({4, c});
    const auto current = encoder_->forward(batch_.context_delta, mask);
    EXPECT_TRUE((current.logvar <= previous.logvar).all().item<bool>()) << n << " pairs";
    EXPECT_TRUE((current.logvar < previous.logvar).all().item<bool>())
        << "a pair carries positive precision, so the variance must shrink strictly (" << n
        << " pairs)";
    previous = current;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, BayesAggregationTest, ::testing::Values(0, 1, 2));

class AggregatorInvarianceTest : public ::testing::TestWithParam<Aggregator> {};

TEST_P(AggregatorInvarianceTest, InvariantToPairOrder) {
  auto encoder = make_encoder(GetParam(), 3);
  const auto batch = test::random_batch(5, 6, 1, kD, 3);
  const auto reference = encoder->forward(batch.context_delta, batch.context_mask);
  for (int trial = 0; trial < 3; ++trial) {
    const auto order = torch::randperm(6, torch::kInt64);
    const auto permuted = encoder->forward(batch.context_delta.index_select(1, order),
                                           batch.context_mask.index_select(1, order));
    test::expect_close(permuted.mean, reference.mean, 1e-12, 1e-12, "mean after permutation");
    test::expect_close(permuted.logvar, reference.logvar, 1e-12, 1e-12, "logvar after permutation");
  }
}

TEST_P(AggregatorInvarianceTest, InvariantToPaddingEvenNaN) {
  auto encoder = make_encoder(GetParam(), 4);
  const auto batch = test::random_batch(5, 4, 1, kD, 4);
  const auto reference = encoder->forward(batch.context_delta, batch.context_mask);
  // Three more padded columns full of NaN, and the existing padding replaced by NaN as well.
  const auto real = batch.context_mask.unsqueeze(-1) > 0;
  auto delta = torch::where(real, batch.context_delta, torch::full({}, NAN, torch::kFloat64));
  delta = torch::cat({delta, torch::full({5, 3, kD}, NAN, torch::kFloat64)}, 1).requires_grad_();
  const auto mask = torch::cat({batch.context_mask, torch::zeros({5, 3}, torch::kFloat64)}, 1);
  const auto padded = encoder->forward(delta, mask);
  test::expect_close(padded.mean, reference.mean, 1e-13, 0, "mean with padding");
  test::expect_close(padded.logvar, reference.logvar, 1e-13, 0, "logvar with padding");
  (padded.mean.sum() + padded.logvar.sum()).backward();
  for (const auto& p : encoder->parameters()) {
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << "NaN padding leaked into a grad";
  }
}

INSTANTIATE_TEST_SUITE_P(Aggregators, AggregatorInvarianceTest,
                         ::testing::Values(Aggregator::kBayes, Aggregator::kMean),
                         [](const auto& info) { return to_string(info.param); });

TEST(MeanAggregatorTest, IsTheHeadsOfTheMaskedMeanFeature) {
  auto encoder = make_encoder(Aggregator::kMean, 5);
  EXPECT_EQ(encoder->named_parameters().find("prior_mean"), nullptr);
  const auto batch = test::random_batch(4, 5, 1, kD, 5);
  const auto posterior = encoder->forward(batch.context_delta, batch.context_mask);
  const auto children = encoder->named_children();
  const auto pair = *children.find("pair");
  const auto obs = *children.find("obs");
  for (int64_t u = 0; u < 4; ++u) {
    const auto n = static_cast<int64_t>(batch.context_mask[u].sum().item<double>());
    const auto features = n == 0 ? torch::zeros({kH}, torch::kFloat64)
                                 : pair->as<torch::nn::Sequential>()
                                       ->forward(batch.context_delta[u].slice(0, 0, n))
                                       .mean(0);
    test::expect_close(posterior.mean[u], obs->as<torch::nn::Linear>()->forward(features), 1e-13, 0,
                       "mean-aggregated mu of user " + std::to_string(u));
  }
}

}  // namespace
}  // namespace vrf::core
