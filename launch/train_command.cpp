// launch/train_command.cpp — `vrf train`.
#include "launch/train_command.h"

#include <mpi.h>

#include <cstdlib>
#include <iostream>

#include "core/errors.h"
#include "distributed/communicator_factory.h"
#include "distributed/mpi_communicator.h"
#include "distributed/rank_agreement.h"
#include "launch/command_options.h"
#include "launch/stop_signal.h"
#include "launch/trainer.h"

namespace po = boost::program_options;

namespace vrf::launch {
namespace {

// Rank and size come from MPI; under SLURM they must agree with SLURM_NTASKS, or ranks were
// started without srun/mpirun and each would silently train alone.
void check_slurm_world(int world) {
  const char* tasks = std::getenv("SLURM_NTASKS");
  if (tasks == nullptr) return;
  const std::string value = tasks;
  if (value != std::to_string(world)) {
    throw ConfigError("SLURM_NTASKS is " + value + " but MPI reports " + std::to_string(world) +
                      " rank(s): start vrf with srun (or mpirun) so that the ranks form one job");
  }
}

}  // namespace

int run_train_command(const std::vector<std::string>& args, std::ostream& out) {
  TrainConfig c;
  auto& m = c.model;
  auto& o = c.optimizer;
  std::string model = "vrf", aggregator = "bayes", attenuation = "inverse-variance";
  bool fixed_temperature = false;
  int64_t bucket_mb = o.bucket_bytes >> 20;
  po::options_description options("vrf train options");
  // clang-format off
  options.add_options()
      ("train", po::value(&c.train_path)->required(), "training store (.h5)")
      ("val", po::value(&c.val_path), "validation store of the same users (.h5); empty: none")
      ("model", po::value(&model)->default_value(model), "vrf, factorized, vpl or bt")
      ("steps", po::value(&c.steps)->default_value(c.steps), "optimizer steps (0: use --epochs)")
      ("epochs", po::value(&c.epochs)->default_value(c.epochs),
       "passes over the users with pairs, when --steps is 0")
      ("batch-users", po::value(&c.batch_users)->default_value(c.batch_users),
       "users per step over all ranks together")
      ("seed", po::value(&o.seed)->default_value(o.seed), "seed of initialization and sampling")
      ("run-dir", po::value(&c.run_dir)->default_value(c.run_dir),
       "directory for metrics.jsonl (and checkpoints unless --ckpt-dir)")
      ("ckpt-dir", po::value(&c.ckpt_dir), "checkpoint directory (default <run-dir>/checkpoints)")
      ("ckpt-every", po::value(&c.ckpt_every)->default_value(c.ckpt_every),
       "steps between checkpoints (0: only at the end and on SIGTERM/SIGUSR1)")
      ("ckpt-every-minutes", po::value(&c.ckpt_every_minutes)->default_value(c.ckpt_every_minutes),
       "minutes between checkpoints (0: off)")
      ("keep-last", po::value(&c.keep_last)->default_value(c.keep_last),
       "committed checkpoints to keep; older ones are deleted after a new one commits (0: all)")
      ("resume", po::value(&c.resume)->default_value(c.resume),
       "auto (newest valid checkpoint in --ckpt-dir, else start fresh), never, or a checkpoint path")
      ("force", po::bool_switch(&c.force),
       "with --resume never: delete the checkpoints already in --ckpt-dir instead of refusing")
      ("backend", po::value(&c.backend)->default_value(c.backend),
       "gradient all-reduce: mpi (CPU tensors) or nccl (CUDA tensors; needs a VRF_WITH_NCCL build)")
      ("device", po::value(&c.device)->default_value(c.device), "cpu or cuda (one GPU per rank)")
      ("bases", po::value(&m.num_bases)->default_value(m.num_bases), "number of bases K")
      ("latent-dim", po::value(&m.latent_dim)->default_value(m.latent_dim), "latent dimension d")
      ("hidden", po::value(&m.hidden_dim)->default_value(m.hidden_dim),
       "width H of the encoder's pair network")
      ("basis-hidden", po::value(&m.basis_hidden)->default_value(m.basis_hidden),
       "width of the shared MLP trunk of the basis rewards (0: linear)")
      ("temperature", po::value(&m.temperature)->default_value(m.temperature),
       "initial softmax temperature tau of the Wasserstein weights")
      ("fixed-temperature", po::bool_switch(&fixed_temperature), "do not learn tau")
      ("kl-weight", po::value(&m.kl_weight)->default_value(m.kl_weight), "beta of the KL term")
      ("aggregator", po::value(&aggregator)->default_value(aggregator), "bayes or mean")
      ("attenuation", po::value(&attenuation)->default_value(attenuation),
       "inverse-variance, kendall-gal or none")
      ("attenuation-lambda", po::value(&m.attenuation_lambda)->default_value(m.attenuation_lambda),
       "lambda of --attenuation kendall-gal")
      ("lr", po::value(&o.lr)->default_value(o.lr), "peak learning rate (AdamW)")
      ("weight-decay", po::value(&o.weight_decay)->default_value(o.weight_decay),
       "AdamW decoupled weight decay of the shared parameters")
      ("warmup-steps", po::value(&c.warmup_steps)->default_value(c.warmup_steps),
       "steps of linear warm-up before the cosine decay")
      ("lr-min-ratio", po::value(&c.lr_min_ratio)->default_value(c.lr_min_ratio),
       "final learning rate as a fraction of --lr")
      ("context-min", po::value(&c.context_min)->default_value(c.context_min),
       "fewest context pairs sampled per user visit")
      ("context-max", po::value(&c.context_max)->default_value(c.context_max),
       "most context pairs sampled per user visit")
      ("query-max", po::value(&c.query_max)->default_value(c.query_max),
       "most query pairs scored per user visit")
      ("eval-every", po::value(&c.eval_every)->default_value(c.eval_every),
       "steps between validations (0: only at the end)")
      ("eval-context-max", po::value(&c.eval_context_max)->default_value(c.eval_context_max),
       "training pairs used as a seen user's context in validation")
      ("val-max-users", po::value(&c.val_max_users)->default_value(c.val_max_users),
       "validation users per rank (the first ones)")
      ("log-every", po::value(&c.log_every)->default_value(c.log_every),
       "steps between progress lines and metrics")
      ("max-bad-steps", po::value(&c.max_bad_steps)->default_value(c.max_bad_steps),
       "consecutive non-finite steps (skipped by all ranks) before aborting")
      ("collective-timeout", po::value(&c.collective_timeout_s)->default_value(c.collective_timeout_s),
       "seconds one step may take before the watchdog aborts the job")
      ("embedding-cache-mb", po::value(&c.embedding_cache_mb)->default_value(c.embedding_cache_mb),
       "MiB: keep the response table in memory when it fits")
      ("block-mb", po::value(&c.block_mb)->default_value(c.block_mb),
       "MiB read per streaming block")
      ("bucket-mb", po::value(&bucket_mb)->default_value(bucket_mb),
       "MiB per gradient all-reduce bucket");
  // clang-format on
  const auto vm = parse_command_options(
      "train", "mpirun -np N vrf train --train FILE [--val FILE] [options]", options, args, out);
  if (!vm) return 0;
  m.kind = core::parse_model_kind(model);
  m.aggregator = core::parse_aggregator(aggregator);
  m.attenuation = core::parse_attenuation(attenuation);
  m.learn_temperature = !fixed_temperature;
  if (bucket_mb <= 0) throw ConfigError("--bucket-mb must be positive");
  o.bucket_bytes = bucket_mb << 20;
  for (const auto& [flag, value] :
       {std::pair{"--log-every", c.log_every}, std::pair{"--max-bad-steps", c.max_bad_steps},
        std::pair{"--block-mb", c.block_mb}}) {
    if (value <= 0) throw ConfigError(std::string(flag) + " must be positive");
  }
  if (c.warmup_steps < 0 || c.eval_every < 0) {
    throw ConfigError("--warmup-steps and --eval-every must be >= 0");
  }
  if (!(c.collective_timeout_s > 0)) throw ConfigError("--collective-timeout must be positive");
  if (c.ckpt_every < 0 || c.keep_last < 0 || !(c.ckpt_every_minutes >= 0)) {
    throw ConfigError("--ckpt-every, --ckpt-every-minutes and --keep-last must be >= 0");
  }
  if (c.resume.empty()) throw ConfigError("--resume: give auto, never or a checkpoint path");
  // Device and backend are checked before any communicator exists.
  if (c.device != "cpu" && c.device != "cuda") {
    throw ConfigError("--device: unknown value '" + c.device + "'; expected cpu or cuda");
  }
  if (c.device == "cuda" && !torch::cuda::is_available()) {
    throw ConfigError("--device cuda: no CUDA device is usable (LibTorch without CUDA, or no GPU)");
  }
  if (c.backend == "nccl" && c.device != "cuda") {
    throw ConfigError(
        "--backend nccl all-reduces CUDA tensors; add --device cuda or use "
        "--backend mpi");
  }

  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    VRF_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
  }
  {
    const auto communicator = dist::make_communicator(c.backend);
    check_slurm_world(communicator->size());
    install_stop_signal_handlers();
    const int rank = communicator->rank();
    Trainer trainer(c, *communicator, out, [rank](const std::string& message) {
      dist::write_error_line("[rank " + std::to_string(rank) + "] error: " + message);
      MPI_Abort(MPI_COMM_WORLD, 3);
    });
    const auto summary = trainer.run();
    if (rank == 0 && summary.validation) {
      out << "final validation: accuracy " << summary.validation->accuracy << " on "
          << summary.validation->pairs << " pairs of " << summary.validation->users
          << " users, nll " << summary.validation->nll << "\n";
    }
  }
  if (!initialized) MPI_Finalize();
  return 0;
}

}  // namespace vrf::launch
