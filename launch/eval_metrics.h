// launch/eval_metrics.h — the metrics of `vrf eval` (DESIGN.md section 6) as pure float64 functions
// and accumulators of sums: pairwise accuracy, NLL, calibration error, accuracy per tercile of a
// per-user key, and best-of-N normalized reward. No MPI: ranks combine by summing to_vector().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace vrf::launch {

// A pair's margin m = reward(chosen) - reward(rejected), so P(chosen preferred) = sigmoid(m).
// Every function below takes margins as given by the data (the chosen response won); oracle
// metrics are the same functions applied to the true margins. A NaN margin, key or predicted
// reward, or a non-finite true reward, is a bug upstream and throws std::invalid_argument;
// infinite margins, keys and predicted rewards are accepted.
//
// Accumulators: every field is a sum that adds across users and ranks, so the element-wise sum of
// the ranks' to_vector() (one all-reduce) passed to from_vector() is the accumulator of all users.
// Ratios are taken only at the end; a ratio with a zero denominator is NaN (no data, not 0).

double sigmoid(double x);   // 1 / (1 + exp(-x)), without overflow for large |x|
double softplus(double x);  // log(1 + exp(x)), without overflow: -log sigmoid(m) = softplus(-m)

// 1 when m > 0, 0.5 when m == 0 (a tie counts half), 0 when m < 0.
double pair_correct(double margin);

// Pairwise accuracy, micro (over pairs) and per-user mean (over users with at least one pair).
struct AccuracySums {
  double correct_pairs = 0;      // sum of pair_correct over pairs
  double pairs = 0;              // number of pairs
  double user_accuracy_sum = 0;  // sum over users with >= 1 pair of (user's correct / pairs)
  double users = 0;              // users with >= 1 pair

  // One user's counts: 0 <= correct <= pairs (correct may be a half-integer); pairs == 0 adds
  // nothing (a user without pairs has no accuracy).
  void add_user(double correct, double user_pairs);
  // One user's margins m_uj (empty: adds nothing).
  void add_user_margins(const std::vector<double>& margins);
  void add(const AccuracySums& other);

  double micro_accuracy() const;      // correct_pairs / pairs
  double user_mean_accuracy() const;  // user_accuracy_sum / users

  std::vector<double> to_vector() const;  // {correct_pairs, pairs, user_accuracy_sum, users}
  static AccuracySums from_vector(const std::vector<double>& sums);  // size 4
};

// Bradley-Terry negative log-likelihood per pair: mean over pairs of -log sigmoid(m).
struct NllSums {
  double nll_sum = 0;  // sum over pairs of softplus(-m), in nats
  double pairs = 0;

  void add_margins(const std::vector<double>& margins);
  void add(const NllSums& other);
  double nll() const;  // nll_sum / pairs

  std::vector<double> to_vector() const;                        // {nll_sum, pairs}
  static NllSums from_vector(const std::vector<double>& sums);  // size 2
};

// Expected calibration error over B equal-width bins of the predicted probability, bin b holding
// p in [b/B, (b+1)/B) (p == 1 in the last bin). Every outcome in the data is 1 (the chosen response
// won), which would make calibration trivially "always predict 1"; so each pair enters in the
// symmetric form, twice: (p, 1) for the chosen response and (1 - p, 0) for the rejected one, with
// p = sigmoid(m). Then ECE = sum_b (n_b / N) |mean_conf_b - mean_outcome_b|
//                          = sum_b |conf_sum_b - outcome_sum_b| / N,  N = 2 * pairs.
class CalibrationSums {
 public:
  explicit CalibrationSums(int64_t num_bins = 10);  // num_bins >= 1

  void add_margins(const std::vector<double>& margins);
  void add(const CalibrationSums& other);  // same num_bins
  double ece() const;
  int64_t num_bins() const { return static_cast<int64_t>(count_.size()); }
  // Bin b's sums: entries, sum of predicted probabilities, sum of outcomes.
  double count(int64_t b) const { return count_.at(b); }
  double confidence_sum(int64_t b) const { return confidence_sum_.at(b); }
  double outcome_sum(int64_t b) const { return outcome_sum_.at(b); }

  // {count[0..B), confidence_sum[0..B), outcome_sum[0..B)}: 3 * B values.
  std::vector<double> to_vector() const;
  static CalibrationSums from_vector(const std::vector<double>& sums);  // size 3 * B, B >= 1

 private:
  void add_entry(double probability, double outcome);

  std::vector<double> count_, confidence_sum_, outcome_sum_;  // each [B]
};

// Tercile cut points of a per-user key (predicted uncertainty s_u, true rationality, ...), from
// the keys of all users (gathered over ranks). With the keys sorted ascending as s[0..n):
// low_max = s[floor(n/3) - 1] and mid_max = s[floor(2n/3) - 1], the empirical 1/3 and 2/3
// quantiles. A user goes to kLow when key <= low_max, kMid when key <= mid_max, else kHigh; so
// users with a key equal to a cut all go to the lower tercile, and ties make terciles unequal. When
// n < 3 an index of -1 gives a cut of -infinity (that tercile stays empty): one user is kHigh, two
// users are kMid and kHigh; no users give two -infinity cuts.
enum class Tercile { kLow = 0, kMid = 1, kHigh = 2 };
struct TercileCuts {
  double low_max = 0;
  double mid_max = 0;
};
TercileCuts tercile_cuts(std::vector<double> keys);
Tercile tercile_of(double key, const TercileCuts& cuts);

// Accuracy (micro and per-user mean) within each tercile of users, the users assigned by fixed cut
// points (the same on every rank).
class TercileAccuracySums {
 public:
  explicit TercileAccuracySums(const TercileCuts& cuts) : cuts_(cuts) {}

  // One user: its key and its counts, as in AccuracySums::add_user.
  void add_user(double key, double correct, double user_pairs);
  void add(const TercileAccuracySums& other);  // same cuts
  const AccuracySums& tercile(Tercile t) const { return terciles_[static_cast<int>(t)]; }
  const TercileCuts& cuts() const { return cuts_; }

  // kLow's AccuracySums::to_vector(), then kMid's, then kHigh's: 12 values. The cuts are not in
  // the vector (they are no sum); from_vector takes them again.
  std::vector<double> to_vector() const;
  static TercileAccuracySums from_vector(const std::vector<double>& sums, const TercileCuts& cuts);

 private:
  TercileCuts cuts_;
  std::array<AccuracySums, 3> terciles_;
};

// Best-of-N for one prompt with N >= 1 candidate responses (predicted and true rewards, same
// size): the picked response is the argmax of the predicted rewards (ties: the first), and its
// normalized score is (true[picked] - mean(true)) / (max(true) - mean(true)): 1 for the oracle's
// pick, 0 in expectation for a uniformly random pick, negative for a below-average pick. When all
// true rewards are equal the prompt cannot tell picks apart and is skipped (std::nullopt).
std::optional<double> best_of_n_score(const std::vector<double>& predicted,
                                      const std::vector<double>& truth);

struct BestOfNSums {
  double score_sum = 0;        // sum of normalized scores of the scored prompts
  double prompts = 0;          // prompts scored
  double skipped_prompts = 0;  // prompts whose true rewards were all equal

  void add_prompt(const std::vector<double>& predicted, const std::vector<double>& truth);
  void add(const BestOfNSums& other);
  double mean_score() const;  // score_sum / prompts

  std::vector<double> to_vector() const;  // {score_sum, prompts, skipped_prompts}
  static BestOfNSums from_vector(const std::vector<double>& sums);  // size 3
};

}  // namespace vrf::launch
