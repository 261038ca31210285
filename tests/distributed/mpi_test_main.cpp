// tests/distributed/mpi_test_main.cpp — gtest main for multi-rank tests: every rank runs every
// test, rank 0 prints in full, the others print only their failures, and all exit with the worst.
#include <gtest/gtest.h>
#include <mpi.h>

#include <ctime>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>

#include "distributed/mpi_communicator.h"

namespace {

// Replaces the default printer on ranks other than 0: silent on success, and every failure (with
// file:line and message) and failed test name prefixed by "[rank r] ".
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : prefix_("[rank " + std::to_string(rank) + "] ") {}

  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) {
      return;
    }
    std::ostringstream text;
    text << (result.file_name() ? result.file_name() : "unknown file") << ":"
         << result.line_number() << ": Failure\n"
         << result.message();
    print(text.str());
  }

  void OnTestEnd(const testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      print(std::string("[  FAILED  ] ") + info.test_suite_name() + "." + info.name());
    }
  }

  void OnTestProgramEnd(const testing::UnitTest& unit) override {
    if (unit.Failed()) {
      print(std::to_string(unit.failed_test_count()) + " of " +
            std::to_string(unit.test_to_run_count()) + " tests failed on this rank");
    }
  }

 private:
  // One write per block so that lines of different ranks interleave as little as possible.
  void print(const std::string& block) const {
    std::ostringstream out;
    std::istringstream lines(block);
    for (std::string line; std::getline(lines, line);) {
      out << prefix_ << line << '\n';
    }
    std::cout << out.str() << std::flush;
  }

  std::string prefix_;
};

}  // namespace

int main(int argc, char** argv) {
  int rank = 0;
  try {
    VRF_MPI_CHECK(MPI_Init(&argc, &argv));
    VRF_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
    testing::InitGoogleTest(&argc, argv);
    // Collectives need every rank to run the same tests in the same order.
    if (GTEST_FLAG_GET(shuffle)) {
      int seed = GTEST_FLAG_GET(random_seed);
      if (seed == 0) {
        seed = static_cast<int>(std::time(nullptr) % 99999) + 1;
      }
      VRF_MPI_CHECK(MPI_Bcast(&seed, 1, MPI_INT, 0, MPI_COMM_WORLD));
      GTEST_FLAG_SET(random_seed, seed);
    }
    if (rank != 0) {
      testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(rank));
    }
    const int local = RUN_ALL_TESTS();
    int worst = 0;
    VRF_MPI_CHECK(MPI_Allreduce(&local, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    if (rank == 0 && worst != local) {
      std::cout << "[rank 0] tests failed on other ranks; see the lines prefixed [rank r]\n"
                << std::flush;
    }
    VRF_MPI_CHECK(MPI_Finalize());
    return worst;
  } catch (const std::exception& e) {
    std::cerr << "[rank " << rank << "] error: " << e.what() << std::endl;
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) {
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return 1;
  }
}
