// tests/core/golden_test.cpp — vrf reproduces the float64 values of an independent implementation
// (tests/data/golden/vrf_small.json, a copy of shared/golden/) to 1e-10.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/preference_loss.h"
#include "core/vrf_model.h"
#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

constexpr double kTol = 1e-10;

// A float64 tensor from a (nested) JSON array or number.
torch::Tensor tensor_of(const nlohmann::json& value) {
  if (value.is_number()) return torch::full({}, value.get<double>(), torch::kFloat64);
  std::vector<torch::Tensor> rows;
  for (const auto& row : value) rows.push_back(tensor_of(row));
  if (rows.empty()) return torch::zeros({0}, torch::kFloat64);
  return torch::stack(rows);
}

class GoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream file(std::string(VRF_TEST_DATA_DIR) + "/golden/vrf_small.json");
    ASSERT_TRUE(file) << "cannot open the golden file under " << VRF_TEST_DATA_DIR;
    golden_ = nlohmann::json::parse(file);
    const auto& dims = golden_["dims"];
    config_.kind = ModelKind::kVrf;
    config_.input_dim = dims["D"];
    config_.hidden_dim = dims["H"];
    config_.latent_dim = dims["d"];
    config_.num_bases = dims["K"];
    config_.temperature = golden_["hyper"]["tau"];
    config_.kl_weight = golden_["hyper"]["kl_weight"];
    config_.attenuation_lambda = golden_["hyper"]["attenuation_lambda"];
    model_ = std::make_shared<VrfModelImpl>(config_);
    model_->to(torch::kFloat64);
    load_parameters();
    const auto& in = golden_["inputs"];
    batch_.context_delta = tensor_of(in["context_delta"]);
    batch_.context_mask = tensor_of(in["context_mask"]);
    batch_.query_delta = tensor_of(in["query_delta"]);
    batch_.query_mask = tensor_of(in["query_mask"]);
    batch_.user_rows = torch::arange(batch_.num_users(), torch::kInt64);
    out_ = model_->forward(batch_);
  }

  // Every parameter of the golden file must exist in the model under the same name and shape,
  // and every model parameter must be set by the file.
  void load_parameters() {
    torch::NoGradGuard no_grad;
    auto params = model_->named_parameters();
    ASSERT_EQ(params.size(), golden_["params"].size());
    for (const auto& [name, value] : golden_["params"].items()) {
      auto* param = params.find(name);
      ASSERT_NE(param, nullptr) << "model has no parameter " << name;
      const auto t = tensor_of(value);
      ASSERT_EQ(param->sizes(), t.sizes()) << name;
      param->copy_(t);
    }
  }

  torch::Tensor expected(const std::string& key) const {
    return tensor_of(golden_["expected"][key]);
  }

  nlohmann::json golden_;
  ModelConfig config_;
  std::shared_ptr<VrfModelImpl> model_;
  PairBatch batch_;
  ModelOutput out_;
};

TEST_F(GoldenTest, Posterior) {
  test::expect_close(out_.posterior.mean, expected("posterior_mean"), kTol, 0, "posterior mean");
  test::expect_close(out_.posterior.logvar, expected("posterior_logvar"), kTol, 0,
                     "posterior logvar");
}

TEST_F(GoldenTest, WassersteinDistancesAndWeights) {
  test::expect_close(model_->bases()->w2_squared(out_.posterior.mean, out_.posterior.logvar),
                     expected("w2_squared"), kTol, 0, "W2^2");
  test::expect_close(out_.weights, expected("weights"), kTol, 0, "weights");
}

TEST_F(GoldenTest, MarginsAtRealQueriesAndZeroAtPadding) {
  const auto real = batch_.query_mask > 0;
  test::expect_close(out_.margins.masked_select(real), expected("margins").masked_select(real),
                     kTol, 0, "margins");
  EXPECT_TRUE(out_.margins.masked_select(~real).eq(0).all().item<bool>());
}

TEST_F(GoldenTest, PerUserTerms) {
  test::expect_close(PreferenceLoss::bradley_terry_nll(out_.margins, batch_.query_mask),
                     expected("nll_per_user"), kTol, 0, "nll per user");
  test::expect_close(PreferenceLoss::user_logvar_mean(out_.posterior), expected("user_logvar_mean"),
                     kTol, 0, "s_u");
  test::expect_close(PreferenceLoss::kl_to_standard_normal(out_.posterior), expected("kl_per_user"),
                     kTol, 0, "KL per user");
  const PreferenceLoss loss(loss_options_for(config_));
  test::expect_close(
      loss.attenuation_weights(out_, batch_.num_users(), loss.attenuation_score_sum(out_)),
      expected("attenuation_weight_inverse_variance"), kTol, 0, "a_u");
}

TEST_F(GoldenTest, LossOfEachAttenuation) {
  for (const auto& [attenuation, key] :
       {std::pair{Attenuation::kInverseVariance, "loss_inverse_variance"},
        std::pair{Attenuation::kKendallGal, "loss_kendall_gal"},
        std::pair{Attenuation::kNone, "loss_none"}}) {
    config_.attenuation = attenuation;
    const PreferenceLoss loss(loss_options_for(config_));
    test::expect_close(loss.batch_mean(out_, batch_), expected(key), kTol, 0, key);
  }
}

}  // namespace
}  // namespace vrf::core
