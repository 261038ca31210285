// launch/trainer.cpp — Trainer.
#include "launch/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "core/errors.h"
#include "distributed/rank_agreement.h"
#include "io/preference_store.h"
#include "io/tensor_file.h"
#include "launch/posterior_table.h"
#include "launch/stop_signal.h"

namespace vrf::launch {
namespace {

// Mean and std of every response embedding of `store`, in float64, read in blocks of 64 MiB.
std::pair<torch::Tensor, torch::Tensor> embedding_statistics(const io::PreferenceStore& store) {
  const int64_t d = store.embedding_dim(), r = store.num_responses();
  auto sum = torch::zeros({d}, torch::kFloat64), squares = torch::zeros({d}, torch::kFloat64);
  const int64_t block = std::max<int64_t>(1, (int64_t{64} << 20) / (4 * d));
  std::vector<float> rows;
  for (int64_t begin = 0; begin < r; begin += block) {
    const int64_t end = std::min(r, begin + block);
    rows.resize(static_cast<size_t>((end - begin) * d));
    store.read_embeddings(begin, end, rows.data());
    const auto x = torch::from_blob(rows.data(), {end - begin, d}).to(torch::kFloat64);
    sum += x.sum(0);
    squares += (x * x).sum(0);
  }
  const auto mean = sum / double(r);
  const auto var = (squares / double(r) - mean * mean).clamp_min(0);
  return {mean, var.sqrt()};
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << (s / 60) % 60 << "m";
  out << s % 60 << "s";
  return out.str();
}

}  // namespace

Trainer::Trainer(const TrainConfig& config, dist::Communicator& communicator, std::ostream& log,
                 std::function<void(const std::string&)> abort_job)
    : config_(config), communicator_(communicator), log_(log), abort_job_(std::move(abort_job)) {
  // Everything that reads the user's input runs before the first collective, and the ranks agree
  // on its outcome: a bad flag or store ends every rank with its message, none aborted mid-line.
  const int world = communicator_.size(), rank = communicator_.rank();
  int64_t steps_per_epoch = 0;
  torch::Tensor mean, std;
  std::optional<io::FoundCheckpoint> resume_from;
  dist::run_on_every_rank(communicator_, "setup", [&] {
    if (config_.train_path.empty()) throw ConfigError("--train is required: the training store");
    train_ = std::make_unique<io::PreferenceStore>(config_.train_path);
    const io::PreferenceStore& train = *train_;
    if (config_.batch_users < world) {
      throw ConfigError("--batch-users " + std::to_string(config_.batch_users) +
                        " is smaller than the " + std::to_string(world) +
                        " ranks; every rank needs at least one user per step");
    }
    if (config_.steps <= 0 && config_.epochs <= 0) {
      throw ConfigError("give --steps N or --epochs E (both are 0)");
    }
    config_.model.input_dim = train.embedding_dim();
    config_.model.validate();
    if (config_.ckpt_dir.empty()) config_.ckpt_dir = config_.run_dir + "/checkpoints";
    sharder_ = std::make_unique<dist::UserSharder>(train.offsets(), world);
    for (int64_t u = 0; u < train.num_users(); ++u) {
      users_per_epoch_ += train.offsets()[u + 1] > train.offsets()[u];
    }
    steps_per_epoch = (users_per_epoch_ + config_.batch_users - 1) / config_.batch_users;
    total_steps_ = config_.steps > 0
                       ? config_.steps
                       : static_cast<int64_t>(std::ceil(config_.epochs * double(steps_per_epoch)));
    local_batch_users_ = config_.batch_users / world + (rank < config_.batch_users % world ? 1 : 0);
    std::tie(mean, std) = embedding_statistics(train);
    if (!config_.val_path.empty()) {
      const auto [begin, end] = sharder_->range(rank);
      validator_ = std::make_unique<Validator>(config_.train_path, config_.val_path, begin, end,
                                               config_.eval_context_max, config_.val_max_users,
                                               config_.model.basis_hidden > 0);
    }
    resume_from = checkpoint_to_resume();
  });
  if (config_.resume == "never") communicator_.barrier();  // rank 0 has cleared a --force'd dir
  const io::PreferenceStore& train = *train_;
  const auto [begin, end] = sharder_->range(rank);
  const torch::Device device(config_.device == "cuda" ? torch::kCUDA : torch::kCPU);

  torch::manual_seed(config_.optimizer.seed);
  auto model = core::make_reward_model(config_.model);
  model->standardizer()->set_statistics(mean.to(torch::kFloat32), std.to(torch::kFloat32));
  model->to(device);
  step_ = std::make_unique<TrainingStep>(model, communicator_, config_.optimizer, begin, end);
  const nlohmann::json store_shape = {{"users", train.num_users()},
                                      {"pairs", train.num_pairs()},
                                      {"embedding_dim", train.embedding_dim()}};
  checkpointer_ = std::make_unique<Checkpointer>(
      config_.ckpt_dir, config_.keep_last, resolved_config_json(), store_shape, communicator_);
  io::StreamCursor cursor;
  if (resume_from) {
    RestoredCheckpoint restored;
    dist::run_on_every_rank(communicator_, "resume", [&] {
      restored = checkpointer_->restore(*resume_from, *step_, begin, end, config_.optimizer.seed);
    });
    start_step_ = resumed_from_ = restored.step;
    cursor = restored.cursor;
    if (rank == 0) {
      log_ << "resumed from " << resume_from->dir << " (step " << restored.step << ", epoch "
           << restored.cursor.epoch
           << (restored.resharded
                   ? ", resharded from " + std::to_string(resume_from->manifest.world_size) +
                         " rank(s): data order restarts at that epoch"
                   : "")
           << ")" << std::endl;
    }
  }

  io::PairStreamOptions stream;
  stream.user_begin = begin;
  stream.user_end = end;
  stream.seed = config_.optimizer.seed;
  stream.use_context =
      config_.model.kind == core::ModelKind::kVrf || config_.model.kind == core::ModelKind::kVpl;
  stream.context_min = config_.context_min;
  stream.context_max = config_.context_max;
  stream.query_max = config_.query_max;
  stream.with_query_chosen = config_.model.basis_hidden > 0;
  stream.embedding_cache_mb = config_.embedding_cache_mb;
  stream.block_bytes = config_.block_mb << 20;
  stream_ = std::make_unique<io::PairStream>(config_.train_path, stream, cursor);

  if (rank == 0) {
    std::filesystem::create_directories(config_.run_dir);
    std::ofstream(config_.run_dir + "/config.json") << resolved_config_json().dump(2) << "\n";
    log_ << "vrf train: model " << core::to_string(config_.model.kind) << ", " << world
         << " rank(s), " << train.num_users() << " users (" << users_per_epoch_ << " with pairs), "
         << train.num_pairs() << " pairs, D = " << train.embedding_dim() << "; " << total_steps_
         << " steps of " << config_.batch_users << " users (" << steps_per_epoch << " per epoch); "
         << step_->all_reducer().bytes_per_step() << " gradient bytes all-reduced per step"
         << std::endl;
  }
}

std::optional<io::FoundCheckpoint> Trainer::checkpoint_to_resume() {
  const auto& mode = config_.resume;
  if (mode == "never") {
    std::vector<std::string> committed;
    for (const auto& [step, dir] : io::list_step_directories(config_.ckpt_dir)) {
      if (io::is_committed(dir)) committed.push_back(dir);
    }
    if (!committed.empty() && !config_.force) {
      throw ConfigError("--ckpt-dir " + config_.ckpt_dir + " already holds " +
                        std::to_string(committed.size()) + " checkpoint(s) (newest " +
                        committed.back() +
                        "); continue them with --resume auto, or add --force to delete them and "
                        "start over");
    }
    if (!committed.empty() && communicator_.rank() == 0) {
      for (const auto& [step, dir] : io::list_step_directories(config_.ckpt_dir)) {
        std::filesystem::remove(std::filesystem::path(dir) / io::kManifestName);
        std::filesystem::remove_all(dir);
      }
      log_ << "--force: deleted the checkpoints in " << config_.ckpt_dir << std::endl;
    }
    return std::nullopt;
  }
  if (mode == "auto") {
    auto found = io::find_newest_valid_checkpoint(config_.ckpt_dir);
    if (communicator_.rank() == 0) {
      for (const auto& reason : found ? found->rejected : std::vector<std::string>{}) {
        log_ << "warning: skipping a corrupt checkpoint: " << reason << std::endl;
      }
      if (!found) {
        log_ << "--resume auto: no committed checkpoint in " << config_.ckpt_dir
             << "; starting fresh" << std::endl;
      }
    }
    if (!found) {
      // Every newest candidate may have been rejected: say so rather than silently restart.
      for (const auto& [step, dir] : io::list_step_directories(config_.ckpt_dir)) {
        if (io::is_committed(dir)) {
          throw DataError("--resume auto: no checkpoint in " + config_.ckpt_dir +
                          " validates (e.g. " + dir + "); see `vrf ckpt inspect " + dir + "`");
        }
      }
    }
    return found;
  }
  return io::resolve_checkpoint(mode);
}

nlohmann::json Trainer::resolved_config_json() const {
  const auto& m = config_.model;
  const auto& o = config_.optimizer;
  return {{"train", config_.train_path},
          {"val", config_.val_path},
          {"model",
           {{"kind", core::to_string(m.kind)},
            {"input_dim", m.input_dim},
            {"bases", m.num_bases},
            {"latent_dim", m.latent_dim},
            {"hidden", m.hidden_dim},
            {"basis_hidden", m.basis_hidden},
            {"temperature", m.temperature},
            {"learn_temperature", m.learn_temperature},
            {"kl_weight", m.kl_weight},
            {"aggregator", core::to_string(m.aggregator)},
            {"attenuation", core::to_string(m.attenuation)},
            {"attenuation_lambda", m.attenuation_lambda}}},
          {"optimizer",
           {{"lr", o.lr},
            {"weight_decay", o.weight_decay},
            {"user_init_std", o.user_init_std},
            {"bucket_bytes", o.bucket_bytes},
            {"seed", o.seed}}},
          {"steps", total_steps_},
          {"batch_users", config_.batch_users},
          {"warmup_steps", config_.warmup_steps},
          {"lr_min_ratio", config_.lr_min_ratio},
          {"context_min", config_.context_min},
          {"context_max", config_.context_max},
          {"query_max", config_.query_max},
          {"eval_every", config_.eval_every},
          {"eval_context_max", config_.eval_context_max},
          {"val_max_users", config_.val_max_users},
          {"max_bad_steps", config_.max_bad_steps},
          {"collective_timeout_s", config_.collective_timeout_s},
          {"embedding_cache_mb", config_.embedding_cache_mb},
          {"block_mb", config_.block_mb},
          {"backend", config_.backend},
          {"device", config_.device},
          {"world_size", communicator_.size()},
          {"run_dir", config_.run_dir},
          {"ckpt_dir", config_.ckpt_dir},
          {"ckpt_every", config_.ckpt_every},
          {"ckpt_every_minutes", config_.ckpt_every_minutes},
          {"keep_last", config_.keep_last}};
}

double Trainer::learning_rate(int64_t step) const {
  const double lr = config_.optimizer.lr;
  if (step < config_.warmup_steps) return lr * double(step + 1) / double(config_.warmup_steps);
  const double span = std::max<int64_t>(1, total_steps_ - config_.warmup_steps);
  const double progress = std::min(1.0, double(step - config_.warmup_steps) / span);
  const double floor = config_.lr_min_ratio * lr;
  return floor + 0.5 * (lr - floor) * (1 + std::cos(M_PI * progress));
}

void Trainer::log_metrics(const std::string& json_line) {
  if (communicator_.rank() != 0) return;
  std::ofstream out(config_.run_dir + "/metrics.jsonl", std::ios::app);
  out << json_line << "\n";
}

std::string Trainer::save_checkpoint(int64_t step) {
  const auto [begin, end] = sharder_->range(communicator_.rank());
  const auto started = std::chrono::steady_clock::now();
  const auto posterior =
      compute_posterior_table(step_->model(), *train_, begin, end, config_.eval_context_max);
  // Every rank's table is done: the time below is the slowest rank's, and the save is timed alone.
  communicator_.barrier();
  const double posterior_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto saved = checkpointer_->save(step, stream_->cursor(), *step_, posterior, begin, end);
  if (communicator_.rank() == 0) {
    log_ << "saved " << saved.dir << " (" << std::fixed << std::setprecision(1)
         << double(saved.bytes) / 1e6 << " MB in " << std::setprecision(2) << saved.seconds
         << " s; posterior table " << posterior_s << " s)" << std::defaultfloat
         << std::setprecision(6) << std::endl;
  }
  return saved.dir;
}

TrainSummary Trainer::run() {
  TrainSummary summary;
  Watchdog watchdog(config_.collective_timeout_s, [this](int64_t step, double seconds) {
    std::ostringstream message;
    message << "step " << step << " has run for " << seconds << " s, over --collective-timeout "
            << config_.collective_timeout_s << " s: a rank is stuck or gone; aborting the job";
    abort_job_(message.str());
  });
  const bool rank0 = communicator_.rank() == 0;
  const auto started = std::chrono::steady_clock::now();
  auto window_start = started;
  int64_t window_pairs = 0, bad_in_a_row = 0;
  double loss_sum = 0, comm_seconds = 0;
  int64_t loss_count = 0;
  std::optional<ValidationResult> last_validation;
  summary.resumed_from = resumed_from_;
  summary.steps = start_step_;
  int64_t saved_step = resumed_from_;
  auto last_save = started;
  if (start_step_ >= total_steps_ && rank0) {
    log_ << "the checkpoint is at step " << start_step_ << ", --steps is " << total_steps_
         << ": nothing left to train" << std::endl;
  }
  for (int64_t step = start_step_; step < total_steps_; ++step) {
    watchdog.arm(step);
    const auto batch = stream_->next_batch(local_batch_users_);
    StepRequests requests;
    requests.stop = stop_requested();
    requests.checkpoint =
        rank0 && config_.ckpt_every_minutes > 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save).count() >=
            60 * config_.ckpt_every_minutes;
    const auto result = step_->run(batch, learning_rate(step), requests);
    watchdog.disarm();
    summary.steps = step + 1;
    comm_seconds += result.comm_seconds;
    if (!result.applied) {
      ++summary.skipped_steps;
      if (++bad_in_a_row >= config_.max_bad_steps) {
        // Every rank counts the same all-reduced flags, so every rank fails here together.
        throw dist::AgreedFailure(
            "training aborted at step " + std::to_string(step) + ": " +
                std::to_string(bad_in_a_row) +
                " steps in a row had a non-finite loss or gradient (--max-bad-steps " +
                std::to_string(config_.max_bad_steps) + "); lower --lr or check the data",
            1);
      }
    } else {
      bad_in_a_row = 0;
      loss_sum += result.loss;
      ++loss_count;
      summary.final_loss = result.loss;
    }
    window_pairs += result.global_pairs;
    const bool last = step + 1 == total_steps_ || result.stop_requested;
    if (validator_ && ((config_.eval_every > 0 && (step + 1) % config_.eval_every == 0) || last)) {
      watchdog.arm(step);
      last_validation = validator_->evaluate(*step_, communicator_);
      watchdog.disarm();
    }
    if ((step + 1) % config_.log_every == 0 || last) {
      const auto now = std::chrono::steady_clock::now();
      const double window = std::chrono::duration<double>(now - window_start).count();
      const double elapsed = std::chrono::duration<double>(now - started).count();
      const double pairs_per_s = window > 0 ? double(window_pairs) / window : 0;
      const double mean_loss = loss_count > 0 ? loss_sum / double(loss_count) : NAN;
      const double epoch =
          double(step + 1) * double(config_.batch_users) / double(users_per_epoch_);
      const double eta = elapsed / double(step + 1) * double(total_steps_ - step - 1);
      if (rank0) {
        log_ << "step " << step + 1 << "/" << total_steps_ << " | epoch " << std::fixed
             << std::setprecision(2) << epoch << " | loss " << std::setprecision(4) << mean_loss;
        if (last_validation) log_ << " | val_acc " << last_validation->accuracy;
        log_ << " | " << std::setprecision(0) << pairs_per_s << " pairs/s | eta "
             << format_duration(eta) << std::defaultfloat << std::setprecision(6) << std::endl;
      }
      nlohmann::json line = {{"step", step + 1},
                             {"epoch", epoch},
                             {"loss", mean_loss},
                             {"lr", learning_rate(step)},
                             {"pairs_per_s", pairs_per_s},
                             {"skipped_steps", summary.skipped_steps},
                             {"comm_seconds", comm_seconds},
                             {"io_wait_seconds", stream_->io_wait_seconds()},
                             {"elapsed_s", elapsed}};
      line["val_accuracy"] =
          last_validation ? nlohmann::json(last_validation->accuracy) : nlohmann::json(nullptr);
      if (last_validation) line["val_nll"] = last_validation->nll;
      log_metrics(line.dump());
      window_start = now;
      window_pairs = 0;
      loss_sum = 0;
      loss_count = 0;
    }
    if (result.stop_requested) {
      summary.stopped_early = true;
      if (rank0)
        log_ << "stop requested (signal): saving and exiting at step " << step + 1 << std::endl;
      break;
    }
    if (!last && ((config_.ckpt_every > 0 && (step + 1) % config_.ckpt_every == 0) ||
                  result.checkpoint_requested)) {
      watchdog.arm(step);
      summary.checkpoint = save_checkpoint(step + 1);
      watchdog.disarm();
      saved_step = step + 1;
      last_save = std::chrono::steady_clock::now();
    }
  }
  summary.validation = last_validation;
  if (saved_step != summary.steps) {
    watchdog.arm(summary.steps);
    summary.checkpoint = save_checkpoint(summary.steps);
    watchdog.disarm();
  } else if (summary.checkpoint.empty()) {
    summary.checkpoint = io::step_directory(config_.ckpt_dir, summary.steps);
  }
  return summary;
}

}  // namespace vrf::launch
