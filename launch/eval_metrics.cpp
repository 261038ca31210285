// launch/eval_metrics.cpp — the metrics of `vrf eval` as float64 sums; see eval_metrics.h.
#include "launch/eval_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace vrf::launch {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// `what` names the value, e.g. "margins[3]" (built only on failure).
template <typename Name>
void check_not_nan(double x, const Name& what) {
  if (std::isnan(x)) throw std::invalid_argument("eval metrics: " + what() + " is NaN");
}
std::string indexed(const char* name, size_t index) {
  return std::string(name) + "[" + std::to_string(index) + "]";
}

void check_size(const std::vector<double>& sums, size_t expected, const char* type) {
  if (sums.size() != expected) {
    throw std::invalid_argument(std::string(type) + "::from_vector: expected " +
                                std::to_string(expected) + " values, got " +
                                std::to_string(sums.size()));
  }
}

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : kNaN;
}

}  // namespace

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);  // x < 0: exp(x) < 1 cannot overflow
  return e / (1.0 + e);
}

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

double pair_correct(double margin) {
  check_not_nan(margin, [] { return std::string("margin"); });
  return margin > 0 ? 1.0 : (margin == 0 ? 0.5 : 0.0);
}

// --- AccuracySums
// ---------------------------------------------------------------------------------

void AccuracySums::add_user(double correct, double user_pairs) {
  if (!(user_pairs >= 0 && correct >= 0 && correct <= user_pairs) || std::isinf(user_pairs)) {
    throw std::invalid_argument("AccuracySums::add_user: need 0 <= correct <= pairs < inf; got " +
                                std::to_string(correct) + " correct of " +
                                std::to_string(user_pairs) + " pairs");
  }
  if (user_pairs == 0) return;
  correct_pairs += correct;
  pairs += user_pairs;
  user_accuracy_sum += correct / user_pairs;
  users += 1;
}

void AccuracySums::add_user_margins(const std::vector<double>& margins) {
  double correct = 0;
  for (size_t j = 0; j < margins.size(); ++j) {
    check_not_nan(margins[j], [&] { return indexed("margins", j); });
    correct += pair_correct(margins[j]);
  }
  add_user(correct, static_cast<double>(margins.size()));
}

void AccuracySums::add(const AccuracySums& other) {
  correct_pairs += other.correct_pairs;
  pairs += other.pairs;
  user_accuracy_sum += other.user_accuracy_sum;
  users += other.users;
}

double AccuracySums::micro_accuracy() const { return ratio(correct_pairs, pairs); }
double AccuracySums::user_mean_accuracy() const { return ratio(user_accuracy_sum, users); }

std::vector<double> AccuracySums::to_vector() const {
  return {correct_pairs, pairs, user_accuracy_sum, users};
}

AccuracySums AccuracySums::from_vector(const std::vector<double>& sums) {
  check_size(sums, 4, "AccuracySums");
  return AccuracySums{sums[0], sums[1], sums[2], sums[3]};
}

// --- NllSums
// --------------------------------------------------------------------------------------

void NllSums::add_margins(const std::vector<double>& margins) {
  for (size_t j = 0; j < margins.size(); ++j) {
    check_not_nan(margins[j], [&] { return indexed("margins", j); });
    nll_sum += softplus(-margins[j]);
  }
  pairs += static_cast<double>(margins.size());
}

void NllSums::add(const NllSums& other) {
  nll_sum += other.nll_sum;
  pairs += other.pairs;
}

double NllSums::nll() const { return ratio(nll_sum, pairs); }

std::vector<double> NllSums::to_vector() const { return {nll_sum, pairs}; }

NllSums NllSums::from_vector(const std::vector<double>& sums) {
  check_size(sums, 2, "NllSums");
  return NllSums{sums[0], sums[1]};
}

// --- CalibrationSums
// ------------------------------------------------------------------------------

CalibrationSums::CalibrationSums(int64_t num_bins) {
  if (num_bins < 1) {
    throw std::invalid_argument("CalibrationSums: num_bins must be at least 1; got " +
                                std::to_string(num_bins));
  }
  count_.assign(num_bins, 0.0);
  confidence_sum_.assign(num_bins, 0.0);
  outcome_sum_.assign(num_bins, 0.0);
}

void CalibrationSums::add_entry(double probability, double outcome) {
  const int64_t bins = num_bins();
  const int64_t b =
      std::min(static_cast<int64_t>(std::floor(probability * static_cast<double>(bins))), bins - 1);
  count_[b] += 1;
  confidence_sum_[b] += probability;
  outcome_sum_[b] += outcome;
}

void CalibrationSums::add_margins(const std::vector<double>& margins) {
  for (size_t j = 0; j < margins.size(); ++j) {
    check_not_nan(margins[j], [&] { return indexed("margins", j); });
    add_entry(sigmoid(margins[j]), 1.0);   // the chosen response, which won
    add_entry(sigmoid(-margins[j]), 0.0);  // the rejected one; sigmoid(-m) is exact 1 - p
  }
}

void CalibrationSums::add(const CalibrationSums& other) {
  if (other.num_bins() != num_bins()) {
    throw std::invalid_argument("CalibrationSums::add: " + std::to_string(num_bins()) +
                                " bins vs " + std::to_string(other.num_bins()));
  }
  for (int64_t b = 0; b < num_bins(); ++b) {
    count_[b] += other.count_[b];
    confidence_sum_[b] += other.confidence_sum_[b];
    outcome_sum_[b] += other.outcome_sum_[b];
  }
}

double CalibrationSums::ece() const {
  double total = 0, gap = 0;
  for (int64_t b = 0; b < num_bins(); ++b) {
    total += count_[b];
    gap += std::abs(confidence_sum_[b] - outcome_sum_[b]);
  }
  return ratio(gap, total);
}

std::vector<double> CalibrationSums::to_vector() const {
  std::vector<double> sums(count_);
  sums.insert(sums.end(), confidence_sum_.begin(), confidence_sum_.end());
  sums.insert(sums.end(), outcome_sum_.begin(), outcome_sum_.end());
  return sums;
}

CalibrationSums CalibrationSums::from_vector(const std::vector<double>& sums) {
  if (sums.empty() || sums.size() % 3 != 0) {
    throw std::invalid_argument("CalibrationSums::from_vector: expected 3 * num_bins values, got " +
                                std::to_string(sums.size()));
  }
  const auto bins = static_cast<std::ptrdiff_t>(sums.size() / 3);
  CalibrationSums result(bins);
  result.count_.assign(sums.begin(), sums.begin() + bins);
  result.confidence_sum_.assign(sums.begin() + bins, sums.begin() + 2 * bins);
  result.outcome_sum_.assign(sums.begin() + 2 * bins, sums.end());
  return result;
}

// --- Terciles
// -------------------------------------------------------------------------------------

TercileCuts tercile_cuts(std::vector<double> keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    check_not_nan(keys[i], [&] { return indexed("keys", i); });
  }
  std::sort(keys.begin(), keys.end());
  // The key at index floor(q * n) - 1, or -infinity when that index is -1.
  auto cut = [&](size_t numerator) {
    const size_t count = numerator * keys.size() / 3;
    return count == 0 ? -std::numeric_limits<double>::infinity() : keys[count - 1];
  };
  return TercileCuts{cut(1), cut(2)};
}

Tercile tercile_of(double key, const TercileCuts& cuts) {
  check_not_nan(key, [] { return std::string("key"); });
  if (key <= cuts.low_max) return Tercile::kLow;
  if (key <= cuts.mid_max) return Tercile::kMid;
  return Tercile::kHigh;
}

void TercileAccuracySums::add_user(double key, double correct, double user_pairs) {
  terciles_[static_cast<int>(tercile_of(key, cuts_))].add_user(correct, user_pairs);
}

void TercileAccuracySums::add(const TercileAccuracySums& other) {
  if (other.cuts_.low_max != cuts_.low_max || other.cuts_.mid_max != cuts_.mid_max) {
    throw std::invalid_argument(
        "TercileAccuracySums::add: the two accumulators have different cuts");
  }
  for (size_t t = 0; t < terciles_.size(); ++t) terciles_[t].add(other.terciles_[t]);
}

std::vector<double> TercileAccuracySums::to_vector() const {
  std::vector<double> sums;
  for (const AccuracySums& tercile : terciles_) {
    const std::vector<double> part = tercile.to_vector();
    sums.insert(sums.end(), part.begin(), part.end());
  }
  return sums;
}

TercileAccuracySums TercileAccuracySums::from_vector(const std::vector<double>& sums,
                                                     const TercileCuts& cuts) {
  check_size(sums, 12, "TercileAccuracySums");
  TercileAccuracySums result(cuts);
  for (size_t t = 0; t < 3; ++t) {
    result.terciles_[t] =
        AccuracySums::from_vector({sums.begin() + 4 * t, sums.begin() + 4 * t + 4});
  }
  return result;
}

// --- Best-of-N
// ------------------------------------------------------------------------------------

std::optional<double> best_of_n_score(const std::vector<double>& predicted,
                                      const std::vector<double>& truth) {
  if (predicted.empty() || predicted.size() != truth.size()) {
    throw std::invalid_argument("best_of_n_score: need N >= 1 predicted and true rewards; got " +
                                std::to_string(predicted.size()) + " predicted and " +
                                std::to_string(truth.size()) + " true");
  }
  for (size_t i = 0; i < truth.size(); ++i) {
    check_not_nan(predicted[i], [&] { return indexed("predicted", i); });
    if (!std::isfinite(truth[i])) {
      throw std::invalid_argument("best_of_n_score: truth[" + std::to_string(i) +
                                  "] is not finite: " + std::to_string(truth[i]));
    }
  }
  const size_t picked = std::max_element(predicted.begin(), predicted.end()) - predicted.begin();
  const auto [min_it, max_it] = std::minmax_element(truth.begin(), truth.end());
  if (*min_it == *max_it) return std::nullopt;
  double sum = 0;
  for (double t : truth) sum += t;
  const double mean = sum / static_cast<double>(truth.size());
  // Rounding could leave max - mean <= 0 only for near-equal rewards: no usable scale either.
  if (!(*max_it - mean > 0)) return std::nullopt;
  return (truth[picked] - mean) / (*max_it - mean);
}

void BestOfNSums::add_prompt(const std::vector<double>& predicted,
                             const std::vector<double>& truth) {
  const std::optional<double> score = best_of_n_score(predicted, truth);
  if (score) {
    score_sum += *score;
    prompts += 1;
  } else {
    skipped_prompts += 1;
  }
}

void BestOfNSums::add(const BestOfNSums& other) {
  score_sum += other.score_sum;
  prompts += other.prompts;
  skipped_prompts += other.skipped_prompts;
}

double BestOfNSums::mean_score() const { return ratio(score_sum, prompts); }

std::vector<double> BestOfNSums::to_vector() const { return {score_sum, prompts, skipped_prompts}; }

BestOfNSums BestOfNSums::from_vector(const std::vector<double>& sums) {
  check_size(sums, 3, "BestOfNSums");
  return BestOfNSums{sums[0], sums[1], sums[2]};
}

}  // namespace vrf::launch
