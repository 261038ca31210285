// core/model_config.cpp — validation and name parsing of ModelConfig.
#include "core/model_config.h"

#include <array>
#include <cmath>
#include <sstream>
#include <utility>

#include "core/errors.h"

namespace vrf::core {
namespace {

template <typename Enum, size_t N>
Enum parse_name(const std::array<std::pair<const char*, Enum>, N>& names, const std::string& name,
                const char* flag) {
  std::ostringstream accepted;
  for (const auto& [text, value] : names) {
    if (name == text) return value;
    accepted << (accepted.tellp() > 0 ? ", " : "") << text;
  }
  throw ConfigError(std::string(flag) + ": unknown value '" + name + "'; expected one of " +
                    accepted.str());
}

template <typename Enum, size_t N>
std::string name_of(const std::array<std::pair<const char*, Enum>, N>& names, Enum value) {
  for (const auto& [text, v] : names) {
    if (v == value) return text;
  }
  return "?";
}

constexpr std::array<std::pair<const char*, ModelKind>, 4> kModelNames{{
    {"bt", ModelKind::kBt},
    {"factorized", ModelKind::kFactorized},
    {"vpl", ModelKind::kVpl},
    {"vrf", ModelKind::kVrf},
}};
constexpr std::array<std::pair<const char*, Aggregator>, 2> kAggregatorNames{{
    {"bayes", Aggregator::kBayes},
    {"mean", Aggregator::kMean},
}};
constexpr std::array<std::pair<const char*, Attenuation>, 3> kAttenuationNames{{
    {"inverse-variance", Attenuation::kInverseVariance},
    {"kendall-gal", Attenuation::kKendallGal},
    {"none", Attenuation::kNone},
}};

void require_positive(int64_t value, const char* flag) {
  if (value <= 0) {
    throw ConfigError(std::string(flag) + " must be a positive integer; got " +
                      std::to_string(value));
  }
}

}  // namespace

void ModelConfig::validate() const {
  require_positive(input_dim, "--dim (input embedding width D)");
  require_positive(num_bases, "--bases");
  require_positive(latent_dim, "--latent-dim");
  require_positive(hidden_dim, "--hidden");
  if (basis_hidden < 0) {
    throw ConfigError("--basis-hidden must be 0 (no trunk) or a positive width; got " +
                      std::to_string(basis_hidden));
  }
  if (!(std::isfinite(temperature) && temperature > 0)) {
    throw ConfigError("--temperature must be a finite positive number; got " +
                      std::to_string(temperature));
  }
  if (!(std::isfinite(kl_weight) && kl_weight >= 0)) {
    throw ConfigError("--kl-weight must be finite and >= 0; got " + std::to_string(kl_weight));
  }
  if (!std::isfinite(attenuation_lambda)) {
    throw ConfigError("--attenuation-lambda must be finite; got " +
                      std::to_string(attenuation_lambda));
  }
}

ModelKind parse_model_kind(const std::string& name) {
  return parse_name(kModelNames, name, "--model");
}
Aggregator parse_aggregator(const std::string& name) {
  return parse_name(kAggregatorNames, name, "--aggregator");
}
Attenuation parse_attenuation(const std::string& name) {
  return parse_name(kAttenuationNames, name, "--attenuation");
}
std::string to_string(ModelKind kind) { return name_of(kModelNames, kind); }
std::string to_string(Aggregator aggregator) { return name_of(kAggregatorNames, aggregator); }
std::string to_string(Attenuation attenuation) { return name_of(kAttenuationNames, attenuation); }

}  // namespace vrf::core
