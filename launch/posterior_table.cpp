// launch/posterior_table.cpp — compute_posterior_table.
#include "launch/posterior_table.h"

#include <algorithm>

#include "launch/gathered_rows.h"

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
  const auto as_index = [](const std::vector<int64_t>& v) {
    return torch::tensor(v, torch::kInt64);
  };
  std::vector<int64_t> chosen, rejected;
  // Blocks of contiguous users are read at once (one pair read, one sorted embedding gather);
  // within a block, users are encoded in batches of similar context size, so that padding
  // costs little: the encoder's cost is proportional to batch x longest context.
  const int64_t block_users = 8 * batch_users;
  for (int64_t first = begin; first < end; first += block_users) {
    const int64_t last = std::min(end, first + block_users);
    train.read_pairs(offsets[first], offsets[last], chosen, rejected);
    std::vector<int64_t> rows = chosen;
    rows.insert(rows.end(), rejected.begin(), rejected.end());
    const GatheredRows responses(train, std::move(rows));
    const auto context_of = [&](int64_t u) {
      return std::min(context_max, offsets[u + 1] - offsets[u]);
    };
    std::vector<int64_t> order(static_cast<size_t>(last - first));
    for (int64_t u = first; u < last; ++u) order[u - first] = u;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return context_of(a) < context_of(b); });

    for (size_t at = 0; at < order.size(); at += static_cast<size_t>(batch_users)) {
      const std::vector<int64_t> users(
          order.begin() + at, order.begin() + std::min(order.size(), at + size_t(batch_users)));
      const int64_t b = static_cast<int64_t>(users.size());
      // Each user's first context_of(u) pairs as (batch row, slot, response rows) index lists:
      // the whole batch is gathered and scattered by a few tensor operations.
      int64_t c_max = 1;
      std::vector<int64_t> batch_row, slot, chosen_rows, rejected_rows;
      for (int64_t i = 0; i < b; ++i) {
        const int64_t from = offsets[users[i]] - offsets[first], count = context_of(users[i]);
        c_max = std::max(c_max, count);
        for (int64_t j = 0; j < count; ++j) {
          batch_row.push_back(i);
          slot.push_back(j);
          chosen_rows.push_back(chosen[from + j]);
          rejected_rows.push_back(rejected[from + j]);
        }
      }
      core::PairBatch batch;
      batch.context_delta = torch::zeros({b, c_max, dim});
      batch.context_mask = torch::zeros({b, c_max});
      batch.query_delta = torch::zeros({b, 0, dim});  // only the posterior is computed
      batch.query_mask = torch::zeros({b, 0});
      batch.user_rows = as_index(users);
      if (!batch_row.empty()) {
        const auto r = as_index(batch_row), c = as_index(slot);
        batch.context_delta.index_put_({r, c}, responses(chosen_rows) - responses(rejected_rows));
        batch.context_mask.index_put_({r, c}, torch::ones({int64_t(batch_row.size())}));
      }
      const auto posterior = model.encode(batch.to(reference.device(), reference.scalar_type()));
      const auto destination = as_index(users) - begin;
      table.mean.index_copy_(0, destination, posterior.mean.to(torch::kCPU, torch::kFloat));
      table.logvar.index_copy_(0, destination, posterior.logvar.to(torch::kCPU, torch::kFloat));
    }
  }
  model.train(was_training);
  return table;
}

}  // namespace vrf::launch
