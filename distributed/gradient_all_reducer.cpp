// distributed/gradient_all_reducer.cpp — bucketed gradient averaging over ranks and the start-of-
// training parameter broadcast.
#include "distributed/gradient_all_reducer.h"

#include <cmath>
#include <utility>

namespace vrf::dist {
namespace {

int64_t byte_size(const torch::Tensor& tensor) { return tensor.numel() * tensor.element_size(); }

}  // namespace

GradientAllReducer::GradientAllReducer(std::vector<torch::Tensor> parameters,
                                       Communicator& communicator, int64_t bucket_bytes)
    : parameters_(std::move(parameters)), communicator_(communicator) {
  TORCH_CHECK(bucket_bytes > 0, "GradientAllReducer: bucket_bytes must be positive; got ",
              bucket_bytes);
  int64_t open_bytes = 0;  // bytes in buckets_.back()
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const torch::Tensor& parameter = parameters_[i];
    TORCH_CHECK(parameter.defined() && parameter.is_floating_point(),
                "GradientAllReducer: ", "parameter ", i,
                " must be a defined floating-point tensor; got ",
                parameter.defined() ? parameter.toString() : std::string("undefined"));
    const int64_t bytes = byte_size(parameter);
    const bool joins_open_bucket =
        !buckets_.empty() && open_bytes + bytes <= bucket_bytes &&
        parameters_[buckets_.back().members.front()].scalar_type() == parameter.scalar_type() &&
        parameters_[buckets_.back().members.front()].device() == parameter.device();
    if (!joins_open_bucket) {
      buckets_.emplace_back();
      open_bytes = 0;
    }
    buckets_.back().members.push_back(i);
    open_bytes += bytes;
    bytes_per_step_ += bytes;
  }
  for (Bucket& bucket : buckets_) {
    int64_t numel = 0;
    for (size_t i : bucket.members) {
      numel += parameters_[i].numel();
    }
    const torch::Tensor& first = parameters_[bucket.members.front()];
    bucket.flat = torch::empty(
        {numel}, torch::TensorOptions().dtype(first.scalar_type()).device(first.device()));
  }
}

void GradientAllReducer::average_(double global_users) {
  TORCH_CHECK(std::isfinite(global_users) && global_users > 0,
              "GradientAllReducer::average_: global_users must be a positive count; got ",
              global_users);
  torch::NoGradGuard no_grad;
  // Validate every gradient before the first collective so that all ranks fail together.
  for (size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& parameter = parameters_[i];
    if (!parameter.grad().defined()) {
      parameter.mutable_grad() = torch::zeros_like(parameter);
    }
    const torch::Tensor& grad = parameter.grad();
    TORCH_CHECK(grad.sizes() == parameter.sizes() &&
                    grad.scalar_type() == parameter.scalar_type() &&
                    grad.device() == parameter.device(),
                "GradientAllReducer: the gradient of parameter ", i, " must match the parameter ",
                parameter.sizes(), " ", parameter.scalar_type(), " on ", parameter.device(),
                "; got ", grad.sizes(), " ", grad.scalar_type(), " on ", grad.device());
  }
  const double scale = 1.0 / global_users;
  for (Bucket& bucket : buckets_) {
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      const torch::Tensor& grad = parameters_[i].grad();
      bucket.flat.narrow(0, offset, grad.numel()).view(grad.sizes()).copy_(grad);
      offset += grad.numel();
    }
    communicator_.all_reduce_sum_(bucket.flat);
    bucket.flat.mul_(scale);
    offset = 0;
    for (size_t i : bucket.members) {
      torch::Tensor grad = parameters_[i].grad();
      grad.copy_(bucket.flat.narrow(0, offset, grad.numel()).view(grad.sizes()));
      offset += grad.numel();
    }
  }
}

void broadcast_from_root(const std::vector<torch::Tensor>& tensors, Communicator& communicator) {
  // The tensors are usually leaves that require grad; the in-place write is not part of any graph.
  torch::NoGradGuard no_grad;
  for (torch::Tensor tensor : tensors) {
    communicator.broadcast_(tensor, 0);
  }
}

}  // namespace vrf::dist
