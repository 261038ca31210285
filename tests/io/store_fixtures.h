// tests/io/store_fixtures.h — small stores written into a temporary directory, and raw HDF5
// surgery that breaks exactly one rule of the format.
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <string>

#include "io/store_writer.h"

namespace vrf::test {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a valid store: `users` users (ids 10, 20, ...) with 1..4 pairs each over `responses`
// responses of width `dim` (row r, column c holds r + c / 100), prompts r / 2.
void write_small_store(const std::string& path, const io::StoreWriterOptions& options,
                       int64_t users = 5, int64_t responses = 12);

// Opens `path` read-write, runs `edit` on the file id, closes.
void edit_store(const std::string& path, const std::function<void(hid_t file)>& edit);
// Overwrites element `row` of the 1-D int64 dataset `name`.
void set_int64(hid_t file, const char* name, int64_t row, int64_t value);
// Replaces dataset `name` by a 1-D dataset of `values` with HDF5 type `type` (native doubles in).
void replace_dataset(hid_t file, const char* name, hid_t type, const std::vector<double>& values);

}  // namespace vrf::test
