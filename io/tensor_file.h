// io/tensor_file.h — named tensors in an HDF5 file (checkpoints, exports), written atomically.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace vrf::io {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes each tensor (float32, float64 or int64; any shape, copied to CPU) as the dataset named
// by its key ("/params/encoder.obs.weight"; groups are created). The file is written as
// "<path>.tmp", fsynced, renamed to `path`, and the directory fsynced, so `path` is either absent
// or complete. Throws vrf::DataError naming the file on failure.
void write_tensor_file(const std::string& path, const NamedTensors& tensors);

// Every dataset under `group` (e.g. "/params") as a CPU tensor keyed by its name relative to the
// group, in name order. Throws vrf::DataError on a missing group or unsupported dtype.
NamedTensors read_tensor_file(const std::string& path, const std::string& group);

// fsync of a file or directory; throws vrf::DataError naming it on failure.
void fsync_path(const std::string& path);

}  // namespace vrf::io
