// tests/core/input_standardizer_test.cpp — standardization buffers: statistics, application,
// persistence with the model.
#include "core/input_standardizer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/reward_model.h"
#include "tests/core/test_batches.h"

namespace vrf::core {
namespace {

TEST(InputStandardizerTest, StatisticsAndStandardize) {
  const auto x = torch::tensor({{1.0, 10.0, 3.0}, {3.0, 30.0, 3.0}}, torch::kFloat64);
  const auto [mean, std] = InputStandardizerImpl::statistics_of(x);
  test::expect_close(mean, torch::tensor({2.0, 20.0, 3.0}, torch::kFloat64), 1e-15, 0, "mean");
  test::expect_close(std, torch::tensor({1.0, 10.0, 0.0}, torch::kFloat64), 1e-15, 0, "std");
  InputStandardizer s(3);
  s->to(torch::kFloat64);
  s->set_statistics(mean, std);
  // The constant third dimension gets std 1 instead of a division by zero.
  test::expect_close(s->standardize(x),
                     torch::tensor({{-1.0, -1.0, 0.0}, {1.0, 1.0, 0.0}}, torch::kFloat64), 1e-15, 0,
                     "phi~");
  test::expect_close(s->standardize_delta(x[1] - x[0]),
                     torch::tensor({2.0, 2.0, 0.0}, torch::kFloat64), 1e-15, 0, "delta~");
}

TEST(InputStandardizerTest, RejectsBadStatistics) {
  InputStandardizer s(3);
  EXPECT_THROW(s->set_statistics(torch::zeros({4}), torch::ones({4})), c10::Error);
  EXPECT_THROW(s->set_statistics(torch::zeros({3}), -torch::ones({3})), c10::Error);
  EXPECT_THROW(s->set_statistics(torch::full({3}, NAN), torch::ones({3})), c10::Error);
  EXPECT_THROW(InputStandardizerImpl::statistics_of(torch::zeros({0, 3})), c10::Error);
}

TEST(InputStandardizerTest, ModelsScoreStandardizedDeltas) {
  for (auto kind : {ModelKind::kBt, ModelKind::kVrf}) {
    auto model = make_reward_model(test::tiny_config(kind));
    model->to(torch::kFloat64);
    model->eval();
    const auto batch = test::random_batch(3, 4, 3, 5, 11);
    const auto scale = torch::tensor({1.0, 2.0, 0.5, 4.0, 3.0}, torch::kFloat64);
    auto scaled = batch;
    scaled.context_delta = batch.context_delta * scale;
    scaled.query_delta = batch.query_delta * scale;
    const auto reference = model->forward(batch).margins;
    model->standardizer()->set_statistics(torch::randn({5}, torch::kFloat64), scale);
    test::expect_close(model->forward(scaled).margins, reference, 1e-12, 1e-12,
                       to_string(kind) + " margins after standardization");
  }
}

TEST(InputStandardizerTest, BuffersAreSavedWithTheModel) {
  auto model = make_reward_model(test::tiny_config(ModelKind::kVrf));
  model->standardizer()->set_statistics(torch::arange(5.0), torch::arange(1.0, 6.0));
  torch::serialize::OutputArchive archive;
  model->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);

  auto restored = make_reward_model(test::tiny_config(ModelKind::kVrf));
  torch::serialize::InputArchive input;
  std::istringstream in(bytes.str());
  input.load_from(in);
  restored->load(input);
  EXPECT_TRUE(restored->standardizer()->mean().equal(torch::arange(5.0)));
  EXPECT_TRUE(restored->standardizer()->std().equal(torch::arange(1.0, 6.0)));
  EXPECT_EQ(restored->named_parameters().find("standardizer.mean"), nullptr)
      << "statistics are buffers, never trained or all-reduced";
}

}  // namespace
}  // namespace vrf::core
