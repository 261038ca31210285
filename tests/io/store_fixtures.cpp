// tests/io/store_fixtures.cpp — helpers of the io tests.
#include "tests/io/store_fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <vector>

namespace vrf::test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("vrf-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_small_store(const std::string& path, const io::StoreWriterOptions& options,
                       int64_t users, int64_t responses) {
  io::StoreWriter writer(path, options);
  const int64_t d = options.embedding_dim;
  std::vector<float> embeddings(static_cast<size_t>(responses * d));
  std::vector<int64_t> prompts(static_cast<size_t>(responses));
  for (int64_t r = 0; r < responses; ++r) {
    prompts[r] = r / 2;
    for (int64_t c = 0; c < d; ++c) embeddings[r * d + c] = float(r) + float(c) / 100.0f;
  }
  writer.add_responses(embeddings.data(), prompts.data(), responses);
  for (int64_t u = 0; u < users; ++u) {
    const int64_t n = 1 + u % 4;
    std::vector<int64_t> chosen, rejected;
    for (int64_t j = 0; j < n; ++j) {
      chosen.push_back((u + 2 * j) % responses);
      rejected.push_back((u + 2 * j + 1) % responses);
    }
    writer.add_user(10 * (u + 1), chosen.data(), rejected.data(), n,
                    options.with_num_context ? n / 2 : -1);
    const double weights[2] = {double(u), 1.0};
    writer.add_truth_rows("user_weights", weights, 1, 2);
  }
  writer.finish();
}

void edit_store(const std::string& path, const std::function<void(hid_t file)>& edit) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0) << path;
  edit(file);
  H5Fclose(file);
}

void set_int64(hid_t file, const char* name, int64_t row, int64_t value) {
  const hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
  ASSERT_GE(dataset, 0) << name;
  const hid_t space = H5Dget_space(dataset);
  const hsize_t start = static_cast<hsize_t>(row), count = 1;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  const hid_t mem = H5Screate_simple(1, &count, nullptr);
  ASSERT_GE(H5Dwrite(dataset, H5T_NATIVE_INT64, mem, space, H5P_DEFAULT, &value), 0);
  H5Sclose(mem);
  H5Sclose(space);
  H5Dclose(dataset);
}

void replace_dataset(hid_t file, const char* name, hid_t type, const std::vector<double>& values) {
  ASSERT_GE(H5Ldelete(file, name, H5P_DEFAULT), 0) << name;
  const hsize_t n = values.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t dataset = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(dataset, 0) << name;
  if (n > 0) H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  H5Dclose(dataset);
  H5Sclose(space);
}

}  // namespace vrf::test
