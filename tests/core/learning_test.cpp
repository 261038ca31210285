// tests/core/learning_test.cpp — vrf learns a population of users who disagree: a few hundred Adam
// steps on a small synthetic population (users are sparse mixtures of a few response attributes,
// noise-free labels) reach >= 0.88 accuracy on held-out pairs of seen users and beat `bt`, whose
// single reward cannot serve them all.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "core/preference_loss.h"
#include "core/reward_model.h"

namespace vrf::core {
namespace {

using Pair = std::pair<int64_t, int64_t>;  // (chosen, rejected) response rows

struct Population {
  torch::Tensor embeddings;                        // [R, D] float32
  std::vector<std::vector<Pair>> train, held_out;  // per user
};

constexpr int64_t kDim = 8, kAttributes = 3, kResponses = 300, kUsers = 60;

Population make_population(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  auto gen = at::detail::createCPUGenerator(seed);
  const auto attributes = torch::randn({kResponses, kAttributes}, gen, torch::kFloat64);
  const auto mixing =
      torch::randn({kAttributes, kDim}, gen, torch::kFloat64) / std::sqrt(double(kAttributes));
  Population pop;
  pop.embeddings =
      (attributes.matmul(mixing) + 0.1 * torch::randn({kResponses, kDim}, gen, torch::kFloat64))
          .to(torch::kFloat32);
  std::uniform_int_distribution<int64_t> response(0, kResponses - 1), num_pairs(20, 40);
  std::gamma_distribution<double> gamma(0.5);
  for (int64_t u = 0; u < kUsers; ++u) {
    auto weights = torch::empty({kAttributes}, torch::kFloat64);
    for (int64_t a = 0; a < kAttributes; ++a) weights[a] = gamma(rng);
    weights /= weights.sum();
    const auto reward = attributes.matmul(weights);
    const auto draw = [&](int64_t n) {
      std::vector<Pair> pairs;
      while (static_cast<int64_t>(pairs.size()) < n) {
        const int64_t x = response(rng), y = response(rng);
        const double rx = reward[x].item<double>(), ry = reward[y].item<double>();
        if (x == y || rx == ry) continue;
        pairs.push_back(rx > ry ? Pair{x, y} : Pair{y, x});  // noise-free label
      }
      return pairs;
    };
    pop.train.push_back(draw(num_pairs(rng)));
    pop.held_out.push_back(draw(10));
  }
  return pop;
}

// Padded batch of per-user (context, query) pair lists.
PairBatch make_batch(const torch::Tensor& embeddings,
                     const std::vector<std::pair<std::vector<Pair>, std::vector<Pair>>>& users) {
  int64_t c = 0, q = 0;
  for (const auto& [context, query] : users) {
    c = std::max<int64_t>(c, context.size());
    q = std::max<int64_t>(q, query.size());
  }
  const int64_t b = users.size();
  PairBatch batch;
  batch.context_delta = torch::zeros({b, c, kDim});
  batch.context_mask = torch::zeros({b, c});
  batch.query_delta = torch::zeros({b, q, kDim});
  batch.query_mask = torch::zeros({b, q});
  batch.user_rows = torch::arange(b, torch::kInt64);
  for (int64_t u = 0; u < b; ++u) {
    const auto fill = [&](const std::vector<Pair>& pairs, torch::Tensor& delta,
                          torch::Tensor& mask) {
      for (size_t j = 0; j < pairs.size(); ++j) {
        delta[u][j] = embeddings[pairs[j].first] - embeddings[pairs[j].second];
        mask[u][j] = 1;
      }
    };
    fill(users[u].first, batch.context_delta, batch.context_mask);
    fill(users[u].second, batch.query_delta, batch.query_mask);
  }
  return batch;
}

// Trains `kind` for `steps` Adam steps of 16 users (context 1..20, up to 20 queries, as in
// DESIGN.md section 1.5), then returns the accuracy on held-out pairs with each user's training
// pairs as context.
double train_and_evaluate(ModelKind kind, const Population& pop, int64_t steps, uint64_t seed) {
  torch::manual_seed(seed);
  ModelConfig config;
  config.kind = kind;
  config.input_dim = kDim;
  config.num_bases = 4;
  config.latent_dim = 8;
  config.hidden_dim = 32;
  auto model = make_reward_model(config);
  const auto [mean, std] = InputStandardizerImpl::statistics_of(pop.embeddings);
  model->standardizer()->set_statistics(mean.to(torch::kFloat32), std.to(torch::kFloat32));
  const bool has_encoder = kind == ModelKind::kVrf || kind == ModelKind::kVpl;
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
  const PreferenceLoss loss(loss_options_for(config));
  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(kUsers);
  std::iota(order.begin(), order.end(), 0);
  model->train();
  for (int64_t step = 0; step < steps; ++step) {
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<std::pair<std::vector<Pair>, std::vector<Pair>>> users;
    for (int64_t i = 0; i < 16; ++i) {
      auto pairs = pop.train[order[i]];
      std::shuffle(pairs.begin(), pairs.end(), rng);
      const int64_t n = pairs.size();
      const int64_t c =
          has_encoder ? std::uniform_int_distribution<int64_t>(1, std::min<int64_t>(20, n - 1))(rng)
                      : 0;
      const int64_t q = std::min<int64_t>(20, n - c);
      users.push_back(
          {{pairs.begin(), pairs.begin() + c}, {pairs.begin() + c, pairs.begin() + c + q}});
    }
    const auto batch = make_batch(pop.embeddings, users);
    optimizer.zero_grad();
    loss.batch_mean(model->forward(batch), batch).backward();
    optimizer.step();
  }
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::vector<Pair>, std::vector<Pair>>> users;
  for (int64_t u = 0; u < kUsers; ++u) users.push_back({pop.train[u], pop.held_out[u]});
  const auto batch = make_batch(pop.embeddings, users);
  const auto margins = model->forward(batch).margins;
  return ((margins > 0).to(torch::kFloat32) * batch.query_mask).sum().item<double>() /
         batch.query_mask.sum().item<double>();
}

TEST(LearningTest, VrfLearnsUsersWhoDisagreeAndBeatsBt) {
  torch::set_num_threads(1);
  const auto population = make_population(2024);
  const double vrf = train_and_evaluate(ModelKind::kVrf, population, 400, 1);
  const double bt = train_and_evaluate(ModelKind::kBt, population, 400, 1);
  std::cout << "held-out accuracy of seen users: vrf " << vrf << ", bt " << bt << "\n";
  EXPECT_GE(vrf, 0.88);
  EXPECT_GT(vrf, bt + 0.05);
}

}  // namespace
}  // namespace vrf::core
