// tests/core/user_parameter_table_test.cpp — per-user rows: initialization independent of the
// sharding, and a row-wise Adam equal to torch's Adam on the touched rows.
#include "core/user_parameter_table.h"

#include <gtest/gtest.h>

#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

TEST(UserParameterTableTest, InitialRowsDoNotDependOnTheSharding) {
  const UserParameterTable whole(0, 10, 3, 0.5, 7, torch::kFloat64);
  const UserParameterTable part(4, 5, 3, 0.5, 7, torch::kFloat64);
  EXPECT_TRUE(part.values().equal(whole.values().slice(0, 4, 9)));
  const UserParameterTable other_seed(0, 10, 3, 0.5, 8, torch::kFloat64);
  EXPECT_FALSE(other_seed.values().equal(whole.values()));
  // Roughly N(0, 0.25) over many draws.
  const UserParameterTable big(0, 20000, 4, 0.5, 1, torch::kFloat64);
  EXPECT_NEAR(big.values().mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(big.values().std().item<double>(), 0.5, 0.01);
}

TEST(UserParameterTableTest, RowwiseAdamMatchesTorchAdamOnTouchedRowsOnly) {
  UserParameterTable table(0, 4, 3, 0.5, 3, torch::kFloat64);
  // Reference: one torch Adam per row, stepped only when the row is touched.
  std::vector<torch::Tensor> rows;
  std::vector<std::unique_ptr<torch::optim::Adam>> adams;
  for (int64_t r = 0; r < 4; ++r) {
    rows.push_back(table.values()[r].clone().requires_grad_());
    adams.push_back(std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{rows.back()},
                                                         torch::optim::AdamOptions(0.05)));
  }
  const std::vector<std::vector<int64_t>> steps = {{0, 2}, {2}, {1, 2, 2}, {0}};
  for (size_t s = 0; s < steps.size(); ++s) {
    const auto index = torch::tensor(steps[s], torch::kInt64);
    const auto gathered = table.gather(index);
    const auto grad = torch::randn({index.size(0), 3}, torch::kFloat64);
    table.apply_gradient(index, grad, 0.05);
    std::vector<torch::Tensor> summed(4);
    for (size_t i = 0; i < steps[s].size(); ++i) {
      const int64_t r = steps[s][i];
      summed[r] = summed[r].defined() ? summed[r] + grad[i] : grad[i].clone();
    }
    for (int64_t r = 0; r < 4; ++r) {
      if (!summed[r].defined()) continue;  // untouched rows keep their state
      adams[r]->zero_grad();
      rows[r].mutable_grad() = summed[r];
      adams[r]->step();
    }
  }
  for (int64_t r = 0; r < 4; ++r) {
    test::expect_close(table.values()[r], rows[r].detach(), 1e-13, 1e-12,
                       "row " + std::to_string(r));
  }
  EXPECT_TRUE(table.steps().equal(torch::tensor({2, 1, 3, 0}, torch::kInt64)));
  EXPECT_THROW(table.gather(torch::tensor({4}, torch::kInt64)), c10::Error);
}

}  // namespace
}  // namespace vrf::core
