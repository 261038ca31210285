// io/pair_stream.h — streams one contiguous user range of a store as padded training batches, with
// a background I/O thread that reads the next block while the current one is consumed.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/pair_batch.h"
#include "io/preference_store.h"

namespace vrf::io {

struct PairStreamOptions {
  int64_t user_begin = 0;                   // first user (index into /users/id) of the range
  int64_t user_end = -1;                    // one past the last user; -1: the store's last user
  int64_t block_bytes = int64_t{32} << 20;  // a block's budget: pair indices + gathered rows
  int64_t embedding_cache_mb = 1024;        // keep the whole response table in memory if it fits
  uint64_t seed = 0;
  // DESIGN.md section 1.5: per visit, context c ~ U{context_min .. min(context_max, n - 1)} and
  // up to query_max queries from the rest. Without context (bt, factorized) every sampled pair,
  // up to query_max, is a query.
  bool use_context = true;
  int64_t context_min = 1, context_max = 20, query_max = 20;
  bool with_query_chosen = false;  // fill PairBatch.query_chosen (models with a basis trunk)
};

// Where the stream stands: the next user to visit is number `position` of epoch `epoch`'s order.
struct StreamCursor {
  int64_t epoch = 0;
  int64_t position = 0;
};

// Epoch order: the range's blocks (runs of whole users under block_bytes) in a permutation seeded
// by (seed, epoch), then the users of each block in a permutation seeded by (seed, epoch, block);
// users without pairs are never visited. A visit's context/query split is seeded by (seed, epoch,
// user). So the stream is deterministic for (seed, epoch), reorders across epochs, and restarting
// from cursor() continues exactly. Batches run across epoch ends without a gap.
// The I/O thread owns all reads after construction; next_batch() is for one consumer thread.
// Data errors met by the I/O thread (bad pair index, non-finite embedding) are rethrown by
// next_batch(). Requires a thread-safe HDF5 build (checked: vrf::ConfigError otherwise).
class PairStream {
 public:
  PairStream(const std::string& store_path, const PairStreamOptions& options,
             StreamCursor start = {});
  ~PairStream();  // stops and joins the I/O thread
  PairStream(const PairStream&) = delete;
  PairStream& operator=(const PairStream&) = delete;

  // The next `users` user visits as one float32 CPU batch (user_rows = store user indices).
  core::PairBatch next_batch(int64_t users);
  StreamCursor cursor() const { return cursor_; }
  int64_t users_per_epoch() const { return users_per_epoch_; }
  int64_t num_blocks() const { return static_cast<int64_t>(blocks_.size()); }
  bool embeddings_cached() const { return !cache_.empty(); }
  int64_t embedding_dim() const { return dim_; }
  double io_wait_seconds() const { return io_wait_seconds_; }  // consumer time blocked on I/O
  int64_t bytes_read() const;      // by the I/O thread so far: indices and gathered rows
  double io_busy_seconds() const;  // time the I/O thread spent reading blocks so far

 private:
  struct Block;
  struct Visit;
  std::vector<int64_t> block_order(int64_t epoch) const;
  std::vector<int64_t> user_order(int64_t epoch, int64_t block) const;
  // Reads block `block` of `epoch` into `into` (a recycled block whose buffers are reused, or
  // null), skipping its first `skip` users.
  std::unique_ptr<Block> load(int64_t epoch, int64_t first_position, int64_t block, int64_t skip,
                              std::unique_ptr<Block> into) const;
  void produce(StreamCursor start);
  Block& current_block();
  Visit sample_visit(const Block& block, int64_t user) const;

  std::unique_ptr<PreferenceStore> store_;
  PairStreamOptions options_;
  int64_t dim_ = 0;
  int64_t users_per_epoch_ = 0;
  std::vector<std::pair<int64_t, int64_t>> blocks_;  // user ranges [begin, end)
  std::vector<int64_t> block_users_;                 // visitable users per block
  std::vector<float> cache_;                         // [R, D] when cached

  std::thread io_thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Block>> ready_;  // at most one prefetched block
  std::unique_ptr<Block> spare_;              // a consumed block, for its buffers
  std::exception_ptr io_error_;
  bool stopping_ = false;
  int64_t bytes_read_ = 0;
  double io_busy_seconds_ = 0;

  std::unique_ptr<Block> current_;
  StreamCursor cursor_;
  double io_wait_seconds_ = 0;
};

}  // namespace vrf::io
