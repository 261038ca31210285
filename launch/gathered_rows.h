// launch/gathered_rows.h — GatheredRows: response embeddings read once, looked up by row.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "io/preference_store.h"

namespace vrf::launch {

// The embeddings of the response `rows` of `store` (any order, repeats allowed), gathered in one
// sorted, coalesced read; operator() looks rows up by id.
class GatheredRows {
 public:
  GatheredRows(const io::PreferenceStore& store, std::vector<int64_t> rows)
      : rows_(std::move(rows)) {
    std::sort(rows_.begin(), rows_.end());
    rows_.erase(std::unique(rows_.begin(), rows_.end()), rows_.end());
    table_ = torch::empty({static_cast<int64_t>(rows_.size()), store.embedding_dim()});
    if (!rows_.empty()) store.gather_embeddings(rows_, table_.data_ptr<float>());
  }
  // [ids.size(), D]: the embeddings of `ids`, each among the gathered rows.
  torch::Tensor operator()(const std::vector<int64_t>& ids) const {
    std::vector<int64_t> positions(ids.size());
    for (size_t j = 0; j < ids.size(); ++j) {
      positions[j] = std::lower_bound(rows_.begin(), rows_.end(), ids[j]) - rows_.begin();
    }
    return table_.index_select(0, torch::tensor(positions, torch::kInt64));
  }

 private:
  std::vector<int64_t> rows_;
  torch::Tensor table_;
};

}  // namespace vrf::launch
