// distributed/communicator.h — the collective operations training needs, independent of backend.
#pragma once

#include <torch/torch.h>

#include <memory>

namespace vrf::dist {

// A group of `size()` ranks. Every method except rank()/size() is collective: all ranks call it
// in the same order with tensors of the same shape and dtype, or the job deadlocks. Tensors must
// be contiguous and on the backend's device (MPI: CPU; NCCL: CUDA). Failures throw
// std::runtime_error naming the call, the rank and the library's message. Not thread-safe.
class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // In place: every rank ends with the element-wise sum over ranks.
  virtual void all_reduce_sum_(torch::Tensor& tensor) = 0;
  // In place: every rank ends with `root`'s values.
  virtual void broadcast_(torch::Tensor& tensor, int root) = 0;
  // [size(), ...tensor.sizes()]: rank r's tensor at index r, on every rank.
  virtual torch::Tensor all_gather(const torch::Tensor& tensor) = 0;
  virtual void barrier() = 0;
};

}  // namespace vrf::dist
