// core/model_config.h — the plain configuration struct of every reward model, with name parsing.
#pragma once

#include <cstdint>
#include <string>

namespace vrf::core {

enum class ModelKind { kBt, kFactorized, kVpl, kVrf };
enum class Aggregator { kBayes, kMean };
enum class Attenuation { kInverseVariance, kKendallGal, kNone };

// DESIGN.md section 1. Defaults are the known-good starting point of section 1.5.
struct ModelConfig {
  ModelKind kind = ModelKind::kVrf;
  int64_t input_dim = 32;    // D, response embedding width
  int64_t num_bases = 8;     // K
  int64_t latent_dim = 16;   // d
  int64_t hidden_dim = 64;   // H, width of the encoder's pair network
  int64_t basis_hidden = 0;  // width of the shared basis trunk; 0 = linear basis heads
  double temperature = 1.0;  // initial tau of the Wasserstein softmax
  bool learn_temperature = true;
  double kl_weight = 1e-3;  // beta
  Aggregator aggregator = Aggregator::kBayes;
  Attenuation attenuation = Attenuation::kInverseVariance;
  double attenuation_lambda = 1.0;  // lambda of the Kendall-Gal form

  // Throws vrf::ConfigError naming the first invalid field and its flag.
  void validate() const;
};

// Name <-> enum, as spelled on the command line ("vrf", "bayes", "inverse-variance", ...). The
// parsers throw vrf::ConfigError listing the accepted names.
ModelKind parse_model_kind(const std::string& name);
Aggregator parse_aggregator(const std::string& name);
Attenuation parse_attenuation(const std::string& name);
std::string to_string(ModelKind kind);
std::string to_string(Aggregator aggregator);
std::string to_string(Attenuation attenuation);

}  // namespace vrf::core
