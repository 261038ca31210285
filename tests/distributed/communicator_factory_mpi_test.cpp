// tests/distributed/communicator_factory_mpi_test.cpp — backends by name; what cannot be honoured
// is refused with the option named.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "distributed/communicator_factory.h"

namespace vrf::dist {
namespace {

TEST(CommunicatorFactoryTest, MpiBackendSpansTheWorld) {
  const auto comm = make_communicator("mpi");
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(comm->size(), size);
  auto ones = torch::ones({3});
  comm->all_reduce_sum_(ones);
  EXPECT_TRUE(ones.equal(torch::full({3}, float(size))));
}

TEST(CommunicatorFactoryTest, UnknownOrUnavailableBackendsAreConfigErrors) {
  try {
    make_communicator("gloo");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--backend: unknown value 'gloo'"), std::string::npos);
  }
#if !VRF_HAVE_NCCL
  try {
    make_communicator("nccl");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("built without NCCL"), std::string::npos) << e.what();
  }
#endif
}

}  // namespace
}  // namespace vrf::dist
