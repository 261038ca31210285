// io/appendable_dataset.h — a chunked HDF5 dataset that grows along its first axis as rows are
// appended, buffering whole chunks so that per-user appends stay cheap.
#pragma once

#include <string>
#include <vector>

#include "io/hdf5_handle.h"

namespace vrf::io {

// Rows are `width` elements wide ([rows] when width == 0, else [rows, width]); chunks hold about
// kChunkBytes, or `expected_rows` rows when that is known and smaller (small datasets then take
// one small chunk instead of a mostly empty 1 MiB one); `compress` adds shuffle + deflate(4). Not
// thread-safe. flush() (or finish of the owner) must run before the file closes; the destructor
// does not write.
class AppendableDataset {
 public:
  // file_type: element type on disk; mem_type: type of the appended elements (may equal it).
  AppendableDataset(hid_t file, const std::string& path, hid_t file_type, hid_t mem_type,
                    int64_t width, bool compress, int64_t expected_rows = 0);

  // Appends `count` rows from `rows` (count * max(width, 1) elements of mem_type).
  void append(const void* rows, int64_t count);
  void flush();
  int64_t rows() const { return written_ + buffered_rows_; }

 private:
  std::string path_;
  Hdf5Handle dataset_, mem_type_;
  int64_t width_;
  size_t row_bytes_;
  int64_t chunk_rows_;
  int64_t written_ = 0;
  int64_t buffered_rows_ = 0;
  std::vector<char> buffer_;
};

}  // namespace vrf::io
