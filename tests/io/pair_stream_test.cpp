// tests/io/pair_stream_test.cpp — the pair stream: exactly-once epochs, determinism per seed,
// reordering across epochs, exact resume from a cursor, the context/query split, errors from the
// I/O thread.
#include "io/pair_stream.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/errors.h"
#include "io/synthetic_benchmark.h"
#include "tests/io/store_fixtures.h"

namespace vrf::io {
namespace {

class PairStreamTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SynthConfig c;
    c.out_dir = dir_.file("synth");
    c.prompts = 20;
    c.users = 120;
    c.unseen_users = 0;
    c.dim = 6;
    c.pairs_min = 1;
    c.pairs_max = 30;
    write_synthetic_benchmark(c, nullptr);
    path_ = dir_.file("synth/train.h5");
    const PreferenceStore store(path_);
    offsets_ = store.offsets();
    std::vector<float> rows(static_cast<size_t>(store.num_responses() * 6));
    store.read_embeddings(0, store.num_responses(), rows.data());
    for (int64_t r = 0; r < store.num_responses(); ++r) {
      row_of_[std::vector<float>(rows.begin() + r * 6, rows.begin() + (r + 1) * 6)] = r;
    }
    store.read_pairs(0, store.num_pairs(), chosen_, rejected_);
  }

  // Options for the parameter: cached table, or rows gathered per block (tiny blocks).
  PairStreamOptions options() const {
    PairStreamOptions o;
    o.block_bytes = 4096;
    o.embedding_cache_mb = GetParam() ? 64 : 0;
    o.seed = 7;
    return o;
  }

  // (user, chosen row, rejected row) of every query of `batch`, recovered from the embeddings.
  std::vector<std::tuple<int64_t, int64_t, int64_t>> queries_of(const core::PairBatch& batch) {
    std::vector<std::tuple<int64_t, int64_t, int64_t>> result;
    for (int64_t i = 0; i < batch.num_users(); ++i) {
      for (int64_t j = 0; j < batch.query_mask.size(1); ++j) {
        if (batch.query_mask[i][j].item<float>() == 0) continue;
        const auto c = batch.query_chosen[i][j].contiguous();
        const auto r = (batch.query_chosen[i][j] - batch.query_delta[i][j]).contiguous();
        const auto key = [](const torch::Tensor& t) {
          return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + 6);
        };
        const auto chosen = row_of_.find(key(c));
        EXPECT_NE(chosen, row_of_.end());
        // rejected = chosen - delta is exact only up to rounding: find the nearest row.
        int64_t best = -1;
        double best_distance = 1e30;
        for (const auto& [values, row] : row_of_) {
          double d = 0;
          for (int k = 0; k < 6; ++k) d += std::abs(values[k] - r.data_ptr<float>()[k]);
          if (d < best_distance) best_distance = d, best = row;
        }
        result.emplace_back(batch.user_rows[i].item<int64_t>(), chosen->second, best);
      }
    }
    return result;
  }

  test::TempDir dir_;
  std::string path_;
  std::vector<int64_t> offsets_, chosen_, rejected_;
  std::map<std::vector<float>, int64_t> row_of_;
};

TEST_P(PairStreamTest, EveryPairOfTheRangeOncePerEpoch) {
  auto o = options();
  o.user_begin = 10;
  o.user_end = 100;
  o.use_context = false;
  o.query_max = 1000;  // a visit returns all of the user's pairs
  o.with_query_chosen = true;
  PairStream stream(path_, o);
  EXPECT_GT(stream.num_blocks(), 3);
  EXPECT_EQ(stream.embeddings_cached(), GetParam());
  std::multiset<std::tuple<int64_t, int64_t, int64_t>> seen;
  int64_t visited = 0;
  while (visited < stream.users_per_epoch()) {
    const int64_t b = std::min<int64_t>(16, stream.users_per_epoch() - visited);
    for (const auto& q : queries_of(stream.next_batch(b))) seen.insert(q);
    visited += b;
  }
  EXPECT_EQ(stream.cursor().epoch, 1);
  EXPECT_EQ(stream.cursor().position, 0);
  std::multiset<std::tuple<int64_t, int64_t, int64_t>> expected;
  for (int64_t u = 10; u < 100; ++u) {
    for (int64_t j = offsets_[u]; j < offsets_[u + 1]; ++j) {
      expected.emplace(u, chosen_[j], rejected_[j]);
    }
  }
  EXPECT_EQ(seen, expected);
}

TEST_P(PairStreamTest, DeterministicPerSeedAndReorderedAcrossEpochs) {
  const auto users_of = [](PairStream& s, int64_t n) { return s.next_batch(n).user_rows; };
  PairStream a(path_, options()), b(path_, options());
  auto other = options();
  other.seed = 8;
  PairStream c(path_, other);
  const int64_t n = a.users_per_epoch();
  const auto epoch0 = users_of(a, n);
  EXPECT_TRUE(epoch0.equal(users_of(b, n)));
  EXPECT_FALSE(epoch0.equal(users_of(c, n)));
  const auto epoch1 = users_of(a, n);
  EXPECT_FALSE(epoch0.equal(epoch1)) << "epochs must be reordered";
  EXPECT_TRUE(std::get<0>(epoch0.sort()).equal(std::get<0>(epoch1.sort())));
  // Same seed, same batches, down to the sampled pairs.
  PairStream d(path_, options()), e(path_, options());
  for (int step = 0; step < 5; ++step) {
    const auto x = d.next_batch(9), y = e.next_batch(9);
    EXPECT_TRUE(x.query_delta.equal(y.query_delta));
    EXPECT_TRUE(x.context_delta.equal(y.context_delta));
  }
}

TEST_P(PairStreamTest, ResumesExactlyFromACursor) {
  for (const int64_t consumed : {int64_t{0}, int64_t{37}, int64_t{119}, int64_t{250}}) {
    SCOPED_TRACE("resume after " + std::to_string(consumed) + " users");
    PairStream first(path_, options());
    int64_t left = consumed;
    while (left > 0) {
      const int64_t b = std::min<int64_t>(left, 25);
      first.next_batch(b);
      left -= b;
    }
    PairStream resumed(path_, options(), first.cursor());
    for (int step = 0; step < 8; ++step) {  // crosses at least one epoch end
      const auto x = first.next_batch(20), y = resumed.next_batch(20);
      ASSERT_TRUE(x.user_rows.equal(y.user_rows)) << "step " << step;
      ASSERT_TRUE(x.query_delta.equal(y.query_delta)) << "step " << step;
      ASSERT_TRUE(x.context_mask.equal(y.context_mask)) << "step " << step;
    }
  }
}

TEST_P(PairStreamTest, ContextAndQuerySplitFollowsTheSpec) {
  auto o = options();
  o.context_min = 1;
  o.context_max = 5;
  o.query_max = 4;
  PairStream stream(path_, o);
  const auto batch = stream.next_batch(stream.users_per_epoch());
  for (int64_t i = 0; i < batch.num_users(); ++i) {
    const int64_t user = batch.user_rows[i].item<int64_t>();
    const int64_t n = offsets_[user + 1] - offsets_[user];
    const auto c = static_cast<int64_t>(batch.context_mask[i].sum().item<float>());
    const auto q = static_cast<int64_t>(batch.query_mask[i].sum().item<float>());
    if (n == 1) {
      EXPECT_EQ(c, 0);
    } else {
      EXPECT_GE(c, 1);
      EXPECT_LE(c, std::min<int64_t>(5, n - 1));
    }
    EXPECT_EQ(q, std::min<int64_t>(4, n - c)) << "user " << user << " with " << n << " pairs";
  }
}

INSTANTIATE_TEST_SUITE_P(Cache, PairStreamTest, ::testing::Bool(), [](const auto& info) {
  return info.param ? std::string("cached") : std::string("gathered");
});

TEST(PairStreamErrorTest, BadRowFoundByTheIoThreadIsRethrown) {
  test::TempDir dir;
  const auto path = dir.file("store.h5");
  StoreWriterOptions options;
  options.embedding_dim = 3;
  test::write_small_store(path, options);
  test::edit_store(path, [](hid_t f) { test::set_int64(f, "/pairs/rejected", 4, 99); });
  PairStreamOptions o;
  o.embedding_cache_mb = 0;
  PairStream stream(path, o);
  try {
    for (int i = 0; i < 10; ++i) stream.next_batch(2);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset /pairs/rejected row 4: response index 99"),
              std::string::npos)
        << e.what();
  }
}

TEST(PairStreamErrorTest, BadRangeIsAConfigError) {
  test::TempDir dir;
  const auto path = dir.file("store.h5");
  StoreWriterOptions options;
  options.embedding_dim = 3;
  test::write_small_store(path, options);
  PairStreamOptions o;
  o.user_end = 6;
  EXPECT_THROW(PairStream(path, o), ConfigError);
}

}  // namespace
}  // namespace vrf::io
