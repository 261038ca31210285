// tests/launch/posterior_table_test.cpp — the checkpoint's posterior table equals encoding each
// user alone from its first context_max training pairs, whatever the batching; users without pairs
// get the prior and seen = 0.
#include "launch/posterior_table.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "io/synthetic_benchmark.h"

namespace vrf::launch {
namespace {

TEST(PosteriorTable, EqualsEncodingEachUserAlone) {
  const auto dir = std::filesystem::temp_directory_path() / "vrf_posterior_table_test";
  std::filesystem::remove_all(dir);
  io::SynthConfig synth;
  synth.out_dir = dir.string();
  synth.prompts = 20;
  synth.users = 23;
  synth.unseen_users = 0;
  synth.dim = 6;
  synth.pairs_min = 1;
  synth.pairs_max = 12;
  io::write_synthetic_benchmark(synth, nullptr);
  const io::PreferenceStore train((dir / "train.h5").string());

  torch::manual_seed(11);
  core::ModelConfig config;
  config.input_dim = 6;
  config.latent_dim = 3;
  config.hidden_dim = 5;
  auto model = core::make_reward_model(config);
  const int64_t begin = 2, end = 21, context_max = 7;
  const auto table = compute_posterior_table(*model, train, begin, end, context_max, 5);
  EXPECT_TRUE(model->is_training()) << "the training mode is restored";
  model->eval();

  const auto& offsets = train.offsets();
  int64_t capped = 0;
  for (int64_t u = begin; u < end; ++u) {
    const int64_t n = std::min(context_max, offsets[u + 1] - offsets[u]);
    std::vector<int64_t> chosen, rejected;
    train.read_pairs(offsets[u], offsets[u] + n, chosen, rejected);
    core::PairBatch one;
    one.context_delta = torch::zeros({1, std::max<int64_t>(n, 1), 6});
    one.context_mask = torch::zeros({1, std::max<int64_t>(n, 1)});
    for (int64_t j = 0; j < n; ++j) {
      auto c = torch::empty({6}), r = torch::empty({6});
      train.read_embeddings(chosen[j], chosen[j] + 1, c.data_ptr<float>());
      train.read_embeddings(rejected[j], rejected[j] + 1, r.data_ptr<float>());
      one.context_delta[0][j].copy_(c - r);
      one.context_mask[0][j] = 1;
    }
    const auto expected = model->encode(one);
    EXPECT_TRUE(torch::allclose(table.mean[u - begin], expected.mean[0], 1e-6, 1e-6))
        << "user " << u;
    EXPECT_TRUE(torch::allclose(table.logvar[u - begin], expected.logvar[0], 1e-6, 1e-6))
        << "user " << u;
    EXPECT_EQ(table.seen[u - begin].item<int64_t>(), n > 0 ? 1 : 0);
    capped += n < offsets[u + 1] - offsets[u];
  }
  EXPECT_GT(capped, 0) << "the fixture should include users with more pairs than the cap";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vrf::launch
