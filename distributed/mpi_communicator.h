// distributed/mpi_communicator.h — Communicator over MPI for CPU tensors.
#pragma once

#include <mpi.h>

#include <string>

#include "distributed/communicator.h"

namespace vrf::dist {

// Works on its own duplicate of `parent` (default MPI_COMM_WORLD) with MPI_ERRORS_RETURN, so a
// failing call throws (std::runtime_error with the call, file:line, rank and MPI's message)
// instead of aborting inside MPI. MPI must be initialized before and finalized after its
// lifetime. Tensors: contiguous CPU float32, float64, int64 or uint8; element counts above INT_MAX
// are sent in pieces.
class MpiCommunicator : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm parent = MPI_COMM_WORLD);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void all_reduce_sum_(torch::Tensor& tensor) override;
  void broadcast_(torch::Tensor& tensor, int root) override;
  torch::Tensor all_gather(const torch::Tensor& tensor) override;
  void barrier() override;

  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

// Throws std::runtime_error "MPI call <call> failed at file:line on rank r: <MPI message>" when
// `status` is not MPI_SUCCESS. Use through VRF_MPI_CHECK.
void check_mpi(int status, const char* call, const char* file, int line);

}  // namespace vrf::dist

#define VRF_MPI_CHECK(call) ::vrf::dist::check_mpi((call), #call, __FILE__, __LINE__)
