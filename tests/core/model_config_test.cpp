// tests/core/model_config_test.cpp — ModelConfig names and validation.
#include "core/model_config.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/errors.h"

namespace vrf::core {
namespace {

std::string config_error_of(const ModelConfig& config) {
  try {
    config.validate();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfigTest, NamesRoundTrip) {
  for (const char* name : {"bt", "factorized", "vpl", "vrf"}) {
    EXPECT_EQ(to_string(parse_model_kind(name)), name);
  }
  for (const char* name : {"bayes", "mean"}) EXPECT_EQ(to_string(parse_aggregator(name)), name);
  for (const char* name : {"inverse-variance", "kendall-gal", "none"}) {
    EXPECT_EQ(to_string(parse_attenuation(name)), name);
  }
}

TEST(ModelConfigTest, UnknownNameListsTheAcceptedOnes) {
  try {
    parse_model_kind("lora");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "--model: unknown value 'lora'; expected one of bt, factorized, vpl, vrf");
  }
  EXPECT_THROW(parse_aggregator("max"), ConfigError);
  EXPECT_THROW(parse_attenuation("inverse_variance"), ConfigError);
}

TEST(ModelConfigTest, DefaultsAreValid) { EXPECT_EQ(config_error_of(ModelConfig{}), ""); }

TEST(ModelConfigTest, EachInvalidFieldNamesItsFlag) {
  ModelConfig c;
  c.num_bases = 0;
  EXPECT_NE(config_error_of(c).find("--bases must be a positive integer; got 0"),
            std::string::npos);
  c = ModelConfig{};
  c.latent_dim = -3;
  EXPECT_NE(config_error_of(c).find("--latent-dim"), std::string::npos);
  c = ModelConfig{};
  c.hidden_dim = 0;
  EXPECT_NE(config_error_of(c).find("--hidden"), std::string::npos);
  c = ModelConfig{};
  c.input_dim = 0;
  EXPECT_NE(config_error_of(c).find("--dim"), std::string::npos);
  c = ModelConfig{};
  c.basis_hidden = -1;
  EXPECT_NE(config_error_of(c).find("--basis-hidden"), std::string::npos);
  c = ModelConfig{};
  c.temperature = 0;
  EXPECT_NE(config_error_of(c).find("--temperature"), std::string::npos);
  c = ModelConfig{};
  c.kl_weight = -1e-3;
  EXPECT_NE(config_error_of(c).find("--kl-weight"), std::string::npos);
  c = ModelConfig{};
  c.attenuation_lambda = std::nan("");
  EXPECT_NE(config_error_of(c).find("--attenuation-lambda"), std::string::npos);
}

}  // namespace
}  // namespace vrf::core
