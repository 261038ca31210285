// distributed/rank_agreement.h — failing together: ranks agree that a phase failed, so that every
// rank reports its error and exits normally instead of one rank aborting the job mid-message.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include "distributed/communicator.h"

namespace vrf::dist {

// An error that every rank of the job raises together, knowingly: each rank prints its message and
// ends with MPI_Finalize and `exit_code()` (2 for a ConfigError, else 1), without MPI_Abort.
class AgreedFailure : public std::runtime_error {
 public:
  AgreedFailure(const std::string& message, int exit_code)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Runs `local_work` on every rank, then agrees on its outcome in one all_gather. If it threw on
// any rank, every rank throws AgreedFailure: with its own message where it failed, otherwise naming
// the ranks that failed. `local_work` must call no collective (a rank that throws would leave its
// peers waiting in it). `phase` names the work in the peers' message ("setup").
void run_on_every_rank(Communicator& communicator, const std::string& phase,
                       const std::function<void()>& local_work);

// Writes `line` and a newline to stderr in one write, so that ranks' lines never interleave.
void write_error_line(const std::string& line);

}  // namespace vrf::dist
