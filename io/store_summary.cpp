// io/store_summary.cpp — summarize_store.
#include "io/store_summary.h"

#include <algorithm>

namespace vrf::io {

StoreSummary summarize_store(const std::string& path) {
  const PreferenceStore store(path);
  StoreSummary s;
  s.path = path;
  s.users = store.num_users();
  s.pairs = store.num_pairs();
  s.responses = store.num_responses();
  s.embedding_dim = store.embedding_dim();
  s.dtype = store.dtype();
  s.has_num_context = !store.num_context().empty();
  s.has_truth = store.has_truth();
  s.datasets = store.layout();

  std::vector<int64_t> counts(static_cast<size_t>(s.users));
  for (int64_t u = 0; u < s.users; ++u) counts[u] = store.offsets()[u + 1] - store.offsets()[u];
  std::sort(counts.begin(), counts.end());
  for (const auto& [name, q] : std::vector<std::pair<std::string, double>>{{"min", 0.0},
                                                                           {"p25", 0.25},
                                                                           {"p50", 0.5},
                                                                           {"p75", 0.75},
                                                                           {"p90", 0.9},
                                                                           {"p99", 0.99},
                                                                           {"max", 1.0}}) {
    const auto rank = static_cast<size_t>(q * double(std::max<int64_t>(s.users - 1, 0)) + 0.5);
    s.pairs_per_user.emplace_back(name, counts.empty() ? 0 : counts[rank]);
  }

  constexpr int64_t kBlockBytes = int64_t{64} << 20;
  std::vector<int64_t> chosen, rejected;
  const int64_t pair_block = kBlockBytes / 16;
  for (int64_t begin = 0; begin < s.pairs; begin += pair_block) {
    store.read_pairs(begin, std::min(s.pairs, begin + pair_block), chosen, rejected);
  }
  const int64_t row_block = std::max<int64_t>(1, kBlockBytes / (4 * s.embedding_dim));
  std::vector<float> rows;
  for (int64_t begin = 0; begin < s.responses; begin += row_block) {
    const int64_t end = std::min(s.responses, begin + row_block);
    rows.resize(static_cast<size_t>((end - begin) * s.embedding_dim));
    store.read_embeddings(begin, end, rows.data());
  }
  return s;
}

}  // namespace vrf::io
