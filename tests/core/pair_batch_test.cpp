// tests/core/pair_batch_test.cpp — PairBatch contracts, slicing and conversion.
#include "core/pair_batch.h"

#include <gtest/gtest.h>

#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

std::string check_error(const PairBatch& batch, int64_t dim) {
  try {
    batch.check(dim);
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "";
}

TEST(PairBatchTest, ValidBatchPasses) {
  EXPECT_EQ(check_error(test::random_batch(4, 3, 2, 5, 1, true), 5), "");
  EXPECT_EQ(check_error(test::random_batch(4, 0, 2, 5, 1), 5), "") << "C = 0 is allowed";
}

TEST(PairBatchTest, WrongWidthNamesBothWidths) {
  EXPECT_NE(check_error(test::random_batch(4, 3, 2, 5, 1), 7)
                .find("PairBatch.query_delta has embedding width 5 but the model expects D = 7"),
            std::string::npos);
}

TEST(PairBatchTest, EachMisshapenFieldIsNamedWithItsSizes) {
  auto b = test::random_batch(4, 3, 2, 5, 1);
  b.query_mask = b.query_mask.slice(1, 0, 1);
  EXPECT_NE(check_error(b, 5).find("PairBatch.query_mask must be [B, Q] = [4, 2]; got [4, 1]"),
            std::string::npos);
  b = test::random_batch(4, 3, 2, 5, 1);
  b.context_mask = b.context_mask.slice(0, 0, 3);
  EXPECT_NE(check_error(b, 5).find("context_mask"), std::string::npos);
  b = test::random_batch(4, 3, 2, 5, 1);
  b.context_delta = b.context_delta.slice(2, 0, 4);
  EXPECT_NE(check_error(b, 5).find("context_delta"), std::string::npos);
  b = test::random_batch(4, 3, 2, 5, 1);
  b.user_rows = b.user_rows.to(torch::kInt32);
  EXPECT_NE(check_error(b, 5).find("user_rows"), std::string::npos);
  b = test::random_batch(4, 3, 2, 5, 1);
  b.query_mask = b.query_mask.to(torch::kFloat32);
  EXPECT_NE(check_error(b, 5).find("one floating dtype"), std::string::npos);
  b = test::random_batch(4, 3, 2, 5, 1, true);
  b.query_chosen = b.query_chosen.slice(1, 0, 1);
  EXPECT_NE(check_error(b, 5).find("query_chosen"), std::string::npos);
}

TEST(PairBatchTest, SliceUsersAndTo) {
  const auto b = test::random_batch(5, 3, 2, 4, 2, true);
  const auto s = b.slice_users(1, 3);
  EXPECT_EQ(s.num_users(), 2);
  EXPECT_TRUE(s.query_chosen.equal(b.query_chosen.slice(0, 1, 3)));
  EXPECT_TRUE(s.user_rows.equal(torch::tensor({1, 2}, torch::kInt64)));
  EXPECT_THROW(b.slice_users(2, 6), c10::Error);
  const auto f = b.to(torch::kCPU, torch::kFloat32);
  EXPECT_EQ(f.context_delta.scalar_type(), torch::kFloat32);
  EXPECT_EQ(f.query_chosen.scalar_type(), torch::kFloat32);
  EXPECT_EQ(f.user_rows.scalar_type(), torch::kInt64);
  EXPECT_EQ(check_error(f, 4), "");
}

}  // namespace
}  // namespace vrf::core
