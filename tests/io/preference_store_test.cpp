// tests/io/preference_store_test.cpp — store round trips, and one malformed store per validation
// rule, each refused with its own message.
#include "io/preference_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/errors.h"
#include "tests/io/store_fixtures.h"

namespace vrf::io {
namespace {

using test::edit_store;

struct RoundTripCase {
  EmbeddingDtype dtype;
  bool compress;
};

class StoreRoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(StoreRoundTripTest, WhatIsWrittenIsRead) {
  test::TempDir dir;
  const auto path = dir.file("store.h5");
  StoreWriterOptions options;
  options.embedding_dim = 3;
  options.dtype = GetParam().dtype;
  options.compress = GetParam().compress;
  test::write_small_store(path, options);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));

  const PreferenceStore store(path);
  EXPECT_EQ(store.num_users(), 5);
  EXPECT_EQ(store.num_responses(), 12);
  EXPECT_EQ(store.embedding_dim(), 3);
  EXPECT_EQ(store.dtype(), GetParam().dtype);
  EXPECT_EQ(store.user_ids(), (std::vector<int64_t>{10, 20, 30, 40, 50}));
  EXPECT_EQ(store.offsets(), (std::vector<int64_t>{0, 1, 3, 6, 10, 11}));
  EXPECT_TRUE(store.has_truth());
  EXPECT_TRUE(store.num_context().empty());

  std::vector<int64_t> chosen, rejected;
  store.read_pairs(3, 6, chosen, rejected);  // user 2 (id 30): 3 pairs
  EXPECT_EQ(chosen, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(rejected, (std::vector<int64_t>{3, 5, 7}));

  std::vector<float> all(12 * 3);
  store.read_embeddings(0, 12, all.data());
  const double tolerance = GetParam().dtype == EmbeddingDtype::kFloat16 ? 5e-3 : 0.0;
  for (int64_t r = 0; r < 12; ++r) {
    for (int64_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(all[r * 3 + c], float(r) + float(c) / 100.0f, tolerance) << r << "," << c;
    }
  }
  std::vector<float> some(4 * 3);
  store.gather_embeddings({1, 2, 3, 9}, some.data());
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_EQ(some[c], all[1 * 3 + c]);
    EXPECT_EQ(some[3 * 3 + c], all[9 * 3 + c]);
  }
  const auto prompts = store.read_prompts();
  EXPECT_EQ(prompts[11], 5);
  std::vector<int64_t> shape;
  const auto weights = store.read_truth("user_weights", shape);
  EXPECT_EQ(shape, (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(weights[2 * 2], 2.0);

  for (const auto& dataset : store.layout()) {
    EXPECT_FALSE(dataset.chunk.empty()) << dataset.path << " must be chunked";
    EXPECT_EQ(dataset.compressed, GetParam().compress) << dataset.path;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, StoreRoundTripTest,
                         ::testing::Values(RoundTripCase{EmbeddingDtype::kFloat32, false},
                                           RoundTripCase{EmbeddingDtype::kFloat32, true},
                                           RoundTripCase{EmbeddingDtype::kFloat16, false},
                                           RoundTripCase{EmbeddingDtype::kFloat16, true}),
                         [](const auto& info) {
                           return to_string(info.param.dtype) +
                                  (info.param.compress ? "_deflate" : "_plain");
                         });

TEST(StoreWriterTest, RefusesToOverwriteWithoutForce) {
  test::TempDir dir;
  const auto path = dir.file("store.h5");
  StoreWriterOptions options;
  options.embedding_dim = 2;
  test::write_small_store(path, options);
  try {
    StoreWriter again(path, options);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("already exists; pass --force"), std::string::npos);
  }
  options.overwrite = true;
  test::write_small_store(path, options, 2);
  EXPECT_EQ(PreferenceStore(path).num_users(), 2);
}

TEST(StoreWriterTest, AbandonedWriterLeavesNoFile) {
  test::TempDir dir;
  const auto path = dir.file("store.h5");
  {
    StoreWriterOptions options;
    options.embedding_dim = 2;
    StoreWriter writer(path, options);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

// The h5py example of io/FORMAT.md, written the way h5py writes it: contiguous datasets, integer
// attributes, no chunking or compression.
TEST(ForeignStoreTest, TheFormatDocumentsH5pyExampleIsReadable) {
  test::TempDir dir;
  const auto path = dir.file("mine.h5");
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const auto attribute = [&](const char* name, int64_t value) {
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(file, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &value);
    H5Aclose(a);
    H5Sclose(space);
  };
  attribute("vrf_format_version", 1);
  attribute("embedding_dim", 4);
  const hid_t links = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(links, 1);
  const auto dataset = [&](const char* name, hid_t type, hid_t mem_type, std::vector<hsize_t> dims,
                           const void* data) {
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(file, name, type, space, links, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Sclose(space);
  };
  std::vector<float> embedding(24);
  for (size_t i = 0; i < embedding.size(); ++i) embedding[i] = 0.5f * float(i);
  const std::vector<int64_t> prompt = {0, 0, 1, 1, 2, 2}, chosen = {0, 2, 5}, rejected = {1, 3, 4},
                             ids = {7, 9}, offsets = {0, 2, 3};
  dataset("responses/embedding", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {6, 4}, embedding.data());
  dataset("responses/prompt", H5T_STD_I64LE, H5T_NATIVE_INT64, {6}, prompt.data());
  dataset("pairs/chosen", H5T_STD_I64LE, H5T_NATIVE_INT64, {3}, chosen.data());
  dataset("pairs/rejected", H5T_STD_I64LE, H5T_NATIVE_INT64, {3}, rejected.data());
  dataset("users/id", H5T_STD_I64LE, H5T_NATIVE_INT64, {2}, ids.data());
  dataset("users/offsets", H5T_STD_I64LE, H5T_NATIVE_INT64, {3}, offsets.data());
  H5Pclose(links);
  H5Fclose(file);

  const PreferenceStore store(path);
  EXPECT_EQ(store.num_users(), 2);
  EXPECT_EQ(store.num_pairs(), 3);
  std::vector<int64_t> c, r;
  store.read_pairs(0, 3, c, r);
  EXPECT_EQ(c, chosen);
  std::vector<float> rows(24);
  store.gather_embeddings({0, 1, 2, 3, 4, 5}, rows.data());
  EXPECT_EQ(rows, embedding);
  for (const auto& d : store.layout()) EXPECT_TRUE(d.chunk.empty()) << d.path << " is contiguous";
}

// --- One malformed store per rule. ---------------------------------------------------------------

class MalformedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("store.h5");
    StoreWriterOptions options;
    options.embedding_dim = 3;
    options.with_num_context = true;
    test::write_small_store(path_, options);
  }

  // Opening (and, when `read_everything`, reading every pair and embedding) must fail with a
  // DataError that names the file and contains `expected`.
  void expect_refused(const std::string& expected, bool read_everything = false) {
    try {
      const PreferenceStore store(path_);
      if (read_everything) {
        std::vector<int64_t> chosen, rejected;
        store.read_pairs(0, store.num_pairs(), chosen, rejected);
        std::vector<float> rows(static_cast<size_t>(store.num_responses() * 3));
        store.read_embeddings(0, store.num_responses(), rows.data());
      }
      FAIL() << "expected DataError containing: " << expected;
    } catch (const DataError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind(path_ + ": ", 0), 0u) << "must start with the file: " << message;
      EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
  }

  test::TempDir dir_;
  std::string path_;
};

TEST_F(MalformedStoreTest, ValidStorePasses) {
  const PreferenceStore store(path_);
  EXPECT_EQ(store.num_context(), (std::vector<int64_t>{0, 1, 1, 2, 0}));
}

TEST_F(MalformedStoreTest, MissingFile) {
  std::filesystem::remove(path_);
  expect_refused("cannot open the file");
}

TEST_F(MalformedStoreTest, NotHdf5) {
  std::ofstream(path_) << "{\"user\": 1}\n";
  expect_refused("not an HDF5 file");
}

TEST_F(MalformedStoreTest, Truncated) {
  const auto size = std::filesystem::file_size(path_);
  std::filesystem::resize_file(path_, size / 2);
  expect_refused("truncated");
}

TEST_F(MalformedStoreTest, MissingVersion) {
  edit_store(path_, [](hid_t f) { H5Adelete(f, "vrf_format_version"); });
  expect_refused("root attribute 'vrf_format_version' is missing");
}

TEST_F(MalformedStoreTest, WrongVersion) {
  edit_store(path_, [](hid_t f) {
    const hid_t a = H5Aopen(f, "vrf_format_version", H5P_DEFAULT);
    const int64_t two = 2;
    H5Awrite(a, H5T_NATIVE_INT64, &two);
    H5Aclose(a);
  });
  expect_refused("format version 2 is not supported; this vrf reads version 1");
}

TEST_F(MalformedStoreTest, EmbeddingDimDisagreesWithTheEmbeddings) {
  edit_store(path_, [](hid_t f) {
    const hid_t a = H5Aopen(f, "embedding_dim", H5P_DEFAULT);
    const int64_t four = 4;
    H5Awrite(a, H5T_NATIVE_INT64, &four);
    H5Aclose(a);
  });
  expect_refused("dataset /responses/embedding has shape [12, 3]; expected [R, 4] (embedding_dim)");
}

TEST_F(MalformedStoreTest, MissingDataset) {
  edit_store(path_, [](hid_t f) { H5Ldelete(f, "/pairs/rejected", H5P_DEFAULT); });
  expect_refused("dataset /pairs/rejected is missing");
}

TEST_F(MalformedStoreTest, MissingGroup) {
  edit_store(path_, [](hid_t f) { H5Ldelete(f, "/users", H5P_DEFAULT); });
  expect_refused("dataset /users/id is missing");
}

TEST_F(MalformedStoreTest, IndexOfWrongType) {
  edit_store(path_, [](hid_t f) {
    test::replace_dataset(f, "/pairs/chosen", H5T_IEEE_F64LE, std::vector<double>(11, 1.0));
  });
  expect_refused("dataset /pairs/chosen has type float64; expected int64");
}

TEST_F(MalformedStoreTest, EmbeddingOfWrongType) {
  edit_store(path_, [](hid_t f) {
    test::replace_dataset(f, "/responses/embedding", H5T_STD_I32LE, std::vector<double>(36, 1));
  });
  expect_refused("dataset /responses/embedding has type int32; expected float16 or float32");
}

TEST_F(MalformedStoreTest, PromptsOfWrongLength) {
  edit_store(path_, [](hid_t f) {
    test::replace_dataset(f, "/responses/prompt", H5T_STD_I64LE, std::vector<double>(11, 0));
  });
  expect_refused("dataset /responses/prompt has shape [11]; expected [12]");
}

TEST_F(MalformedStoreTest, ChosenAndRejectedOfDifferentLengths) {
  edit_store(path_, [](hid_t f) {
    test::replace_dataset(f, "/pairs/rejected", H5T_STD_I64LE, std::vector<double>(10, 0));
  });
  expect_refused("dataset /pairs/rejected has shape [10]; expected [11]");
}

TEST_F(MalformedStoreTest, OffsetsOfWrongLength) {
  edit_store(path_, [](hid_t f) {
    test::replace_dataset(f, "/users/offsets", H5T_STD_I64LE, {0, 1, 3, 6, 11});
  });
  expect_refused("dataset /users/offsets has shape [5]; expected [6]");
}

TEST_F(MalformedStoreTest, UserIdsNotStrictlyIncreasing) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/users/id", 2, 20); });
  expect_refused("dataset /users/id row 2: id 20 does not exceed the previous id 20");
}

TEST_F(MalformedStoreTest, OffsetsNotStartingAtZero) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/users/offsets", 0, 1); });
  expect_refused("dataset /users/offsets row 0: is 1; expected 0");
}

TEST_F(MalformedStoreTest, OffsetsDecreasing) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/users/offsets", 3, 2); });
  expect_refused("dataset /users/offsets row 3: offset 2 is below the previous offset 3");
}

TEST_F(MalformedStoreTest, OffsetsNotEndingAtN) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/users/offsets", 5, 10); });
  expect_refused("row 5: the last offset is 10; expected the number of pairs N = 11");
}

TEST_F(MalformedStoreTest, NumContextOutOfRange) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/users/num_context", 1, 3); });
  expect_refused("dataset /users/num_context row 1: num_context 3 outside [0, 2]");
}

TEST_F(MalformedStoreTest, PairIndexOutOfRange) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/pairs/rejected", 7, 12); });
  expect_refused("dataset /pairs/rejected row 7: response index 12 outside [0, 12)", true);
}

TEST_F(MalformedStoreTest, NegativePairIndex) {
  edit_store(path_, [](hid_t f) { test::set_int64(f, "/pairs/chosen", 0, -1); });
  expect_refused("dataset /pairs/chosen row 0: response index -1 outside [0, 12)", true);
}

TEST_F(MalformedStoreTest, NonFiniteEmbedding) {
  edit_store(path_, [](hid_t f) {
    const hid_t d = H5Dopen2(f, "/responses/embedding", H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    const hsize_t start[2] = {5, 1}, count[2] = {1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const hid_t mem = H5Screate_simple(2, count, nullptr);
    const float nan = NAN;
    H5Dwrite(d, H5T_NATIVE_FLOAT, mem, space, H5P_DEFAULT, &nan);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(d);
  });
  expect_refused("dataset /responses/embedding row 5 column 1: non-finite value", true);
}

}  // namespace
}  // namespace vrf::io
