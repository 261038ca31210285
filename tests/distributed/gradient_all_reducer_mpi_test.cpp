// tests/distributed/gradient_all_reducer_mpi_test.cpp — bucketed gradient averaging against the
// closed-form mean of rank-dependent gradients, and the start-of-training broadcast. Run under
// mpiexec.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "distributed/gradient_all_reducer.h"
#include "distributed/mpi_communicator.h"

namespace vrf::dist {
namespace {

struct ParameterSpec {
  std::vector<int64_t> shape;
  torch::ScalarType dtype;
};

// 48 + 28 + 240 (float64) + 100 + 1200 + 4 + 0 bytes = 1620. Parameter 3 never gets a gradient.
const std::vector<ParameterSpec> kSpecs{{{3, 4}, torch::kFloat32},    {{7}, torch::kFloat32},
                                        {{2, 3, 5}, torch::kFloat64}, {{5, 5}, torch::kFloat32},
                                        {{300}, torch::kFloat32},     {{}, torch::kFloat32},
                                        {{0}, torch::kFloat32}};
constexpr size_t kNoGradient = 3;
constexpr int64_t kTotalBytes = 1620;

std::vector<torch::Tensor> make_parameters() {
  std::vector<torch::Tensor> parameters;
  for (const auto& spec : kSpecs) {
    parameters.push_back(torch::zeros(spec.shape, spec.dtype).requires_grad_());
  }
  return parameters;
}

// Rank r's gradient of parameter i at flat index j: (r + 1) * (j + 1) + i.
void set_gradients(std::vector<torch::Tensor>& parameters, int rank) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    torch::Tensor& p = parameters[i];
    p.mutable_grad() = i == kNoGradient
                           ? torch::Tensor()
                           : (torch::arange(1, p.numel() + 1, torch::kFloat64) * (rank + 1) +
                              static_cast<double>(i))
                                 .to(p.scalar_type())
                                 .view(p.sizes());
  }
}

// (sum over n ranks) / users = ((j + 1) n (n + 1) / 2 + i n) / users, in float64.
torch::Tensor expected_mean(size_t i, const torch::Tensor& p, int64_t n, double users) {
  if (i == kNoGradient) {
    return torch::zeros(p.sizes(), torch::kFloat64);
  }
  const double ranks_sum = static_cast<double>(n * (n + 1) / 2);
  return ((torch::arange(1, p.numel() + 1, torch::kFloat64) * ranks_sum +
           static_cast<double>(i * n)) /
          users)
      .view(p.sizes());
}

void expect_means(const std::vector<torch::Tensor>& parameters, int64_t n, double users) {
  for (size_t i = 0; i < parameters.size(); ++i) {
    SCOPED_TRACE("parameter " + std::to_string(i));
    const torch::Tensor& grad = parameters[i].grad();
    EXPECT_TRUE(grad.defined());
    if (!grad.defined()) {
      continue;
    }
    EXPECT_EQ(grad.scalar_type(), parameters[i].scalar_type());
    EXPECT_EQ(grad.sizes(), parameters[i].sizes());
    const double rtol = grad.scalar_type() == torch::kFloat64 ? 1e-14 : 1e-6;
    EXPECT_TRUE(torch::allclose(grad.to(torch::kFloat64), expected_mean(i, grad, n, users), rtol,
                                /*atol=*/0.0));
  }
}

TEST(GradientAllReducerTest, AveragesEveryGradientToTheClosedForm) {
  MpiCommunicator comm;
  auto parameters = make_parameters();
  GradientAllReducer reducer(parameters, comm);
  EXPECT_EQ(reducer.num_buckets(), 3) << "float32 | float64 | float32";
  for (const double users : {7.0, 1.0, 1e6}) {
    SCOPED_TRACE("global users " + std::to_string(users));
    set_gradients(parameters, comm.rank());
    reducer.average_(users);
    expect_means(parameters, comm.size(), users);
  }
}

TEST(GradientAllReducerTest, SmallBucketsGiveTheSameResultAsOne) {
  MpiCommunicator comm;
  auto large = make_parameters();
  auto small = make_parameters();
  GradientAllReducer default_buckets(large, comm);
  GradientAllReducer kibibyte(small, comm, 1024);
  // {48 + 28} | {240, float64} | {100} | {1200, larger than a bucket} | {4 + 0}
  EXPECT_EQ(kibibyte.num_buckets(), 5);
  EXPECT_GT(kibibyte.num_buckets(), default_buckets.num_buckets());
  set_gradients(large, comm.rank());
  set_gradients(small, comm.rank());
  default_buckets.average_(5.0);
  kibibyte.average_(5.0);
  for (size_t i = 0; i < large.size(); ++i) {
    EXPECT_TRUE(small[i].grad().equal(large[i].grad())) << "parameter " << i;
  }
  expect_means(small, comm.size(), 5.0);
}

TEST(GradientAllReducerTest, BytesPerStepAreTheParameterBytesWhateverTheUsers) {
  MpiCommunicator comm;
  auto parameters = make_parameters();
  GradientAllReducer reducer(parameters, comm);
  EXPECT_EQ(reducer.bytes_per_step(), kTotalBytes);
  for (const double users : {1.0, 1000.0, 1e9}) {
    set_gradients(parameters, comm.rank());
    reducer.average_(users);
    EXPECT_EQ(reducer.bytes_per_step(), kTotalBytes) << "global users " << users;
  }
  EXPECT_EQ(GradientAllReducer(make_parameters(), comm, 1024).bytes_per_step(), kTotalBytes);
  EXPECT_EQ(GradientAllReducer({}, comm).bytes_per_step(), 0);
}

TEST(GradientAllReducerTest, BadInputsAreRefusedOnEveryRankBeforeCommunicating) {
  MpiCommunicator comm;
  auto parameters = make_parameters();
  EXPECT_THROW(GradientAllReducer(parameters, comm, 0), c10::Error);
  EXPECT_THROW(GradientAllReducer({torch::zeros({2}, torch::kInt64)}, comm), c10::Error);
  EXPECT_THROW(GradientAllReducer({torch::Tensor()}, comm), c10::Error);
  GradientAllReducer reducer(parameters, comm);
  set_gradients(parameters, comm.rank());
  for (const double users : {0.0, -3.0, std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(reducer.average_(users), c10::Error) << "global users " << users;
  }
  parameters[1].mutable_grad() = torch::zeros({8}, torch::kFloat32);
  try {
    reducer.average_(2.0);
    ADD_FAILURE() << "a misshapen gradient was accepted";
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    EXPECT_NE(message.find("parameter 1"), std::string::npos) << message;
    EXPECT_NE(message.find("[7]"), std::string::npos) << message;
    EXPECT_NE(message.find("[8]"), std::string::npos) << message;
  }
  // Nothing was left half-communicated: a correct step still averages correctly.
  set_gradients(parameters, comm.rank());
  reducer.average_(2.0);
  expect_means(parameters, comm.size(), 2.0);
}

TEST(GradientAllReducerTest, BroadcastFromRootGivesEveryRankRankZerosParameters) {
  MpiCommunicator comm;
  torch::manual_seed(1000 + comm.rank());
  torch::nn::Linear layer(torch::nn::LinearOptions(6, 4));
  auto parameters = layer->parameters();
  parameters.push_back(torch::full({3}, comm.rank() + 0.5, torch::kFloat64).requires_grad_());
  std::vector<torch::Tensor> before;
  for (const auto& p : parameters) {
    before.push_back(p.detach().clone());
  }
  broadcast_from_root(parameters, comm);
  for (size_t i = 0; i < parameters.size(); ++i) {
    SCOPED_TRACE("parameter " + std::to_string(i));
    EXPECT_TRUE(parameters[i].requires_grad());
    const torch::Tensor all = comm.all_gather(parameters[i].detach());
    for (int r = 0; r < comm.size(); ++r) {
      EXPECT_TRUE(all[r].equal(all[0])) << "rank " << r;
    }
    if (comm.rank() == 0) {
      EXPECT_TRUE(parameters[i].detach().equal(before[i]));
    }
  }
  EXPECT_TRUE(parameters.back().detach().equal(torch::full({3}, 0.5, torch::kFloat64)));
  // Still usable leaves: a backward pass reaches them.
  layer->forward(torch::ones({2, 6})).sum().backward();
  EXPECT_TRUE(layer->weight.grad().defined());
}

}  // namespace
}  // namespace vrf::dist
