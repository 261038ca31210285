// launch/validator.h — pairwise accuracy and NLL of seen users on held-out pairs (val.h5), with
// each user's training pairs as context; summed over ranks.
#pragma once

#include <string>
#include <vector>

#include "core/pair_batch.h"
#include "distributed/communicator.h"
#include "launch/training_step.h"

namespace vrf::launch {

struct ValidationResult {
  double accuracy = 0;  // micro: correct / pairs over all ranks
  double nll = 0;       // mean BT NLL per pair
  int64_t pairs = 0, users = 0;
};

// Built for the users [user_begin, user_end) of the training store that this rank owns: the
// validation store's users with the same ids (at most `max_users` of them), each with its first
// `context_max` training pairs as context and all its validation pairs as queries (with
// phi(chosen) when `with_query_chosen`, for models with a basis trunk), assembled into batches
// once. evaluate() is collective (one all-reduce of four numbers).
class Validator {
 public:
  Validator(const std::string& train_path, const std::string& val_path, int64_t user_begin,
            int64_t user_end, int64_t context_max, int64_t max_users, bool with_query_chosen,
            int64_t batch_users = 256);

  ValidationResult evaluate(TrainingStep& step, dist::Communicator& communicator);

 private:
  std::vector<core::PairBatch> batches_;
};

}  // namespace vrf::launch
