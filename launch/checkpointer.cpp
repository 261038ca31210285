// launch/checkpointer.cpp — Checkpointer.
#include "launch/checkpointer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "core/errors.h"
#include "distributed/rank_agreement.h"
#include "io/tensor_file.h"

namespace fs = std::filesystem;

namespace vrf::launch {
namespace {

torch::Tensor cpu_generator_state() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_cpu_generator_state(const torch::Tensor& state) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// Fault injection for the checkpoint fault tests: VRF_TEST_KILL_AT="<point>:<rank>:<step>" makes
// that rank SIGKILL itself at that point of writing that step. Points: users-written (its users
// file is durable, the manifest not yet written), shared-written (rank 0: shared.h5 durable, no
// manifest), committed (rank 0: manifest durable, older checkpoints not yet pruned).
void kill_if_asked(const char* point, int64_t rank, int64_t step) {
  const char* spec = std::getenv("VRF_TEST_KILL_AT");
  if (spec != nullptr && std::string(spec) == std::string(point) + ":" + std::to_string(rank) +
                                                  ":" + std::to_string(step)) {
    std::cerr << "[rank " << rank << "] VRF_TEST_KILL_AT: killing myself at " << spec << std::endl;
    std::raise(SIGKILL);
  }
}

// The model settings that fix parameter shapes and meaning.
nlohmann::json model_shape(const nlohmann::json& config) {
  nlohmann::json shape;
  if (!config.contains("model")) return shape;
  for (const char* key : {"kind", "input_dim", "bases", "latent_dim", "hidden", "basis_hidden",
                          "aggregator", "learn_temperature"}) {
    if (config["model"].contains(key)) shape[key] = config["model"][key];
  }
  return shape;
}

}  // namespace

Checkpointer::Checkpointer(std::string ckpt_dir, int64_t keep_last, nlohmann::json config,
                           nlohmann::json store, dist::Communicator& communicator)
    : ckpt_dir_(std::move(ckpt_dir)),
      keep_last_(keep_last),
      config_(std::move(config)),
      store_(std::move(store)),
      communicator_(communicator) {}

SavedCheckpoint Checkpointer::save(int64_t step, const io::StreamCursor& cursor,
                                   const TrainingStep& training, const PosteriorTable& posterior,
                                   int64_t user_begin, int64_t user_end) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t rank = communicator_.rank(), world = communicator_.size();
  const std::string dir = io::step_directory(ckpt_dir_, step);
  const std::string where = "checkpoint " + dir;
  // Rank 0 clears a torn leftover of an earlier run at this step, then everyone writes.
  int64_t ok = 1;
  if (rank == 0) {
    try {
      fs::remove_all(dir);
      fs::create_directories(dir);
    } catch (const std::exception& e) {
      dist::write_error_line("[rank 0] error: " + where + ": " + e.what());
      ok = 0;
    }
  }
  auto created = torch::tensor({ok}, torch::kInt64);
  communicator_.broadcast_(created, 0);
  if (created.item<int64_t>() == 0) {
    throw dist::AgreedFailure(where + ": cannot create the directory", 1);
  }

  // Every rank: its users file; rank 0 then shared.h5, which needs no other rank. Status
  // [ok, begin, end, bytes, digest] of the users files gathered by everyone.
  const std::string users_name = io::users_file_name(rank, world);
  io::WrittenFile users_file, shared_file;
  try {
    io::NamedTensors tensors = {
        {"/range", torch::tensor({user_begin, user_end}, torch::kInt64)},
        {"/cursor", torch::tensor({cursor.epoch, cursor.position}, torch::kInt64)},
        {"/rng/torch_cpu", cpu_generator_state()},
        {"/posterior/mean", posterior.mean},
        {"/posterior/logvar", posterior.logvar},
        {"/posterior/seen", posterior.seen}};
    if (const auto* table = training.user_table()) {
      tensors.emplace_back("/user_params/values", table->values());
      tensors.emplace_back("/user_params/first_moment", table->first_moment());
      tensors.emplace_back("/user_params/second_moment", table->second_moment());
      tensors.emplace_back("/user_params/steps", table->steps());
    }
    users_file = io::write_tensor_file((fs::path(dir) / users_name).string(), tensors);
    kill_if_asked("users-written", rank, step);
    if (rank == 0) {
      io::NamedTensors shared = training.shared_state();
      shared.emplace_back("/state/step", torch::tensor({step}, torch::kInt64));
      shared.emplace_back("/state/epoch", torch::tensor({cursor.epoch}, torch::kInt64));
      shared.emplace_back("/state/world_size", torch::tensor({world}, torch::kInt64));
      shared_file = io::write_tensor_file(
          (fs::path(dir) / io::kSharedFileName).string(), shared,
          {{"format", "vrf-checkpoint-shared 1"}, {"config", config_.dump()}});
      kill_if_asked("shared-written", rank, step);
    }
  } catch (const std::exception& e) {
    dist::write_error_line("[rank " + std::to_string(rank) + "] error: " + where + ": " + e.what());
    ok = 0;
  }
  auto status = communicator_.all_gather(torch::tensor(
      {ok, user_begin, user_end, users_file.bytes, static_cast<int64_t>(users_file.digest)},
      torch::kInt64));
  status = status.reshape({world, 5});
  for (int64_t r = 0; r < world; ++r) {
    if (status[r][0].item<int64_t>() == 0) {
      throw dist::AgreedFailure(
          where + ": rank " + std::to_string(r) +
              " could not write its checkpoint file(s) (its error is above); the checkpoint is "
              "left uncommitted",
          1);
    }
  }

  // Rank 0: the manifest (the commit marker), then pruning.
  if (rank == 0) {
    try {
      io::CheckpointManifest manifest;
      manifest.step = step;
      manifest.epoch = cursor.epoch;
      manifest.world_size = world;
      manifest.config = config_;
      manifest.store = store_;
      io::CheckpointFileEntry shared_entry;
      shared_entry.name = io::kSharedFileName;
      shared_entry.bytes = shared_file.bytes;
      shared_entry.digest = io::digest_hex(shared_file.digest);
      manifest.files.push_back(shared_entry);
      for (int64_t r = 0; r < world; ++r) {
        io::CheckpointFileEntry entry;
        entry.name = io::users_file_name(r, world);
        entry.user_begin = status[r][1].item<int64_t>();
        entry.user_end = status[r][2].item<int64_t>();
        entry.bytes = status[r][3].item<int64_t>();
        entry.digest = io::digest_hex(static_cast<uint64_t>(status[r][4].item<int64_t>()));
        manifest.files.push_back(entry);
      }
      io::write_manifest(dir, manifest);
      kill_if_asked("committed", rank, step);
    } catch (const std::exception& e) {
      dist::write_error_line("[rank 0] error: " + where + ": " + e.what());
      ok = 0;
    }
    try {
      if (ok) io::prune_checkpoints(ckpt_dir_, keep_last_, step);
    } catch (const std::exception& e) {  // the new checkpoint is committed all the same
      dist::write_error_line("[rank 0] warning: --keep-last " + std::to_string(keep_last_) +
                             ": cannot delete older checkpoints: " + e.what());
    }
  }
  auto committed = torch::tensor({ok}, torch::kInt64);
  communicator_.broadcast_(committed, 0);
  if (committed.item<int64_t>() == 0) {
    throw dist::AgreedFailure(where +
                                  ": rank 0 could not write the manifest (its error is "
                                  "above); the checkpoint is left uncommitted",
                              1);
  }
  SavedCheckpoint saved;
  saved.dir = dir;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) saved.bytes += static_cast<int64_t>(entry.file_size());
  }
  saved.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return saved;
}

RestoredCheckpoint Checkpointer::restore(const io::FoundCheckpoint& found, TrainingStep& training,
                                         int64_t user_begin, int64_t user_end,
                                         uint64_t seed) const {
  const auto& manifest = found.manifest;
  const std::string where = "checkpoint " + found.dir;
  if (manifest.store != store_) {
    throw DataError(where + " was written for a training store of shape " + manifest.store.dump() +
                    " but --train has shape " + store_.dump() +
                    "; resume with the same store or start fresh (--resume never)");
  }
  const auto saved_model = model_shape(manifest.config), this_model = model_shape(config_);
  if (saved_model != this_model) {
    throw DataError(where + " holds a model " + saved_model.dump() + " but this run configures " +
                    this_model.dump() +
                    "; use the same model flags or start fresh (--resume never)");
  }
  const std::string shared = (fs::path(found.dir) / io::kSharedFileName).string();
  io::NamedTensors state;
  for (const char* group : {"/params", "/buffers", "/optimizer"}) {
    for (auto& [name, tensor] : io::read_tensor_file(shared, group)) {
      state.emplace_back(std::string(group) + "/" + name, tensor);
    }
  }
  training.load_shared_state(state, shared);

  RestoredCheckpoint restored;
  restored.step = manifest.step;
  const int64_t rank = communicator_.rank(), world = communicator_.size();
  const auto files = manifest.users_files();
  restored.resharded = manifest.world_size != world || files[rank].user_begin != user_begin ||
                       files[rank].user_end != user_end;
  int64_t covered = 0, min_epoch = std::numeric_limits<int64_t>::max();
  for (const auto& file : files) {
    const std::string path = (fs::path(found.dir) / file.name).string();
    if (restored.resharded) {
      min_epoch = std::min(min_epoch, io::read_tensor_rows(path, "/cursor", 0, 1).item<int64_t>());
    }
    const int64_t lo = std::max(user_begin, file.user_begin);
    const int64_t hi = std::min(user_end, file.user_end);
    if (lo >= hi) continue;
    covered += hi - lo;
    if (auto* table = training.user_table()) {
      const auto rows = [&](const char* name) {
        return io::read_tensor_rows(path, std::string("/user_params/") + name, lo - file.user_begin,
                                    hi - file.user_begin);
      };
      table->assign_rows(lo - user_begin, rows("values"), rows("first_moment"),
                         rows("second_moment"), rows("steps"));
    }
  }
  if (covered != user_end - user_begin) {
    throw DataError(where + ": its users files cover " + std::to_string(covered) +
                    " of this rank's " + std::to_string(user_end - user_begin) + " users [" +
                    std::to_string(user_begin) + ", " + std::to_string(user_end) + ")");
  }
  if (restored.resharded) {
    restored.cursor = {min_epoch, 0};
    torch::manual_seed(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(manifest.step + 1)) ^
                       static_cast<uint64_t>(rank));
  } else {
    const std::string own = (fs::path(found.dir) / files[rank].name).string();
    const auto cursor = io::read_tensor_rows(own, "/cursor", 0, 2);
    restored.cursor = {cursor[0].item<int64_t>(), cursor[1].item<int64_t>()};
    set_cpu_generator_state(
        io::read_tensor_rows(own, "/rng/torch_cpu", 0, cpu_generator_state().numel()));
  }
  return restored;
}

}  // namespace vrf::launch
