// launch/main.cpp — entry point of the `vrf` binary: runs the CLI and turns any failure into a
// one-line `error: ...` on stderr and a non-zero exit code. Inside an MPI job (vrf train) the line
// names the rank and the whole job is aborted, so that no rank is left waiting in a collective.
#include <mpi.h>

#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "launch/cli.h"

namespace {

int fail(const std::string& message, int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::cerr << "[rank " << rank << "] error: " << message << std::endl;
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  std::cerr << "error: " << message << std::endl;
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return vrf::launch::run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout);
  } catch (const vrf::ConfigError& e) {
    return fail(e.what(), 2);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
}
