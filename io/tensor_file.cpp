// io/tensor_file.cpp — write_tensor_file and read_tensor_file.
#include "io/tensor_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"
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
    default:
      throw DataError(what + ": unsupported tensor dtype " + std::string(c10::toString(dtype)));
  }
}

hid_t memory_type_of(torch::ScalarType dtype) {
  return dtype == torch::kFloat32   ? H5T_NATIVE_FLOAT
         : dtype == torch::kFloat64 ? H5T_NATIVE_DOUBLE
                                    : H5T_NATIVE_INT64;
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

void write_tensor_file(const std::string& path, const NamedTensors& tensors) {
  silence_hdf5_errors();
  const std::string tmp = path + ".tmp";
  {
    Hdf5Handle file(
        VRF_H5_CHECK(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), tmp));
    Hdf5Handle links(VRF_H5_CHECK(H5Pcreate(H5P_LINK_CREATE), tmp));
    VRF_H5_CHECK(H5Pset_create_intermediate_group(links.get(), 1), tmp);
    for (const auto& [name, tensor] : tensors) {
      const std::string what = tmp + ": " + name;
      const auto data = tensor.detach().to(torch::kCPU).contiguous();
      std::vector<hsize_t> dims(data.sizes().begin(), data.sizes().end());
      Hdf5Handle space(VRF_H5_CHECK(
          dims.empty() ? H5Screate(H5S_SCALAR)
                       : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
          what));
      Hdf5Handle dataset(
          VRF_H5_CHECK(H5Dcreate2(file.get(), name.c_str(), file_type_of(data.scalar_type(), what),
                                  space.get(), links.get(), H5P_DEFAULT, H5P_DEFAULT),
                       what));
      if (data.numel() > 0) {
        VRF_H5_CHECK(H5Dwrite(dataset.get(), memory_type_of(data.scalar_type()), H5S_ALL, H5S_ALL,
                              H5P_DEFAULT, data.data_ptr()),
                     what);
      }
    }
    VRF_H5_CHECK(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), tmp);
  }
  fsync_path(tmp);
  std::error_code error;
  std::filesystem::rename(tmp, path, error);
  if (error) throw DataError(path + ": cannot rename " + tmp + " (" + error.message() + ")");
  fsync_path(std::filesystem::path(path).parent_path().empty()
                 ? "."
                 : std::filesystem::path(path).parent_path().string());
}

NamedTensors read_tensor_file(const std::string& path, const std::string& group_name) {
  silence_hdf5_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) throw DataError(path + ": not an HDF5 file (or missing)");
  Hdf5Handle file(VRF_H5_CHECK(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path));
  if (H5Lexists(file.get(), group_name.c_str(), H5P_DEFAULT) <= 0) {
    throw DataError(path + ": group " + group_name + " is missing");
  }
  Hdf5Handle group(VRF_H5_CHECK(H5Gopen2(file.get(), group_name.c_str(), H5P_DEFAULT), path));
  std::vector<std::string> names;
  VRF_H5_CHECK(H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names),
               path);
  NamedTensors result;
  for (const auto& name : names) {
    const std::string what = path + ": " + group_name + "/" + name;
    Hdf5Handle dataset(VRF_H5_CHECK(H5Dopen2(group.get(), name.c_str(), H5P_DEFAULT), what));
    Hdf5Handle type(VRF_H5_CHECK(H5Dget_type(dataset.get()), what));
    Hdf5Handle space(VRF_H5_CHECK(H5Dget_space(dataset.get()), what));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    torch::ScalarType dtype;
    if (H5Tget_class(type.get()) == H5T_FLOAT) {
      dtype = H5Tget_size(type.get()) == 8 ? torch::kFloat64 : torch::kFloat32;
    } else if (H5Tget_class(type.get()) == H5T_INTEGER) {
      dtype = torch::kInt64;
    } else {
      throw DataError(what + ": unsupported dataset type");
    }
    auto tensor = torch::empty(std::vector<int64_t>(dims.begin(), dims.end()), dtype);
    if (tensor.numel() > 0) {
      VRF_H5_CHECK(H5Dread(dataset.get(), memory_type_of(dtype), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                           tensor.data_ptr()),
                   what);
    }
    result.emplace_back(name, tensor);
  }
  return result;
}

}  // namespace vrf::io
