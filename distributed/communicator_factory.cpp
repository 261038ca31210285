// distributed/communicator_factory.cpp — make_communicator.
#include "distributed/communicator_factory.h"

#include "core/errors.h"
#include "distributed/mpi_communicator.h"
#if VRF_HAVE_NCCL
#include "distributed/nccl_communicator.h"
#endif

namespace vrf::dist {

std::unique_ptr<Communicator> make_communicator(const std::string& backend, MPI_Comm parent) {
  if (backend == "mpi") return std::make_unique<MpiCommunicator>(parent);
  if (backend == "nccl") {
#if VRF_HAVE_NCCL
    return std::make_unique<NcclCommunicator>(parent);
#else
    throw ConfigError(
        "--backend nccl: this vrf was built without NCCL; reconfigure with "
        "-DVRF_WITH_NCCL=ON (needs the CUDA toolkit's NCCL) or use --backend mpi");
#endif
  }
  throw ConfigError("--backend: unknown value '" + backend + "'; expected mpi or nccl");
}

}  // namespace vrf::dist
