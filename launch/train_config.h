// launch/train_config.h — everything `vrf train` is configured with, as plain structs.
#pragma once

#include <cstdint>
#include <string>

#include "core/model_config.h"
#include "launch/training_step.h"

namespace vrf::launch {

struct TrainConfig {
  core::ModelConfig model;
  OptimizerConfig optimizer;
  std::string train_path, val_path;
  int64_t steps = 0;           // total optimizer steps; 0: derived from epochs
  double epochs = 0;           // used when steps == 0
  int64_t batch_users = 32;    // users per step, all ranks together (split evenly over ranks)
  int64_t warmup_steps = 100;  // linear warm-up, then cosine decay to lr_min_ratio * lr
  double lr_min_ratio = 0.1;
  // Sampling of a visit (DESIGN.md section 1.5).
  int64_t context_min = 1, context_max = 20, query_max = 20;
  int64_t eval_every = 200;           // steps between validations (0: only at the end)
  int64_t eval_context_max = 64;      // training pairs used as a seen user's context
  int64_t val_max_users = 4096;       // per rank: validation users evaluated (the first ones)
  int64_t log_every = 50;             // steps between progress lines
  int64_t max_bad_steps = 10;         // consecutive skipped (non-finite) steps before aborting
  double collective_timeout_s = 600;  // a step slower than this aborts the job
  int64_t embedding_cache_mb = 1024;
  int64_t block_mb = 32;
  std::string backend = "mpi";  // communicator: mpi (CPU tensors) or nccl (CUDA tensors)
  std::string device = "cpu";   // where the model and batches live: cpu or cuda (checked by
                                // the train command before any communicator exists)
  std::string run_dir = "runs/latest";
  std::string ckpt_dir;           // empty: <run_dir>/checkpoints
  int64_t ckpt_every = 0;         // steps between checkpoints (0: only at the end and on signals)
  double ckpt_every_minutes = 0;  // minutes between checkpoints, by rank 0's clock (0: off)
  int64_t keep_last = 3;          // committed checkpoints kept (0: all)
  std::string resume = "never";   // auto, never or a checkpoint path
  bool force = false;             // with --resume never: delete existing checkpoints first
};

}  // namespace vrf::launch
