// io/checkpoint_directory.h — the on-disk layout of checkpoints (DESIGN.md section 4,
// io/FORMAT.md): step directories, the manifest that commits them (with every file's size and
// content digest), validation, discovery of the newest valid checkpoint, and pruning.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vrf::io {

inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kSharedFileName = "shared.h5";

struct CheckpointFileEntry {
  std::string name;                        // relative to the step directory
  int64_t bytes = 0;                       // file size
  std::string digest;                      // content_digest() as 16 hex digits
  int64_t user_begin = -1, user_end = -1;  // users-<r>-of-<W>.h5: the global user rows it holds
};

// The commit marker of a step directory, written last by rank 0.
struct CheckpointManifest {
  int64_t step = 0;        // optimizer steps taken when it was written
  int64_t epoch = 0;       // the data epoch rank 0's stream was in
  int64_t world_size = 0;  // ranks (users files) that wrote it
  nlohmann::json config;   // the resolved training configuration
  nlohmann::json store;    // shape of the training store: users, pairs, embedding_dim
  std::vector<CheckpointFileEntry> files;

  nlohmann::json to_json() const;
  // Throws vrf::DataError naming `where` when a field is missing or has the wrong type.
  static CheckpointManifest from_json(const nlohmann::json& json, const std::string& where);
  // The users files in rank order (those whose name starts with "users-").
  std::vector<CheckpointFileEntry> users_files() const;
};

std::string step_directory(const std::string& ckpt_dir, int64_t step);  // <ckpt_dir>/step-<N>
std::string users_file_name(int64_t rank, int64_t world_size);          // users-<r>-of-<W>.h5

// Every step-<N> directory under ckpt_dir (committed or not), by ascending N; none when ckpt_dir
// does not exist.
std::vector<std::pair<int64_t, std::string>> list_step_directories(const std::string& ckpt_dir);
bool is_committed(const std::string& step_dir);  // its manifest exists

// A 64-bit digest of a file's bytes (FNV-1a over 8-byte words with an
// xor-shift fold after each, then the length): detects torn or
// corrupted files, not tampering. Throws vrf::DataError naming the file when it cannot be read.
uint64_t content_digest(const std::string& path);
std::string digest_hex(uint64_t digest);

// Writes the manifest atomically (temporary name, fsync, rename, fsync of the directory).
void write_manifest(const std::string& step_dir, const CheckpointManifest& manifest);
// Reads the manifest and checks every file it lists: present, of the recorded size and digest.
// Throws vrf::DataError naming the step directory and the file at fault.
CheckpointManifest validate_checkpoint(const std::string& step_dir);

struct FoundCheckpoint {
  std::string dir;
  CheckpointManifest manifest;
  std::vector<std::string> rejected;  // newer committed checkpoints that failed validation, why
};

// The newest committed step directory under ckpt_dir that validates; nullopt when there is none.
// Directories without a manifest are never considered.
std::optional<FoundCheckpoint> find_newest_valid_checkpoint(const std::string& ckpt_dir);
// `path` is a step directory (it must be committed and valid) or a checkpoint directory (its newest
// valid step). Throws vrf::DataError saying what is wrong with `path` otherwise.
FoundCheckpoint resolve_checkpoint(const std::string& path);

// Deletes committed step directories older than the newest `keep_last` (0 keeps all), and
// uncommitted ones older than `newest_step` (torn writes of killed runs). Call only after the
// newest manifest is durable. Returns the directories removed.
std::vector<std::string> prune_checkpoints(const std::string& ckpt_dir, int64_t keep_last,
                                           int64_t newest_step);

}  // namespace vrf::io
