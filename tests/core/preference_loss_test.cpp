// tests/core/preference_loss_test.cpp — the loss terms against closed forms, Monte Carlo and
// hand-derived gradients.
#include "core/preference_loss.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

double softplus(double x) { return std::log1p(std::exp(x)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

TEST(PreferenceLossTest, KlClosedFormAgreesWithMonteCarlo) {
  torch::manual_seed(0);
  const int64_t users = 4, d = 3, samples = 400000;
  Posterior q{torch::randn({users, d}, torch::kFloat64), torch::randn({users, d}, torch::kFloat64)};
  const auto closed = PreferenceLoss::kl_to_standard_normal(q);
  for (int64_t u = 0; u < users; ++u) {
    const auto sigma = torch::exp(0.5 * q.logvar[u]);
    const auto eps = torch::randn({samples, d}, torch::kFloat64);
    const auto z = q.mean[u] + sigma * eps;
    // log q(z) - log p(z), the 2 pi terms cancel.
    const auto log_ratio = (-0.5 * eps.pow(2) - 0.5 * q.logvar[u] + 0.5 * z.pow(2)).sum(-1);
    const double estimate = log_ratio.mean().item<double>();
    const double stderr_ = log_ratio.std().item<double>() / std::sqrt(double(samples));
    EXPECT_NEAR(closed[u].item<double>(), estimate, 5 * stderr_)
        << "user " << u << ": closed form vs Monte Carlo (stderr " << stderr_ << ")";
  }
  // KL of the standard normal itself is 0.
  EXPECT_EQ(PreferenceLoss::kl_to_standard_normal(
                {torch::zeros({1, d}, torch::kFloat64), torch::zeros({1, d}, torch::kFloat64)})
                .item<double>(),
            0.0);
}

// Hand-derived value and gradients of the loss for each attenuation form, with a_u held as the
// stop-gradient constant B a~_u / sum a~.
class AttenuatedLossTest : public ::testing::TestWithParam<Attenuation> {};

TEST_P(AttenuatedLossTest, ValueAndGradientMatchHandDerivation) {
  const Attenuation attenuation = GetParam();
  const double beta = 0.3, lambda = 0.7;
  const int64_t b = 3, q = 4, d = 2;
  torch::manual_seed(1);
  const auto margins = torch::randn({b, q}, torch::kFloat64).requires_grad_();
  const auto mean = torch::randn({b, d}, torch::kFloat64).requires_grad_();
  const auto logvar = torch::randn({b, d}, torch::kFloat64).requires_grad_();
  const auto mask = torch::tensor({{1, 1, 1, 1}, {1, 1, 0, 0}, {1, 0, 0, 0}}, torch::kFloat64);
  ModelOutput out;
  out.margins = margins * mask;
  out.posterior = {mean, logvar};
  PairBatch batch;
  batch.query_mask = mask;
  const PreferenceLoss loss({attenuation, lambda, beta});
  const auto value = loss.batch_mean(out, batch);
  value.backward();

  const auto m_values = margins.detach(), mu_values = mean.detach(), lv_values = logvar.detach();
  const auto m = m_values.accessor<double, 2>();
  const auto mu = mu_values.accessor<double, 2>();
  const auto lv = lv_values.accessor<double, 2>();
  double score_sum = 0;
  std::vector<double> nll(b), s(b), score(b), kl(b);
  std::vector<int> count = {4, 2, 1};
  for (int64_t u = 0; u < b; ++u) {
    for (int j = 0; j < count[u]; ++j) nll[u] += softplus(-m[u][j]) / count[u];
    for (int64_t i = 0; i < d; ++i) {
      s[u] += lv[u][i] / d;
      kl[u] += 0.5 * (std::exp(lv[u][i]) + mu[u][i] * mu[u][i] - 1 - lv[u][i]);
    }
    score[u] = 1 / (1 + std::exp(s[u]));
    score_sum += score[u];
  }
  double expected = 0;
  for (int64_t u = 0; u < b; ++u) {
    // Weight on l_u, and d L_u / d s_u, per form.
    double weight = 1, dl_ds = 0, attenuated = nll[u];
    if (attenuation == Attenuation::kInverseVariance) {
      weight = b * score[u] / score_sum;
      attenuated = weight * nll[u];
    } else if (attenuation == Attenuation::kKendallGal) {
      weight = std::exp(-s[u]);
      attenuated = weight * nll[u] + lambda * s[u];
      dl_ds = -weight * nll[u] + lambda;
    }
    expected += (attenuated + beta * kl[u]) / b;
    for (int64_t j = 0; j < q; ++j) {
      const double g = j < count[u] ? -weight * sigmoid(-m[u][j]) / count[u] / b : 0.0;
      EXPECT_NEAR(margins.grad()[u][j].item<double>(), g, 1e-14) << "dL/dDelta " << u << j;
    }
    for (int64_t i = 0; i < d; ++i) {
      const double g_logvar = (dl_ds / d + beta * 0.5 * (std::exp(lv[u][i]) - 1)) / b;
      EXPECT_NEAR(logvar.grad()[u][i].item<double>(), g_logvar, 1e-14) << "dL/dlogvar " << u << i;
      EXPECT_NEAR(mean.grad()[u][i].item<double>(), beta * mu[u][i] / b, 1e-14) << "dL/dmu";
    }
  }
  EXPECT_NEAR(value.item<double>(), expected, 1e-14);
}

INSTANTIATE_TEST_SUITE_P(Forms, AttenuatedLossTest,
                         ::testing::Values(Attenuation::kInverseVariance, Attenuation::kKendallGal,
                                           Attenuation::kNone),
                         [](const auto& info) {
                           std::string name = to_string(info.param);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(PreferenceLossTest, InverseVarianceWeightsHaveMeanOneAndFavourCertainUsers) {
  ModelOutput out;
  out.margins = torch::zeros({3, 1}, torch::kFloat64);
  out.posterior = {torch::zeros({3, 2}, torch::kFloat64),
                   torch::tensor({{-2.0, -2.0}, {0.0, 0.0}, {3.0, 3.0}}, torch::kFloat64)};
  const PreferenceLoss loss({Attenuation::kInverseVariance, 1.0, 0.0});
  const auto a = loss.attenuation_weights(out, 3, loss.attenuation_score_sum(out));
  EXPECT_NEAR(a.mean().item<double>(), 1.0, 1e-15);
  EXPECT_GT(a[0].item<double>(), a[1].item<double>());
  EXPECT_GT(a[1].item<double>(), a[2].item<double>());
  // The other forms do not reweight.
  const PreferenceLoss none({Attenuation::kNone, 1.0, 0.0});
  EXPECT_TRUE(none.attenuation_weights(out, 3, none.attenuation_score_sum(out))
                  .equal(torch::ones({3}, torch::kFloat64)));
}

TEST(PreferenceLossTest, UserWithoutQueriesContributesZeroNll) {
  const auto nll =
      PreferenceLoss::bradley_terry_nll(torch::tensor({{0.5, 9.0}, {0.0, 0.0}}, torch::kFloat64),
                                        torch::tensor({{1.0, 0.0}, {0.0, 0.0}}, torch::kFloat64));
  EXPECT_NEAR(nll[0].item<double>(), softplus(-0.5), 1e-15);
  EXPECT_EQ(nll[1].item<double>(), 0.0);
}

TEST(PreferenceLossTest, AttenuationWithoutPosteriorIsAnError) {
  ModelOutput out;
  out.margins = torch::zeros({2, 1}, torch::kFloat64);
  PairBatch batch;
  batch.query_mask = torch::ones({2, 1}, torch::kFloat64);
  EXPECT_THROW(PreferenceLoss({Attenuation::kInverseVariance, 1, 0}).batch_mean(out, batch),
               c10::Error);
  EXPECT_THROW(PreferenceLoss({Attenuation::kKendallGal, 1, 0}).batch_mean(out, batch), c10::Error);
  EXPECT_NO_THROW(PreferenceLoss({Attenuation::kNone, 1, 0}).batch_mean(out, batch));
}

}  // namespace
}  // namespace vrf::core
