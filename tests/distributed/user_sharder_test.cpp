// tests/distributed/user_sharder_test.cpp — UserSharder: disjoint, complete, balanced and
// deterministic cuts, owner() lookups and refused inputs.
#include "distributed/user_sharder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

namespace vrf::dist {
namespace {

std::vector<int64_t> offsets_from_counts(const std::vector<int64_t>& counts) {
  std::vector<int64_t> offsets{0};
  for (int64_t c : counts) {
    offsets.push_back(offsets.back() + c);
  }
  return offsets;
}

std::vector<int64_t> shard_pairs(const UserSharder& sharder, const std::vector<int64_t>& offsets) {
  std::vector<int64_t> pairs;
  for (int r = 0; r < sharder.world_size(); ++r) {
    const auto [begin, end] = sharder.range(r);
    pairs.push_back(offsets[end] - offsets[begin]);
  }
  return pairs;
}

// Contiguous, disjoint and complete; at least one user per rank when there are enough users,
// empty ranges only after the last user otherwise; owner() agrees with range().
void expect_valid_cut(const UserSharder& sharder, int64_t users) {
  const int world = sharder.world_size();
  int64_t expected_begin = 0;
  for (int r = 0; r < world; ++r) {
    const auto [begin, end] = sharder.range(r);
    EXPECT_EQ(begin, expected_begin) << "rank " << r;
    EXPECT_LE(begin, end) << "rank " << r;
    if (users >= world) {
      EXPECT_LT(begin, end) << "rank " << r << " is empty with " << users << " users";
    } else {
      EXPECT_EQ(end - begin, r < users ? 1 : 0) << "rank " << r;
    }
    for (int64_t u = begin; u < end; ++u) {
      EXPECT_EQ(sharder.owner(u), r) << "user " << u;
    }
    expected_begin = end;
  }
  EXPECT_EQ(expected_begin, users);
}

void expect_balanced(const UserSharder& sharder, const std::vector<int64_t>& offsets) {
  int64_t largest_user = 0;
  for (size_t u = 0; u + 1 < offsets.size(); ++u) {
    largest_user = std::max(largest_user, offsets[u + 1] - offsets[u]);
  }
  const auto pairs = shard_pairs(sharder, offsets);
  const auto [min, max] = std::minmax_element(pairs.begin(), pairs.end());
  EXPECT_LE(*max - *min, largest_user) << "shards from " << *min << " to " << *max << " pairs";
}

TEST(UserSharderTest, EqualUsersSplitEvenly) {
  const auto offsets = offsets_from_counts(std::vector<int64_t>(12, 5));
  const UserSharder sharder(offsets, 4);
  expect_valid_cut(sharder, 12);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(sharder.range(r), std::make_pair(int64_t{3} * r, int64_t{3} * r + 3));
  }
}

TEST(UserSharderTest, CutsWhereTheTotalsAreClosest) {
  // Totals 60, a third is 20: the cut 19 | 21 | 20 beats cutting at the first boundary >= 20
  // (29 | 11 | 20).
  const auto offsets = offsets_from_counts({10, 9, 10, 1, 10, 10, 10});
  const UserSharder sharder(offsets, 3);
  expect_valid_cut(sharder, 7);
  EXPECT_EQ(shard_pairs(sharder, offsets), (std::vector<int64_t>{19, 21, 20}));
}

TEST(UserSharderTest, OneRankOwnsEverything) {
  const auto offsets = offsets_from_counts({3, 0, 7, 1});
  const UserSharder sharder(offsets, 1);
  EXPECT_EQ(sharder.world_size(), 1);
  EXPECT_EQ(sharder.range(0), std::make_pair(int64_t{0}, int64_t{4}));
  EXPECT_EQ(sharder.owner(3), 0);
  const UserSharder no_users(std::vector<int64_t>{0}, 1);
  EXPECT_EQ(no_users.range(0), std::make_pair(int64_t{0}, int64_t{0}));
}

TEST(UserSharderTest, MoreRanksThanUsersLeavesTheLastRanksEmpty) {
  const auto offsets = offsets_from_counts({1, 100, 2});
  const UserSharder sharder(offsets, 5);
  expect_valid_cut(sharder, 3);
  EXPECT_EQ(sharder.range(3), std::make_pair(int64_t{3}, int64_t{3}));
  EXPECT_EQ(sharder.range(4), std::make_pair(int64_t{3}, int64_t{3}));
  EXPECT_EQ(sharder.owner(2), 2);
  const UserSharder no_users(std::vector<int64_t>{0}, 3);
  expect_valid_cut(no_users, 0);
}

TEST(UserSharderTest, UsersWithoutPairsStillGiveEveryRankAUser) {
  const auto offsets = offsets_from_counts({0, 0, 0, 0, 0, 9});
  for (int world = 1; world <= 6; ++world) {
    SCOPED_TRACE("world " + std::to_string(world));
    const UserSharder sharder(offsets, world);
    expect_valid_cut(sharder, 6);
    expect_balanced(sharder, offsets);
  }
}

TEST(UserSharderTest, RandomOffsetsAreBalancedAndDeterministic) {
  for (uint32_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int world = std::uniform_int_distribution<int>(1, 9)(rng);
    const int64_t users = std::uniform_int_distribution<int64_t>(0, 200)(rng);
    // Mixes of typical and heavy users, and some without pairs.
    const int64_t heavy = std::vector<int64_t>{0, 1, 5, 50, 100000}[seed % 5];
    std::uniform_int_distribution<int64_t> count(0, heavy);
    std::vector<int64_t> counts(users);
    for (auto& c : counts) {
      c = (rng() % 4 == 0) ? count(rng) : count(rng) / 10;
    }
    const auto offsets = offsets_from_counts(counts);
    const UserSharder sharder(offsets, world);
    expect_valid_cut(sharder, users);
    expect_balanced(sharder, offsets);
    const UserSharder again(offsets, world);
    for (int r = 0; r < world; ++r) {
      EXPECT_EQ(again.range(r), sharder.range(r));
    }
  }
}

TEST(UserSharderTest, EverySmallCaseIsBalanced) {
  // All pair counts in {0, ..., 3} for up to 6 users, on 1 to 7 ranks.
  for (int64_t users = 0; users <= 6; ++users) {
    int64_t cases = 1;
    for (int64_t u = 0; u < users; ++u) {
      cases *= 4;
    }
    for (int64_t code = 0; code < cases; ++code) {
      std::vector<int64_t> counts(users);
      for (int64_t u = 0, rest = code; u < users; ++u, rest /= 4) {
        counts[u] = rest % 4;
      }
      const auto offsets = offsets_from_counts(counts);
      for (int world = 1; world <= 7; ++world) {
        SCOPED_TRACE("users " + std::to_string(users) + ", case " + std::to_string(code) +
                     ", world " + std::to_string(world));
        const UserSharder sharder(offsets, world);
        expect_valid_cut(sharder, users);
        expect_balanced(sharder, offsets);
      }
    }
  }
}

TEST(UserSharderTest, HugePairCountsDoNotOverflow) {
  const int64_t big = std::numeric_limits<int64_t>::max() / 4;
  const auto offsets = offsets_from_counts({big, big, big, 1});
  const UserSharder sharder(offsets, 2);
  expect_valid_cut(sharder, 4);
  expect_balanced(sharder, offsets);
}

TEST(UserSharderTest, InvalidInputsThrow) {
  EXPECT_THROW(UserSharder({0, 1}, 0), std::invalid_argument);
  EXPECT_THROW(UserSharder({0, 1}, -2), std::invalid_argument);
  EXPECT_THROW(UserSharder({}, 1), std::invalid_argument);
  EXPECT_THROW(UserSharder({1, 2}, 1), std::invalid_argument);
  try {
    UserSharder({0, 4, 3, 5}, 2);
    ADD_FAILURE() << "decreasing offsets were accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("offsets[1] = 4 > offsets[2] = 3"), std::string::npos)
        << e.what();
  }
  const UserSharder sharder({0, 1, 2}, 2);
  EXPECT_THROW(sharder.range(2), std::out_of_range);
  EXPECT_THROW(sharder.range(-1), std::out_of_range);
  EXPECT_THROW(sharder.owner(2), std::out_of_range);
  EXPECT_THROW(sharder.owner(-1), std::out_of_range);
}

}  // namespace
}  // namespace vrf::dist
