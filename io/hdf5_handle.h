// io/hdf5_handle.h — RAII ownership of HDF5 identifiers and the check macro for HDF5 calls.
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace vrf::io {

// Owns one HDF5 identifier (file, group, dataset, dataspace, datatype, property list, attribute)
// and closes it with the matching H5*close. Movable, not copyable; never throws on destruction.
class Hdf5Handle {
 public:
  Hdf5Handle() = default;
  explicit Hdf5Handle(hid_t id) : id_(id) {}
  Hdf5Handle(Hdf5Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Hdf5Handle& operator=(Hdf5Handle&& other) noexcept {
    if (this != &other) {
      close();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;
  ~Hdf5Handle() { close(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  void close() noexcept;
  hid_t id_ = H5I_INVALID_HID;
};

// Throws vrf::DataError "<what>: HDF5 call <call> failed at file:line (<HDF5 message>)" when
// `status` is negative; returns it otherwise. Use through VRF_H5_CHECK.
hid_t check_hdf5(hid_t status, const char* call, const std::string& what, const char* file,
                 int line);
// A new IEEE half-precision little-endian datatype (HDF5 1.10 has no predefined one; this is the
// layout h5py reads as numpy float16).
Hdf5Handle make_float16_type();
// Silences HDF5's own error printing (errors reach the user as DataError instead). Idempotent.
void silence_hdf5_errors();

}  // namespace vrf::io

// VRF_H5_CHECK(H5Dopen2(...), "store.h5: /pairs/chosen") -> the id, or throws vrf::DataError.
#define VRF_H5_CHECK(call, what) ::vrf::io::check_hdf5((call), #call, (what), __FILE__, __LINE__)
