// io/preference_store.h — read access to one preference store, validated on open and as it is
// read (io/FORMAT.md).
#pragma once

#include <string>
#include <vector>

#include "io/hdf5_handle.h"
#include "io/store_format.h"

namespace vrf::io {

// How a dataset is laid out on disk (for `vrf data inspect`).
struct DatasetLayout {
  std::string path;
  std::vector<int64_t> shape;
  std::vector<int64_t> chunk;  // empty when contiguous
  bool compressed = false;     // a deflate filter is present
};

// Opening checks everything that can be checked from metadata and the user index: HDF5
// signature, format version, embedding_dim, required datasets with their dtypes and shapes, user
// ids strictly increasing, offsets from 0, non-decreasing, ending at N, num_context in range.
// Pair indices are checked to lie in [0, R) and embeddings to be finite as they are read, chunk by
// chunk. Every failure is a vrf::DataError naming the file, the dataset, the row and what was
// expected. The user index (16 bytes per user) is held in memory.
// Not thread-safe: use one PreferenceStore per thread, or one thread at a time.
class PreferenceStore {
 public:
  explicit PreferenceStore(const std::string& path);

  const std::string& path() const { return path_; }
  int64_t num_users() const { return static_cast<int64_t>(user_ids_.size()); }
  int64_t num_pairs() const { return offsets_.back(); }
  int64_t num_responses() const { return num_responses_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  EmbeddingDtype dtype() const { return dtype_; }
  const std::vector<int64_t>& user_ids() const { return user_ids_; }
  const std::vector<int64_t>& offsets() const { return offsets_; }  // [U + 1]
  bool has_num_context() const { return !num_context_.empty() || num_users() == 0; }
  const std::vector<int64_t>& num_context() const { return num_context_; }
  bool has_truth() const { return has_truth_; }

  // Pairs [begin, end) into chosen / rejected (resized); throws DataError on an index outside
  // [0, R), naming the pair row.
  void read_pairs(int64_t begin, int64_t end, std::vector<int64_t>& chosen,
                  std::vector<int64_t>& rejected) const;
  // Embedding rows [begin, end) as float32 into out ([end - begin, D]); throws on non-finite.
  void read_embeddings(int64_t begin, int64_t end, float* out) const;
  // The given rows (sorted, unique) into out ([rows.size(), D]); consecutive rows are read as one
  // hyperslab. Throws on non-finite values.
  void gather_embeddings(const std::vector<int64_t>& rows, float* out) const;
  std::vector<int64_t> read_prompts() const;
  // A float64 dataset under /truth (e.g. "user_weights"): values and shape.
  std::vector<double> read_truth(const std::string& name, std::vector<int64_t>& shape) const;
  // Every dataset's shape, chunking and compression.
  std::vector<DatasetLayout> layout() const;

 private:
  // chunk_cache_bytes: HDF5's chunk cache for this dataset; -1 keeps the library default.
  Hdf5Handle open_dataset(const char* name, int64_t chunk_cache_bytes = -1) const;
  std::vector<int64_t> read_int64(const char* name, int64_t begin, int64_t end) const;
  void read_embedding_block(int64_t begin, int64_t end, float* out) const;

  std::string path_;
  Hdf5Handle file_, embedding_, chosen_, rejected_;
  int64_t embedding_dim_ = 0, num_responses_ = 0;
  EmbeddingDtype dtype_ = EmbeddingDtype::kFloat32;
  std::vector<int64_t> user_ids_, offsets_, num_context_;
  bool has_truth_ = false;
};

}  // namespace vrf::io
