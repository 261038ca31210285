// io/hdf5_handle.cpp — Hdf5Handle and HDF5 error reporting.
#include "io/hdf5_handle.h"

#include "core/errors.h"

namespace vrf::io {
namespace {

// The innermost message of HDF5's current error stack, or "" when there is none.
herr_t keep_message(unsigned /*n*/, const H5E_error2_t* error, void* out) {
  if (error != nullptr && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
  return 0;
}

}  // namespace

void Hdf5Handle::close() noexcept {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    default:
      break;
  }
  id_ = H5I_INVALID_HID;
}

hid_t check_hdf5(hid_t status, const char* call, const std::string& what, const char* file,
                 int line) {
  if (status >= 0) return status;
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_message, &message);
  H5Eclear2(H5E_DEFAULT);
  throw DataError(what + ": HDF5 call " + call + " failed at " + file + ":" + std::to_string(line) +
                  (message.empty() ? "" : " (" + message + ")"));
}

Hdf5Handle make_float16_type() {
  Hdf5Handle type(VRF_H5_CHECK(H5Tcopy(H5T_IEEE_F32LE), "float16 type"));
  VRF_H5_CHECK(H5Tset_fields(type.get(), 15, 10, 5, 0, 10), "float16 type");
  VRF_H5_CHECK(H5Tset_size(type.get(), 2), "float16 type");
  VRF_H5_CHECK(H5Tset_ebias(type.get(), 15), "float16 type");
  return type;
}

void silence_hdf5_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

}  // namespace vrf::io
