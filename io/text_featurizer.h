// io/text_featurizer.h — a hashing word n-gram featurizer: a stand-in for LLM embeddings that
// lets anyone try vrf on raw preference text (`vrf data import` with string responses).
#pragma once

#include <cstdint>
#include <string>

namespace vrf::io {

// Maps text to a fixed-width float32 vector, deterministically and without any model:
//   1. ASCII letters are lowercased; every other byte is kept as is.
//   2. Tokens are maximal runs of word bytes: ASCII letters and digits, and every byte >= 0x80
//      (so UTF-8 encoded non-ASCII characters belong to words). All other bytes separate tokens.
//   3. Features are the word unigrams "w" and the bigrams "w1 w2" (joined by one space).
//   4. Each feature's bytes are hashed with 64-bit FNV-1a (offset basis 0xcbf29ce484222325,
//      prime 0x100000001b3): bucket = h % dim, sign = +1 when bit 63 of h is 0, else -1; the sign
//      is added to the bucket (repeated features add up).
//   5. The vector is L2-normalized; text without tokens gives all zeros.
// Immutable after construction, so safe to share between threads.
class TextFeaturizer {
 public:
  // Throws vrf::ConfigError unless dim > 0.
  explicit TextFeaturizer(int64_t dim);

  int64_t dim() const { return dim_; }
  // Writes the features of `text` (UTF-8 or any bytes) into out: [dim] float32.
  void featurize(const std::string& text, float* out) const;
  // 64-bit FNV-1a of the bytes of `bytes`.
  static uint64_t fnv1a(const std::string& bytes);

 private:
  void add(const std::string& feature, float* out) const;

  int64_t dim_;
};

}  // namespace vrf::io
