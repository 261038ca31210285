// distributed/nccl_communicator.cpp — NcclCommunicator.
#include "distributed/nccl_communicator.h"

#include <stdexcept>
#include <string>

#include "distributed/mpi_communicator.h"

namespace vrf::dist {
namespace {

int world_rank() {
  int rank = -1, initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

ncclDataType_t nccl_type(const torch::Tensor& tensor, const char* op) {
  TORCH_CHECK(tensor.is_cuda(), "NcclCommunicator::", op,
              ": NCCL needs CUDA tensors; got a tensor on ", tensor.device(), " of shape ",
              tensor.sizes(), " (use the MPI backend for CPU training)");
  TORCH_CHECK(tensor.is_contiguous(), "NcclCommunicator::", op,
              ": the tensor must be contiguous; got strides ", tensor.strides());
  switch (tensor.scalar_type()) {
    case torch::kFloat32:
      return ncclFloat32;
    case torch::kFloat64:
      return ncclFloat64;
    case torch::kInt64:
      return ncclInt64;
    default:
      TORCH_CHECK(false, "NcclCommunicator::", op, ": unsupported dtype ", tensor.scalar_type());
  }
}

}  // namespace

void check_nccl(ncclResult_t status, const char* call, const char* file, int line) {
  if (status == ncclSuccess) return;
  throw std::runtime_error(std::string("NCCL call ") + call + " failed at " + file + ":" +
                           std::to_string(line) + " on rank " + std::to_string(world_rank()) +
                           ": " + ncclGetErrorString(status));
}

void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  throw std::runtime_error(std::string("CUDA call ") + call + " failed at " + file + ":" +
                           std::to_string(line) + " on rank " + std::to_string(world_rank()) +
                           ": " + cudaGetErrorString(status));
}

NcclCommunicator::NcclCommunicator(MPI_Comm bootstrap, cudaStream_t stream) : stream_(stream) {
  VRF_MPI_CHECK(MPI_Comm_dup(bootstrap, &bootstrap_));
  VRF_MPI_CHECK(MPI_Comm_set_errhandler(bootstrap_, MPI_ERRORS_RETURN));
  VRF_MPI_CHECK(MPI_Comm_rank(bootstrap_, &rank_));
  VRF_MPI_CHECK(MPI_Comm_size(bootstrap_, &size_));
  ncclUniqueId id;
  if (rank_ == 0) VRF_NCCL_CHECK(ncclGetUniqueId(&id));
  VRF_MPI_CHECK(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, bootstrap_));
  VRF_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
}

NcclCommunicator::~NcclCommunicator() {
  if (comm_ != nullptr) ncclCommDestroy(comm_);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && bootstrap_ != MPI_COMM_NULL) MPI_Comm_free(&bootstrap_);
}

void NcclCommunicator::all_reduce_sum_(torch::Tensor& tensor) {
  const auto type = nccl_type(tensor, "all_reduce_sum_");
  if (tensor.numel() == 0) return;
  VRF_NCCL_CHECK(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(),
                               static_cast<size_t>(tensor.numel()), type, ncclSum, comm_, stream_));
}

void NcclCommunicator::broadcast_(torch::Tensor& tensor, int root) {
  const auto type = nccl_type(tensor, "broadcast_");
  TORCH_CHECK(root >= 0 && root < size_, "NcclCommunicator::broadcast_: root ", root,
              " outside [0, ", size_, ")");
  if (tensor.numel() == 0) return;
  VRF_NCCL_CHECK(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(),
                               static_cast<size_t>(tensor.numel()), type, root, comm_, stream_));
}

torch::Tensor NcclCommunicator::all_gather(const torch::Tensor& tensor) {
  const auto type = nccl_type(tensor, "all_gather");
  std::vector<int64_t> sizes = {size_};
  sizes.insert(sizes.end(), tensor.sizes().begin(), tensor.sizes().end());
  auto result = torch::empty(sizes, tensor.options());
  if (tensor.numel() == 0) return result;
  VRF_NCCL_CHECK(ncclAllGather(tensor.data_ptr(), result.data_ptr(),
                               static_cast<size_t>(tensor.numel()), type, comm_, stream_));
  return result;
}

void NcclCommunicator::barrier() {
  VRF_CUDA_CHECK(cudaStreamSynchronize(stream_));
  VRF_MPI_CHECK(MPI_Barrier(bootstrap_));
}

}  // namespace vrf::dist
