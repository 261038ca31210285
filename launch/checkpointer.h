// launch/checkpointer.h — writes and restores the complete training state (DESIGN.md section 4,
// io/FORMAT.md "Checkpoints"): shared.h5 by rank 0, users-<r>-of-<W>.h5 by every rank, and the
// manifest last, by rank 0, as the commit marker.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "distributed/communicator.h"
#include "io/checkpoint_directory.h"
#include "io/pair_stream.h"
#include "launch/posterior_table.h"
#include "launch/training_step.h"

namespace vrf::launch {

struct SavedCheckpoint {
  std::string dir;
  int64_t bytes = 0;   // all files of the step, all ranks
  double seconds = 0;  // wall time of save(), posterior excluded
};

struct RestoredCheckpoint {
  int64_t step = 0;
  io::StreamCursor cursor;  // where this rank's stream continues
  bool resharded = false;   // saved with another world size or user partition
};

class Checkpointer {
 public:
  // `config` (the resolved training configuration) and `store` (the training store's shape) are
  // recorded in every checkpoint; `keep_last` committed checkpoints are kept (0: all).
  Checkpointer(std::string ckpt_dir, int64_t keep_last, nlohmann::json config, nlohmann::json store,
               dist::Communicator& communicator);

  // Collective. Writes step-<step>/ for the users [user_begin, user_end) of this rank, then, once
  // every file is durable, the manifest (with each file's size and digest), then prunes. A failure
  // on any rank (disk full, permissions) throws dist::AgreedFailure on every rank and leaves the
  // step uncommitted.
  SavedCheckpoint save(int64_t step, const io::StreamCursor& cursor, const TrainingStep& training,
                       const PosteriorTable& posterior, int64_t user_begin, int64_t user_end);

  // Restores a validated checkpoint into `training` (whose rank owns [user_begin, user_end)):
  // shared parameters, buffers and AdamW state from shared.h5; user rows read from whichever
  // users files hold them; the stream cursor and torch's CPU generator from this rank's file
  // when the partition is unchanged, else the data order restarts at the saved epoch and the
  // generator is reseeded from (seed, step, rank). Throws vrf::DataError naming both shapes when
  // the checkpoint does not fit the store or the model. Not collective (reads only).
  RestoredCheckpoint restore(const io::FoundCheckpoint& found, TrainingStep& training,
                             int64_t user_begin, int64_t user_end, uint64_t seed) const;

 private:
  std::string ckpt_dir_;
  int64_t keep_last_;
  nlohmann::json config_, store_;
  dist::Communicator& communicator_;
};

}  // namespace vrf::launch
