// launch/evaluator.cpp — evaluate, report_markdown.
#include "launch/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "distributed/user_sharder.h"
#include "launch/eval_metrics.h"
#include "launch/gathered_rows.h"

namespace vrf::launch {

double predictive_margin(double margin, double variance) {
  return margin / std::sqrt(1.0 + M_PI * std::max(0.0, variance) / 8.0);
}

core::PairBatch build_user_batch(const io::PreferenceStore& context_store,
                                 const io::PreferenceStore& query_store,
                                 const std::vector<UserPairRows>& users, bool with_query_chosen) {
  std::vector<int64_t> context_rows, query_rows;
  for (const auto& u : users) {
    context_rows.insert(context_rows.end(), u.context_chosen.begin(), u.context_chosen.end());
    context_rows.insert(context_rows.end(), u.context_rejected.begin(), u.context_rejected.end());
    query_rows.insert(query_rows.end(), u.query_chosen.begin(), u.query_chosen.end());
    query_rows.insert(query_rows.end(), u.query_rejected.begin(), u.query_rejected.end());
  }
  const GatheredRows context(context_store, std::move(context_rows));
  const GatheredRows query(query_store, std::move(query_rows));
  const int64_t dim = query_store.embedding_dim(), b = static_cast<int64_t>(users.size());
  int64_t c_max = 0, q_max = 1;
  for (const auto& u : users) {
    c_max = std::max<int64_t>(c_max, static_cast<int64_t>(u.context_chosen.size()));
    q_max = std::max<int64_t>(q_max, static_cast<int64_t>(u.query_chosen.size()));
  }
  core::PairBatch batch;
  batch.context_delta = torch::zeros({b, c_max, dim});
  batch.context_mask = torch::zeros({b, c_max});
  batch.query_delta = torch::zeros({b, q_max, dim});
  batch.query_mask = torch::zeros({b, q_max});
  if (with_query_chosen) batch.query_chosen = torch::zeros({b, q_max, dim});
  batch.user_rows = torch::empty({b}, torch::kInt64);
  for (int64_t i = 0; i < b; ++i) {
    const auto& u = users[i];
    batch.user_rows[i] = u.user;
    const int64_t c = static_cast<int64_t>(u.context_chosen.size());
    const int64_t q = static_cast<int64_t>(u.query_chosen.size());
    if (c > 0) {
      batch.context_delta[i].slice(0, 0, c).copy_(context(u.context_chosen) -
                                                  context(u.context_rejected));
      batch.context_mask[i].slice(0, 0, c).fill_(1);
    }
    if (q > 0) {
      const auto chosen = query(u.query_chosen);
      batch.query_delta[i].slice(0, 0, q).copy_(chosen - query(u.query_rejected));
      batch.query_mask[i].slice(0, 0, q).fill_(1);
      if (with_query_chosen) batch.query_chosen[i].slice(0, 0, q).copy_(chosen);
    }
  }
  return batch;
}

UserState infer_new_users(core::RewardModelImpl& model, const core::PairBatch& batch,
                          int64_t fit_steps, double fit_lr) {
  UserState state;
  switch (model.config().kind) {
    case core::ModelKind::kVrf:
    case core::ModelKind::kVpl: {
      torch::NoGradGuard no_grad;
      state.posterior = model.encode(batch);
      break;
    }
    case core::ModelKind::kFactorized: {
      // LoRe-style: the new users' logits b_u fitted to their pairs (as queries), V frozen.
      auto logits = torch::zeros({batch.num_users(), model.config().num_bases}).requires_grad_();
      torch::optim::Adam optimizer({logits}, torch::optim::AdamOptions(fit_lr));
      for (int64_t step = 0; step < fit_steps; ++step) {
        optimizer.zero_grad();
        const auto margins = model.forward(batch, logits).margins;
        (torch::nn::functional::softplus(-margins) * batch.query_mask).sum().backward();
        optimizer.step();
      }
      state.user_params = logits.detach();
      break;
    }
    case core::ModelKind::kBt:
      break;
  }
  return state;
}

std::pair<torch::Tensor, torch::Tensor> margins_with_variance(core::RewardModelImpl& model,
                                                              const core::PairBatch& batch,
                                                              const UserState& state) {
  if (!state.posterior.mean.defined()) {
    torch::NoGradGuard no_grad;
    const auto margins = model.forward_with_posterior(batch, state.posterior, state.user_params);
    return {margins.margins, torch::zeros_like(margins.margins)};
  }
  torch::AutoGradMode enable_grad(true);
  const auto mean = state.posterior.mean.detach().clone().requires_grad_();
  const auto margins =
      model.forward_with_posterior(batch, {mean, state.posterior.logvar}, state.user_params)
          .margins;
  const auto sigma2 = torch::exp(state.posterior.logvar);
  auto variance = torch::zeros_like(margins);
  for (int64_t q = 0; q < margins.size(1); ++q) {
    // Margin (u, q) depends on mu_u only, so one backward pass per query column gives all users.
    const auto grad = torch::autograd::grad({margins.select(1, q).sum()}, {mean},
                                            /*grad_outputs=*/{}, /*retain_graph=*/true)[0];
    variance.select(1, q).copy_((sigma2 * grad * grad).sum(-1));
  }
  return {margins.detach(), variance.detach()};
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Synthetic ground truth of a store (/truth), when present.
struct Truth {
  bool present = false;
  int64_t attributes = 0;
  std::vector<double> user_weights, response_attributes, rationality;

  explicit Truth(const io::PreferenceStore& store) {
    if (!store.has_truth()) return;
    std::vector<int64_t> shape;
    user_weights = store.read_truth("user_weights", shape);
    attributes = shape.at(1);
    response_attributes = store.read_truth("response_attributes", shape);
    rationality = store.read_truth("user_rationality", shape);
    present = true;
  }
  double reward(int64_t user, int64_t response) const {
    double r = 0;
    for (int64_t a = 0; a < attributes; ++a) {
      r += user_weights[user * attributes + a] * response_attributes[response * attributes + a];
    }
    return r;
  }
};

// What one user contributes to a group's metrics.
struct UserResult {
  std::vector<double> margins, predictive, true_margins;
  double uncertainty = kNaN, rationality = kNaN, train_pairs = kNaN;
  std::vector<std::vector<double>> predicted_rewards, true_rewards;  // per candidate prompt
};

// A group of users to score: rows of `store`, each with its query pairs [query_from, query_to),
// its first `context` pairs (new users) and its state source.
struct GroupInput {
  const io::PreferenceStore* store = nullptr;
  std::vector<int64_t> users, query_from, query_to, context;
  std::vector<int64_t> state_rows;   // seen users: row into `seen_state`
  std::vector<int64_t> train_pairs;  // seen users: their number of training pairs
  const SeenUsers* seen_state = nullptr;
};

class GroupScorer {
 public:
  GroupScorer(const CheckpointModel& loaded, const EvalOptions& options)
      : loaded_(loaded), options_(options) {}

  std::vector<UserResult> run(const GroupInput& in) {
    const auto& store = *in.store;
    const Truth truth(store);
    const auto prompts = store.read_prompts();
    std::map<int64_t, std::vector<int64_t>> responses_of;
    for (int64_t r = 0; r < static_cast<int64_t>(prompts.size()); ++r) {
      responses_of[prompts[r]].push_back(r);
    }
    const bool with_chosen = loaded_.config.basis_hidden > 0;
    auto& model = *loaded_.model;
    std::vector<UserResult> results;
    std::vector<int64_t> chosen, rejected;
    const int64_t n = static_cast<int64_t>(in.users.size());
    for (int64_t first = 0; first < n; first += options_.batch_users) {
      const int64_t last = std::min(n, first + options_.batch_users);
      std::vector<UserPairRows> queries, contexts, candidates;
      std::vector<std::vector<int64_t>> candidate_sizes;
      for (int64_t i = first; i < last; ++i) {
        const int64_t u = in.users[i], from = store.offsets()[u];
        store.read_pairs(from, store.offsets()[u + 1], chosen, rejected);
        UserPairRows q, c, cand;
        q.user = c.user = cand.user = u;
        for (int64_t j = in.query_from[i]; j < in.query_to[i]; ++j) {
          q.query_chosen.push_back(chosen[j - from]);
          q.query_rejected.push_back(rejected[j - from]);
        }
        for (int64_t j = 0; j < in.context[i]; ++j) {
          c.context_chosen.push_back(chosen[j]);
          c.context_rejected.push_back(rejected[j]);
          c.query_chosen.push_back(chosen[j]);
          c.query_rejected.push_back(rejected[j]);
        }
        // Best-of-N candidates: every response of each prompt of the user's query pairs, scored
        // against the prompt's first response (margin = reward difference).
        std::vector<int64_t> user_prompts;
        for (auto r : q.query_chosen) user_prompts.push_back(prompts[r]);
        std::sort(user_prompts.begin(), user_prompts.end());
        user_prompts.erase(std::unique(user_prompts.begin(), user_prompts.end()),
                           user_prompts.end());
        std::vector<int64_t> sizes;
        for (auto p : user_prompts) {
          const auto& rows = responses_of.at(p);
          for (auto r : rows) {
            cand.query_chosen.push_back(r);
            cand.query_rejected.push_back(rows.front());
          }
          sizes.push_back(static_cast<int64_t>(rows.size()));
        }
        queries.push_back(std::move(q));
        contexts.push_back(std::move(c));
        candidates.push_back(std::move(cand));
        candidate_sizes.push_back(std::move(sizes));
      }
      const UserState state = state_of(in, first, last, contexts);
      const auto [margins, variance] =
          margins_with_variance(model, build_user_batch(store, queries, with_chosen), state);
      torch::Tensor rewards;
      {
        torch::NoGradGuard no_grad;
        rewards = model
                      .forward_with_posterior(build_user_batch(store, candidates, with_chosen),
                                              state.posterior, state.user_params)
                      .margins;
      }
      const auto margins_a = margins.to(torch::kDouble).contiguous();
      const auto variance_a = variance.to(torch::kDouble).contiguous();
      const auto rewards_a = rewards.to(torch::kDouble).contiguous();
      for (int64_t i = first; i < last; ++i) {
        const int64_t row = i - first, u = in.users[i];
        UserResult result;
        const auto& q = queries[row];
        for (size_t j = 0; j < q.query_chosen.size(); ++j) {
          const double m = margins_a[row][j].item<double>();
          result.margins.push_back(m);
          result.predictive.push_back(predictive_margin(m, variance_a[row][j].item<double>()));
          if (truth.present) {
            result.true_margins.push_back(truth.reward(u, q.query_chosen[j]) -
                                          truth.reward(u, q.query_rejected[j]));
          }
        }
        if (!in.train_pairs.empty()) result.train_pairs = static_cast<double>(in.train_pairs[i]);
        if (state.posterior.logvar.defined()) {
          result.uncertainty = state.posterior.logvar[row].mean().item<double>();
        }
        if (truth.present) {
          result.rationality = truth.rationality[u];
          int64_t at = 0;
          for (const int64_t size : candidate_sizes[row]) {
            std::vector<double> predicted, truths;
            for (int64_t j = at; j < at + size; ++j) {
              predicted.push_back(rewards_a[row][j].item<double>());
              truths.push_back(truth.reward(u, candidates[row].query_chosen[j]));
            }
            result.predicted_rewards.push_back(std::move(predicted));
            result.true_rewards.push_back(std::move(truths));
            at += size;
          }
        }
        results.push_back(std::move(result));
      }
    }
    return results;
  }

 private:
  UserState state_of(const GroupInput& in, int64_t first, int64_t last,
                     const std::vector<UserPairRows>& contexts) {
    if (in.seen_state == nullptr) {
      return infer_new_users(*loaded_.model,
                             build_user_batch(*in.store, contexts, loaded_.config.basis_hidden > 0),
                             options_.fit_steps, options_.fit_lr);
    }
    const auto rows = torch::tensor(
        std::vector<int64_t>(in.state_rows.begin() + first, in.state_rows.begin() + last),
        torch::kInt64);
    UserState state;
    const auto& seen = *in.seen_state;
    if (seen.posterior.mean.defined()) {
      state.posterior = {seen.posterior.mean.index_select(0, rows),
                         seen.posterior.logvar.index_select(0, rows)};
    }
    if (seen.user_params.defined()) state.user_params = seen.user_params.index_select(0, rows);
    return state;
  }

  const CheckpointModel& loaded_;
  const EvalOptions& options_;
};

// Every rank's values, concatenated in rank order (on every rank).
std::vector<double> gather_values(const std::vector<double>& mine, dist::Communicator& comm) {
  const auto counts = comm.all_gather(torch::tensor({int64_t(mine.size())}, torch::kInt64));
  const int64_t most = counts.max().item<int64_t>();
  auto padded = torch::zeros({most}, torch::kDouble);
  if (!mine.empty()) {
    padded.slice(0, 0, int64_t(mine.size())).copy_(torch::tensor(mine, torch::kDouble));
  }
  const auto all = comm.all_gather(padded);
  std::vector<double> values;
  for (int64_t r = 0; r < comm.size(); ++r) {
    for (int64_t j = 0; j < counts[r][0].item<int64_t>(); ++j) {
      values.push_back(all[r][j].item<double>());
    }
  }
  return values;
}

nlohmann::json terciles_json(const TercileAccuracySums& sums) {
  nlohmann::json out;
  const char* names[] = {"low", "mid", "high"};
  for (int t = 0; t < 3; ++t) {
    const auto& acc = sums.tercile(static_cast<Tercile>(t));
    out[names[t]] = {{"accuracy", acc.micro_accuracy()},
                     {"accuracy_user_mean", acc.user_mean_accuracy()},
                     {"users", acc.users},
                     {"pairs", acc.pairs}};
  }
  out["cuts"] = {sums.cuts().low_max, sums.cuts().mid_max};
  return out;
}

// The metrics of one group of users, summed over ranks.
nlohmann::json summarize(const std::vector<UserResult>& users, int64_t bins,
                         dist::Communicator& comm) {
  std::vector<double> uncertainty_keys, rationality_keys, pairs_keys;
  for (const auto& u : users) {
    if (!std::isnan(u.uncertainty)) uncertainty_keys.push_back(u.uncertainty);
    if (!std::isnan(u.rationality)) rationality_keys.push_back(u.rationality);
    // Minus the training pairs: tercile "high" holds the users with the fewest.
    if (!std::isnan(u.train_pairs)) pairs_keys.push_back(-u.train_pairs);
  }
  auto flags = torch::tensor({int64_t(!rationality_keys.empty()),
                              int64_t(!uncertainty_keys.empty()), int64_t(!pairs_keys.empty())},
                             torch::kInt64);
  comm.all_reduce_sum_(flags);
  const bool has_truth = flags[0].item<int64_t>() > 0;
  const bool has_uncertainty = flags[1].item<int64_t>() > 0;
  const bool has_pairs = flags[2].item<int64_t>() > 0;
  const auto uncertainty_cuts = tercile_cuts(gather_values(uncertainty_keys, comm));
  const auto rationality_cuts = tercile_cuts(gather_values(rationality_keys, comm));
  const auto pairs_cuts = tercile_cuts(gather_values(pairs_keys, comm));

  AccuracySums accuracy, oracle;
  NllSums nll;
  CalibrationSums calibration(bins);
  BestOfNSums best_of_n;
  TercileAccuracySums by_uncertainty(uncertainty_cuts), by_rationality(rationality_cuts),
      by_pairs(pairs_cuts);
  for (const auto& u : users) {
    accuracy.add_user_margins(u.margins);
    nll.add_margins(u.predictive);
    calibration.add_margins(u.predictive);
    double correct = 0;
    for (double m : u.margins) correct += pair_correct(m);
    const double pairs = static_cast<double>(u.margins.size());
    if (!std::isnan(u.uncertainty)) by_uncertainty.add_user(u.uncertainty, correct, pairs);
    if (!std::isnan(u.rationality)) by_rationality.add_user(u.rationality, correct, pairs);
    if (!std::isnan(u.train_pairs)) by_pairs.add_user(-u.train_pairs, correct, pairs);
    if (!u.true_margins.empty()) oracle.add_user_margins(u.true_margins);
    for (size_t p = 0; p < u.predicted_rewards.size(); ++p) {
      best_of_n.add_prompt(u.predicted_rewards[p], u.true_rewards[p]);
    }
  }
  std::vector<double> sums;
  for (const auto& part :
       {accuracy.to_vector(), oracle.to_vector(), nll.to_vector(), calibration.to_vector(),
        best_of_n.to_vector(), by_uncertainty.to_vector(), by_rationality.to_vector(),
        by_pairs.to_vector()}) {
    sums.insert(sums.end(), part.begin(), part.end());
  }
  auto total = torch::tensor(sums, torch::kDouble);
  comm.all_reduce_sum_(total);
  std::vector<double> all(total.data_ptr<double>(), total.data_ptr<double>() + total.numel());
  size_t at = 0;
  const auto take = [&](size_t count) {
    std::vector<double> part(all.begin() + at, all.begin() + at + count);
    at += count;
    return part;
  };
  accuracy = AccuracySums::from_vector(take(4));
  oracle = AccuracySums::from_vector(take(4));
  nll = NllSums::from_vector(take(2));
  calibration = CalibrationSums::from_vector(take(3 * bins));
  best_of_n = BestOfNSums::from_vector(take(3));
  by_uncertainty = TercileAccuracySums::from_vector(take(12), uncertainty_cuts);
  by_rationality = TercileAccuracySums::from_vector(take(12), rationality_cuts);
  by_pairs = TercileAccuracySums::from_vector(take(12), pairs_cuts);

  nlohmann::json out = {{"users", accuracy.users},
                        {"pairs", accuracy.pairs},
                        {"accuracy", accuracy.micro_accuracy()},
                        {"accuracy_user_mean", accuracy.user_mean_accuracy()},
                        {"nll", nll.nll()},
                        {"ece", calibration.ece()}};
  out["oracle_accuracy"] = has_truth ? nlohmann::json(oracle.micro_accuracy()) : nullptr;
  out["best_of_n"] = has_truth ? nlohmann::json{{"normalized", best_of_n.mean_score()},
                                                {"prompts", best_of_n.prompts}}
                               : nlohmann::json(nullptr);
  out["uncertainty_terciles"] = has_uncertainty ? terciles_json(by_uncertainty) : nullptr;
  out["rationality_terciles"] = has_truth ? terciles_json(by_rationality) : nullptr;
  // Keyed by minus the training pairs: "high" holds the users with the fewest pairs, the
  // model-independent high-uncertainty tercile.
  out["train_pairs_terciles"] = has_pairs ? terciles_json(by_pairs) : nullptr;
  return out;
}

}  // namespace

nlohmann::json evaluate(const CheckpointModel& loaded, const io::PreferenceStore& train,
                        const io::PreferenceStore* seen, const io::PreferenceStore* unseen,
                        const EvalOptions& options, dist::Communicator& communicator) {
  const int rank = communicator.rank();
  const auto started = std::chrono::steady_clock::now();
  const auto progress = [&](const std::string& what) {
    if (rank != 0) return;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "eval: " << what << " (" << std::fixed << std::setprecision(1) << s << " s)"
              << std::defaultfloat << std::endl;
  };
  GroupScorer scorer(loaded, options);
  nlohmann::json report = {{"model", core::to_string(loaded.config.kind)},
                           {"checkpoint", loaded.checkpoint.dir},
                           {"step", loaded.checkpoint.manifest.step},
                           {"world_size", communicator.size()},
                           {"shots", options.shots}};
  if (seen != nullptr) {
    GroupInput in;
    in.store = seen;
    const auto [begin, end] = dist::UserSharder(seen->offsets(), communicator.size()).range(rank);
    const auto& train_ids = train.user_ids();
    std::vector<int64_t> train_rows;
    int64_t missing = 0;
    for (int64_t u = begin; u < end; ++u) {
      const int64_t id = seen->user_ids()[u];
      const auto it = std::lower_bound(train_ids.begin(), train_ids.end(), id);
      if (it == train_ids.end() || *it != id) {
        ++missing;  // not a seen user: it has no training state
        continue;
      }
      in.users.push_back(u);
      in.query_from.push_back(seen->offsets()[u]);
      in.query_to.push_back(seen->offsets()[u + 1]);
      in.context.push_back(0);
      train_rows.push_back(it - train_ids.begin());
      in.train_pairs.push_back(train.offsets()[train_rows.back() + 1] -
                               train.offsets()[train_rows.back()]);
    }
    SeenUsers state;
    if (!train_rows.empty()) {
      state = read_seen_users(loaded, train_rows.front(), train_rows.back() + 1);
      for (auto r : train_rows) in.state_rows.push_back(r - train_rows.front());
    }
    in.seen_state = &state;
    report["seen"] = summarize(scorer.run(in), options.calibration_bins, communicator);
    auto missing_total = torch::tensor({missing}, torch::kInt64);
    communicator.all_reduce_sum_(missing_total);
    report["seen"]["users_not_in_train"] = missing_total.item<int64_t>();
    progress("seen users: accuracy " + std::to_string(report["seen"]["accuracy"].get<double>()));
  }
  if (unseen != nullptr) {
    if (!unseen->has_num_context()) {
      throw DataError(unseen->path() +
                      ": not a store of new users (no /users/num_context); pass a store written "
                      "as unseen.h5 by `vrf data synth` or with num_context by an importer");
    }
    const auto [begin, end] = dist::UserSharder(unseen->offsets(), communicator.size()).range(rank);
    for (const int64_t k : options.shots) {
      GroupInput in;
      in.store = unseen;
      int64_t too_few = 0;
      for (int64_t u = begin; u < end; ++u) {
        const int64_t c = unseen->num_context()[u];
        if (c < k) {
          ++too_few;
          continue;
        }
        in.users.push_back(u);
        in.query_from.push_back(unseen->offsets()[u] + c);
        in.query_to.push_back(unseen->offsets()[u + 1]);
        in.context.push_back(k);
      }
      auto group = summarize(scorer.run(in), options.calibration_bins, communicator);
      auto skipped = torch::tensor({too_few}, torch::kInt64);
      communicator.all_reduce_sum_(skipped);
      group["users_with_fewer_context_pairs"] = skipped.item<int64_t>();
      report["unseen"]["k" + std::to_string(k)] = group;
      progress(
          "new users, k = " + std::to_string(k) + ": accuracy " +
          std::to_string(group["accuracy"].is_number() ? group["accuracy"].get<double>() : kNaN));
    }
  }
  // The headline keys (DESIGN.md section 6).
  if (report.contains("seen")) {
    report["oracle"]["seen"]["accuracy"] = report["seen"]["oracle_accuracy"];
    report["calibration"] = {{"ece", report["seen"]["ece"]}, {"bins", options.calibration_bins}};
    report["best_of_n"] = report["seen"]["best_of_n"];
  }
  if (report.contains("unseen") && !options.shots.empty()) {
    report["oracle"]["unseen"]["accuracy"] =
        report["unseen"]["k" + std::to_string(options.shots.front())]["oracle_accuracy"];
  }
  return report;
}

std::string report_markdown(const nlohmann::json& report) {
  const auto number = [](const nlohmann::json& value) {
    if (!value.is_number()) return std::string("-");
    std::ostringstream out;
    out << std::fixed << std::setprecision(3) << value.get<double>();
    return out.str();
  };
  const auto at = [](const nlohmann::json& j, std::initializer_list<const char*> path) {
    const nlohmann::json* node = &j;
    for (const char* key : path) {
      if (!node->is_object() || !node->contains(key)) return nlohmann::json();
      node = &node->at(key);
    }
    return *node;
  };
  std::ostringstream md;
  md << "# vrf eval: " << report.value("model", "?") << " (" << report.value("checkpoint", "")
     << ", step " << report.value("step", 0) << ")\n\n";
  md << "| users | n | pairs | accuracy | per-user accuracy | NLL | ECE | oracle | best-of-N | "
        "own high-uncertainty tercile | fewest-pairs tercile |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n";
  const auto row = [&](const std::string& name, const nlohmann::json& g) {
    md << "| " << name << " | " << int64_t(g.value("users", 0.0)) << " | "
       << int64_t(g.value("pairs", 0.0)) << " | " << number(at(g, {"accuracy"})) << " | "
       << number(at(g, {"accuracy_user_mean"})) << " | " << number(at(g, {"nll"})) << " | "
       << number(at(g, {"ece"})) << " | " << number(at(g, {"oracle_accuracy"})) << " | "
       << number(at(g, {"best_of_n", "normalized"})) << " | "
       << number(at(g, {"uncertainty_terciles", "high", "accuracy"})) << " | "
       << number(at(g, {"train_pairs_terciles", "high", "accuracy"})) << " |\n";
  };
  if (report.contains("seen")) row("seen", report["seen"]);
  if (report.contains("unseen")) {
    for (const auto& k : report.value("shots", std::vector<int64_t>())) {
      const std::string key = "k" + std::to_string(k);
      if (report["unseen"].contains(key))
        row("new, k = " + std::to_string(k), report["unseen"][key]);
    }
  }
  return md.str();
}

}  // namespace vrf::launch

namespace vrf::launch {

std::string comparison_markdown(const std::vector<nlohmann::json>& reports) {
  // Column name -> path into a report.
  std::vector<std::pair<std::string, std::vector<std::string>>> columns = {
      {"seen", {"seen", "accuracy"}}};
  std::vector<int64_t> shots;
  for (const auto& r : reports) {
    for (const auto k : r.value("shots", std::vector<int64_t>())) {
      if (std::find(shots.begin(), shots.end(), k) == shots.end()) shots.push_back(k);
    }
  }
  std::sort(shots.begin(), shots.end());
  for (const auto k : shots) {
    columns.push_back(
        {"new k=" + std::to_string(k), {"unseen", "k" + std::to_string(k), "accuracy"}});
  }
  columns.push_back({"fewest-pairs tercile", {"seen", "train_pairs_terciles", "high", "accuracy"}});
  columns.push_back(
      {"own high-uncertainty tercile", {"seen", "uncertainty_terciles", "high", "accuracy"}});
  columns.push_back({"best-of-N", {"best_of_n", "normalized"}});
  columns.push_back({"ECE", {"calibration", "ece"}});
  columns.push_back({"oracle (seen)", {"oracle", "seen", "accuracy"}});

  std::vector<std::string> labels;
  std::map<std::string, std::vector<const nlohmann::json*>> by_label;
  for (const auto& r : reports) {
    const std::string label = r.value("label", r.value("model", std::string("?")));
    if (by_label[label].empty()) labels.push_back(label);
    by_label[label].push_back(&r);
  }
  std::ostringstream md;
  md << "| model | runs |";
  for (const auto& c : columns) md << " " << c.first << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < columns.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& label : labels) {
    const auto& runs = by_label[label];
    md << "| " << label << " | " << runs.size() << " |";
    for (const auto& [name, path] : columns) {
      std::vector<double> values;
      for (const auto* r : runs) {
        const nlohmann::json* node = r;
        for (const auto& key : path) {
          node = node->is_object() && node->contains(key) ? &node->at(key) : nullptr;
          if (node == nullptr) break;
        }
        if (node != nullptr && node->is_number()) values.push_back(node->get<double>());
      }
      if (values.empty()) {
        md << " - |";
        continue;
      }
      double mean = 0, var = 0;
      for (double v : values) mean += v;
      mean /= double(values.size());
      for (double v : values) var += (v - mean) * (v - mean);
      const double sd = values.size() > 1 ? std::sqrt(var / double(values.size() - 1)) : 0.0;
      md << " " << std::fixed << std::setprecision(3) << mean;
      if (values.size() > 1) md << " ± " << std::setprecision(3) << sd;
      md << " |";
    }
    md << "\n";
  }
  md << "\nMean ± sample std over runs. Accuracy: pairwise, micro over test pairs. new k: new "
        "users "
        "with k context pairs. fewest-pairs tercile: seen users with the fewest training pairs. "
        "own high-uncertainty tercile: by the model's own s_u (vpl, vrf only). best-of-N: true "
        "reward of the picked response, random = 0, oracle = 1.\n";
  return md.str();
}

}  // namespace vrf::launch
