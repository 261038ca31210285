// io/pair_stream.cpp — PairStream: block partition, seeded epoch order, the I/O thread and batch
// assembly.
#include "io/pair_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>

#include "core/errors.h"

namespace vrf::io {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a small, fast generator for one visit's sampling, seeded
// from a tuple (seed, epoch[, block or user]) by mixing each part in. Seeding a Mersenne twister
// per visit cost more than the rest of batch assembly.
class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(std::initializer_list<uint64_t> parts) {
    for (uint64_t p : parts) state_ = mix(state_ ^ p);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~uint64_t{0}; }
  result_type operator()() { return mix(state_ += 0x9e3779b97f4a7c15ULL); }

 private:
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_ = 0x853c49e6748fea9bULL;
};

}  // namespace

// One block's data, read by the I/O thread.
struct PairStream::Block {
  int64_t epoch = 0;
  int64_t first_position = 0;  // epoch position of order[0]
  int64_t pair_base = 0;       // global index of chosen[0]
  std::vector<int64_t> order;  // users to visit, in order
  size_t next = 0;             // next entry of `order`
  std::vector<int64_t> chosen, rejected;
  std::vector<int64_t> row_ids;  // sorted response rows of `rows` (uncached stores)
  std::vector<float> rows;       // [row_ids.size(), D]
};

// One user's sampled pairs, as embedding-row pointers (valid while its block lives).
struct PairStream::Visit {
  int64_t user = 0;
  std::vector<std::pair<const float*, const float*>> context, query;  // (chosen, rejected)
};

PairStream::PairStream(const std::string& store_path, const PairStreamOptions& options,
                       StreamCursor start)
    : store_(std::make_unique<PreferenceStore>(store_path)), options_(options) {
  hbool_t threadsafe = 0;
  H5is_library_threadsafe(&threadsafe);
  if (!threadsafe) {
    throw ConfigError(
        "the HDF5 library in use is not thread-safe; the pair stream reads on a "
        "background thread. Build vrf against a thread-safe HDF5 (Debian's "
        "libhdf5-dev serial build is)");
  }
  const auto& offsets = store_->offsets();
  const int64_t end = options.user_end < 0 ? store_->num_users() : options.user_end;
  if (options.user_begin < 0 || options.user_begin > end || end > store_->num_users()) {
    throw ConfigError(store_path + ": user range [" + std::to_string(options.user_begin) + ", " +
                      std::to_string(end) + ") outside the store's " +
                      std::to_string(store_->num_users()) + " users");
  }
  if (options.context_min < 0 || options.context_max < options.context_min ||
      options.query_max < 1 || options.block_bytes <= 0) {
    throw ConfigError(
        "pair stream: need 0 <= context-min <= context-max, query-max >= 1 and a "
        "positive block size");
  }
  dim_ = store_->embedding_dim();
  const int64_t table_bytes = store_->num_responses() * dim_ * 4;
  if (table_bytes <= options.embedding_cache_mb * (int64_t{1} << 20)) {
    cache_.resize(static_cast<size_t>(store_->num_responses() * dim_));
    store_->read_embeddings(0, store_->num_responses(), cache_.data());
  }
  // Blocks: runs of whole users whose pair indices (16 bytes a pair) and, without the cache,
  // gathered rows (at most 2 per pair) fit the budget; a larger user makes a block alone.
  const int64_t bytes_per_pair = 16 + (cache_.empty() ? 2 * dim_ * 4 : 0);
  int64_t block_begin = options.user_begin, block_bytes = 0, visitable = 0;
  for (int64_t u = options.user_begin; u < end; ++u) {
    const int64_t pairs = offsets[u + 1] - offsets[u];
    if (u > block_begin && block_bytes + pairs * bytes_per_pair > options.block_bytes) {
      blocks_.emplace_back(block_begin, u);
      block_users_.push_back(visitable);
      block_begin = u;
      block_bytes = visitable = 0;
    }
    block_bytes += pairs * bytes_per_pair;
    visitable += pairs > 0;
  }
  if (end > block_begin) {
    blocks_.emplace_back(block_begin, end);
    block_users_.push_back(visitable);
  }
  users_per_epoch_ = std::accumulate(block_users_.begin(), block_users_.end(), int64_t{0});
  if (users_per_epoch_ == 0) {
    throw DataError(store_path + ": users [" + std::to_string(options.user_begin) + ", " +
                    std::to_string(end) + ") have no pairs; nothing to stream");
  }
  cursor_ = start;
  cursor_.epoch += cursor_.position / users_per_epoch_;
  cursor_.position %= users_per_epoch_;
  io_thread_ = std::thread([this, begin = cursor_] { produce(begin); });
}

PairStream::~PairStream() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (io_thread_.joinable()) io_thread_.join();
}

std::vector<int64_t> PairStream::block_order(int64_t epoch) const {
  std::vector<int64_t> order(blocks_.size());
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng({options_.seed, static_cast<uint64_t>(epoch)});
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

std::vector<int64_t> PairStream::user_order(int64_t epoch, int64_t block) const {
  const auto& offsets = store_->offsets();
  std::vector<int64_t> users;
  for (int64_t u = blocks_[block].first; u < blocks_[block].second; ++u) {
    if (offsets[u + 1] > offsets[u]) users.push_back(u);
  }
  SplitMix64 rng({options_.seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(block)});
  std::shuffle(users.begin(), users.end(), rng);
  return users;
}

std::unique_ptr<PairStream::Block> PairStream::load(int64_t epoch, int64_t first_position,
                                                    int64_t block, int64_t skip,
                                                    std::unique_ptr<Block> into) const {
  // Reusing a consumed block's buffers avoids faulting in fresh pages for every block.
  auto b = into != nullptr ? std::move(into) : std::make_unique<Block>();
  b->next = 0;
  b->epoch = epoch;
  b->first_position = first_position + skip;
  b->order = user_order(epoch, block);
  b->order.erase(b->order.begin(), b->order.begin() + skip);
  const auto& offsets = store_->offsets();
  b->pair_base = offsets[blocks_[block].first];
  store_->read_pairs(b->pair_base, offsets[blocks_[block].second], b->chosen, b->rejected);
  if (cache_.empty()) {
    b->row_ids = b->chosen;
    b->row_ids.insert(b->row_ids.end(), b->rejected.begin(), b->rejected.end());
    std::sort(b->row_ids.begin(), b->row_ids.end());
    b->row_ids.erase(std::unique(b->row_ids.begin(), b->row_ids.end()), b->row_ids.end());
    b->rows.resize(b->row_ids.size() * static_cast<size_t>(dim_));
    store_->gather_embeddings(b->row_ids, b->rows.data());  // sorted, coalesced reads
  }
  return b;
}

void PairStream::produce(StreamCursor start) {
  try {
    for (int64_t epoch = start.epoch;; ++epoch) {
      int64_t position = 0;
      for (int64_t block : block_order(epoch)) {
        const int64_t users = block_users_[block];
        const int64_t skip =
            epoch == start.epoch ? std::clamp<int64_t>(start.position - position, 0, users) : 0;
        if (skip < users) {
          std::unique_ptr<Block> recycled;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            recycled = std::move(spare_);
          }
          const auto started = std::chrono::steady_clock::now();
          auto loaded = load(epoch, position, block, skip, std::move(recycled));
          const double busy =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
          const int64_t bytes = static_cast<int64_t>(
              (loaded->chosen.size() + loaded->rejected.size()) * 8 + loaded->rows.size() * 4);
          std::unique_lock<std::mutex> lock(mutex_);
          bytes_read_ += bytes;
          io_busy_seconds_ += busy;
          changed_.wait(lock, [&] { return stopping_ || ready_.empty(); });
          if (stopping_) return;
          ready_.push_back(std::move(loaded));
          changed_.notify_all();
        }
        position += users;
      }
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    io_error_ = std::current_exception();
    changed_.notify_all();
  }
}

PairStream::Block& PairStream::current_block() {
  if (current_ == nullptr || current_->next == current_->order.size()) {
    const auto waiting = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !ready_.empty() || io_error_ != nullptr; });
    io_wait_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting).count();
    if (ready_.empty()) std::rethrow_exception(io_error_);
    if (current_ != nullptr) spare_ = std::move(current_);
    current_ = std::move(ready_.front());
    ready_.pop_front();
    changed_.notify_all();
  }
  return *current_;
}

PairStream::Visit PairStream::sample_visit(const Block& block, int64_t user) const {
  const auto& offsets = store_->offsets();
  const int64_t first = offsets[user] - block.pair_base;
  const int64_t n = offsets[user + 1] - offsets[user];
  SplitMix64 rng({options_.seed, static_cast<uint64_t>(block.epoch), static_cast<uint64_t>(user)});
  int64_t c = 0;
  if (options_.use_context) {
    const int64_t most = std::min(options_.context_max, n - 1);
    c = most >= options_.context_min
            ? std::uniform_int_distribution<int64_t>(options_.context_min, most)(rng)
            : std::max<int64_t>(0, most);
  }
  const int64_t q = std::min(options_.query_max, n - c);
  // The first c + q entries of a partial Fisher-Yates shuffle of the user's pairs.
  std::vector<int64_t> picks(static_cast<size_t>(n));
  std::iota(picks.begin(), picks.end(), first);
  for (int64_t i = 0; i < c + q; ++i) {
    std::swap(picks[i], picks[std::uniform_int_distribution<int64_t>(i, n - 1)(rng)]);
  }
  const auto row = [&](int64_t response) -> const float* {
    if (!cache_.empty()) return cache_.data() + response * dim_;
    const auto it = std::lower_bound(block.row_ids.begin(), block.row_ids.end(), response);
    return block.rows.data() + (it - block.row_ids.begin()) * dim_;
  };
  Visit visit;
  visit.user = user;
  for (int64_t i = 0; i < c + q; ++i) {
    auto& side = i < c ? visit.context : visit.query;
    side.emplace_back(row(block.chosen[picks[i]]), row(block.rejected[picks[i]]));
  }
  return visit;
}

core::PairBatch PairStream::next_batch(int64_t users) {
  if (users <= 0) throw ConfigError("next_batch: the batch needs at least one user");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  std::vector<int64_t> rows(static_cast<size_t>(users));
  // Copy each visit out before its block may be released by the next user.
  std::vector<std::vector<float>> context(rows.size()), query(rows.size()), chosen(rows.size());
  int64_t c_max = 0, q_max = 0;
  for (int64_t i = 0; i < users; ++i) {
    Block& block = current_block();
    const int64_t user = block.order[block.next];
    const Visit visit = sample_visit(block, user);
    cursor_ = {block.epoch, block.first_position + static_cast<int64_t>(block.next) + 1};
    ++block.next;
    if (block.next == block.order.size() && cursor_.position == users_per_epoch_) {
      cursor_ = {cursor_.epoch + 1, 0};
    }
    rows[i] = user;
    context[i].reserve(visit.context.size() * dim_);
    query[i].reserve(visit.query.size() * dim_);
    for (const auto& [c, r] : visit.context) {
      for (int64_t k = 0; k < dim_; ++k) context[i].push_back(c[k] - r[k]);
    }
    for (const auto& [c, r] : visit.query) {
      for (int64_t k = 0; k < dim_; ++k) query[i].push_back(c[k] - r[k]);
      if (options_.with_query_chosen) chosen[i].insert(chosen[i].end(), c, c + dim_);
    }
    c_max = std::max<int64_t>(c_max, visit.context.size());
    q_max = std::max<int64_t>(q_max, visit.query.size());
  }
  core::PairBatch batch;
  batch.context_delta = torch::zeros({users, c_max, dim_}, f32);
  batch.context_mask = torch::zeros({users, c_max}, f32);
  batch.query_delta = torch::zeros({users, q_max, dim_}, f32);
  batch.query_mask = torch::zeros({users, q_max}, f32);
  if (options_.with_query_chosen) batch.query_chosen = torch::zeros({users, q_max, dim_}, f32);
  // Raw copies into the zero-filled tensors: per-user tensor ops would dominate assembly.
  const auto copy_in = [&](const std::vector<float>& values, torch::Tensor& data,
                           torch::Tensor* mask, int64_t i) {
    const int64_t n = static_cast<int64_t>(values.size()) / dim_;
    std::copy(values.begin(), values.end(), data.data_ptr<float>() + i * data.stride(0));
    if (mask != nullptr) {
      float* row = mask->data_ptr<float>() + i * mask->stride(0);
      std::fill(row, row + n, 1.0f);
    }
  };
  for (int64_t i = 0; i < users; ++i) {
    copy_in(context[i], batch.context_delta, &batch.context_mask, i);
    copy_in(query[i], batch.query_delta, &batch.query_mask, i);
    if (options_.with_query_chosen) copy_in(chosen[i], batch.query_chosen, nullptr, i);
  }
  batch.user_rows = torch::tensor(rows, torch::kInt64);
  return batch;
}

int64_t PairStream::bytes_read() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_read_;
}

double PairStream::io_busy_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return io_busy_seconds_;
}

}  // namespace vrf::io
