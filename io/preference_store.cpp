// io/preference_store.cpp — PreferenceStore: opening, validation and reads.
#include "io/preference_store.h"

#include <c10/util/Half.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace vrf::io {
namespace {

std::string describe_type(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(size * 8);
    case H5T_FLOAT:
      return "float" + std::to_string(size * 8);
    case H5T_STRING:
      return "string";
    default:
      return "a non-numeric type";
  }
}

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

std::vector<int64_t> shape_of(hid_t dataset, const std::string& what) {
  Hdf5Handle space(VRF_H5_CHECK(H5Dget_space(dataset), what));
  const int rank = static_cast<int>(VRF_H5_CHECK(H5Sget_simple_extent_ndims(space.get()), what));
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  VRF_H5_CHECK(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), what);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

// A hyperslab [begin, end) along the first axis (all columns) of a dataset of `shape`.
Hdf5Handle row_selection(hid_t dataset, int64_t begin, int64_t end, const std::string& what) {
  Hdf5Handle space(VRF_H5_CHECK(H5Dget_space(dataset), what));
  const int rank = static_cast<int>(H5Sget_simple_extent_ndims(space.get()));
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  const hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  const hsize_t count[2] = {static_cast<hsize_t>(end - begin), dims[1]};
  VRF_H5_CHECK(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
               what);
  (void)rank;
  return space;
}

Hdf5Handle memory_space(int64_t rows, int64_t width, const std::string& what) {
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(width)};
  return Hdf5Handle(VRF_H5_CHECK(H5Screate_simple(width > 0 ? 2 : 1, dims, nullptr), what));
}

}  // namespace

PreferenceStore::PreferenceStore(const std::string& path) : path_(path) {
  silence_hdf5_errors();
  const auto fail = [&](const std::string& message) { throw DataError(path_ + ": " + message); };
  if (!std::ifstream(path_).good()) fail("cannot open the file (missing or unreadable)");
  if (H5Fis_hdf5(path_.c_str()) <= 0) {
    fail(
        "not an HDF5 file (wrong signature or truncated); expected a vrf preference store "
        "(io/FORMAT.md)");
  }
  const hid_t file = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) {
    H5Eclear2(H5E_DEFAULT);
    fail("HDF5 cannot open the file (truncated or corrupt); re-create or re-copy it");
  }
  file_ = Hdf5Handle(file);

  const auto read_attribute = [&](const char* name) {
    if (H5Aexists(file, name) <= 0) {
      fail(std::string("root attribute '") + name +
           "' is missing; not a vrf preference store (io/FORMAT.md)");
    }
    Hdf5Handle attribute(VRF_H5_CHECK(H5Aopen(file, name, H5P_DEFAULT), path_));
    Hdf5Handle type(VRF_H5_CHECK(H5Aget_type(attribute.get()), path_));
    if (H5Tget_class(type.get()) != H5T_INTEGER) {
      fail(std::string("root attribute '") + name + "' has type " + describe_type(type.get()) +
           "; expected an integer");
    }
    int64_t value = 0;
    VRF_H5_CHECK(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value), path_);
    return value;
  };
  const int64_t version = read_attribute(kVersionAttribute);
  if (version != kStoreFormatVersion) {
    fail("format version " + std::to_string(version) +
         " is not supported; this vrf reads version " + std::to_string(kStoreFormatVersion));
  }
  embedding_dim_ = read_attribute(kDimAttribute);
  if (embedding_dim_ <= 0) {
    fail("root attribute 'embedding_dim' is " + std::to_string(embedding_dim_) +
         "; expected a positive width");
  }

  // Each required dataset: present, of the right type class and rank.
  const auto require_int64 = [&](const char* name, int64_t length, int64_t cache_bytes = -1) {
    Hdf5Handle dataset = open_dataset(name, cache_bytes);
    Hdf5Handle type(VRF_H5_CHECK(H5Dget_type(dataset.get()), path_));
    if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 8 ||
        H5Tget_sign(type.get()) != H5T_SGN_2) {
      fail(std::string("dataset ") + name + " has type " + describe_type(type.get()) +
           "; expected int64");
    }
    const auto shape = shape_of(dataset.get(), path_);
    if (shape.size() != 1 || (length >= 0 && shape[0] != length)) {
      fail(std::string("dataset ") + name + " has shape " + describe_shape(shape) + "; expected [" +
           (length >= 0 ? std::to_string(length) : std::string("n")) + "]");
    }
    return std::make_pair(std::move(dataset), shape[0]);
  };

  // Pairs are read front to back in large ranges: no chunk cache, HDF5 reads straight into place.
  // Embedding rows are gathered in runs that revisit chunks: a cache of 64 MiB.
  embedding_ = open_dataset(kEmbeddingPath, int64_t{64} << 20);
  {
    Hdf5Handle type(VRF_H5_CHECK(H5Dget_type(embedding_.get()), path_));
    const size_t size = H5Tget_size(type.get());
    if (H5Tget_class(type.get()) != H5T_FLOAT || (size != 2 && size != 4)) {
      fail(std::string("dataset ") + kEmbeddingPath + " has type " + describe_type(type.get()) +
           "; expected float16 or float32");
    }
    dtype_ = size == 2 ? EmbeddingDtype::kFloat16 : EmbeddingDtype::kFloat32;
    const auto shape = shape_of(embedding_.get(), path_);
    if (shape.size() != 2 || shape[1] != embedding_dim_) {
      fail(std::string("dataset ") + kEmbeddingPath + " has shape " + describe_shape(shape) +
           "; expected [R, " + std::to_string(embedding_dim_) + "] (embedding_dim)");
    }
    num_responses_ = shape[0];
  }
  require_int64(kPromptPath, num_responses_);
  auto [chosen, num_pairs] = require_int64(kChosenPath, -1, 0);
  chosen_ = std::move(chosen);
  rejected_ = require_int64(kRejectedPath, num_pairs, 0).first;
  const int64_t num_users = require_int64(kUserIdPath, -1).second;
  require_int64(kOffsetsPath, num_users + 1);
  user_ids_ = read_int64(kUserIdPath, 0, num_users);
  offsets_ = read_int64(kOffsetsPath, 0, num_users + 1);

  const auto row_error = [&](const char* name, int64_t row, const std::string& message) {
    fail(std::string("dataset ") + name + " row " + std::to_string(row) + ": " + message);
  };
  for (int64_t i = 1; i < num_users; ++i) {
    if (user_ids_[i] <= user_ids_[i - 1]) {
      row_error(kUserIdPath, i,
                "id " + std::to_string(user_ids_[i]) + " does not exceed the previous id " +
                    std::to_string(user_ids_[i - 1]) +
                    "; ids must be strictly increasing (users sorted, each once)");
    }
  }
  if (offsets_[0] != 0) {
    row_error(kOffsetsPath, 0, "is " + std::to_string(offsets_[0]) + "; expected 0");
  }
  for (int64_t i = 1; i <= num_users; ++i) {
    if (offsets_[i] < offsets_[i - 1]) {
      row_error(kOffsetsPath, i,
                "offset " + std::to_string(offsets_[i]) + " is below the previous offset " +
                    std::to_string(offsets_[i - 1]) + "; offsets must not decrease");
    }
  }
  if (offsets_[num_users] != num_pairs) {
    row_error(kOffsetsPath, num_users,
              "the last offset is " + std::to_string(offsets_[num_users]) +
                  "; expected the number of pairs N = " + std::to_string(num_pairs));
  }
  if (H5Lexists(file, kNumContextPath, H5P_DEFAULT) > 0) {
    require_int64(kNumContextPath, num_users);
    num_context_ = read_int64(kNumContextPath, 0, num_users);
    for (int64_t i = 0; i < num_users; ++i) {
      const int64_t pairs = offsets_[i + 1] - offsets_[i];
      if (num_context_[i] < 0 || num_context_[i] > pairs) {
        row_error(kNumContextPath, i,
                  "num_context " + std::to_string(num_context_[i]) + " outside [0, " +
                      std::to_string(pairs) + "] (the user's pair count)");
      }
    }
  }
  has_truth_ = H5Lexists(file, kTruthGroup, H5P_DEFAULT) > 0;
}

Hdf5Handle PreferenceStore::open_dataset(const char* name, int64_t chunk_cache_bytes) const {
  // H5Lexists on "/a/b" fails when "/a" is missing: check each level.
  std::string prefix;
  std::istringstream parts(name);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    prefix += "/" + part;
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) {
      throw DataError(path_ + ": dataset " + name + " is missing (required by format version " +
                      std::to_string(kStoreFormatVersion) + ", io/FORMAT.md)");
    }
  }
  Hdf5Handle access(VRF_H5_CHECK(H5Pcreate(H5P_DATASET_ACCESS), path_));
  if (chunk_cache_bytes >= 0) {
    VRF_H5_CHECK(H5Pset_chunk_cache(access.get(), 1009, static_cast<size_t>(chunk_cache_bytes),
                                    H5D_CHUNK_CACHE_W0_DEFAULT),
                 path_);
  }
  return Hdf5Handle(VRF_H5_CHECK(H5Dopen2(file_.get(), name, access.get()), path_ + ": " + name));
}

std::vector<int64_t> PreferenceStore::read_int64(const char* name, int64_t begin,
                                                 int64_t end) const {
  std::vector<int64_t> values(static_cast<size_t>(end - begin));
  if (values.empty()) return values;
  Hdf5Handle dataset = open_dataset(name);
  const std::string what = path_ + ": " + name;
  Hdf5Handle file_space = row_selection(dataset.get(), begin, end, what);
  Hdf5Handle mem_space = memory_space(end - begin, 0, what);
  VRF_H5_CHECK(H5Dread(dataset.get(), H5T_NATIVE_INT64, mem_space.get(), file_space.get(),
                       H5P_DEFAULT, values.data()),
               what);
  return values;
}

void PreferenceStore::read_pairs(int64_t begin, int64_t end, std::vector<int64_t>& chosen,
                                 std::vector<int64_t>& rejected) const {
  if (begin < 0 || begin > end || end > num_pairs()) {
    throw DataError(path_ + ": pair range [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") outside [0, " + std::to_string(num_pairs()) + ")");
  }
  chosen.resize(static_cast<size_t>(end - begin));
  rejected.resize(chosen.size());
  if (chosen.empty()) return;
  // Read and check in pieces of about one chunk, so that the check finds each piece still in cache.
  constexpr int64_t kPieceRows = kChunkBytes / 8;
  for (auto [dataset, values, name] : {std::tuple{chosen_.get(), &chosen, kChosenPath},
                                       std::tuple{rejected_.get(), &rejected, kRejectedPath}}) {
    const std::string what = path_ + ": " + name;
    for (int64_t piece = begin; piece < end; piece += kPieceRows) {
      const int64_t piece_end = std::min(end, piece + kPieceRows);
      int64_t* out = values->data() + (piece - begin);
      Hdf5Handle file_space = row_selection(dataset, piece, piece_end, what);
      Hdf5Handle mem_space = memory_space(piece_end - piece, 0, what);
      VRF_H5_CHECK(
          H5Dread(dataset, H5T_NATIVE_INT64, mem_space.get(), file_space.get(), H5P_DEFAULT, out),
          what);
      // Negative indices become huge when unsigned: one branch-free compare covers [0, R).
      bool bad = false;
      for (int64_t i = 0; i < piece_end - piece; ++i) {
        bad |= static_cast<uint64_t>(out[i]) >= static_cast<uint64_t>(num_responses_);
      }
      if (!bad) continue;
      const auto* wrong = std::find_if(out, out + (piece_end - piece),
                                       [&](int64_t v) { return v < 0 || v >= num_responses_; });
      throw DataError(path_ + ": dataset " + name + " row " +
                      std::to_string(piece + (wrong - out)) + ": response index " +
                      std::to_string(*wrong) + " outside [0, " + std::to_string(num_responses_) +
                      ") (the rows of " + kEmbeddingPath + ")");
    }
  }
}

void PreferenceStore::read_embedding_block(int64_t begin, int64_t end, float* out) const {
  const std::string what = path_ + ": " + kEmbeddingPath;
  Hdf5Handle file_space = row_selection(embedding_.get(), begin, end, what);
  Hdf5Handle mem_space = memory_space(end - begin, embedding_dim_, what);
  const size_t count = static_cast<size_t>((end - begin) * embedding_dim_);
  if (dtype_ == EmbeddingDtype::kFloat16) {
    // Read the raw halves and widen them here: HDF5's soft float conversion is much slower.
    Hdf5Handle half = make_float16_type();
    std::vector<uint16_t> raw(count);
    VRF_H5_CHECK(H5Dread(embedding_.get(), half.get(), mem_space.get(), file_space.get(),
                         H5P_DEFAULT, raw.data()),
                 what);
    for (size_t i = 0; i < count; ++i) out[i] = c10::detail::fp16_ieee_to_fp32_value(raw[i]);
  } else {
    VRF_H5_CHECK(H5Dread(embedding_.get(), H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(),
                         H5P_DEFAULT, out),
                 what);
  }
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(out[i])) {
      const int64_t row = begin + static_cast<int64_t>(i) / embedding_dim_;
      throw DataError(path_ + ": dataset " + kEmbeddingPath + " row " + std::to_string(row) +
                      " column " + std::to_string(static_cast<int64_t>(i) % embedding_dim_) +
                      ": non-finite value " + std::to_string(out[i]) +
                      "; embeddings must be finite");
    }
  }
}

void PreferenceStore::read_embeddings(int64_t begin, int64_t end, float* out) const {
  if (begin < 0 || begin > end || end > num_responses_) {
    throw DataError(path_ + ": embedding rows [" + std::to_string(begin) + ", " +
                    std::to_string(end) + ") outside [0, " + std::to_string(num_responses_) + ")");
  }
  if (begin < end) read_embedding_block(begin, end, out);
}

void PreferenceStore::gather_embeddings(const std::vector<int64_t>& rows, float* out) const {
  size_t i = 0;
  while (i < rows.size()) {
    size_t j = i + 1;
    while (j < rows.size() && rows[j] == rows[j - 1] + 1) ++j;  // a run of consecutive rows
    read_embeddings(rows[i], rows[j - 1] + 1, out + i * static_cast<size_t>(embedding_dim_));
    i = j;
  }
}

std::vector<int64_t> PreferenceStore::read_prompts() const {
  return read_int64(kPromptPath, 0, num_responses_);
}

std::vector<double> PreferenceStore::read_truth(const std::string& name,
                                                std::vector<int64_t>& shape) const {
  const std::string full = std::string(kTruthGroup) + "/" + name;
  Hdf5Handle dataset = open_dataset(full.c_str());
  shape = shape_of(dataset.get(), path_);
  int64_t count = 1;
  for (auto s : shape) count *= s;
  std::vector<double> values(static_cast<size_t>(count));
  if (count > 0) {
    VRF_H5_CHECK(
        H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
        path_ + ": " + full);
  }
  return values;
}

std::vector<DatasetLayout> PreferenceStore::layout() const {
  std::vector<DatasetLayout> result;
  std::vector<std::string> names = {kEmbeddingPath, kPromptPath, kChosenPath,
                                    kRejectedPath,  kUserIdPath, kOffsetsPath};
  if (!num_context_.empty()) names.push_back(kNumContextPath);
  for (const auto& name : names) {
    Hdf5Handle dataset = open_dataset(name.c_str());
    DatasetLayout entry{name, shape_of(dataset.get(), path_), {}, false};
    Hdf5Handle create(VRF_H5_CHECK(H5Dget_create_plist(dataset.get()), path_));
    if (H5Pget_layout(create.get()) == H5D_CHUNKED) {
      hsize_t chunk[2] = {0, 0};
      const int rank = H5Pget_chunk(create.get(), 2, chunk);
      entry.chunk.assign(chunk, chunk + std::max(rank, 0));
    }
    const int filters = H5Pget_nfilters(create.get());
    for (int f = 0; f < filters; ++f) {
      unsigned flags = 0;
      size_t elements = 0;
      unsigned config = 0;
      if (H5Pget_filter2(create.get(), static_cast<unsigned>(f), &flags, &elements, nullptr, 0,
                         nullptr, &config) == H5Z_FILTER_DEFLATE) {
        entry.compressed = true;
      }
    }
    result.push_back(std::move(entry));
  }
  return result;
}

}  // namespace vrf::io
