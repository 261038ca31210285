// io/store_writer.h — streams one preference store (format version 1, io/FORMAT.md) to disk.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/appendable_dataset.h"
#include "io/store_format.h"

namespace vrf::io {

struct StoreWriterOptions {
  int64_t embedding_dim = 0;  // D
  EmbeddingDtype dtype = EmbeddingDtype::kFloat32;
  bool compress = false;          // shuffle + deflate(4) on every dataset
  bool with_num_context = false;  // write /users/num_context (stores of new users)
  bool overwrite = false;         // replace an existing file (--force)
  // Sizes when known in advance (0 = unknown): they only shrink the chunks of small datasets.
  int64_t expected_responses = 0, expected_pairs = 0, expected_users = 0;
};

// Appends responses and users in order (users by strictly increasing id, each with its pairs)
// with memory bounded by one chunk per dataset plus 16 bytes per user (ids and offsets). The file
// is written as "<path>.partial" and renamed to `path` by finish(), so a crash never leaves a
// half-written store under the real name. Not thread-safe.
class StoreWriter {
 public:
  // Throws vrf::ConfigError when `path` exists and !options.overwrite.
  StoreWriter(std::string path, const StoreWriterOptions& options);
  ~StoreWriter();  // without finish(): removes the partial file
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // embeddings: [count, D] row-major float32 (converted to the store dtype); prompts: [count].
  void add_responses(const float* embeddings, const int64_t* prompts, int64_t count);
  // One user's pairs (indices into the responses). num_context is required (>= 0) exactly when
  // the options ask for /users/num_context.
  void add_user(int64_t id, const int64_t* chosen, const int64_t* rejected, int64_t num_pairs,
                int64_t num_context = -1);
  // Appends rows of the float64 dataset /truth/<name> ([rows] when width == 0, else
  // [rows, width]); created on first use.
  void add_truth_rows(const std::string& name, const double* rows, int64_t count, int64_t width);
  // Optional /users/name (external string ids, one per user, written at finish()).
  void set_user_names(std::vector<std::string> names);

  // Writes the user index and attributes, closes and renames. Returns the final path.
  std::string finish();

  int64_t num_responses() const { return embedding_->rows(); }
  int64_t num_users() const { return static_cast<int64_t>(ids_.size()); }
  int64_t num_pairs() const { return offsets_.back(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_, partial_path_;
  StoreWriterOptions options_;
  Hdf5Handle file_, float16_type_;
  std::unique_ptr<AppendableDataset> embedding_, prompt_, chosen_, rejected_, num_context_;
  std::map<std::string, std::unique_ptr<AppendableDataset>> truth_;
  std::vector<int64_t> ids_, offsets_{0};
  std::vector<std::string> names_;
  std::vector<uint16_t> half_buffer_;
  bool finished_ = false;
};

}  // namespace vrf::io
