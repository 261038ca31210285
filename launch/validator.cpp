// launch/validator.cpp — Validator.
#include "launch/validator.h"

#include <algorithm>

#include "core/errors.h"
#include "io/preference_store.h"

namespace vrf::launch {
namespace {

// Deltas of pairs [begin, end) of `store` appended to `out` ([n, D] floats), and when `chosen_out`
// is given, phi(chosen) of the same pairs appended to it.
void append_deltas(const io::PreferenceStore& store, int64_t begin, int64_t end,
                   std::vector<float>& out, std::vector<float>* chosen_out = nullptr) {
  std::vector<int64_t> chosen, rejected;
  store.read_pairs(begin, end, chosen, rejected);
  std::vector<int64_t> rows = chosen;
  rows.insert(rows.end(), rejected.begin(), rejected.end());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const int64_t d = store.embedding_dim();
  std::vector<float> table(rows.size() * static_cast<size_t>(d));
  store.gather_embeddings(rows, table.data());
  const auto row = [&](int64_t r) {
    return table.data() + (std::lower_bound(rows.begin(), rows.end(), r) - rows.begin()) * d;
  };
  for (size_t j = 0; j < chosen.size(); ++j) {
    const float* c = row(chosen[j]);
    const float* r = row(rejected[j]);
    for (int64_t k = 0; k < d; ++k) out.push_back(c[k] - r[k]);
    if (chosen_out != nullptr) chosen_out->insert(chosen_out->end(), c, c + d);
  }
}

}  // namespace

Validator::Validator(const std::string& train_path, const std::string& val_path, int64_t user_begin,
                     int64_t user_end, int64_t context_max, int64_t max_users,
                     bool with_query_chosen, int64_t batch_users) {
  const io::PreferenceStore train(train_path), val(val_path);
  if (train.embedding_dim() != val.embedding_dim()) {
    throw DataError(val_path + ": embedding_dim " + std::to_string(val.embedding_dim()) +
                    " differs from the training store's " + std::to_string(train.embedding_dim()) +
                    " (" + train_path + ")");
  }
  const int64_t d = train.embedding_dim();
  // (training user index, validation user index) of this rank's users present in both stores.
  std::vector<std::pair<int64_t, int64_t>> users;
  const auto& ids = train.user_ids();
  for (int64_t v = 0; v < val.num_users() && static_cast<int64_t>(users.size()) < max_users; ++v) {
    const auto it = std::lower_bound(ids.begin(), ids.end(), val.user_ids()[v]);
    if (it == ids.end() || *it != val.user_ids()[v]) continue;
    const int64_t t = it - ids.begin();
    if (t < user_begin || t >= user_end) continue;
    if (val.offsets()[v + 1] == val.offsets()[v]) continue;
    users.emplace_back(t, v);
  }
  for (size_t first = 0; first < users.size(); first += static_cast<size_t>(batch_users)) {
    const size_t last = std::min(users.size(), first + static_cast<size_t>(batch_users));
    const int64_t b = static_cast<int64_t>(last - first);
    std::vector<std::vector<float>> context(b), query(b), chosen(b);
    int64_t c_max = 0, q_max = 0;
    std::vector<int64_t> rows(b);
    for (int64_t i = 0; i < b; ++i) {
      const auto [t, v] = users[first + i];
      rows[i] = t;
      const int64_t begin = train.offsets()[t];
      append_deltas(train, begin, std::min(train.offsets()[t + 1], begin + context_max),
                    context[i]);
      append_deltas(val, val.offsets()[v], val.offsets()[v + 1], query[i],
                    with_query_chosen ? &chosen[i] : nullptr);
      c_max = std::max<int64_t>(c_max, context[i].size() / d);
      q_max = std::max<int64_t>(q_max, query[i].size() / d);
    }
    core::PairBatch batch;
    batch.context_delta = torch::zeros({b, c_max, d});
    batch.context_mask = torch::zeros({b, c_max});
    batch.query_delta = torch::zeros({b, q_max, d});
    batch.query_mask = torch::zeros({b, q_max});
    if (with_query_chosen) batch.query_chosen = torch::zeros({b, q_max, d});
    for (int64_t i = 0; i < b; ++i) {
      const int64_t nc = context[i].size() / d, nq = query[i].size() / d;
      if (nc > 0) {
        batch.context_delta[i].slice(0, 0, nc).copy_(torch::from_blob(context[i].data(), {nc, d}));
        batch.context_mask[i].slice(0, 0, nc).fill_(1);
      }
      batch.query_delta[i].slice(0, 0, nq).copy_(torch::from_blob(query[i].data(), {nq, d}));
      if (with_query_chosen) {
        batch.query_chosen[i].slice(0, 0, nq).copy_(torch::from_blob(chosen[i].data(), {nq, d}));
      }
      batch.query_mask[i].slice(0, 0, nq).fill_(1);
    }
    batch.user_rows = torch::tensor(rows, torch::kInt64);
    batches_.push_back(std::move(batch));
  }
}

ValidationResult Validator::evaluate(TrainingStep& step, dist::Communicator& communicator) {
  torch::NoGradGuard no_grad;
  auto& model = step.model();
  model.eval();
  double correct = 0, pairs = 0, nll = 0, users = 0;
  const auto reference = model.parameters().front();
  for (const auto& host_batch : batches_) {
    const auto batch = host_batch.to(reference.device(), reference.scalar_type());
    const auto out = model.forward(batch, step.user_params_for(batch.user_rows, false));
    const auto real = batch.query_mask > 0;
    correct += (out.margins > 0).logical_and(real).sum().item<double>();
    pairs += batch.query_mask.sum().item<double>();
    nll += torch::where(real, torch::softplus(-out.margins), torch::zeros_like(out.margins))
               .sum()
               .item<double>();
    users += double(batch.num_users());
  }
  model.train();
  auto sums = torch::tensor({correct, pairs, nll, users}, torch::kFloat64);
  communicator.all_reduce_sum_(sums);
  ValidationResult result;
  result.pairs = static_cast<int64_t>(sums[1].item<double>());
  result.users = static_cast<int64_t>(sums[3].item<double>());
  if (result.pairs > 0) {
    result.accuracy = sums[0].item<double>() / sums[1].item<double>();
    result.nll = sums[2].item<double>() / sums[1].item<double>();
  }
  return result;
}

}  // namespace vrf::launch
