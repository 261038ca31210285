// distributed/mpi_communicator.cpp — MpiCommunicator: collectives on contiguous CPU tensors over a
// duplicated MPI communicator, element counts above INT_MAX sent in pieces.
#include "distributed/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace vrf::dist {
namespace {

// MPI counts are `int`: larger tensors go in pieces of at most this many elements.
constexpr int64_t kMaxPieceElements = INT_MAX;

// The MPI datatype of a tensor every collective accepts; refuses anything else with its dtype,
// device, sizes and layout in the message.
MPI_Datatype mpi_datatype(const torch::Tensor& tensor, const char* operation) {
  TORCH_CHECK(tensor.defined(), "MpiCommunicator::", operation, ": the tensor is undefined");
  TORCH_CHECK(tensor.device().is_cpu() && tensor.is_contiguous(), "MpiCommunicator::", operation,
              " needs a contiguous CPU tensor; got device ", tensor.device(), ", sizes ",
              tensor.sizes(), ", strides ", tensor.strides(),
              tensor.is_contiguous() ? " (contiguous)" : " (not contiguous)");
  switch (tensor.scalar_type()) {
    case torch::kFloat32:
      return MPI_FLOAT;
    case torch::kFloat64:
      return MPI_DOUBLE;
    case torch::kInt64:
      return MPI_INT64_T;
    case torch::kUInt8:
      return MPI_UINT8_T;
    default:
      TORCH_CHECK(false, "MpiCommunicator::", operation,
                  " supports float32, float64, int64 and uint8 tensors; got dtype ",
                  tensor.scalar_type(), " with sizes ", tensor.sizes());
  }
}

// Calls send(first, count) for consecutive pieces [first, first + count) of at most
// kMaxPieceElements elements; nothing for numel == 0.
template <typename Send>
void for_each_piece(int64_t numel, Send send) {
  for (int64_t first = 0; first < numel; first += kMaxPieceElements) {
    send(first, static_cast<int>(std::min(kMaxPieceElements, numel - first)));
  }
}

}  // namespace

void check_mpi(int status, const char* call, const char* file, int line) {
  if (status == MPI_SUCCESS) {
    return;
  }
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  std::string message = MPI_Error_string(status, text, &length) == MPI_SUCCESS
                            ? std::string(text, static_cast<size_t>(length))
                            : "unknown MPI error code " + std::to_string(status);
  // The world rank when MPI is usable; "?" before MPI_Init or after MPI_Finalize.
  std::string rank = "?";
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int world_rank = 0;
  if (initialized && !finalized && MPI_Comm_rank(MPI_COMM_WORLD, &world_rank) == MPI_SUCCESS) {
    rank = std::to_string(world_rank);
  }
  std::ostringstream out;
  out << "MPI call " << call << " failed at " << file << ":" << line << " on rank " << rank << ": "
      << message;
  throw std::runtime_error(out.str());
}

MpiCommunicator::MpiCommunicator(MPI_Comm parent) {
  int initialized = 0, finalized = 0;
  VRF_MPI_CHECK(MPI_Initialized(&initialized));
  VRF_MPI_CHECK(MPI_Finalized(&finalized));
  if (!initialized || finalized) {
    throw std::runtime_error(
        "MpiCommunicator needs MPI to be initialized (MPI_Init) and not yet finalized");
  }
  VRF_MPI_CHECK(MPI_Comm_dup(parent, &comm_));
  try {
    VRF_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    VRF_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    VRF_MPI_CHECK(MPI_Comm_size(comm_, &size_));
  } catch (...) {
    MPI_Comm_free(&comm_);
    throw;
  }
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 1;
  if (comm_ == MPI_COMM_NULL || MPI_Finalized(&finalized) != MPI_SUCCESS || finalized) {
    return;
  }
  if (MPI_Comm_free(&comm_) != MPI_SUCCESS) {
    std::cerr << "[rank " << rank_ << "] warning: MPI_Comm_free failed in ~MpiCommunicator\n";
  }
}

void MpiCommunicator::all_reduce_sum_(torch::Tensor& tensor) {
  const MPI_Datatype type = mpi_datatype(tensor, "all_reduce_sum_");
  auto* data = static_cast<char*>(tensor.data_ptr());
  const int64_t element_size = tensor.element_size();
  for_each_piece(tensor.numel(), [&](int64_t first, int count) {
    VRF_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, data + first * element_size, count, type, MPI_SUM, comm_));
  });
}

void MpiCommunicator::broadcast_(torch::Tensor& tensor, int root) {
  const MPI_Datatype type = mpi_datatype(tensor, "broadcast_");
  TORCH_CHECK(0 <= root && root < size_, "MpiCommunicator::broadcast_: root ", root,
              " is not a rank of this communicator of size ", size_);
  auto* data = static_cast<char*>(tensor.data_ptr());
  const int64_t element_size = tensor.element_size();
  for_each_piece(tensor.numel(), [&](int64_t first, int count) {
    VRF_MPI_CHECK(MPI_Bcast(data + first * element_size, count, type, root, comm_));
  });
}

torch::Tensor MpiCommunicator::all_gather(const torch::Tensor& tensor) {
  const MPI_Datatype type = mpi_datatype(tensor, "all_gather");
  std::vector<int64_t> sizes{size_};
  sizes.insert(sizes.end(), tensor.sizes().begin(), tensor.sizes().end());
  torch::Tensor gathered = torch::empty(sizes, tensor.options());
  const int64_t numel = tensor.numel();
  const torch::Tensor rows = gathered.view({size_, numel});
  const auto* data = static_cast<const char*>(tensor.data_ptr());
  const int64_t element_size = tensor.element_size();
  for_each_piece(numel, [&](int64_t first, int count) {
    // MPI lays a piece out as [size, count]: only a tensor sent in one piece lands in place.
    const bool whole = count == numel;
    torch::Tensor landing = whole ? rows : torch::empty({size_, count}, tensor.options());
    VRF_MPI_CHECK(MPI_Allgather(data + first * element_size, count, type, landing.data_ptr(), count,
                                type, comm_));
    if (!whole) {
      rows.narrow(1, first, count).copy_(landing);
    }
  });
  return gathered;
}

void MpiCommunicator::barrier() { VRF_MPI_CHECK(MPI_Barrier(comm_)); }

}  // namespace vrf::dist
