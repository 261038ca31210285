// io/checkpoint_directory.cpp — checkpoint layout, manifest, validation, discovery and pruning.
#include "io/checkpoint_directory.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/errors.h"
#include "io/tensor_file.h"

namespace fs = std::filesystem;

namespace vrf::io {
namespace {

template <typename T>
T field(const nlohmann::json& json, const char* key, const std::string& where) {
  if (!json.contains(key)) throw DataError(where + ": the manifest has no \"" + key + "\"");
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw DataError(where + ": the manifest's \"" + key + "\" has the wrong type");
  }
}

}  // namespace

nlohmann::json CheckpointManifest::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : files) {
    nlohmann::json entry = {{"name", f.name}, {"bytes", f.bytes}, {"digest", f.digest}};
    if (f.user_begin >= 0) entry["users"] = {f.user_begin, f.user_end};
    list.push_back(entry);
  }
  return {{"format", "vrf-checkpoint"}, {"version", 1},   {"step", step},     {"epoch", epoch},
          {"world_size", world_size},   {"store", store}, {"config", config}, {"files", list}};
}

CheckpointManifest CheckpointManifest::from_json(const nlohmann::json& json,
                                                 const std::string& where) {
  if (!json.is_object() || json.value("format", "") != "vrf-checkpoint") {
    throw DataError(where + ": not a vrf checkpoint manifest (\"format\" is not vrf-checkpoint)");
  }
  if (field<int64_t>(json, "version", where) != 1) {
    throw DataError(where + ": checkpoint format version " +
                    std::to_string(field<int64_t>(json, "version", where)) +
                    " is not supported (this vrf reads version 1)");
  }
  CheckpointManifest m;
  m.step = field<int64_t>(json, "step", where);
  m.epoch = field<int64_t>(json, "epoch", where);
  m.world_size = field<int64_t>(json, "world_size", where);
  m.store = json.value("store", nlohmann::json::object());
  m.config = json.value("config", nlohmann::json::object());
  for (const auto& entry : field<nlohmann::json>(json, "files", where)) {
    CheckpointFileEntry f;
    f.name = field<std::string>(entry, "name", where);
    f.bytes = field<int64_t>(entry, "bytes", where);
    f.digest = field<std::string>(entry, "digest", where);
    if (entry.contains("users")) {
      const auto users = field<std::vector<int64_t>>(entry, "users", where);
      if (users.size() != 2) throw DataError(where + ": " + f.name + ": \"users\" needs 2 values");
      f.user_begin = users[0];
      f.user_end = users[1];
    }
    m.files.push_back(f);
  }
  return m;
}

std::vector<CheckpointFileEntry> CheckpointManifest::users_files() const {
  std::vector<CheckpointFileEntry> users;
  for (const auto& f : files) {
    if (f.name.rfind("users-", 0) == 0) users.push_back(f);
  }
  return users;
}

std::string step_directory(const std::string& ckpt_dir, int64_t step) {
  return (fs::path(ckpt_dir) / ("step-" + std::to_string(step))).string();
}

std::string users_file_name(int64_t rank, int64_t world_size) {
  return "users-" + std::to_string(rank) + "-of-" + std::to_string(world_size) + ".h5";
}

std::vector<std::pair<int64_t, std::string>> list_step_directories(const std::string& ckpt_dir) {
  std::vector<std::pair<int64_t, std::string>> steps;
  std::error_code error;
  if (!fs::is_directory(ckpt_dir, error)) return steps;
  static const std::regex name("step-([0-9]{1,18})");
  for (const auto& entry : fs::directory_iterator(ckpt_dir)) {
    std::smatch match;
    const std::string file = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(file, match, name)) {
      steps.emplace_back(std::stoll(match[1].str()), entry.path().string());
    }
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

bool is_committed(const std::string& step_dir) {
  return fs::is_regular_file(fs::path(step_dir) / kManifestName);
}

uint64_t content_digest(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw DataError(path + ": cannot open (" + std::strerror(errno) + ")");
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  uint64_t hash = 0xcbf29ce484222325ULL, length = 0;
  std::vector<uint64_t> buffer(1 << 17);  // 1 MiB
  size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size() * 8, file)) > 0) {
    if (got % 8 != 0) std::memset(reinterpret_cast<char*>(buffer.data()) + got, 0, 8 - got % 8);
    for (size_t i = 0; i < (got + 7) / 8; ++i) {
      hash = (hash ^ buffer[i]) * kPrime;
      hash ^= hash >> 29;  // fold high bits down: a multiply only carries differences upward
    }
    length += got;
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) throw DataError(path + ": read error while computing its digest");
  return (hash ^ length) * kPrime;
}

std::string digest_hex(uint64_t digest) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(digest));
  return text;
}

void write_manifest(const std::string& step_dir, const CheckpointManifest& manifest) {
  const std::string path = (fs::path(step_dir) / kManifestName).string();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << manifest.to_json().dump(2) << "\n";
    if (!out.flush()) throw DataError(tmp + ": cannot write the checkpoint manifest");
  }
  fsync_path(tmp);
  std::error_code error;
  fs::rename(tmp, path, error);
  if (error) throw DataError(path + ": cannot rename " + tmp + " (" + error.message() + ")");
  fsync_path(step_dir);
}

CheckpointManifest validate_checkpoint(const std::string& step_dir) {
  const std::string path = (fs::path(step_dir) / kManifestName).string();
  if (!fs::is_regular_file(path)) {
    throw DataError(step_dir + ": not a committed checkpoint (no " + kManifestName +
                    "; a write was interrupted)");
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(std::ifstream(path));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": not valid JSON (" + e.what() + ")");
  }
  auto manifest = CheckpointManifest::from_json(json, path);
  bool has_shared = false;
  for (const auto& f : manifest.files) {
    const std::string file = (fs::path(step_dir) / f.name).string();
    std::error_code error;
    const auto bytes = fs::file_size(file, error);
    if (error) throw DataError(file + ": listed in the manifest but missing");
    if (static_cast<int64_t>(bytes) != f.bytes) {
      throw DataError(file + ": " + std::to_string(bytes) + " bytes, the manifest recorded " +
                      std::to_string(f.bytes) + " (truncated or overwritten)");
    }
    const std::string digest = digest_hex(content_digest(file));
    if (digest != f.digest) {
      throw DataError(file + ": content digest " + digest + " differs from the manifest's " +
                      f.digest + " (the file is corrupted)");
    }
    has_shared = has_shared || f.name == kSharedFileName;
  }
  if (!has_shared) throw DataError(path + ": lists no " + kSharedFileName);
  if (static_cast<int64_t>(manifest.users_files().size()) != manifest.world_size) {
    throw DataError(path + ": lists " + std::to_string(manifest.users_files().size()) +
                    " users files for world size " + std::to_string(manifest.world_size));
  }
  return manifest;
}

std::optional<FoundCheckpoint> find_newest_valid_checkpoint(const std::string& ckpt_dir) {
  auto steps = list_step_directories(ckpt_dir);
  std::vector<std::string> rejected;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if (!is_committed(it->second)) continue;  // torn: never loaded
    try {
      return FoundCheckpoint{it->second, validate_checkpoint(it->second), rejected};
    } catch (const DataError& e) {
      rejected.emplace_back(e.what());
    }
  }
  return std::nullopt;
}

FoundCheckpoint resolve_checkpoint(const std::string& path) {
  if (!fs::is_directory(path)) {
    throw DataError(path + ": no such checkpoint directory");
  }
  auto name = fs::path(path).lexically_normal();
  if (!name.has_filename()) name = name.parent_path();
  if (std::regex_match(name.filename().string(), std::regex("step-[0-9]+"))) {
    return FoundCheckpoint{path, validate_checkpoint(path), {}};
  }
  auto found = find_newest_valid_checkpoint(path);
  if (!found) {
    throw DataError(path + ": holds no committed, valid checkpoint (no step-<N>/" + kManifestName +
                    " that validates)");
  }
  return *found;
}

std::vector<std::string> prune_checkpoints(const std::string& ckpt_dir, int64_t keep_last,
                                           int64_t newest_step) {
  std::vector<std::string> removed;
  int64_t committed_kept = 0;
  const auto steps = list_step_directories(ckpt_dir);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    const auto& [step, dir] = *it;
    if (step > newest_step) continue;
    const bool committed = is_committed(dir);
    bool remove = false;
    if (committed) {
      remove = keep_last > 0 && ++committed_kept > keep_last;
    } else {
      remove = step < newest_step;
    }
    if (remove) {
      // The manifest goes first, so a half-deleted directory is never taken as committed.
      std::error_code error;
      fs::remove(fs::path(dir) / kManifestName, error);
      fs::remove_all(dir, error);
      removed.push_back(dir);
    }
  }
  return removed;
}

}  // namespace vrf::io
