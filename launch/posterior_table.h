// launch/posterior_table.h — the posterior q_u = N(mean, exp(logvar)) of each seen user, encoded
// from that user's training pairs: the global user state kept in checkpoints (DESIGN.md section 4)
// and used by evaluation for seen users.
#pragma once

#include <torch/torch.h>

#include "core/reward_model.h"
#include "io/preference_store.h"

namespace vrf::launch {

struct PosteriorTable {
  torch::Tensor mean;    // [n, d] float32, CPU
  torch::Tensor logvar;  // [n, d]
  torch::Tensor seen;    // [n] int64: 1 when the user has training pairs (else the prior)
};

// For the users [begin, end) of `train`: one encoder pass (model in eval mode, no gradient) over
// each user's first `context_max` training pairs, in batches of `batch_users` users of similar
// context size, reading blocks of 8 batches' users with one contiguous pair read and one sorted
// embedding gather. Models without an encoder (bt, factorized) give empty [n, 0] tensors. Restores
// the model's training mode.
PosteriorTable compute_posterior_table(core::RewardModelImpl& model,
                                       const io::PreferenceStore& train, int64_t begin, int64_t end,
                                       int64_t context_max, int64_t batch_users = 1024);

}  // namespace vrf::launch
