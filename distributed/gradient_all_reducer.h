// distributed/gradient_all_reducer.h — averages the gradients of shared parameters over ranks in
// fixed-size flat buckets.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "distributed/communicator.h"

namespace vrf::dist {

// Built once from the shared parameters (the same list, in the same order, on every rank). Each
// step, average_() packs their gradients (an undefined gradient counts as zeros and is allocated)
// into buckets of at most `bucket_bytes` of one dtype, all-reduces each bucket, divides by the
// global number of users in the step, and copies the results back. The bytes all-reduced per step
// depend only on the parameters, never on the number of users. Collective; not thread-safe.
class GradientAllReducer {
 public:
  GradientAllReducer(std::vector<torch::Tensor> parameters, Communicator& communicator,
                     int64_t bucket_bytes = int64_t{25} << 20);

  // grad <- (sum over ranks of grad) / global_users, for every parameter.
  void average_(double global_users);

  int64_t bytes_per_step() const { return bytes_per_step_; }
  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<size_t> members;  // indices into parameters_
    torch::Tensor flat;           // [total elements], the members' dtype and device
  };
  std::vector<torch::Tensor> parameters_;
  Communicator& communicator_;
  std::vector<Bucket> buckets_;
  int64_t bytes_per_step_ = 0;
};

// Broadcasts every tensor from rank 0 (start of training: identical shared parameters). Collective.
void broadcast_from_root(const std::vector<torch::Tensor>& tensors, Communicator& communicator);

}  // namespace vrf::dist
