// distributed/nccl_communicator.h — Communicator over NCCL for CUDA tensors (built only with
// VRF_WITH_NCCL=ON; see communicator_factory.h).
#pragma once

#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include "distributed/communicator.h"

namespace vrf::dist {

// One NCCL communicator over the ranks of `bootstrap` (rank 0 creates the unique id and
// broadcasts it over MPI). Collectives are enqueued on `stream` (by default the legacy default
// stream, which is LibTorch's current stream unless a caller changed it) and are asynchronous with
// respect to the host, like any CUDA kernel on that stream. Tensors must be contiguous CUDA
// float32, float64 or int64 on the current device; CPU tensors are refused with an error naming
// the tensor. Counts are elements (numel()). Not thread-safe.
class NcclCommunicator : public Communicator {
 public:
  explicit NcclCommunicator(MPI_Comm bootstrap = MPI_COMM_WORLD,
                            cudaStream_t stream = cudaStreamLegacy);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum_(torch::Tensor& tensor) override;
  void broadcast_(torch::Tensor& tensor, int root) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  void barrier() override;  // waits for this rank's queued work, then an MPI barrier

 private:
  ncclComm_t comm_ = nullptr;
  MPI_Comm bootstrap_ = MPI_COMM_NULL;
  cudaStream_t stream_;
  int rank_ = 0, size_ = 1;
};

// Throw std::runtime_error with the call, file:line, rank and the library's message.
void check_nccl(ncclResult_t status, const char* call, const char* file, int line);
void check_cuda(cudaError_t status, const char* call, const char* file, int line);

}  // namespace vrf::dist

#define VRF_NCCL_CHECK(call) ::vrf::dist::check_nccl((call), #call, __FILE__, __LINE__)
#define VRF_CUDA_CHECK(call) ::vrf::dist::check_cuda((call), #call, __FILE__, __LINE__)
