// distributed/rank_agreement.cpp — see rank_agreement.h.
#include "distributed/rank_agreement.h"

#include <unistd.h>

#include <cerrno>

#include "core/errors.h"

namespace vrf::dist {

void run_on_every_rank(Communicator& communicator, const std::string& phase,
                       const std::function<void()>& local_work) {
  std::string message;
  int64_t exit_code = 0;
  try {
    local_work();
  } catch (const ConfigError& e) {
    message = e.what();
    exit_code = 2;
  } catch (const std::exception& e) {
    message = e.what();
    exit_code = 1;
  }
  const auto codes = communicator.all_gather(torch::tensor({exit_code}, torch::kInt64));
  std::string failed;
  for (int64_t r = 0; r < communicator.size(); ++r) {
    if (codes[r].item<int64_t>() != 0) failed += (failed.empty() ? "" : ", ") + std::to_string(r);
  }
  if (failed.empty()) return;
  if (exit_code != 0) throw AgreedFailure(message, static_cast<int>(exit_code));
  throw AgreedFailure(phase + " failed on rank(s) " + failed + " (their error is printed there)",
                      1);
}

void write_error_line(const std::string& line) {
  const std::string text = line + "\n";
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr is gone: nothing left to tell
    written += static_cast<size_t>(n);
  }
}

}  // namespace vrf::dist
