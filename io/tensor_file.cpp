// io/tensor_file.cpp — write_tensor_file and read_tensor_file.
#include "io/tensor_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

#include "core/errors.h"
#include "io/checkpoint_directory.h"
#include "io/hdf5_handle.h"

namespace vrf::io {
namespace {

hid_t file_type_of(torch::ScalarType dtype, const std::string& what) {
  switch (dtype) {
    case torch::kFloat32:
      return H5T_IEEE_F32LE;
    case torch::kFloat64:
      return H5T_IEEE_F64LE;
    case torch::kInt64:
      return H5T_STD_I64LE;
    case torch::kUInt8:
      return H5T_STD_U8LE;
    default:
      throw DataError(what + ": unsupported tensor dtype " + std::string(c10::toString(dtype)));
  }
}

hid_t memory_type_of(torch::ScalarType dtype) {
  return dtype == torch::kFloat32   ? H5T_NATIVE_FLOAT
         : dtype == torch::kFloat64 ? H5T_NATIVE_DOUBLE
         : dtype == torch::kUInt8   ? H5T_NATIVE_UINT8
                                    : H5T_NATIVE_INT64;
}

// The tensor dtype of a stored dataset type (float32/64, int64, uint8).
torch::ScalarType dtype_of(hid_t type, const std::string& what) {
  const auto size = H5Tget_size(type);
  if (H5Tget_class(type) == H5T_FLOAT) return size == 8 ? torch::kFloat64 : torch::kFloat32;
  if (H5Tget_class(type) == H5T_INTEGER) return size == 1 ? torch::kUInt8 : torch::kInt64;
  throw DataError(what + ": unsupported dataset type");
}

// A fixed-length C string type of `size` bytes.
Hdf5Handle string_type(size_t size, const std::string& what) {
  Hdf5Handle type(VRF_H5_CHECK(H5Tcopy(H5T_C_S1), what));
  VRF_H5_CHECK(H5Tset_size(type.get(), std::max<size_t>(size, 1)), what);
  return type;
}

herr_t collect_name(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

}  // namespace

void fsync_path(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    throw DataError(path + ": fsync failed (" + reason + ")");
  }
  close(fd);
}

WrittenFile write_tensor_file(const std::string& path, const NamedTensors& tensors,
                              const StringAttributes& attributes) {
  silence_hdf5_errors();
  const std::string tmp = path + ".tmp";
  {
    Hdf5Handle file(
        VRF_H5_CHECK(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), tmp));
    // No modification times anywhere: the same tensors give the same bytes (and digest).
    Hdf5Handle dataset_props(VRF_H5_CHECK(H5Pcreate(H5P_DATASET_CREATE), tmp));
    VRF_H5_CHECK(H5Pset_obj_track_times(dataset_props.get(), 0), tmp);
    Hdf5Handle group_props(VRF_H5_CHECK(H5Pcreate(H5P_GROUP_CREATE), tmp));
    VRF_H5_CHECK(H5Pset_obj_track_times(group_props.get(), 0), tmp);
    const auto create_groups_of = [&](const std::string& name) {
      for (size_t slash = name.find('/', 1); slash != std::string::npos;
           slash = name.find('/', slash + 1)) {
        const std::string group = name.substr(0, slash);
        if (H5Lexists(file.get(), group.c_str(), H5P_DEFAULT) > 0) continue;
        Hdf5Handle created(VRF_H5_CHECK(
            H5Gcreate2(file.get(), group.c_str(), H5P_DEFAULT, group_props.get(), H5P_DEFAULT),
            tmp + ": " + group));
      }
    };
    for (const auto& [name, tensor] : tensors) {
      const std::string what = tmp + ": " + name;
      create_groups_of(name);
      const auto data = tensor.detach().to(torch::kCPU).contiguous();
      std::vector<hsize_t> dims(data.sizes().begin(), data.sizes().end());
      Hdf5Handle space(VRF_H5_CHECK(
          dims.empty() ? H5Screate(H5S_SCALAR)
                       : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
          what));
      Hdf5Handle dataset(
          VRF_H5_CHECK(H5Dcreate2(file.get(), name.c_str(), file_type_of(data.scalar_type(), what),
                                  space.get(), H5P_DEFAULT, dataset_props.get(), H5P_DEFAULT),
                       what));
      if (data.numel() > 0) {
        VRF_H5_CHECK(H5Dwrite(dataset.get(), memory_type_of(data.scalar_type()), H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, data.data_ptr()),
                     what);
      }
    }
    for (const auto& [name, value] : attributes) {
      const std::string what = tmp + ": attribute " + name;
      const auto type = string_type(value.size(), what);
      Hdf5Handle space(VRF_H5_CHECK(H5Screate(H5S_SCALAR), what));
      Hdf5Handle attribute(VRF_H5_CHECK(
          H5Acreate2(file.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
          what));
      VRF_H5_CHECK(H5Awrite(attribute.get(), type.get(), value.c_str()), what);
    }
    VRF_H5_CHECK(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), tmp);
  }
  // Digested from the page cache it was just written to, while fsync writes it back.
  auto digest = std::async(std::launch::async, [&tmp] { return content_digest(tmp); });
  fsync_path(tmp);
  const WrittenFile written{static_cast<int64_t>(std::filesystem::file_size(tmp)), digest.get()};
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) throw DataError(path + ": cannot rename " + tmp + " (" + error.message() + ")");
  fsync_path(std::filesystem::path(path).parent_path().empty()
                 ? "."
                 : std::filesystem::path(path).parent_path().string());
  return written;
}

namespace {

// Appends every dataset under `group` (recursively) to `result`, keyed "<prefix><name>".
void read_group(hid_t group, const std::string& prefix, const std::string& what_prefix,
                NamedTensors& result) {
  std::vector<std::string> names;
  VRF_H5_CHECK(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names),
               what_prefix);
  for (const auto& name : names) {
    const std::string what = what_prefix + "/" + name;
    Hdf5Handle object(VRF_H5_CHECK(H5Oopen(group, name.c_str(), H5P_DEFAULT), what));
    if (H5Iget_type(object.get()) == H5I_GROUP) {
      read_group(object.get(), prefix + name + "/", what, result);
      continue;
    }
    Hdf5Handle type(VRF_H5_CHECK(H5Dget_type(object.get()), what));
    Hdf5Handle space(VRF_H5_CHECK(H5Dget_space(object.get()), what));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    const auto dtype = dtype_of(type.get(), what);
    auto tensor = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()), dtype);
    if (tensor.numel() > 0) {
      VRF_H5_CHECK(H5Dread(object.get(), memory_type_of(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                           tensor.data_ptr()),
                   what);
    }
    result.emplace_back(prefix + name, tensor);
  }
}

}  // namespace

NamedTensors read_tensor_file(const std::string& path, const std::string& group_name) {
  silence_hdf5_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) throw DataError(path + ": not an HDF5 file (or missing)");
  Hdf5Handle file(VRF_H5_CHECK(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path));
  if (H5Lexists(file.get(), group_name.c_str(), H5P_DEFAULT) <= 0) {
    throw DataError(path + ": group " + group_name + " is missing");
  }
  Hdf5Handle group(VRF_H5_CHECK(H5Gopen2(file.get(), group_name.c_str(), H5P_DEFAULT), path));
  NamedTensors result;
  read_group(group.get(), "", path + ": " + group_name, result);
  return result;
}

std::string read_tensor_file_attribute(const std::string& path, const std::string& name) {
  silence_hdf5_errors();
  const std::string what = path + ": attribute " + name;
  Hdf5Handle file(VRF_H5_CHECK(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path));
  if (H5Aexists(file.get(), name.c_str()) <= 0) throw DataError(what + " is missing");
  Hdf5Handle attribute(VRF_H5_CHECK(H5Aopen(file.get(), name.c_str(), H5P_DEFAULT), what));
  Hdf5Handle stored(VRF_H5_CHECK(H5Aget_type(attribute.get()), what));
  if (H5Tget_class(stored.get()) != H5T_STRING) throw DataError(what + " is not a string");
  std::string value(H5Tget_size(stored.get()), '\0');
  const auto type = string_type(value.size(), what);
  VRF_H5_CHECK(H5Aread(attribute.get(), type.get(), value.data()), what);
  value.resize(std::strlen(value.c_str()));
  return value;
}

torch::Tensor read_tensor_rows(const std::string& path, const std::string& name, int64_t begin,
                               int64_t end) {
  silence_hdf5_errors();
  const std::string what = path + ": " + name;
  if (H5Fis_hdf5(path.c_str()) <= 0) throw DataError(path + ": not an HDF5 file (or missing)");
  Hdf5Handle file(VRF_H5_CHECK(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path));
  if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
    throw DataError(what + ": dataset is missing");
  }
  Hdf5Handle dataset(VRF_H5_CHECK(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), what));
  Hdf5Handle type(VRF_H5_CHECK(H5Dget_type(dataset.get()), what));
  Hdf5Handle space(VRF_H5_CHECK(H5Dget_space(dataset.get()), what));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (rank < 1 || begin < 0 || begin > end || end > static_cast<int64_t>(dims[0])) {
    throw DataError(what + ": rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") are outside its " + std::to_string(rank < 1 ? 0 : dims[0]) + " rows");
  }
  const auto dtype = dtype_of(type.get(), what);
  dims[0] = static_cast<hsize_t>(end - begin);
  auto tensor = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()), dtype);
  if (tensor.numel() == 0) return tensor;
  std::vector<hsize_t> start(dims.size(), 0);
  start[0] = static_cast<hsize_t>(begin);
  VRF_H5_CHECK(
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, dims.data(), nullptr),
      what);
  Hdf5Handle memory(VRF_H5_CHECK(H5Screate_simple(rank, dims.data(), nullptr), what));
  VRF_H5_CHECK(H5Dread(dataset.get(), memory_type_of(dtype), memory.get(), space.get(), H5P_DEFAULT,
                       tensor.data_ptr()),
               what);
  return tensor;
}

}  // namespace vrf::io
