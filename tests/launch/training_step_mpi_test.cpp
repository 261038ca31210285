// tests/launch/training_step_mpi_test.cpp — the data-parallel invariant and agreed health under
// real MPI: k steps on W ranks with the global batch split by owner equal k steps on one rank with
// the whole batch (vrf and factorized, float64); a NaN on one rank is skipped by all; a stop
// request on one rank reaches all.
#include <gtest/gtest.h>
#include <mpi.h>

#include "core/reward_model.h"
#include "distributed/mpi_communicator.h"
#include "launch/training_step.h"
#include "tests/core/test_batches.h"

namespace vrf::launch {
namespace {

constexpr int64_t kUsers = 24;  // global users; rank r owns [r U / W, (r + 1) U / W)

// The users of `batch` in [begin, end), in batch order: what the owner rank of that range sees.
core::PairBatch owned_users(const core::PairBatch& batch, int64_t begin, int64_t end) {
  const auto index =
      torch::nonzero((batch.user_rows >= begin).logical_and(batch.user_rows < end)).view(-1);
  core::PairBatch out;
  out.context_delta = batch.context_delta.index_select(0, index);
  out.context_mask = batch.context_mask.index_select(0, index);
  out.query_delta = batch.query_delta.index_select(0, index);
  out.query_mask = batch.query_mask.index_select(0, index);
  out.user_rows = batch.user_rows.index_select(0, index);
  return out;
}

// Global batch `step`: 2 users of every rank's range (so every rank has local users), in a
// shuffled order, with random pairs.
core::PairBatch global_batch(int step, int world) {
  auto batch = test::random_batch(2 * world, 5, 4, 5, 100 + step);
  std::vector<int64_t> users;
  for (int r = 0; r < world; ++r) {
    const int64_t begin = r * kUsers / world, end = (r + 1) * kUsers / world;
    users.push_back(begin + (step * 3) % (end - begin));
    users.push_back(begin + (step * 5 + 1) % (end - begin));
  }
  std::reverse(users.begin(), users.end());
  batch.user_rows = torch::tensor(users, torch::kInt64);
  return batch;
}

std::unique_ptr<TrainingStep> make_step(core::ModelKind kind, dist::Communicator& comm,
                                        int64_t begin, int64_t end) {
  auto config = test::tiny_config(kind);
  torch::manual_seed(42);
  auto model = core::make_reward_model(config);
  model->to(torch::kFloat64);
  OptimizerConfig optimizer;
  optimizer.lr = 1e-2;
  optimizer.weight_decay = 1e-2;
  optimizer.bucket_bytes = 256;  // several buckets even for the tiny model
  return std::make_unique<TrainingStep>(model, comm, optimizer, begin, end);
}

class DataParallelTest : public ::testing::TestWithParam<core::ModelKind> {};

TEST_P(DataParallelTest, WRanksEqualOneRankWithTheWholeBatch) {
  dist::MpiCommunicator world(MPI_COMM_WORLD), self(MPI_COMM_SELF);
  const int w = world.size(), r = world.rank();
  const int64_t begin = r * kUsers / w, end = (r + 1) * kUsers / w;
  auto distributed = make_step(GetParam(), world, begin, end);
  auto reference = make_step(GetParam(), self, 0, kUsers);  // every rank computes it alone
  for (int step = 0; step < 4; ++step) {
    const auto global = global_batch(step, w);
    const auto local = owned_users(global, begin, end);
    const auto a = distributed->run(local, 1e-2);
    const auto b = reference->run(global, 1e-2);
    ASSERT_TRUE(a.applied && b.applied);
    EXPECT_EQ(a.global_users, b.global_users);
    EXPECT_NEAR(a.loss, b.loss, 1e-12) << "step " << step;
  }
  const auto params = distributed->model().named_parameters();
  const auto expected = reference->model().named_parameters();
  for (const auto& p : params) {
    test::expect_close(p.value(), expected[p.key()], 1e-12, 1e-9,
                       "rank " + std::to_string(r) + " parameter " + p.key());
  }
  if (distributed->user_table() != nullptr) {
    test::expect_close(distributed->user_table()->values(),
                       reference->user_table()->values().slice(0, begin, end), 1e-12, 1e-9,
                       "rank " + std::to_string(r) + " user rows");
  }
}

INSTANTIATE_TEST_SUITE_P(Models, DataParallelTest,
                         ::testing::Values(core::ModelKind::kVrf, core::ModelKind::kFactorized),
                         [](const auto& info) { return core::to_string(info.param); });

TEST(AgreedHealthTest, NanOnOneRankIsSkippedByAll) {
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  const int w = world.size(), r = world.rank();
  auto step = make_step(core::ModelKind::kVrf, world, r * kUsers / w, (r + 1) * kUsers / w);
  const auto global = global_batch(0, w);
  const auto local = owned_users(global, r * kUsers / w, (r + 1) * kUsers / w);
  std::vector<torch::Tensor> before;
  for (const auto& p : step->model().parameters()) before.push_back(p.detach().clone());
  const auto result = step->run(local, 1e-2, {}, /*poison=*/r == w - 1);
  EXPECT_FALSE(result.applied) << "rank " << r << " must skip the step another rank poisoned";
  size_t i = 0;
  for (const auto& p : step->model().parameters()) EXPECT_TRUE(p.equal(before[i++]));
  EXPECT_TRUE(step->run(local, 1e-2).applied) << "the next clean step is applied";
}

TEST(AgreedHealthTest, StopOnOneRankReachesAll) {
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  const int w = world.size(), r = world.rank();
  auto step = make_step(core::ModelKind::kBt, world, r * kUsers / w, (r + 1) * kUsers / w);
  const auto global = global_batch(1, w);
  const auto local = owned_users(global, r * kUsers / w, (r + 1) * kUsers / w);
  EXPECT_FALSE(step->run(local, 1e-2).stop_requested);
  EXPECT_TRUE(step->run(local, 1e-2, {/*stop=*/r == 0}).stop_requested) << "rank " << r;
}

}  // namespace
}  // namespace vrf::launch
