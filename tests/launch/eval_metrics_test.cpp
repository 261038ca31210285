// tests/launch/eval_metrics_test.cpp — every `vrf eval` metric against a hand computation on a tiny
// fixture, and the rank combination: summed to_vector() of two halves equals the whole.
#include "launch/eval_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <vector>

namespace vrf::launch {
namespace {

constexpr double kTol = 1e-12;
const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// What an all-reduce of the two ranks' vectors gives.
std::vector<double> sum(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  std::vector<double> out(a);
  for (size_t i = 0; i < out.size(); ++i) out[i] += b[i];
  return out;
}

void expect_near(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], kTol * (1 + std::abs(expected[i]))) << "element " << i;
  }
}

TEST(EvalMetricsAccuracy, PerUserMeanDiffersFromMicro) {
  // User A: margins {1, 2, -1, 0} -> 1 + 1 + 0 + 0.5 = 2.5 correct of 4 (0.625).
  // User B: margins {-3}          -> 0 correct of 1 (0).
  // Micro = 2.5 / 5 = 0.5; per-user mean = (0.625 + 0) / 2 = 0.3125.
  AccuracySums sums;
  sums.add_user_margins({1, 2, -1, 0});
  sums.add_user_margins({-3});
  EXPECT_DOUBLE_EQ(sums.correct_pairs, 2.5);
  EXPECT_DOUBLE_EQ(sums.pairs, 5);
  EXPECT_DOUBLE_EQ(sums.users, 2);
  EXPECT_DOUBLE_EQ(sums.micro_accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(sums.user_mean_accuracy(), 0.3125);
}

TEST(EvalMetricsAccuracy, TieCountsHalf) {
  EXPECT_EQ(pair_correct(0.0), 0.5);
  EXPECT_EQ(pair_correct(-0.0), 0.5);
  EXPECT_EQ(pair_correct(1e-300), 1.0);
  EXPECT_EQ(pair_correct(-1e-300), 0.0);
  EXPECT_EQ(pair_correct(kInf), 1.0);
  AccuracySums sums;
  sums.add_user_margins({0, 0, 0});  // 1.5 of 3
  EXPECT_DOUBLE_EQ(sums.micro_accuracy(), 0.5);
  EXPECT_DOUBLE_EQ(sums.user_mean_accuracy(), 0.5);
}

TEST(EvalMetricsAccuracy, UsersWithoutPairsAddNothingAndNoDataIsNaN) {
  AccuracySums sums;
  EXPECT_TRUE(std::isnan(sums.micro_accuracy()));
  EXPECT_TRUE(std::isnan(sums.user_mean_accuracy()));
  sums.add_user_margins({});
  sums.add_user(0, 0);
  EXPECT_EQ(sums.users, 0);
  sums.add_user(1.5, 2);  // counts, as the tercile accumulator takes them: 0.75
  EXPECT_DOUBLE_EQ(sums.user_mean_accuracy(), 0.75);
}

TEST(EvalMetricsAccuracy, RejectsNaNAndImpossibleCounts) {
  AccuracySums sums;
  EXPECT_THROW(sums.add_user_margins({1, kNaN}), std::invalid_argument);
  EXPECT_THROW(sums.add_user(3, 2), std::invalid_argument);
  EXPECT_THROW(sums.add_user(-1, 2), std::invalid_argument);
  EXPECT_THROW(sums.add_user(kNaN, 2), std::invalid_argument);
  EXPECT_EQ(sums.pairs, 0) << "a rejected user adds nothing";
}

TEST(EvalMetricsNll, HandComputedAndStableForLargeMargins) {
  // -log sigmoid(0) = log 2; -log sigmoid(log 3) = -log(3/4) = log(4/3);
  // -log sigmoid(-log 3) = -log(1/4) = log 4. Mean = log(2 * 4/3 * 4) / 3 = log(32/3) / 3.
  NllSums sums;
  sums.add_margins({0, std::log(3.0), -std::log(3.0)});
  EXPECT_NEAR(sums.nll(), std::log(32.0 / 3.0) / 3.0, kTol);
  // softplus(-m) for |m| = 1000: 1000 for m = -1000, 0 for m = +1000 (no overflow to inf/NaN).
  NllSums large;
  large.add_margins({-1000, 1000});
  EXPECT_DOUBLE_EQ(large.nll_sum, 1000);
  EXPECT_DOUBLE_EQ(large.nll(), 500);
  EXPECT_TRUE(std::isnan(NllSums{}.nll()));
  EXPECT_THROW(sums.add_margins({kNaN}), std::invalid_argument);
}

TEST(EvalMetricsCalibration, PerfectlyCalibratedBinsGiveZero) {
  // Three pairs with m = log 3 (p = 0.75) and one with m = -log 3 (p = 0.25). Symmetric entries:
  // bin 7: 3 x (0.75, 1) + 1 x (0.75, 0) -> mean confidence 0.75, mean outcome 3/4.
  // bin 2: 3 x (0.25, 0) + 1 x (0.25, 1) -> mean confidence 0.25, mean outcome 1/4. ECE = 0.
  const double m = std::log(3.0);
  CalibrationSums sums;
  sums.add_margins({m, m, m, -m});
  EXPECT_DOUBLE_EQ(sums.count(7), 4);
  EXPECT_DOUBLE_EQ(sums.count(2), 4);
  EXPECT_NEAR(sums.ece(), 0.0, kTol);
  // m = 0: (0.5, 1) and (0.5, 0) share bin 5 -> calibrated too.
  CalibrationSums half;
  half.add_margins({0});
  EXPECT_DOUBLE_EQ(half.count(5), 2);
  EXPECT_NEAR(half.ece(), 0.0, kTol);
}

TEST(EvalMetricsCalibration, ConstantConfidenceInSymmetricForm) {
  // p = 0.9 for every pair (m = log 9), outcome 1: entries (0.9, 1) and (0.1, 0) in equal numbers.
  // ECE = 0.5 * |0.9 - 1| + 0.5 * |0.1 - 0| = 0.1.
  CalibrationSums sums;
  sums.add_margins({std::log(9.0), std::log(9.0), std::log(9.0)});
  EXPECT_NEAR(sums.ece(), 0.1, kTol);
}

TEST(EvalMetricsCalibration, TwoBinsHandComputed) {
  // B = 2, margins {log 3, 0}: entries (0.75, 1), (0.25, 0), (0.5, 1), (0.5, 0); N = 4.
  // bin 0 = [0, 0.5): (0.25, 0)                      -> |0.25 - 0| = 0.25
  // bin 1 = [0.5, 1]: (0.75, 1), (0.5, 1), (0.5, 0)  -> |1.75 - 2| = 0.25
  // ECE = (0.25 + 0.25) / 4 = 0.125.
  CalibrationSums sums(2);
  sums.add_margins({std::log(3.0), 0});
  EXPECT_DOUBLE_EQ(sums.count(0), 1);
  EXPECT_DOUBLE_EQ(sums.count(1), 3);
  EXPECT_NEAR(sums.ece(), 0.125, kTol);
  // p = 1 (m = +inf) goes into the last bin, p = 0 into the first: |1 - 1| + |0 - 0| = 0.
  CalibrationSums edges(2);
  edges.add_margins({kInf});
  EXPECT_DOUBLE_EQ(edges.count(1), 1);
  EXPECT_DOUBLE_EQ(edges.count(0), 1);
  EXPECT_DOUBLE_EQ(edges.ece(), 0);
  EXPECT_TRUE(std::isnan(CalibrationSums().ece()));
  EXPECT_THROW(CalibrationSums(0), std::invalid_argument);
}

TEST(EvalMetricsTerciles, CutPointsAreEmpiricalQuantiles) {
  // n = 6, sorted 1..6: low_max = s[6/3 - 1] = s[1] = 2, mid_max = s[12/3 - 1] = s[3] = 4.
  TercileCuts six = tercile_cuts({5, 1, 4, 2, 6, 3});
  EXPECT_EQ(six.low_max, 2);
  EXPECT_EQ(six.mid_max, 4);
  // n = 7, sorted 1..7: s[floor(7/3) - 1] = s[1] = 2, s[floor(14/3) - 1] = s[3] = 4; high gets 3.
  TercileCuts seven = tercile_cuts({7, 6, 5, 4, 3, 2, 1});
  EXPECT_EQ(seven.low_max, 2);
  EXPECT_EQ(seven.mid_max, 4);
  EXPECT_EQ(tercile_of(1, seven), Tercile::kLow);
  EXPECT_EQ(tercile_of(2, seven), Tercile::kLow);  // equal to the cut: the lower tercile
  EXPECT_EQ(tercile_of(3, seven), Tercile::kMid);
  EXPECT_EQ(tercile_of(4, seven), Tercile::kMid);
  EXPECT_EQ(tercile_of(4.5, seven), Tercile::kHigh);
  // Ties: {1, 1, 1, 2, 2, 2}: low_max = s[1] = 1, mid_max = s[3] = 2 -> kHigh is empty.
  TercileCuts ties = tercile_cuts({2, 1, 2, 1, 2, 1});
  EXPECT_EQ(ties.low_max, 1);
  EXPECT_EQ(ties.mid_max, 2);
  EXPECT_THROW(tercile_cuts({1, kNaN, 2}), std::invalid_argument);
}

TEST(EvalMetricsTerciles, FewerThanThreeUsers) {
  // n = 2: index floor(2/3) - 1 = -1 -> -inf; floor(4/3) - 1 = 0 -> s[0]: kMid and kHigh.
  TercileCuts two = tercile_cuts({8, 3});
  EXPECT_EQ(two.low_max, -kInf);
  EXPECT_EQ(two.mid_max, 3);
  EXPECT_EQ(tercile_of(3, two), Tercile::kMid);
  EXPECT_EQ(tercile_of(8, two), Tercile::kHigh);
  // n = 1: both indices are -1 -> the one user is kHigh.
  TercileCuts one = tercile_cuts({3});
  EXPECT_EQ(one.low_max, -kInf);
  EXPECT_EQ(one.mid_max, -kInf);
  EXPECT_EQ(tercile_of(3, one), Tercile::kHigh);
  TercileCuts none = tercile_cuts({});
  EXPECT_EQ(none.low_max, -kInf);
  EXPECT_EQ(none.mid_max, -kInf);
}

TEST(EvalMetricsTerciles, AccuracyPerTercile) {
  // Keys 0.1..0.6 -> cuts 0.2 and 0.4. Users (key: correct / pairs):
  // low:  0.1: 3/4, 0.2: 0/1    -> micro 3/5 = 0.6,     mean (0.75 + 0) / 2 = 0.375
  // mid:  0.3: 2/2, 0.4: 0.5/1  -> micro 2.5/3,         mean (1 + 0.5) / 2 = 0.75
  // high: 0.5: 1/4, 0.6: 0/0    -> micro 0.25, mean 0.25 (the user without pairs is not counted)
  const std::vector<double> keys = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
  TercileAccuracySums sums(tercile_cuts(keys));
  EXPECT_EQ(sums.cuts().low_max, 0.2);
  EXPECT_EQ(sums.cuts().mid_max, 0.4);
  const std::vector<double> correct = {3, 0, 2, 0.5, 1, 0}, pairs = {4, 1, 2, 1, 4, 0};
  for (size_t u = 0; u < keys.size(); ++u) sums.add_user(keys[u], correct[u], pairs[u]);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kLow).micro_accuracy(), 0.6);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kLow).user_mean_accuracy(), 0.375);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kMid).micro_accuracy(), 2.5 / 3);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kMid).user_mean_accuracy(), 0.75);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kHigh).micro_accuracy(), 0.25);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kHigh).user_mean_accuracy(), 0.25);
  EXPECT_DOUBLE_EQ(sums.tercile(Tercile::kHigh).users, 1);
}

TEST(EvalMetricsBestOfN, OracleWorstAndAveragePick) {
  // truth {1, 2, 4, 5}: mean 3, max 5, scale max - mean = 2. Picking response i scores
  // (truth[i] - 3) / 2 = {-1, -0.5, 0.5, 1}: the oracle (i = 3) gets 1, the worst (i = 0) gets
  // (min - mean) / (max - mean) = -1, and the mean over all 4 picks is exactly 0.
  const std::vector<double> truth = {1, 2, 4, 5};
  const std::vector<double> expected = {-1, -0.5, 0.5, 1};
  double total = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    std::vector<double> predicted(truth.size(), 0.0);
    predicted[i] = 1;
    const std::optional<double> score = best_of_n_score(predicted, truth);
    ASSERT_TRUE(score.has_value()) << "pick " << i;
    EXPECT_EQ(*score, expected[i]) << "pick " << i;
    total += *score;
  }
  EXPECT_EQ(total / 4, 0.0);
  EXPECT_EQ(best_of_n_score(truth, truth).value_or(kNaN), 1.0)
      << "predicting the true rewards is the oracle";
  // Non-dyadic rewards: the oracle is still exactly 1 and the worst pick is (min-mean)/(max-mean).
  const std::vector<double> odd = {0.3, -2.2, 1.7};
  const double mean = (0.3 - 2.2 + 1.7) / 3;
  EXPECT_EQ(best_of_n_score({0, 0, 9}, odd).value_or(kNaN), 1.0);
  EXPECT_NEAR(best_of_n_score({0, 9, 0}, odd).value_or(kNaN), (-2.2 - mean) / (1.7 - mean), kTol);
  EXPECT_LE(best_of_n_score({0, 9, 0}, odd).value_or(kNaN), 0.0);
}

TEST(EvalMetricsBestOfN, TiesPickTheFirstAndEqualTruthIsSkipped) {
  // Predicted {2, 7, 7, 1}: the first maximum is index 1 -> (2 - 3) / 2 = -0.5.
  EXPECT_EQ(best_of_n_score({2, 7, 7, 1}, {1, 2, 4, 5}).value_or(kNaN), -0.5);
  EXPECT_FALSE(best_of_n_score({1, 2, 3}, {0.1, 0.1, 0.1}).has_value());
  EXPECT_FALSE(best_of_n_score({1}, {4}).has_value()) << "N = 1 cannot tell picks apart";
  BestOfNSums sums;
  sums.add_prompt({0, 1}, {0, 1});        // oracle: 1
  sums.add_prompt({1, 0}, {2, 2});        // skipped
  sums.add_prompt({1, 0, 0}, {0, 3, 0});  // mean 1, max 3: (0 - 1) / 2 = -0.5
  EXPECT_DOUBLE_EQ(sums.prompts, 2);
  EXPECT_DOUBLE_EQ(sums.skipped_prompts, 1);
  EXPECT_DOUBLE_EQ(sums.mean_score(), 0.25);
  EXPECT_THROW(best_of_n_score({1, 2}, {1}), std::invalid_argument);
  EXPECT_THROW(best_of_n_score({}, {}), std::invalid_argument);
  EXPECT_THROW(best_of_n_score({1, kNaN}, {1, 2}), std::invalid_argument);
  EXPECT_THROW(best_of_n_score({1, 2}, {1, kInf}), std::invalid_argument);
}

TEST(EvalMetricsRankCombination, SumOfHalvesEqualsWhole) {
  // Five users with margins, keys and one best-of-N prompt each; rank 0 holds users 0-1, rank 1
  // users 2-4. Summing the two ranks' to_vector() must give the accumulators of all five users.
  const std::vector<std::vector<double>> margins = {
      {1.5, -0.2, 0}, {-3, 2.25}, {0.7}, {}, {4, -1, -2, 0.1}};
  const std::vector<double> keys = {0.9, 0.1, 0.5, 0.3, 0.7};
  const std::vector<std::vector<double>> predicted = {{1, 2}, {3, 1, 2}, {0, 0}, {5}, {2, 1}};
  const std::vector<std::vector<double>> truth = {{0, 1}, {1, 3, 2}, {1, 1}, {5}, {0.5, -1}};
  const TercileCuts cuts = tercile_cuts(keys);  // gathered keys of every rank

  struct Accumulators {
    AccuracySums accuracy;
    NllSums nll;
    CalibrationSums calibration{4};
    TercileAccuracySums terciles;
    BestOfNSums best_of_n;
  };
  auto accumulate = [&](size_t begin, size_t end) {
    Accumulators acc{{}, {}, CalibrationSums(4), TercileAccuracySums(cuts), {}};
    for (size_t u = begin; u < end; ++u) {
      acc.accuracy.add_user_margins(margins[u]);
      acc.nll.add_margins(margins[u]);
      acc.calibration.add_margins(margins[u]);
      AccuracySums user;
      user.add_user_margins(margins[u]);
      acc.terciles.add_user(keys[u], user.correct_pairs, user.pairs);
      acc.best_of_n.add_prompt(predicted[u], truth[u]);
    }
    return acc;
  };
  const Accumulators whole = accumulate(0, 5), rank0 = accumulate(0, 2), rank1 = accumulate(2, 5);

  expect_near(AccuracySums::from_vector(sum(rank0.accuracy.to_vector(), rank1.accuracy.to_vector()))
                  .to_vector(),
              whole.accuracy.to_vector());
  expect_near(NllSums::from_vector(sum(rank0.nll.to_vector(), rank1.nll.to_vector())).to_vector(),
              whole.nll.to_vector());
  const CalibrationSums calibration = CalibrationSums::from_vector(
      sum(rank0.calibration.to_vector(), rank1.calibration.to_vector()));
  EXPECT_EQ(calibration.num_bins(), 4);
  expect_near(calibration.to_vector(), whole.calibration.to_vector());
  EXPECT_NEAR(calibration.ece(), whole.calibration.ece(), kTol);
  expect_near(TercileAccuracySums::from_vector(
                  sum(rank0.terciles.to_vector(), rank1.terciles.to_vector()), cuts)
                  .to_vector(),
              whole.terciles.to_vector());
  expect_near(
      BestOfNSums::from_vector(sum(rank0.best_of_n.to_vector(), rank1.best_of_n.to_vector()))
          .to_vector(),
      whole.best_of_n.to_vector());

  // add() is the same combination, in memory.
  AccuracySums accuracy = rank0.accuracy;
  accuracy.add(rank1.accuracy);
  expect_near(accuracy.to_vector(), whole.accuracy.to_vector());
  CalibrationSums calibration_added = rank0.calibration;
  calibration_added.add(rank1.calibration);
  expect_near(calibration_added.to_vector(), whole.calibration.to_vector());
  TercileAccuracySums terciles = rank0.terciles;
  terciles.add(rank1.terciles);
  expect_near(terciles.to_vector(), whole.terciles.to_vector());
  EXPECT_DOUBLE_EQ(whole.accuracy.users, 4) << "user 3 has no pairs";
}

TEST(EvalMetricsRankCombination, FromVectorRejectsWrongSizes) {
  EXPECT_THROW(AccuracySums::from_vector({1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(NllSums::from_vector({1}), std::invalid_argument);
  EXPECT_THROW(CalibrationSums::from_vector({}), std::invalid_argument);
  EXPECT_THROW(CalibrationSums::from_vector({1, 2, 3, 4}), std::invalid_argument);
  EXPECT_THROW(TercileAccuracySums::from_vector(std::vector<double>(11), TercileCuts{}),
               std::invalid_argument);
  EXPECT_THROW(BestOfNSums::from_vector({1, 2}), std::invalid_argument);
  CalibrationSums ten;
  EXPECT_THROW(ten.add(CalibrationSums(5)), std::invalid_argument);
  TercileAccuracySums a(TercileCuts{1, 2}), b(TercileCuts{1, 3});
  EXPECT_THROW(a.add(b), std::invalid_argument);
}

}  // namespace
}  // namespace vrf::launch
