// distributed/user_sharder.h — contiguous user ranges per rank, balanced by pair count.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace vrf::dist {

// Cuts users [0, U) into `world_size` contiguous ranges whose pair counts are as equal as a
// contiguous cut allows, from the store's CSR offsets alone ([U + 1], offsets[0] == 0), so every
// rank computes the same cut without communicating. Ranges are disjoint and cover all users; a
// rank may get an empty range only when there are fewer users than ranks.
class UserSharder {
 public:
  UserSharder(const std::vector<int64_t>& offsets, int world_size);

  // [begin, end) of rank r's users.
  std::pair<int64_t, int64_t> range(int rank) const;
  // The rank that owns user u.
  int owner(int64_t user) const;
  int world_size() const { return static_cast<int>(bounds_.size()) - 1; }

 private:
  std::vector<int64_t> bounds_;  // [world_size + 1]: rank r owns [bounds_[r], bounds_[r + 1])
};

}  // namespace vrf::dist
