// io/store_summary.h — `vrf data inspect`: a full validation pass over a store and its summary.
#pragma once

#include <string>
#include <vector>

#include "io/preference_store.h"

namespace vrf::io {

struct StoreSummary {
  std::string path;
  int64_t users = 0, pairs = 0, responses = 0, embedding_dim = 0;
  EmbeddingDtype dtype = EmbeddingDtype::kFloat32;
  // Pairs per user: min, 25th, 50th, 75th, 90th, 99th percentile, max (nearest rank).
  std::vector<std::pair<std::string, int64_t>> pairs_per_user;
  bool has_num_context = false, has_truth = false;
  std::vector<DatasetLayout> datasets;
};

// Opens `path` and reads every pair index and every embedding row (in blocks of about 64 MiB),
// so that each rule of io/FORMAT.md is checked. Throws vrf::DataError on the first violation.
StoreSummary summarize_store(const std::string& path);

}  // namespace vrf::io
