// io/appendable_dataset.cpp — AppendableDataset.
#include "io/appendable_dataset.h"

#include <algorithm>
#include <cstring>

#include "io/store_format.h"

namespace vrf::io {

AppendableDataset::AppendableDataset(hid_t file, const std::string& path, hid_t file_type,
                                     hid_t mem_type, int64_t width, bool compress,
                                     int64_t expected_rows)
    : path_(path),
      mem_type_(VRF_H5_CHECK(H5Tcopy(mem_type), path)),
      width_(width),
      row_bytes_(H5Tget_size(mem_type) * static_cast<size_t>(std::max<int64_t>(width, 1))) {
  const size_t file_row_bytes =
      H5Tget_size(file_type) * static_cast<size_t>(std::max<int64_t>(width, 1));
  chunk_rows_ = std::max<int64_t>(1, kChunkBytes / static_cast<int64_t>(file_row_bytes));
  if (expected_rows > 0) chunk_rows_ = std::min(chunk_rows_, expected_rows);
  const int rank = width > 0 ? 2 : 1;
  const hsize_t initial[2] = {0, static_cast<hsize_t>(width)};
  const hsize_t maximum[2] = {H5S_UNLIMITED, static_cast<hsize_t>(width)};
  const hsize_t chunk[2] = {static_cast<hsize_t>(chunk_rows_), static_cast<hsize_t>(width)};
  Hdf5Handle space(VRF_H5_CHECK(H5Screate_simple(rank, initial, maximum), path));
  Hdf5Handle create(VRF_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE), path));
  VRF_H5_CHECK(H5Pset_chunk(create.get(), rank, chunk), path);
  // No modification times in object headers: the same data gives the same bytes.
  VRF_H5_CHECK(H5Pset_obj_track_times(create.get(), 0), path);
  if (compress) {
    VRF_H5_CHECK(H5Pset_shuffle(create.get()), path);
    VRF_H5_CHECK(H5Pset_deflate(create.get(), 4), path);
  }
  Hdf5Handle links(VRF_H5_CHECK(H5Pcreate(H5P_LINK_CREATE), path));
  VRF_H5_CHECK(H5Pset_create_intermediate_group(links.get(), 1), path);
  dataset_ = Hdf5Handle(VRF_H5_CHECK(H5Dcreate2(file, path.c_str(), file_type, space.get(),
                                                links.get(), create.get(), H5P_DEFAULT),
                                     path));
  buffer_.resize(static_cast<size_t>(chunk_rows_) * row_bytes_);
}

void AppendableDataset::append(const void* rows, int64_t count) {
  const char* source = static_cast<const char*>(rows);
  while (count > 0) {
    const int64_t take = std::min(count, chunk_rows_ - buffered_rows_);
    std::memcpy(buffer_.data() + static_cast<size_t>(buffered_rows_) * row_bytes_, source,
                static_cast<size_t>(take) * row_bytes_);
    buffered_rows_ += take;
    source += static_cast<size_t>(take) * row_bytes_;
    count -= take;
    if (buffered_rows_ == chunk_rows_) flush();
  }
}

void AppendableDataset::flush() {
  if (buffered_rows_ == 0) return;
  const hsize_t extent[2] = {static_cast<hsize_t>(written_ + buffered_rows_),
                             static_cast<hsize_t>(width_)};
  VRF_H5_CHECK(H5Dset_extent(dataset_.get(), extent), path_);
  Hdf5Handle file_space(VRF_H5_CHECK(H5Dget_space(dataset_.get()), path_));
  const hsize_t start[2] = {static_cast<hsize_t>(written_), 0};
  const hsize_t count[2] = {static_cast<hsize_t>(buffered_rows_), static_cast<hsize_t>(width_)};
  VRF_H5_CHECK(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), path_);
  const int rank = width_ > 0 ? 2 : 1;
  Hdf5Handle mem_space(VRF_H5_CHECK(H5Screate_simple(rank, count, nullptr), path_));
  VRF_H5_CHECK(H5Dwrite(dataset_.get(), mem_type_.get(), mem_space.get(), file_space.get(),
                        H5P_DEFAULT, buffer_.data()),
               path_);
  written_ += buffered_rows_;
  buffered_rows_ = 0;
}

}  // namespace vrf::io
