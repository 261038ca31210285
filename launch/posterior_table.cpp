// launch/posterior_table.cpp — compute_posterior_table.
#include "launch/posterior_table.h"

#include <algorithm>

namespace vrf::launch {

PosteriorTable compute_posterior_table(core::RewardModelImpl& model,
                                       const io::PreferenceStore& train, int64_t begin, int64_t end,
                                       int64_t context_max, int64_t batch_users) {
  const auto kind = model.config().kind;
  const bool has_encoder = kind == core::ModelKind::kVrf || kind == core::ModelKind::kVpl;
  const int64_t n = end - begin, d = has_encoder ? model.config().latent_dim : 0;
  const int64_t dim = train.embedding_dim();
  PosteriorTable table{torch::zeros({n, d}), torch::zeros({n, d}),
                       torch::zeros({n}, torch::kInt64)};
  const auto& offsets = train.offsets();
  for (int64_t u = begin; u < end; ++u) table.seen[u - begin] = offsets[u + 1] > offsets[u] ? 1 : 0;
  if (!has_encoder || n == 0) return table;

  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const auto reference = model.parameters().front();
  std::vector<int64_t> chosen, rejected, rows;
  std::vector<float> responses;
  for (int64_t first = begin; first < end; first += batch_users) {
    const int64_t last = std::min(end, first + batch_users), b = last - first;
    train.read_pairs(offsets[first], offsets[last], chosen, rejected);
    rows = chosen;
    rows.insert(rows.end(), rejected.begin(), rejected.end());
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    responses.resize(rows.size() * static_cast<size_t>(dim));
    train.gather_embeddings(rows, responses.data());
    const auto table_rows = torch::from_blob(responses.data(), {int64_t(rows.size()), dim});
    const auto index_of = [&](const std::vector<int64_t>& ids, int64_t from, int64_t count) {
      std::vector<int64_t> index(static_cast<size_t>(count));
      for (int64_t j = 0; j < count; ++j) {
        index[j] = std::lower_bound(rows.begin(), rows.end(), ids[from + j]) - rows.begin();
      }
      return torch::tensor(index, torch::kInt64);
    };
    int64_t c_max = 1;
    for (int64_t u = first; u < last; ++u) {
      c_max = std::max(c_max, std::min(context_max, offsets[u + 1] - offsets[u]));
    }
    core::PairBatch batch;
    batch.context_delta = torch::zeros({b, c_max, dim});
    batch.context_mask = torch::zeros({b, c_max});
    batch.query_delta = torch::zeros({b, 1, dim});  // no queries: only the posterior is used
    batch.query_mask = torch::zeros({b, 1});
    if (model.config().basis_hidden > 0) batch.query_chosen = torch::zeros({b, 1, dim});
    batch.user_rows = torch::arange(first, last, torch::kInt64);
    for (int64_t u = first; u < last; ++u) {
      const int64_t from = offsets[u] - offsets[first];
      const int64_t count = std::min(context_max, offsets[u + 1] - offsets[u]);
      if (count == 0) continue;
      const auto delta = table_rows.index_select(0, index_of(chosen, from, count)) -
                         table_rows.index_select(0, index_of(rejected, from, count));
      batch.context_delta[u - first].slice(0, 0, count).copy_(delta);
      batch.context_mask[u - first].slice(0, 0, count).fill_(1);
    }
    const auto out = model.forward(batch.to(reference.device(), reference.scalar_type()));
    table.mean.slice(0, first - begin, last - begin).copy_(out.posterior.mean.to(torch::kCPU));
    table.logvar.slice(0, first - begin, last - begin).copy_(out.posterior.logvar.to(torch::kCPU));
  }
  model.train(was_training);
  return table;
}

}  // namespace vrf::launch
