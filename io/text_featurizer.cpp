// io/text_featurizer.cpp — TextFeaturizer.
#include "io/text_featurizer.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"

namespace vrf::io {
namespace {

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

TextFeaturizer::TextFeaturizer(int64_t dim) : dim_(dim) {
  if (dim <= 0) {
    throw ConfigError("text featurizer: dimension must be positive; got " + std::to_string(dim));
  }
}

uint64_t TextFeaturizer::fnv1a(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

void TextFeaturizer::add(const std::string& feature, float* out) const {
  const uint64_t h = fnv1a(feature);
  out[h % static_cast<uint64_t>(dim_)] += (h >> 63) == 0 ? 1.0f : -1.0f;
}

void TextFeaturizer::featurize(const std::string& text, float* out) const {
  std::fill(out, out + dim_, 0.0f);
  std::vector<std::string> tokens;
  std::string token;
  for (const char c : text) {
    if (is_word_byte(static_cast<unsigned char>(c))) {
      token.push_back(to_lower_ascii(c));
    } else if (!token.empty()) {
      tokens.push_back(std::move(token));
      token.clear();
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  for (size_t i = 0; i < tokens.size(); ++i) {
    add(tokens[i], out);
    if (i + 1 < tokens.size()) add(tokens[i] + " " + tokens[i + 1], out);
  }
  // Sum of squares in double: counts can be large for long texts.
  double squares = 0.0;
  for (int64_t i = 0; i < dim_; ++i) squares += double(out[i]) * double(out[i]);
  if (squares == 0.0) return;
  const double scale = 1.0 / std::sqrt(squares);
  for (int64_t i = 0; i < dim_; ++i) out[i] = static_cast<float>(out[i] * scale);
}

}  // namespace vrf::io
