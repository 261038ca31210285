// distributed/user_sharder.cpp — the balanced contiguous cut of users into rank ranges.
#include "distributed/user_sharder.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vrf::dist {
namespace {

using Wide = __int128;  // offsets + thresholds may exceed int64 near its limit

// The cut is a chain 0 = b_0 < b_1 < ... < b_W = U whose shard sums offsets[b_k] - offsets[b_{k-1}]
// all lie in [L, L + M], M being the largest user's pair count, so max - min <= M. For a threshold
// L, the chains of length k satisfying it end exactly at the positions [lo[k], hi[k]]: every
// window of width M in pair space holds a user boundary (no user has more than M pairs), so the
// reachable set has no holes. lo follows "smallest shard with >= L pairs", hi "largest shard with
// <= L + M pairs".
struct Reach {
  std::vector<int64_t> lo, hi;  // [W + 1] each
};

class Cutter {
 public:
  Cutter(const std::vector<int64_t>& offsets, int world_size)
      : offsets_(offsets), users_(static_cast<int64_t>(offsets.size()) - 1), world_(world_size) {
    for (int64_t u = 0; u < users_; ++u) {
      max_user_pairs_ = std::max(max_user_pairs_, offsets_[u + 1] - offsets_[u]);
    }
  }

  // Needs users_ >= world_. Uses the largest L with lo[W] <= U (monotone in L, so a binary
  // search). At that L also hi[W] == U: the greedy chain for L + 1 falls short, so its shards,
  // which lie within [L, L + M], leave at most L pairs, and the largest shards reach U.
  std::vector<int64_t> cut() const {
    int64_t low = 0, high = offsets_.back() / world_;
    while (low < high) {
      const int64_t mid = low + (high - low + 1) / 2;
      if (reach(mid).lo[world_] <= users_) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    const Reach r = reach(low);
    // Walk back from U, taking the last boundary that keeps the shard within [L, L + M] and is
    // reachable with one shard fewer.
    std::vector<int64_t> bounds(world_ + 1, 0);
    bounds[world_] = users_;
    for (int k = world_ - 1; k >= 1; --k) {
      const int64_t next = bounds[k + 1];
      bounds[k] = std::min({r.hi[k], next - 1, last_at_most(Wide{offsets_[next]} - low)});
    }
    return bounds;
  }

 private:
  // Positions past the end mean "no chain": users_ + 1.
  Reach reach(int64_t threshold) const {
    Reach r{std::vector<int64_t>(world_ + 1, 0), std::vector<int64_t>(world_ + 1, 0)};
    for (int k = 1; k <= world_; ++k) {
      const int64_t from = r.lo[k - 1];
      r.lo[k] =
          from >= users_ ? users_ + 1 : first_at_least(from + 1, Wide{offsets_[from]} + threshold);
      if (r.lo[k] > users_) {
        r.lo[world_] = users_ + 1;
        return r;
      }
      r.hi[k] = last_at_most(Wide{offsets_[r.hi[k - 1]]} + threshold + max_user_pairs_);
    }
    return r;
  }

  // Smallest u >= from with offsets[u] >= value, or users_ + 1.
  int64_t first_at_least(int64_t from, Wide value) const {
    const auto it = std::lower_bound(offsets_.begin() + from, offsets_.end(), value,
                                     [](int64_t offset, Wide v) { return Wide{offset} < v; });
    return it - offsets_.begin();
  }

  // Largest u with offsets[u] <= value (value >= 0, so u >= 0).
  int64_t last_at_most(Wide value) const {
    const auto it = std::upper_bound(offsets_.begin(), offsets_.end(), value,
                                     [](Wide v, int64_t offset) { return v < Wide{offset}; });
    return (it - offsets_.begin()) - 1;
  }

  const std::vector<int64_t>& offsets_;
  int64_t users_;
  int world_;
  int64_t max_user_pairs_ = 0;
};

void validate(const std::vector<int64_t>& offsets, int world_size) {
  if (world_size < 1) {
    throw std::invalid_argument("UserSharder: world_size must be at least 1; got " +
                                std::to_string(world_size));
  }
  if (offsets.empty() || offsets.front() != 0) {
    throw std::invalid_argument(
        "UserSharder: offsets must be the CSR offsets [users + 1] starting at 0; got " +
        (offsets.empty() ? std::string("an empty vector")
                         : "offsets[0] = " + std::to_string(offsets.front())));
  }
  for (size_t u = 1; u < offsets.size(); ++u) {
    if (offsets[u] < offsets[u - 1]) {
      throw std::invalid_argument("UserSharder: offsets must be non-decreasing; got offsets[" +
                                  std::to_string(u - 1) + "] = " + std::to_string(offsets[u - 1]) +
                                  " > offsets[" + std::to_string(u) +
                                  "] = " + std::to_string(offsets[u]));
    }
  }
}

}  // namespace

UserSharder::UserSharder(const std::vector<int64_t>& offsets, int world_size) {
  validate(offsets, world_size);
  const int64_t users = static_cast<int64_t>(offsets.size()) - 1;
  if (users < world_size) {
    // One user per rank is the best balance; the ranks past the last user stay empty.
    bounds_.resize(world_size + 1);
    for (int r = 0; r <= world_size; ++r) {
      bounds_[r] = std::min<int64_t>(r, users);
    }
    return;
  }
  bounds_ = Cutter(offsets, world_size).cut();
}

std::pair<int64_t, int64_t> UserSharder::range(int rank) const {
  if (rank < 0 || rank >= world_size()) {
    throw std::out_of_range("UserSharder::range: rank " + std::to_string(rank) +
                            " is outside [0, " + std::to_string(world_size()) + ")");
  }
  return {bounds_[rank], bounds_[rank + 1]};
}

int UserSharder::owner(int64_t user) const {
  if (user < 0 || user >= bounds_.back()) {
    throw std::out_of_range("UserSharder::owner: user " + std::to_string(user) +
                            " is outside [0, " + std::to_string(bounds_.back()) + ")");
  }
  // The last rank r with bounds_[r] <= user; empty ranges share a bound with the next rank.
  const auto it = std::upper_bound(bounds_.begin(), bounds_.end(), user);
  return static_cast<int>(it - bounds_.begin()) - 1;
}

}  // namespace vrf::dist
