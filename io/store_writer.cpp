// io/store_writer.cpp — StoreWriter.
#include "io/store_writer.h"

#include <c10/util/Half.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/errors.h"

namespace vrf::io {
namespace {

void write_int64_attribute(hid_t file, const char* name, int64_t value, const std::string& what) {
  Hdf5Handle space(VRF_H5_CHECK(H5Screate(H5S_SCALAR), what));
  Hdf5Handle attribute(VRF_H5_CHECK(
      H5Acreate2(file, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), what));
  VRF_H5_CHECK(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), what);
}

void create_group(hid_t file, const char* name, const std::string& what) {
  if (H5Lexists(file, name, H5P_DEFAULT) > 0) return;
  Hdf5Handle create(VRF_H5_CHECK(H5Pcreate(H5P_GROUP_CREATE), what));
  VRF_H5_CHECK(H5Pset_obj_track_times(create.get(), 0), what);  // reproducible bytes
  Hdf5Handle group(
      VRF_H5_CHECK(H5Gcreate2(file, name, H5P_DEFAULT, create.get(), H5P_DEFAULT), what));
}

}  // namespace

StoreWriter::StoreWriter(std::string path, const StoreWriterOptions& options)
    : path_(std::move(path)), partial_path_(path_ + ".partial"), options_(options) {
  if (options.embedding_dim <= 0) {
    throw ConfigError(path_ + ": embedding dimension must be positive; got " +
                      std::to_string(options.embedding_dim));
  }
  if (!options.overwrite && std::filesystem::exists(path_)) {
    throw ConfigError(path_ + " already exists; pass --force to overwrite it");
  }
  silence_hdf5_errors();
  file_ = Hdf5Handle(VRF_H5_CHECK(
      H5Fcreate(partial_path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), partial_path_));
  const hid_t file = file_.get();
  for (const char* group : {"/responses", "/pairs", "/users"}) create_group(file, group, path_);
  const bool compress = options.compress;
  const int64_t d = options.embedding_dim;
  if (options.dtype == EmbeddingDtype::kFloat16) {
    float16_type_ = make_float16_type();
    embedding_ = std::make_unique<AppendableDataset>(file, kEmbeddingPath, float16_type_.get(),
                                                     float16_type_.get(), d, compress,
                                                     options.expected_responses);
  } else {
    embedding_ =
        std::make_unique<AppendableDataset>(file, kEmbeddingPath, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                            d, compress, options.expected_responses);
  }
  const auto int64_dataset = [&](const char* name, int64_t expected_rows) {
    return std::make_unique<AppendableDataset>(file, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0,
                                               compress, expected_rows);
  };
  prompt_ = int64_dataset(kPromptPath, options.expected_responses);
  chosen_ = int64_dataset(kChosenPath, options.expected_pairs);
  rejected_ = int64_dataset(kRejectedPath, options.expected_pairs);
  if (options.with_num_context) {
    num_context_ = int64_dataset(kNumContextPath, options.expected_users);
  }
}

StoreWriter::~StoreWriter() {
  if (finished_) return;
  file_ = Hdf5Handle();
  std::error_code ignored;
  std::filesystem::remove(partial_path_, ignored);
}

void StoreWriter::add_responses(const float* embeddings, const int64_t* prompts, int64_t count) {
  if (options_.dtype == EmbeddingDtype::kFloat16) {
    half_buffer_.resize(static_cast<size_t>(count * options_.embedding_dim));
    for (size_t i = 0; i < half_buffer_.size(); ++i) half_buffer_[i] = c10::Half(embeddings[i]).x;
    embedding_->append(half_buffer_.data(), count);
  } else {
    embedding_->append(embeddings, count);
  }
  prompt_->append(prompts, count);
}

void StoreWriter::add_user(int64_t id, const int64_t* chosen, const int64_t* rejected,
                           int64_t num_pairs, int64_t num_context) {
  if (!ids_.empty() && id <= ids_.back()) {
    throw DataError(path_ + ": users must be added in strictly increasing id order; got " +
                    std::to_string(id) + " after " + std::to_string(ids_.back()));
  }
  if (num_context_ != nullptr) {
    if (num_context < 0 || num_context > num_pairs) {
      throw DataError(path_ + ": user " + std::to_string(id) + " has num_context " +
                      std::to_string(num_context) + " outside [0, " + std::to_string(num_pairs) +
                      "]");
    }
    num_context_->append(&num_context, 1);
  }
  chosen_->append(chosen, num_pairs);
  rejected_->append(rejected, num_pairs);
  ids_.push_back(id);
  offsets_.push_back(offsets_.back() + num_pairs);
}

void StoreWriter::add_truth_rows(const std::string& name, const double* rows, int64_t count,
                                 int64_t width) {
  auto& dataset = truth_[name];
  if (dataset == nullptr) {
    create_group(file_.get(), kTruthGroup, path_);
    // Truth rows are per response or per user; the larger count bounds the chunk.
    const int64_t expected = std::max(options_.expected_responses, options_.expected_users);
    dataset = std::make_unique<AppendableDataset>(
        file_.get(), std::string(kTruthGroup) + "/" + name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
        width, options_.compress, expected);
  }
  dataset->append(rows, count);
}

void StoreWriter::set_user_names(std::vector<std::string> names) { names_ = std::move(names); }

std::string StoreWriter::finish() {
  for (auto* dataset :
       {embedding_.get(), prompt_.get(), chosen_.get(), rejected_.get(), num_context_.get()}) {
    if (dataset != nullptr) dataset->flush();
  }
  for (auto& [name, dataset] : truth_) dataset->flush();
  const auto write_all = [&](const char* name, const std::vector<int64_t>& values) {
    AppendableDataset dataset(file_.get(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, 0,
                              options_.compress, static_cast<int64_t>(values.size()));
    dataset.append(values.data(), static_cast<int64_t>(values.size()));
    dataset.flush();
  };
  write_all(kUserIdPath, ids_);
  write_all(kOffsetsPath, offsets_);
  if (!names_.empty()) {
    if (names_.size() != ids_.size()) {
      throw DataError(path_ + ": " + std::to_string(names_.size()) + " user names for " +
                      std::to_string(ids_.size()) + " users");
    }
    Hdf5Handle type(VRF_H5_CHECK(H5Tcopy(H5T_C_S1), path_));
    VRF_H5_CHECK(H5Tset_size(type.get(), H5T_VARIABLE), path_);
    VRF_H5_CHECK(H5Tset_cset(type.get(), H5T_CSET_UTF8), path_);
    std::vector<const char*> pointers;
    for (const auto& n : names_) pointers.push_back(n.c_str());
    AppendableDataset dataset(file_.get(), kUserNamePath, type.get(), type.get(), 0, false,
                              static_cast<int64_t>(pointers.size()));
    dataset.append(pointers.data(), static_cast<int64_t>(pointers.size()));
    dataset.flush();
  }
  write_int64_attribute(file_.get(), kVersionAttribute, kStoreFormatVersion, path_);
  write_int64_attribute(file_.get(), kDimAttribute, options_.embedding_dim, path_);
  embedding_.reset();
  prompt_.reset();
  chosen_.reset();
  rejected_.reset();
  num_context_.reset();
  truth_.clear();
  VRF_H5_CHECK(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL), path_);
  file_ = Hdf5Handle();
  std::filesystem::rename(partial_path_, path_);
  finished_ = true;
  return path_;
}

}  // namespace vrf::io
