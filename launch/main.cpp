// launch/main.cpp — entry point of the `vrf` binary: runs the CLI and turns any failure into a
// one-line `error: ...` on stderr and a non-zero exit code. Inside an MPI job (vrf train, vrf eval)
// the line names the rank. A failure that all ranks agreed on (dist::AgreedFailure) ends each rank
// normally; any other failure aborts the whole job, so that no rank is left waiting in a
// collective.
#include <mpi.h>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "distributed/rank_agreement.h"
#include "launch/cli.h"

namespace {

int fail(const std::string& message, int code, bool agreed) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    vrf::dist::write_error_line("[rank " + std::to_string(rank) + "] error: " + message);
    if (!agreed) MPI_Abort(MPI_COMM_WORLD, code);
    MPI_Finalize();
    return code;
  }
  vrf::dist::write_error_line("error: " + message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return vrf::launch::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout);
  } catch (const vrf::dist::AgreedFailure& e) {
    return fail(e.what(), e.exit_code(), true);
  } catch (const vrf::ConfigError& e) {
    return fail(e.what(), 2, false);
  } catch (const std::exception& e) {
    return fail(e.what(), 1, false);
  }
}
