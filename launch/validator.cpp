// launch/validator.cpp — Validator.
#include "launch/validator.h"

#include <algorithm>

#include "core/errors.h"
#include "io/preference_store.h"
#include "launch/evaluator.h"

namespace vrf::launch {

Validator::Validator(const std::string& train_path, const std::string& val_path, int64_t user_begin,
                     int64_t user_end, int64_t context_max, int64_t max_users,
                     bool with_query_chosen, int64_t batch_users) {
  const io::PreferenceStore train(train_path), val(val_path);
  if (train.embedding_dim() != val.embedding_dim()) {
    throw DataError(val_path + ": embedding_dim " + std::to_string(val.embedding_dim()) +
                    " differs from the training store's " + std::to_string(train.embedding_dim()) +
                    " (" + train_path + ")");
  }
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
    std::vector<UserPairRows> rows(last - first);
    for (size_t i = first; i < last; ++i) {
      const auto [t, v] = users[i];
      auto& u = rows[i - first];
      u.user = t;
      const int64_t begin = train.offsets()[t];
      train.read_pairs(begin, std::min(train.offsets()[t + 1], begin + context_max),
                       u.context_chosen, u.context_rejected);
      val.read_pairs(val.offsets()[v], val.offsets()[v + 1], u.query_chosen, u.query_rejected);
    }
    batches_.push_back(build_user_batch(train, val, rows, with_query_chosen));
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
