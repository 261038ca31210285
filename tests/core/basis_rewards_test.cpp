// tests/core/basis_rewards_test.cpp — basis rewards with and without the MLP trunk.
#include "core/basis_rewards.h"

#include <gtest/gtest.h>

#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

TEST(BasisRewardsTest, LinearPairFeaturesAreVTransposeDelta) {
  BasisRewards v(BasisRewardsOptions(4, 3));
  v->to(torch::kFloat64);
  const auto delta = torch::randn({2, 5, 4}, torch::kFloat64);
  EXPECT_FALSE(v->needs_chosen());
  EXPECT_EQ(v->named_parameters().size(), 1u);
  test::expect_close(v->pair_features(delta, {}), torch::einsum("bqd,dk->bqk", {delta, v->V()}),
                     1e-13, 0, "g");
}

TEST(BasisRewardsTest, TrunkFeaturesAreRewardDifferencesAndAntisymmetric) {
  BasisRewards v(BasisRewardsOptions(4, 3).trunk_dim(7));
  v->to(torch::kFloat64);
  EXPECT_TRUE(v->needs_chosen());
  EXPECT_EQ(v->V().sizes(), torch::IntArrayRef({7, 3}));
  const auto chosen = torch::randn({2, 5, 4}, torch::kFloat64);
  const auto rejected = torch::randn({2, 5, 4}, torch::kFloat64);
  const auto g = v->pair_features(chosen - rejected, chosen);
  test::expect_close(g, v->response_rewards(chosen) - v->response_rewards(rejected), 1e-13, 0,
                     "g = r(chosen) - r(rejected)");
  test::expect_close(v->pair_features(rejected - chosen, rejected), -g, 1e-13, 0,
                     "swapping the pair negates g");
  EXPECT_THROW(v->pair_features(chosen - rejected, {}), c10::Error)
      << "a trunk without phi(chosen) must fail loudly";
}

}  // namespace
}  // namespace vrf::core
