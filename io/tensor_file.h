// io/tensor_file.h — named tensors in an HDF5 file (checkpoints, exports), written atomically.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace vrf::io {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

using StringAttributes = std::vector<std::pair<std::string, std::string>>;

struct WrittenFile {
  int64_t bytes = 0;
  uint64_t digest = 0;  // content_digest() of the bytes written (io/checkpoint_directory.h)
};

// Writes each tensor (float32, float64, int64 or uint8; any shape, copied to CPU) as the dataset
// named by its key ("/params/encoder.obs.weight"; groups are created), and each attribute as a
// string attribute of the root group. The file is written as "<path>.tmp", fsynced, digested,
// renamed to `path`, and the directory fsynced, so `path` is either absent or complete. Throws
// vrf::DataError naming the file on failure.
WrittenFile write_tensor_file(const std::string& path, const NamedTensors& tensors,
                              const StringAttributes& attributes = {});

// The root group's string attribute `name`. Throws vrf::DataError when it is missing.
std::string read_tensor_file_attribute(const std::string& path, const std::string& name);

// Rows [begin, end) along the first axis of dataset `name` (an absolute path in the file).
torch::Tensor read_tensor_rows(const std::string& path, const std::string& name, int64_t begin,
                               int64_t end);

// Every dataset under `group` (e.g. "/params"), recursively, as a CPU tensor keyed by its path
// relative to the group ("encoder.obs.weight", "encoder.obs.weight/exp_avg"), in name order. Throws
// vrf::DataError on a missing group or unsupported dtype.
NamedTensors read_tensor_file(const std::string& path, const std::string& group);

// fsync of a file or directory; throws vrf::DataError naming it on failure.
void fsync_path(const std::string& path);

}  // namespace vrf::io
