// distributed/communicator_factory.h — the communicator for a backend name ("mpi", "nccl").
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "distributed/communicator.h"

namespace vrf::dist {

// "mpi": MpiCommunicator (CPU tensors). "nccl": NcclCommunicator (CUDA tensors), available only
// when built with VRF_WITH_NCCL=ON; otherwise, and for unknown names, throws vrf::ConfigError
// naming --backend. Collective over `parent`.
std::unique_ptr<Communicator> make_communicator(const std::string& backend,
                                                MPI_Comm parent = MPI_COMM_WORLD);

}  // namespace vrf::dist
