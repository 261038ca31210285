// tests/core/reward_model_test.cpp — every model behind the common interface: the factory,
// baseline margins against direct computations, float64 finite-difference gradients of the full
// loss, and the split-batch invariant that data parallelism relies on.
#include "core/reward_model.h"

#include <gtest/gtest.h>

#include "core/bt_model.h"
#include "core/errors.h"
#include "core/factorized_model.h"
#include "core/preference_loss.h"
#include "core/vpl_model.h"
#include "core/vrf_model.h"
#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

constexpr int64_t kD = 5;

std::shared_ptr<RewardModelImpl> make_f64(const ModelConfig& config, int seed) {
  torch::manual_seed(seed);
  auto model = make_reward_model(config);
  model->to(torch::kFloat64);
  model->standardizer()->set_statistics(torch::randn({kD}, torch::kFloat64),
                                        torch::rand({kD}, torch::kFloat64) + 0.5);
  return model;
}

torch::Tensor user_logits_for(const RewardModelImpl& model, int64_t users) {
  if (model.user_param_dim() == 0) return {};
  return torch::randn({users, model.user_param_dim()}, torch::kFloat64).requires_grad_();
}

TEST(RewardModelTest, FactoryBuildsEachKindByName) {
  for (const char* name : {"bt", "factorized", "vpl", "vrf"}) {
    auto config = test::tiny_config(parse_model_kind(name));
    auto model = make_reward_model(config);
    EXPECT_EQ(model->config().kind, config.kind) << name;
    EXPECT_EQ(model->user_param_dim(), config.kind == ModelKind::kFactorized ? 3 : 0) << name;
  }
  EXPECT_NE(std::dynamic_pointer_cast<VrfModelImpl>(make_reward_model(ModelConfig{})), nullptr);
  ModelConfig bad;
  bad.num_bases = 0;
  EXPECT_THROW(make_reward_model(bad), ConfigError);
}

TEST(RewardModelTest, FactorizedWithoutLogitsIsAnError) {
  auto model = make_f64(test::tiny_config(ModelKind::kFactorized), 0);
  EXPECT_THROW(model->forward(test::random_batch(2, 3, 2, kD, 0)), c10::Error);
  EXPECT_THROW(model->forward(test::random_batch(2, 3, 2, kD, 0), torch::zeros({2, 4})),
               c10::Error);
}

// --- Baseline margins against direct computations.
// ------------------------------------------------

TEST(RewardModelTest, BtMarginIsThetaDotStandardizedDelta) {
  auto model = make_f64(test::tiny_config(ModelKind::kBt), 1);
  const auto batch = test::random_batch(3, 2, 4, kD, 1);
  const auto margins = model->forward(batch).margins;
  const auto theta = std::dynamic_pointer_cast<BtModelImpl>(model)->theta();
  const auto std = model->standardizer()->std();
  for (int64_t u = 0; u < 3; ++u) {
    for (int64_t j = 0; j < 4; ++j) {
      double expected = 0;
      for (int64_t i = 0; i < kD; ++i) {
        expected += theta[i].item<double>() * batch.query_delta[u][j][i].item<double>() /
                    std[i].item<double>();
      }
      if (batch.query_mask[u][j].item<double>() == 0) expected = 0;
      EXPECT_NEAR(margins[u][j].item<double>(), expected, 1e-13) << u << "," << j;
    }
  }
}

// r_k(y) of the factorized model's basis rewards, element by element.
double basis_reward(FactorizedModelImpl& model, const torch::Tensor& phi, int64_t k) {
  const auto std = model.standardizer()->std();
  const auto mean = model.standardizer()->mean();
  const auto params = model.basis_rewards()->named_parameters();
  const auto& v = *params.find("V");
  std::vector<double> x(kD);
  for (int64_t i = 0; i < kD; ++i) {
    x[i] = (phi[i].item<double>() - mean[i].item<double>()) / std[i].item<double>();
  }
  if (params.find("trunk.0.weight") == nullptr) {
    double r = 0;
    for (int64_t i = 0; i < kD; ++i) r += v[i][k].item<double>() * x[i];
    return r;
  }
  const auto& w = *params.find("trunk.0.weight");
  const auto& b = *params.find("trunk.0.bias");
  double r = 0;
  for (int64_t h = 0; h < w.size(0); ++h) {
    double pre = b[h].item<double>();
    for (int64_t i = 0; i < kD; ++i) pre += w[h][i].item<double>() * x[i];
    const double gelu = 0.5 * pre * (1 + std::erf(pre / std::sqrt(2.0)));
    r += v[h][k].item<double>() * gelu;
  }
  return r;
}

class FactorizedMarginTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(FactorizedMarginTest, MarginIsSoftmaxWeightedBasisRewardDifference) {
  auto config = test::tiny_config(ModelKind::kFactorized);
  config.basis_hidden = GetParam();
  auto model = std::dynamic_pointer_cast<FactorizedModelImpl>(make_f64(config, 2));
  const auto batch = test::random_batch(3, 0, 4, kD, 2, /*with_chosen=*/true);
  const auto logits = torch::randn({3, 3}, torch::kFloat64);
  const auto margins = model->forward(batch, logits).margins;
  for (int64_t u = 0; u < 3; ++u) {
    std::vector<double> w(3);
    double z = 0;
    for (int64_t k = 0; k < 3; ++k) z += w[k] = std::exp(logits[u][k].item<double>());
    for (int64_t j = 0; j < 4; ++j) {
      const auto chosen = batch.query_chosen[u][j];
      const auto rejected = chosen - batch.query_delta[u][j];
      double expected = 0;
      for (int64_t k = 0; k < 3; ++k) {
        expected +=
            w[k] / z * (basis_reward(*model, chosen, k) - basis_reward(*model, rejected, k));
      }
      if (batch.query_mask[u][j].item<double>() == 0) expected = 0;
      EXPECT_NEAR(margins[u][j].item<double>(), expected, 1e-12) << u << "," << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Trunk, FactorizedMarginTest, ::testing::Values(0, 4));

TEST(RewardModelTest, VplMarginIsUserDirectionDotStandardizedDelta) {
  auto model =
      std::dynamic_pointer_cast<VplModelImpl>(make_f64(test::tiny_config(ModelKind::kVpl), 3));
  model->eval();  // z = mu, no sampling
  const auto batch = test::random_batch(3, 4, 3, kD, 3);
  const auto out = model->forward(batch);
  const auto std = model->standardizer()->std();
  const auto a = model->reward_direction()->weight;  // [D, d]
  const auto bias = model->reward_direction()->bias;
  for (int64_t u = 0; u < 3; ++u) {
    for (int64_t j = 0; j < 3; ++j) {
      double expected = 0;
      for (int64_t i = 0; i < kD; ++i) {
        double theta = bias[i].item<double>();
        for (int64_t l = 0; l < 3; ++l) {
          theta += a[i][l].item<double>() * out.posterior.mean[u][l].item<double>();
        }
        expected += theta * batch.query_delta[u][j][i].item<double>() / std[i].item<double>();
      }
      if (batch.query_mask[u][j].item<double>() == 0) expected = 0;
      EXPECT_NEAR(out.margins[u][j].item<double>(), expected, 1e-12) << u << "," << j;
    }
  }
}

TEST(RewardModelTest, VplSamplesInTrainingModeOnly) {
  auto model = make_f64(test::tiny_config(ModelKind::kVpl), 4);
  const auto batch = test::random_batch(3, 4, 3, kD, 4);
  model->eval();
  EXPECT_TRUE(model->forward(batch).margins.equal(model->forward(batch).margins));
  model->train();
  EXPECT_FALSE(model->forward(batch).margins.equal(model->forward(batch).margins));
}

// --- Every model, every loss option.
// ---------------------------------------------------------------

struct Case {
  std::string name;
  ModelConfig config;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  const auto add = [&](const std::string& name, ModelKind kind, auto tweak) {
    auto config = test::tiny_config(kind);
    tweak(config);
    cases.push_back({name, config});
  };
  add("bt", ModelKind::kBt, [](ModelConfig&) {});
  add("factorized", ModelKind::kFactorized, [](ModelConfig&) {});
  add("factorized_trunk", ModelKind::kFactorized, [](ModelConfig& c) { c.basis_hidden = 4; });
  add("vpl", ModelKind::kVpl, [](ModelConfig&) {});
  add("vpl_mean", ModelKind::kVpl, [](ModelConfig& c) { c.aggregator = Aggregator::kMean; });
  add("vrf", ModelKind::kVrf, [](ModelConfig&) {});
  add("vrf_kendall_gal", ModelKind::kVrf,
      [](ModelConfig& c) { c.attenuation = Attenuation::kKendallGal; });
  add("vrf_no_attenuation", ModelKind::kVrf,
      [](ModelConfig& c) { c.attenuation = Attenuation::kNone; });
  add("vrf_mean", ModelKind::kVrf, [](ModelConfig& c) { c.aggregator = Aggregator::kMean; });
  add("vrf_trunk_fixed_tau", ModelKind::kVrf, [](ModelConfig& c) {
    c.basis_hidden = 4;
    c.learn_temperature = false;
  });
  return cases;
}

class AllModelsTest : public ::testing::TestWithParam<Case> {};

TEST_P(AllModelsTest, FullLossGradientsMatchFiniteDifferences) {
  const auto& config = GetParam().config;
  auto model = make_f64(config, 5);
  model->train();
  const auto batch = test::random_batch(4, 5, 3, kD, 5, config.basis_hidden > 0);
  const auto logits = user_logits_for(*model, 4);
  const PreferenceLoss loss(loss_options_for(config));
  // a_u is a stop-gradient constant: finite differences hold it at its value here.
  torch::manual_seed(9);
  const auto base = model->forward(batch, logits);
  const auto weights = loss.attenuation_weights(base, 4, loss.attenuation_score_sum(base));
  const auto fixed_weight_loss = [&] {
    torch::manual_seed(9);  // vpl draws the same eps each time
    return loss.user_sum(model->forward(batch, logits), batch, weights).total / 4.0;
  };
  std::vector<std::pair<std::string, torch::Tensor>> leaves;
  for (const auto& p : model->named_parameters()) leaves.emplace_back(p.key(), p.value());
  if (logits.defined()) leaves.emplace_back("user_logits", logits);
  test::expect_gradients_match_finite_differences(leaves, fixed_weight_loss);

  // The full loss (weights recomputed inside) has exactly these gradients and this value.
  std::vector<torch::Tensor> expected;
  for (const auto& [name, leaf] : leaves) expected.push_back(leaf.grad().clone());
  for (const auto& [name, leaf] : leaves) leaf.mutable_grad().zero_();
  torch::manual_seed(9);
  const auto out = model->forward(batch, logits);
  const auto full = loss.batch_mean(out, batch);
  full.backward();
  EXPECT_NEAR(full.item<double>(), fixed_weight_loss().item<double>(), 1e-14);
  for (size_t i = 0; i < leaves.size(); ++i) {
    test::expect_close(leaves[i].second.grad(), expected[i], 1e-15, 1e-12, leaves[i].first);
  }
}

TEST_P(AllModelsTest, SplitBatchWithGlobalNormalizerEqualsWholeBatch) {
  const auto& config = GetParam().config;
  auto model = make_f64(config, 6);
  model->eval();  // vpl: z = mu, so both passes see the same latent
  const int64_t users = 7;
  const auto batch = test::random_batch(users, 5, 4, kD, 6, config.basis_hidden > 0);
  const auto logits = user_logits_for(*model, users);
  const PreferenceLoss loss(loss_options_for(config));
  const auto slice_logits = [&](int64_t begin, int64_t end) {
    return logits.defined() ? logits.slice(0, begin, end) : logits;
  };
  const auto gradients = [&] {
    std::vector<torch::Tensor> grads;
    for (auto& p : model->parameters()) {
      grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    if (logits.defined()) {
      grads.push_back(logits.grad().clone());
      logits.mutable_grad().zero_();
    }
    return grads;
  };

  const auto whole = loss.batch_mean(model->forward(batch, logits), batch);
  whole.backward();
  const auto whole_grads = gradients();

  // Two "ranks" of 3 and 4 users: each sums its users, the normalizer is the global one.
  const std::vector<std::pair<int64_t, int64_t>> ranges = {{0, 3}, {3, users}};
  std::vector<PairBatch> parts;
  std::vector<ModelOutput> outs;
  auto global_score_sum = torch::zeros({}, torch::kFloat64);
  for (const auto& [begin, end] : ranges) {
    parts.push_back(batch.slice_users(begin, end));
    outs.push_back(model->forward(parts.back(), slice_logits(begin, end)));
    global_score_sum = global_score_sum + loss.attenuation_score_sum(outs.back());
  }
  auto split = torch::zeros({}, torch::kFloat64);
  for (size_t r = 0; r < parts.size(); ++r) {
    const auto weights = loss.attenuation_weights(outs[r], users, global_score_sum);
    split = split + loss.user_sum(outs[r], parts[r], weights).total / double(users);
  }
  split.backward();
  const auto split_grads = gradients();
  EXPECT_NEAR(split.item<double>(), whole.item<double>(), 1e-14);
  ASSERT_EQ(split_grads.size(), whole_grads.size());
  for (size_t i = 0; i < whole_grads.size(); ++i) {
    test::expect_close(split_grads[i], whole_grads[i], 1e-15, 1e-12,
                       "gradient " + std::to_string(i));
  }
}

TEST_P(AllModelsTest, RunsInFloat32) {
  const auto& config = GetParam().config;
  auto model = make_f64(config, 7);
  model->eval();
  const auto batch = test::random_batch(3, 4, 3, kD, 7, config.basis_hidden > 0);
  const auto logits = user_logits_for(*model, 3);
  const auto reference = model->forward(batch, logits).margins;
  model->to(torch::kFloat32);
  const auto out = model->forward(batch.to(torch::kCPU, torch::kFloat32),
                                  logits.defined() ? logits.detach().to(torch::kFloat32) : logits);
  EXPECT_EQ(out.margins.scalar_type(), torch::kFloat32);
  test::expect_close(out.margins, reference, 1e-5, 1e-5, "float32 margins");
}

INSTANTIATE_TEST_SUITE_P(Models, AllModelsTest, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace vrf::core
