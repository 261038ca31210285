// tests/io/synthetic_benchmark_test.cpp — `vrf data synth`: reproducible bytes, prompt-disjoint
// splits, Dirichlet weights and labels that agree with the truth as the rationality predicts.
#include "io/synthetic_benchmark.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include "core/errors.h"
#include "io/preference_store.h"
#include "tests/io/store_fixtures.h"

namespace vrf::io {
namespace {

SynthConfig small_config(const std::string& dir) {
  SynthConfig c;
  c.out_dir = dir;
  c.prompts = 40;
  c.users = 1500;
  c.unseen_users = 50;
  return c;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::set<int64_t> prompts_of_pairs(const PreferenceStore& store, int64_t begin, int64_t end) {
  const auto prompts = store.read_prompts();
  std::vector<int64_t> chosen, rejected;
  store.read_pairs(begin, end, chosen, rejected);
  std::set<int64_t> result;
  for (size_t j = 0; j < chosen.size(); ++j) {
    EXPECT_EQ(prompts[chosen[j]], prompts[rejected[j]]) << "a pair compares two prompts";
    EXPECT_NE(chosen[j], rejected[j]);
    result.insert(prompts[chosen[j]]);
  }
  return result;
}

TEST(SyntheticBenchmarkTest, SameSeedSameBytesOtherSeedOtherBytes) {
  test::TempDir dir;
  auto a = small_config(dir.file("a")), b = small_config(dir.file("b")),
       c = small_config(dir.file("c"));
  a.users = b.users = c.users = 100;
  c.seed = 1;
  for (const auto* config : {&a, &b, &c}) write_synthetic_benchmark(*config, nullptr);
  for (const char* name : {"train.h5", "val.h5", "test.h5", "unseen.h5"}) {
    EXPECT_EQ(bytes_of(dir.file("a") + "/" + name), bytes_of(dir.file("b") + "/" + name)) << name;
    EXPECT_NE(bytes_of(dir.file("a") + "/" + name), bytes_of(dir.file("c") + "/" + name)) << name;
  }
}

TEST(SyntheticBenchmarkTest, SplitsArePromptDisjointAndShapedAsAsked) {
  test::TempDir dir;
  const auto c = small_config(dir.file("out"));
  const auto summary = write_synthetic_benchmark(c, nullptr);
  const PreferenceStore train(dir.file("out/train.h5")), val(dir.file("out/val.h5")),
      test(dir.file("out/test.h5")), unseen(dir.file("out/unseen.h5"));
  EXPECT_EQ(train.num_users(), c.users);
  EXPECT_EQ(train.user_ids(), test.user_ids());
  EXPECT_EQ(val.num_pairs(), c.users * c.val_pairs);
  EXPECT_EQ(test.num_pairs(), c.users * c.test_pairs);
  EXPECT_EQ(train.num_pairs(), summary.train_pairs);
  for (int64_t u = 0; u < train.num_users(); ++u) {
    const int64_t n = train.offsets()[u + 1] - train.offsets()[u];
    ASSERT_TRUE(n >= c.pairs_min && n <= c.pairs_max) << "user " << u << " has " << n;
  }
  const auto train_prompts = prompts_of_pairs(train, 0, train.num_pairs());
  const auto val_prompts = prompts_of_pairs(val, 0, val.num_pairs());
  const auto test_prompts = prompts_of_pairs(test, 0, test.num_pairs());
  EXPECT_EQ(train_prompts.size(), 24u);  // 60 / 20 / 20 of 40 prompts
  EXPECT_EQ(val_prompts.size(), 8u);
  EXPECT_EQ(test_prompts.size(), 8u);
  for (auto p : val_prompts) EXPECT_EQ(train_prompts.count(p) + test_prompts.count(p), 0u);
  for (auto p : test_prompts) EXPECT_EQ(train_prompts.count(p), 0u);

  // Unseen users: new ids, context on train prompts first, then test pairs on test prompts.
  EXPECT_EQ(unseen.num_users(), c.unseen_users);
  EXPECT_GT(unseen.user_ids().front(), train.user_ids().back());
  for (int64_t u = 0; u < unseen.num_users(); ++u) {
    ASSERT_EQ(unseen.num_context()[u], c.context_pairs);
    const int64_t begin = unseen.offsets()[u], split = begin + c.context_pairs;
    for (auto p : prompts_of_pairs(unseen, begin, split)) EXPECT_EQ(train_prompts.count(p), 1u);
    for (auto p : prompts_of_pairs(unseen, split, unseen.offsets()[u + 1])) {
      EXPECT_EQ(test_prompts.count(p), 1u);
    }
  }
}

TEST(SyntheticBenchmarkTest, DirichletWeightsAndRationalLabels) {
  test::TempDir dir;
  const auto c = small_config(dir.file("out"));
  write_synthetic_benchmark(c, nullptr);
  const PreferenceStore train(dir.file("out/train.h5"));
  std::vector<int64_t> shape;
  const auto weights = train.read_truth("user_weights", shape);
  ASSERT_EQ(shape, (std::vector<int64_t>{c.users, c.attributes}));
  const auto rationality = train.read_truth("user_rationality", shape);
  const auto attributes = train.read_truth("response_attributes", shape);
  ASSERT_EQ(shape, (std::vector<int64_t>{train.num_responses(), c.attributes}));

  // Dirichlet(alpha) on A attributes: each component has mean 1/A and variance
  // (1/A)(1 - 1/A) / (A alpha + 1).
  const double a = double(c.attributes), mean = 1 / a;
  const double stderr_ = std::sqrt(mean * (1 - mean) / (a * c.alpha + 1) / double(c.users));
  for (int64_t k = 0; k < c.attributes; ++k) {
    double sum = 0;
    for (int64_t u = 0; u < c.users; ++u) sum += weights[u * c.attributes + k];
    EXPECT_NEAR(sum / double(c.users), mean, 5 * stderr_) << "attribute " << k;
  }
  for (int64_t u = 0; u < c.users; ++u) {
    double total = 0;
    for (int64_t k = 0; k < c.attributes; ++k) total += weights[u * c.attributes + k];
    ASSERT_NEAR(total, 1.0, 1e-12) << "user " << u;
    ASSERT_TRUE(rationality[u] >= c.rationality_min && rationality[u] <= c.rationality_max);
  }

  // The chosen response has the higher true reward with probability sigmoid(beta |margin|).
  double agreed = 0, expected = 0, variance = 0;
  std::vector<int64_t> chosen, rejected;
  train.read_pairs(0, train.num_pairs(), chosen, rejected);
  for (int64_t u = 0; u < c.users; ++u) {
    for (int64_t j = train.offsets()[u]; j < train.offsets()[u + 1]; ++j) {
      double margin = 0;
      for (int64_t k = 0; k < c.attributes; ++k) {
        margin += weights[u * c.attributes + k] * (attributes[chosen[j] * c.attributes + k] -
                                                   attributes[rejected[j] * c.attributes + k]);
      }
      const double p = 1 / (1 + std::exp(-rationality[u] * std::abs(margin)));
      agreed += margin > 0;
      expected += p;
      variance += p * (1 - p);
    }
  }
  EXPECT_NEAR(agreed, expected, 5 * std::sqrt(variance))
      << "labels agree with the truth " << agreed << " times; the rationality predicts "
      << expected;
  EXPECT_LT(agreed, 0.97 * double(train.num_pairs())) << "labels must be noisy";
}

TEST(SyntheticBenchmarkTest, ZipfPairCountsHaveAHeavyHead) {
  test::TempDir dir;
  auto c = small_config(dir.file("out"));
  c.pairs_dist = "zipf";
  write_synthetic_benchmark(c, nullptr);
  const PreferenceStore train(dir.file("out/train.h5"));
  int64_t at_minimum = 0;
  for (int64_t u = 0; u < train.num_users(); ++u) {
    const int64_t n = train.offsets()[u + 1] - train.offsets()[u];
    ASSERT_TRUE(n >= c.pairs_min && n <= c.pairs_max);
    at_minimum += n == c.pairs_min;
  }
  // P(n = 5) = 5^-1.5 / sum_{n=5..60} n^-1.5 ~ 0.13, against 1/56 for uniform counts.
  EXPECT_GT(double(at_minimum) / double(c.users), 0.09);
  EXPECT_LT(double(train.num_pairs()) / double(c.users), 20.0);
}

TEST(SyntheticBenchmarkTest, ExistingOutputNeedsForceAndBadFlagsAreNamed) {
  test::TempDir dir;
  auto c = small_config(dir.file("out"));
  c.users = 10;
  write_synthetic_benchmark(c, nullptr);
  try {
    write_synthetic_benchmark(c, nullptr);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("train.h5 already exists; pass --force"),
              std::string::npos);
  }
  c.force = true;
  EXPECT_NO_THROW(write_synthetic_benchmark(c, nullptr));
  c.pairs_min = 0;
  EXPECT_THROW(write_synthetic_benchmark(c, nullptr), ConfigError);
  c = small_config(dir.file("x"));
  c.pairs_dist = "poisson";
  try {
    write_synthetic_benchmark(c, nullptr);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--pairs-dist: unknown value 'poisson'"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace vrf::io
