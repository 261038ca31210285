// launch/trainer.h — the training loop of `vrf train`: sharded streaming, steps, schedule,
// validation, progress and metrics, health, watchdog, stop requests, final checkpoint.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "distributed/communicator.h"
#include "distributed/user_sharder.h"
#include "io/pair_stream.h"
#include "io/preference_store.h"
#include "launch/checkpointer.h"
#include "launch/train_config.h"
#include "launch/training_step.h"
#include "launch/validator.h"
#include "launch/watchdog.h"

namespace vrf::launch {

struct TrainSummary {
  int64_t steps = 0;           // optimizer steps taken (skipped ones included)
  int64_t skipped_steps = 0;   // non-finite steps skipped by all ranks
  bool stopped_early = false;  // a stop request (signal) ended training
  double final_loss = 0;
  std::optional<ValidationResult> validation;  // at the end, when --val is given
  std::string checkpoint;                      // the newest step directory written
  int64_t resumed_from = -1;                   // the step a checkpoint restored (-1: fresh)
};

// Construction validates the stores, the configuration and the checkpoint to resume on every rank
// before the first collective, and the ranks agree on the outcome (a bad input throws
// dist::AgreedFailure everywhere); then it shards the users, builds the model with standardization
// statistics of the training store, broadcasts the shared state from rank 0, and restores the
// checkpoint (again an agreed phase).
// run() is collective. `abort_job(message)` must end every rank (MPI_Abort); the watchdog calls
// it when a step exceeds config.collective_timeout_s. Rank 0 writes the resolved configuration to
// <run_dir>/config.json, progress to `log` and metrics to <run_dir>/metrics.jsonl.
class Trainer {
 public:
  Trainer(const TrainConfig& config, dist::Communicator& communicator, std::ostream& log,
          std::function<void(const std::string&)> abort_job);

  TrainSummary run();

  int64_t total_steps() const { return total_steps_; }
  std::pair<int64_t, int64_t> user_range() const { return sharder_->range(communicator_.rank()); }

 private:
  double learning_rate(int64_t step) const;
  // Every setting after defaults and derivations (written to <run_dir>/config.json by rank 0).
  nlohmann::json resolved_config_json() const;
  // Collective: the posterior table of this rank's users, then Checkpointer::save.
  std::string save_checkpoint(int64_t step);
  // --resume: the checkpoint to restore (none for a fresh start); --force's cleanup on rank 0.
  std::optional<io::FoundCheckpoint> checkpoint_to_resume();
  void log_metrics(const std::string& json_line);

  TrainConfig config_;
  dist::Communicator& communicator_;
  std::ostream& log_;
  std::function<void(const std::string&)> abort_job_;
  std::unique_ptr<io::PreferenceStore> train_;
  std::unique_ptr<dist::UserSharder> sharder_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<io::PairStream> stream_;
  std::unique_ptr<TrainingStep> step_;
  std::unique_ptr<Validator> validator_;
  int64_t total_steps_ = 0, users_per_epoch_ = 0, local_batch_users_ = 0;
  int64_t start_step_ = 0, resumed_from_ = -1;
};

}  // namespace vrf::launch
