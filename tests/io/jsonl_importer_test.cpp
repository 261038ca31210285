// tests/io/jsonl_importer_test.cpp — the hashing text featurizer, and JSONL import: text and
// embedding round trips, response dedupe, the external sort by user, and one refusal per error.
#include "io/jsonl_importer.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/errors.h"
#include "io/preference_store.h"
#include "io/text_featurizer.h"
#include "tests/io/store_fixtures.h"

namespace vrf::io {
namespace {

std::vector<float> features(const TextFeaturizer& featurizer, const std::string& text) {
  std::vector<float> out(static_cast<size_t>(featurizer.dim()));
  featurizer.featurize(text, out.data());
  return out;
}

double norm(const std::vector<float>& v) {
  double squares = 0.0;
  for (const float x : v) squares += double(x) * double(x);
  return std::sqrt(squares);
}

TEST(TextFeaturizerTest, HandComputedSingleToken) {
  // FNV-1a("a") = 0xaf63dc4c8601ec8c: bucket 0x...8c % 8 = 4, bit 63 set -> sign -1.
  EXPECT_EQ(TextFeaturizer::fnv1a("a"), 0xaf63dc4c8601ec8cULL);
  const TextFeaturizer featurizer(8);
  const std::vector<float> expected = {0, 0, 0, 0, -1, 0, 0, 0};
  EXPECT_EQ(features(featurizer, "a"), expected);
  EXPECT_EQ(features(featurizer, "  A! "), expected) << "lowercased, punctuation separates";
  // "café" is one token (UTF-8 bytes are word bytes): FNV-1a = 0x48e8823acfa40d89 -> bucket 1, +1.
  EXPECT_EQ(features(featurizer, "Caf\xc3\xa9"), (std::vector<float>{0, 1, 0, 0, 0, 0, 0, 0}));
}

TEST(TextFeaturizerTest, DeterministicUnitNormAndBigramsMatter) {
  for (const int64_t dim : {1, 7, 64, 256}) {
    const TextFeaturizer featurizer(dim);
    const std::string text = "The quick brown fox, the LAZY dog; 42 times.";
    std::vector<float> out(static_cast<size_t>(dim) + 3, 7.0f);  // sentinels after [dim]
    featurizer.featurize(text, out.data());
    for (int64_t i = dim; i < dim + 3; ++i) EXPECT_EQ(out[i], 7.0f) << "wrote past dim " << dim;
    out.resize(static_cast<size_t>(dim));
    EXPECT_EQ(out, features(featurizer, text)) << dim;
    EXPECT_EQ(out, features(TextFeaturizer(dim), text)) << dim;
    // dim 1 can cancel to zero (signs sum); larger dims keep the unit norm.
    if (dim > 1) {
      EXPECT_NEAR(norm(out), 1.0, 1e-6) << dim;
    }
  }
  const TextFeaturizer featurizer(256);
  EXPECT_NE(features(featurizer, "good answer"), features(featurizer, "answer good"))
      << "same unigrams, different bigrams";
  EXPECT_EQ(features(featurizer, "good answer"), features(featurizer, "Good, ANSWER!"));
  EXPECT_EQ(features(featurizer, " ,.;"), std::vector<float>(256, 0.0f));
  EXPECT_THROW(TextFeaturizer(0), ConfigError);
}

// --- Import. -------------------------------------------------------------------------------------

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const auto& line : lines) out << line << "\n";
}

std::string pair_line(const std::string& user, const std::string& prompt, const std::string& chosen,
                      const std::string& rejected) {
  return "{\"user\": " + user + ", \"prompt\": " + prompt + ", \"chosen\": " + chosen +
         ", \"rejected\": " + rejected + "}";
}

// /users/name, or empty when the store has none.
std::vector<std::string> read_user_names(const std::string& path) {
  std::vector<std::string> names;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (H5Lexists(file, "/users/name", H5P_DEFAULT) > 0) {
    const hid_t dataset = H5Dopen2(file, "/users/name", H5P_DEFAULT);
    const hid_t space = H5Dget_space(dataset);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    std::vector<char*> raw(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    EXPECT_GE(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), 0);
    for (const char* name : raw) names.emplace_back(name == nullptr ? "(null)" : name);
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, raw.data());
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(dataset);
  }
  H5Fclose(file);
  return names;
}

struct StoreContents {
  std::vector<int64_t> ids, offsets, chosen, rejected, prompts;
  std::vector<float> embeddings;
  std::vector<std::string> names;
  bool operator==(const StoreContents& o) const {
    return ids == o.ids && offsets == o.offsets && chosen == o.chosen && rejected == o.rejected &&
           prompts == o.prompts && embeddings == o.embeddings && names == o.names;
  }
};

StoreContents read_store(const std::string& path) {
  const PreferenceStore store(path);
  StoreContents c{store.user_ids(), store.offsets(), {}, {}, store.read_prompts(), {}, {}};
  store.read_pairs(0, store.num_pairs(), c.chosen, c.rejected);
  c.embeddings.resize(static_cast<size_t>(store.num_responses() * store.embedding_dim()));
  store.read_embeddings(0, store.num_responses(), c.embeddings.data());
  c.names = read_user_names(path);
  return c;
}

class ImportTest : public ::testing::Test {
 protected:
  ImportSummary import(const std::vector<std::string>& lines) {
    write_lines(options_.jsonl_path, lines);
    return import_jsonl(options_);
  }
  // Nothing but the input may be left in the directory (no store, partial or sort run).
  void expect_only_input() {
    for (const auto& entry : std::filesystem::directory_iterator(dir_.file(""))) {
      EXPECT_EQ(entry.path().filename(), "pairs.jsonl") << "left behind: " << entry.path();
    }
  }

  test::TempDir dir_;
  JsonlImportOptions options_{dir_.file("pairs.jsonl"), dir_.file("store.h5")};
};

TEST_F(ImportTest, TextWithStringUsers) {
  options_.text_dim = 16;
  const auto summary = import({
      pair_line("\"bob\"", "\"p-x\"", "\"A kind, clear answer.\"", "\"go away\""),
      "",
      pair_line("\"alice\"", "\"p-y\"", "\"Sure: here it is\"", "\"no\""),
      pair_line("\"bob\"", "\"p-y\"", "\"no\"", "\"maybe\""),
  });
  EXPECT_EQ(summary.users, 2);
  EXPECT_EQ(summary.pairs, 3);
  EXPECT_EQ(summary.responses, 5);  // "no" under p-y is one response
  EXPECT_EQ(summary.embedding_dim, 16);
  EXPECT_TRUE(summary.text);
  EXPECT_EQ(summary.lines, 4);

  const auto c = read_store(options_.out_path);
  EXPECT_EQ(c.names, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(c.offsets, (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(c.chosen, (std::vector<int64_t>{2, 0, 3}));  // alice, then bob in input order
  EXPECT_EQ(c.rejected, (std::vector<int64_t>{3, 1, 4}));
  EXPECT_EQ(c.prompts, (std::vector<int64_t>{0, 0, 1, 1, 1}));  // p-x -> 0, p-y -> 1
  const TextFeaturizer featurizer(16);
  const std::vector<float> row2(c.embeddings.begin() + 2 * 16, c.embeddings.begin() + 3 * 16);
  EXPECT_EQ(row2, features(featurizer, "Sure: here it is"));
}

TEST_F(ImportTest, EmbeddingsRoundTripExactly) {
  const auto summary = import({
      pair_line("7", "3", "[0.1, -2.5e-3, 1e30]", "[1, 2, 3]"),
      pair_line("-4", "11", "[3.4e38, -1e-40, 0]", "[0.1, -2.5e-3, 1e30]"),
  });
  EXPECT_EQ(summary.embedding_dim, 3);
  EXPECT_FALSE(summary.text);
  EXPECT_EQ(summary.responses, 4);  // the same values under another prompt are another response
  const auto c = read_store(options_.out_path);
  EXPECT_EQ(c.ids, (std::vector<int64_t>{-4, 7}));
  EXPECT_TRUE(c.names.empty()) << "integer users need no /users/name";
  EXPECT_EQ(c.prompts, (std::vector<int64_t>{3, 3, 11, 11}));
  EXPECT_EQ(c.chosen, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(c.embeddings, (std::vector<float>{0.1f, -2.5e-3f, 1e30f, 1, 2, 3, 3.4e38f, -1e-40f, 0,
                                              0.1f, -2.5e-3f, 1e30f}));
}

TEST_F(ImportTest, IdenticalResponsesAreStoredOnce) {
  options_.text_dim = 8;
  const auto summary = import({
      pair_line("1", "\"q\"", "\"yes\"", "\"no\""), pair_line("2", "\"q\"", "\"no\"", "\"yes\""),
      pair_line("3", "\"q\"", "\"Yes\"", "\"no\""),  // other bytes: another response
      pair_line("4", "\"r\"", "\"yes\"", "\"no\""),  // other prompt: two more responses
  });
  EXPECT_EQ(summary.responses, 5);
  const auto c = read_store(options_.out_path);
  EXPECT_EQ(c.chosen, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(c.rejected, (std::vector<int64_t>{1, 0, 1, 4}));
}

// Users interleaved at random, integer ids first and string ids later (so runs spilled under the
// integer order must be re-sorted by name); every response unique, so line i has rows 2i, 2i+1.
TEST_F(ImportTest, SpilledRunsMergeToTheInMemoryResult) {
  options_.text_dim = 8;
  const std::vector<std::string> int_users = {"3", "10", "9", "25"};
  const std::vector<std::string> later_users = {"\"alice\"", "\"bob\"", "10", "\"9\""};
  std::mt19937 rng(5);
  std::vector<std::string> lines, user_of_line;
  for (int i = 0; i < 60; ++i) {
    const auto& user = (i < 30 ? int_users : later_users)[rng() % 4];
    user_of_line.push_back(user.front() == '"' ? user.substr(1, user.size() - 2) : user);
    lines.push_back(pair_line(user, std::to_string(i % 5), "\"c " + std::to_string(i) + "\"",
                              "\"r " + std::to_string(i) + "\""));
  }
  const std::vector<std::string> names = {"10", "25", "3", "9", "alice", "bob"};  // byte order
  std::vector<int64_t> chosen;
  for (const auto& name : names) {
    for (int i = 0; i < 60; ++i) {
      if (user_of_line[i] == name) chosen.push_back(2 * i);
    }
  }
  import(lines);
  const auto in_memory = read_store(options_.out_path);
  EXPECT_EQ(in_memory.names, names);
  EXPECT_EQ(in_memory.ids, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(in_memory.chosen, chosen);

  for (const int64_t records : {1, 7, 29}) {
    options_.max_records_in_memory = records;
    options_.overwrite = true;
    import(lines);
    EXPECT_TRUE(read_store(options_.out_path) == in_memory) << records << " records per run";
    for (const auto& entry : std::filesystem::directory_iterator(dir_.file(""))) {
      EXPECT_EQ(entry.path().string().find(".sort-"), std::string::npos) << entry.path();
    }
  }
  // All integer users, spilled: sorted numerically (9 < 10), no names.
  lines.resize(30);
  import(lines);
  EXPECT_EQ(read_store(options_.out_path).ids, (std::vector<int64_t>{3, 9, 10, 25}));
}

struct ErrorCase {
  const char* name;
  std::vector<std::string> lines;
  int line;
  const char* problem;
};

class ImportErrorTest : public ImportTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ImportErrorTest, RefusedWithLineAndReason) {
  options_.max_records_in_memory = 1;  // errors after spilled runs must remove them too
  try {
    import(GetParam().lines);
    FAIL() << "expected DataError containing: " << GetParam().problem;
  } catch (const DataError& e) {
    const std::string message = e.what();
    const std::string where = options_.jsonl_path + ":" + std::to_string(GetParam().line) + ": ";
    EXPECT_EQ(message.rfind(where, 0), 0u) << "must start with " << where << ": " << message;
    EXPECT_NE(message.find(GetParam().problem), std::string::npos) << message;
    EXPECT_NE(message.find("; expected "), std::string::npos) << message;
  }
  expect_only_input();
}

const std::string kArr = "[1, 2, 3]";
const std::string kOk = pair_line("1", "1", kArr, "[4, 5, 6]");

INSTANTIATE_TEST_SUITE_P(
    Cases, ImportErrorTest,
    ::testing::Values(
        ErrorCase{"Malformed", {kOk, "{\"user\": 1,"}, 2, "not valid JSON"},
        ErrorCase{
            "NumberOverflow", {pair_line("1", "1", "[1e999, 0, 0]", kArr)}, 1, "number overflow"},
        ErrorCase{"NotAnObject", {kOk, kOk, "[1, 2]"}, 3, "the line is an array"},
        ErrorCase{"MissingKey",
                  {"{\"user\": 1, \"prompt\": 1, \"chosen\": [1]}"},
                  1,
                  "missing key \"rejected\""},
        ErrorCase{
            "UserOfWrongType", {pair_line("1.5", "1", kArr, kArr)}, 1, "\"user\" is a number"},
        ErrorCase{"UserTooLarge",
                  {pair_line("18446744073709551615", "1", kArr, kArr)},
                  1,
                  "does not fit in int64"},
        ErrorCase{
            "ResponseOfWrongType", {pair_line("1", "1", "{}", kArr)}, 1, "\"chosen\" is an object"},
        ErrorCase{"ElementOfWrongType",
                  {pair_line("1", "1", kArr, "[1, \"x\", 3]")},
                  1,
                  "\"rejected\"[1] is a string"},
        ErrorCase{"OtherWidth",
                  {kOk, pair_line("2", "1", "[1, 2]", kArr)},
                  2,
                  "\"chosen\" has 2 values; expected 3, the embedding width set by line 1"},
        ErrorCase{"EmptyEmbedding", {pair_line("1", "1", "[]", "[]")}, 1, "is an empty array"},
        ErrorCase{"MixedAcrossLines",
                  {kOk, "", pair_line("2", "1", "\"text\"", kArr)},
                  3,
                  "\"chosen\" is a string but line 1 has arrays"},
        ErrorCase{"MixedWithinLine",
                  {pair_line("2", "1", "\"text\"", kArr)},
                  1,
                  "\"rejected\" is an array but line 1 has strings"},
        ErrorCase{"MixedPromptKinds",
                  {kOk, pair_line("2", "\"p\"", kArr, kArr)},
                  2,
                  "\"prompt\" is a string but line 1 has an integer"},
        ErrorCase{"NotFiniteFloat32",
                  {kOk, pair_line("2", "1", "[1, 1e39, 0]", kArr)},
                  2,
                  "\"chosen\"[1] = 1e+39 is not a finite float32"},
        ErrorCase{"EmptyFile", {}, 1, "no preference pairs"},
        ErrorCase{"OnlyBlankLines", {"", "  \t"}, 1, "no preference pairs"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ImportTest, ExistingOutputIsRefusedBeforeTheInputIsRead) {
  std::ofstream(options_.out_path) << "an older store";
  options_.jsonl_path = dir_.file("missing.jsonl");
  try {
    import_jsonl(options_);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(options_.out_path + " already exists; pass --force"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(
      {
        options_.overwrite = true;
        import_jsonl(options_);
      },
      DataError)
      << "with overwrite the missing input is the problem";
  options_.jsonl_path = dir_.file("pairs.jsonl");
  EXPECT_EQ(import({kOk}).pairs, 1);
  EXPECT_EQ(PreferenceStore(options_.out_path).num_pairs(), 1);
}

}  // namespace
}  // namespace vrf::io
