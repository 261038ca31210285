// io/synthetic_benchmark.cpp — write_synthetic_benchmark: responses with latent attributes, users
// with sparse Dirichlet weights and a rationality, Bradley-Terry labels, prompt-disjoint splits.
#include "io/synthetic_benchmark.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <ostream>
#include <random>
#include <vector>

#include "core/errors.h"
#include "io/store_writer.h"

namespace vrf::io {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw ConfigError(message);
}

// The generator's world: response attributes and the prompt split.
struct World {
  std::vector<double> attributes;  // [R, A]
  std::vector<float> embeddings;   // [R, D]
  std::vector<int64_t> prompt_of;  // [R]
  std::vector<int64_t> train_prompts, val_prompts, test_prompts;
};

World make_world(const SynthConfig& c, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const int64_t r = c.prompts * c.responses_per_prompt;
  World world;
  std::vector<double> mixing(static_cast<size_t>(c.dim * c.attributes));  // W [D, A] ~ N(0, 1/A)
  for (auto& w : mixing) w = normal(rng) / std::sqrt(double(c.attributes));
  world.attributes.resize(static_cast<size_t>(r * c.attributes));
  for (auto& a : world.attributes) a = normal(rng);
  world.embeddings.resize(static_cast<size_t>(r * c.dim));
  world.prompt_of.resize(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    world.prompt_of[i] = i / c.responses_per_prompt;
    for (int64_t k = 0; k < c.dim; ++k) {
      double phi = c.nuisance * normal(rng);
      for (int64_t a = 0; a < c.attributes; ++a) {
        phi += mixing[k * c.attributes + a] * world.attributes[i * c.attributes + a];
      }
      world.embeddings[i * c.dim + k] = static_cast<float>(phi);
    }
  }
  std::vector<int64_t> prompts(static_cast<size_t>(c.prompts));
  std::iota(prompts.begin(), prompts.end(), 0);
  std::shuffle(prompts.begin(), prompts.end(), rng);
  const auto train_end = prompts.begin() + (c.prompts * 6) / 10;
  const auto val_end = train_end + (c.prompts * 2) / 10;
  world.train_prompts.assign(prompts.begin(), train_end);
  world.val_prompts.assign(train_end, val_end);
  world.test_prompts.assign(val_end, prompts.end());
  return world;
}

struct User {
  std::vector<double> weights;  // [A], on the simplex
  double rationality = 1;
};

User make_user(const SynthConfig& c, std::mt19937_64& rng) {
  User user;
  std::gamma_distribution<double> gamma(c.alpha);
  user.weights.resize(static_cast<size_t>(c.attributes));
  double total = 0;
  for (auto& w : user.weights) total += (w = gamma(rng));
  if (total > 0) {
    for (auto& w : user.weights) w /= total;
  } else {  // every draw underflowed (tiny alpha): the limit is a one-hot vector
    user.weights[std::uniform_int_distribution<size_t>(0, user.weights.size() - 1)(rng)] = 1;
  }
  const double lo = std::log(c.rationality_min), hi = std::log(c.rationality_max);
  user.rationality = std::exp(std::uniform_real_distribution<double>(lo, hi)(rng));
  return user;
}

// Appends n labelled pairs of `user` on prompts drawn from `prompts`.
void draw_pairs(const SynthConfig& c, const World& world, const User& user,
                const std::vector<int64_t>& prompts, int64_t n, std::mt19937_64& rng,
                std::vector<int64_t>& chosen, std::vector<int64_t>& rejected) {
  std::uniform_int_distribution<size_t> pick_prompt(0, prompts.size() - 1);
  std::uniform_int_distribution<int64_t> pick_response(0, c.responses_per_prompt - 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t base = prompts[pick_prompt(rng)] * c.responses_per_prompt;
    const int64_t x = base + pick_response(rng);
    int64_t y = base + pick_response(rng);
    while (y == x) y = base + pick_response(rng);
    double margin = 0;  // w_u . (a_x - a_y)
    for (int64_t a = 0; a < c.attributes; ++a) {
      margin += user.weights[a] *
                (world.attributes[x * c.attributes + a] - world.attributes[y * c.attributes + a]);
    }
    const bool x_wins = uniform(rng) < 1.0 / (1.0 + std::exp(-user.rationality * margin));
    chosen.push_back(x_wins ? x : y);
    rejected.push_back(x_wins ? y : x);
  }
}

}  // namespace

void SynthConfig::validate() const {
  require(!out_dir.empty(), "--out is required: the directory that receives the four stores");
  require(prompts >= 5, "--prompts must be >= 5 (60/20/20 split); got " + std::to_string(prompts));
  require(responses_per_prompt >= 2,
          "--responses-per-prompt must be >= 2; got " + std::to_string(responses_per_prompt));
  require(attributes >= 1, "--attributes must be >= 1; got " + std::to_string(attributes));
  require(dim >= 1, "--dim must be >= 1; got " + std::to_string(dim));
  require(nuisance >= 0 && std::isfinite(nuisance), "--nuisance must be finite and >= 0");
  require(users >= 0 && unseen_users >= 0, "--users and --unseen-users must be >= 0");
  require(alpha > 0 && std::isfinite(alpha), "--alpha must be a finite positive number");
  require(rationality_min > 0 && rationality_min <= rationality_max,
          "--rationality-min must be positive and at most --rationality-max");
  require(pairs_min >= 1 && pairs_min <= pairs_max,
          "--pairs-min must be >= 1 and at most --pairs-max; got " + std::to_string(pairs_min) +
              " and " + std::to_string(pairs_max));
  require(pairs_dist == "uniform" || pairs_dist == "zipf",
          "--pairs-dist: unknown value '" + pairs_dist + "'; expected uniform or zipf");
  require(zipf_exponent > 0, "--zipf-exponent must be positive");
  require(val_pairs >= 0 && test_pairs >= 0 && context_pairs >= 0,
          "--val-pairs, --test-pairs and --context-pairs must be >= 0");
}

SynthSummary write_synthetic_benchmark(const SynthConfig& c, std::ostream* progress) {
  c.validate();
  std::filesystem::create_directories(c.out_dir);
  const auto path = [&](const char* name) {
    return (std::filesystem::path(c.out_dir) / name).string();
  };
  StoreWriterOptions options;
  options.embedding_dim = c.dim;
  options.dtype = c.dtype;
  options.compress = c.compress;
  options.overwrite = c.force;
  options.expected_responses = c.prompts * c.responses_per_prompt;
  // Refuse before writing anything if any of the four files exists.
  for (const char* name : {"train.h5", "val.h5", "test.h5", "unseen.h5"}) {
    if (!c.force && std::filesystem::exists(path(name))) {
      throw ConfigError(path(name) + " already exists; pass --force to overwrite it");
    }
  }
  std::mt19937_64 rng(c.seed);
  const World world = make_world(c, rng);
  const int64_t r = c.prompts * c.responses_per_prompt;

  const auto sized = [&](int64_t users, int64_t pairs) {
    StoreWriterOptions o = options;
    o.expected_users = users;
    o.expected_pairs = pairs;
    return o;
  };
  const int64_t most_train_pairs = c.users * c.pairs_max;  // an upper bound is enough
  StoreWriter train(path("train.h5"), sized(c.users, most_train_pairs));
  StoreWriter val(path("val.h5"), sized(c.users, c.users * c.val_pairs));
  StoreWriter test(path("test.h5"), sized(c.users, c.users * c.test_pairs));
  StoreWriterOptions unseen_options =
      sized(c.unseen_users, c.unseen_users * (c.context_pairs + c.test_pairs));
  unseen_options.with_num_context = true;
  StoreWriter unseen(path("unseen.h5"), unseen_options);
  for (StoreWriter* writer : {&train, &val, &test, &unseen}) {
    writer->add_responses(world.embeddings.data(), world.prompt_of.data(), r);
    writer->add_truth_rows("response_attributes", world.attributes.data(), r, c.attributes);
  }

  // Pair counts: uniform or truncated zipf on [pairs_min, pairs_max].
  std::vector<double> zipf_weights;
  for (int64_t n = c.pairs_min; n <= c.pairs_max; ++n) {
    zipf_weights.push_back(std::pow(double(n), -c.zipf_exponent));
  }
  std::discrete_distribution<int64_t> zipf(zipf_weights.begin(), zipf_weights.end());
  std::uniform_int_distribution<int64_t> uniform_count(c.pairs_min, c.pairs_max);

  SynthSummary summary;
  summary.responses = r;
  const auto started = std::chrono::steady_clock::now();
  const int64_t total_users = c.users + c.unseen_users;
  const int64_t report_every = std::max<int64_t>(1, total_users / 10);
  std::vector<int64_t> chosen, rejected;
  const auto add = [&](StoreWriter& writer, int64_t id, const User& user, int64_t num_context) {
    writer.add_user(id, chosen.data(), rejected.data(), static_cast<int64_t>(chosen.size()),
                    num_context);
    writer.add_truth_rows("user_weights", user.weights.data(), 1, c.attributes);
    writer.add_truth_rows("user_rationality", &user.rationality, 1, 0);
    chosen.clear();
    rejected.clear();
  };
  for (int64_t u = 0; u < total_users; ++u) {
    const User user = make_user(c, rng);
    if (u < c.users) {
      const int64_t n = c.pairs_dist == "zipf" ? c.pairs_min + zipf(rng) : uniform_count(rng);
      draw_pairs(c, world, user, world.train_prompts, n, rng, chosen, rejected);
      summary.train_pairs += n;
      add(train, u, user, -1);
      draw_pairs(c, world, user, world.val_prompts, c.val_pairs, rng, chosen, rejected);
      summary.val_pairs += c.val_pairs;
      add(val, u, user, -1);
      draw_pairs(c, world, user, world.test_prompts, c.test_pairs, rng, chosen, rejected);
      summary.test_pairs += c.test_pairs;
      add(test, u, user, -1);
    } else {
      draw_pairs(c, world, user, world.train_prompts, c.context_pairs, rng, chosen, rejected);
      draw_pairs(c, world, user, world.test_prompts, c.test_pairs, rng, chosen, rejected);
      summary.unseen_pairs += c.context_pairs + c.test_pairs;
      add(unseen, u, user, c.context_pairs);
    }
    if (progress != nullptr && ((u + 1) % report_every == 0 || u + 1 == total_users)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (seconds < 1.0) continue;  // short runs stay quiet
      *progress << "synth: " << (u + 1) << "/" << total_users << " users ("
                << (100 * (u + 1)) / std::max<int64_t>(total_users, 1) << "%), " << seconds << " s"
                << std::endl;
    }
  }
  for (StoreWriter* writer : {&train, &val, &test, &unseen}) writer->finish();
  return summary;
}

}  // namespace vrf::io
