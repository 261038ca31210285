// tests/distributed/rank_agreement_mpi_test.cpp — run_on_every_rank: success passes through; a
// failure on one rank (or all) becomes an AgreedFailure on every rank, with the failing rank's own
// message and exit code there and the failing ranks named elsewhere.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "distributed/communicator_factory.h"
#include "distributed/rank_agreement.h"

namespace vrf::dist {
namespace {

TEST(RankAgreementTest, SuccessOnEveryRankReturnsNormally) {
  const auto comm = make_communicator("mpi");
  int calls = 0;
  run_on_every_rank(*comm, "setup", [&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(RankAgreementTest, OneRankFailingFailsEveryRank) {
  const auto comm = make_communicator("mpi");
  const int last = comm->size() - 1;
  try {
    run_on_every_rank(*comm, "setup", [&] {
      if (comm->rank() == last) throw ConfigError("--train: bad on the last rank");
    });
    FAIL() << "expected AgreedFailure on rank " << comm->rank();
  } catch (const AgreedFailure& e) {
    if (comm->rank() == last) {
      EXPECT_STREQ(e.what(), "--train: bad on the last rank");
      EXPECT_EQ(e.exit_code(), 2);
    } else {
      EXPECT_EQ(std::string(e.what()), "setup failed on rank(s) " + std::to_string(last) +
                                           " (their error is printed there)");
      EXPECT_EQ(e.exit_code(), 1);
    }
  }
  // The communicator is still usable afterwards: the failure was agreed, not a broken collective.
  auto one = torch::ones({1});
  comm->all_reduce_sum_(one);
  EXPECT_EQ(one.item<float>(), float(comm->size()));
}

TEST(RankAgreementTest, EveryRankFailingKeepsItsOwnMessage) {
  const auto comm = make_communicator("mpi");
  try {
    run_on_every_rank(*comm, "setup", [&] {
      throw DataError("store on rank " + std::to_string(comm->rank()) + " is missing");
    });
    FAIL() << "expected AgreedFailure";
  } catch (const AgreedFailure& e) {
    EXPECT_EQ(std::string(e.what()),
              "store on rank " + std::to_string(comm->rank()) + " is missing");
    EXPECT_EQ(e.exit_code(), 1);
  }
}

}  // namespace
}  // namespace vrf::dist
