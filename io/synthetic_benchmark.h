// io/synthetic_benchmark.h — the PersonalLLM-like synthetic benchmark of DESIGN.md section 5,
// written as train / val / test / unseen stores with ground truth.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "io/store_format.h"

namespace vrf::io {

// Every generator parameter; defaults are the default benchmark (a few minutes of training on
// 2 cores). Flags of `vrf data synth` carry the same names.
struct SynthConfig {
  std::string out_dir;
  int64_t prompts = 400;               // --prompts
  int64_t responses_per_prompt = 8;    // --responses-per-prompt
  int64_t attributes = 8;              // --attributes (A)
  int64_t dim = 32;                    // --dim (D)
  double nuisance = 0.5;               // --nuisance, std of the noise added to W a
  int64_t users = 600;                 // --users (seen users)
  int64_t unseen_users = 300;          // --unseen-users
  double alpha = 0.1;                  // --alpha, Dirichlet concentration of user weights
  double rationality_min = 1.0;        // --rationality-min
  double rationality_max = 8.0;        // --rationality-max
  int64_t pairs_min = 5;               // --pairs-min, training pairs per seen user
  int64_t pairs_max = 60;              // --pairs-max
  std::string pairs_dist = "uniform";  // --pairs-dist uniform|zipf
  double zipf_exponent = 1.5;          // --zipf-exponent, P(n) ~ n^-s on [pairs-min, pairs-max]
  int64_t val_pairs = 10;              // --val-pairs per seen user
  int64_t test_pairs = 20;             // --test-pairs per seen and unseen user
  int64_t context_pairs = 20;          // --context-pairs per unseen user
  uint64_t seed = 0;                   // --seed
  EmbeddingDtype dtype = EmbeddingDtype::kFloat32;  // --dtype
  bool compress = false;                            // --compress
  bool force = false;                               // --force: overwrite existing files

  // Throws vrf::ConfigError naming the flag.
  void validate() const;
};

struct SynthSummary {
  int64_t responses = 0;
  int64_t train_pairs = 0, val_pairs = 0, test_pairs = 0, unseen_pairs = 0;
};

// Writes <out_dir>/{train,val,test,unseen}.h5 in one streaming pass (memory independent of the
// number of pairs; 16 bytes per user per file for the user index). Same config, same bytes.
// Progress lines go to *progress when given.
SynthSummary write_synthetic_benchmark(const SynthConfig& config, std::ostream* progress);

}  // namespace vrf::io
