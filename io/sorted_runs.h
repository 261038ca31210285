// io/sorted_runs.h — the external sort behind `vrf data import`: pair records sorted in memory,
// spilled to disk as runs when they exceed the budget, read back block by block for the merge.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace vrf::io {

// One pair as sorted and spilled. `user` is the user's index in order of first appearance; `line`
// (unique, increasing) keeps a user's pairs in input order.
struct PairRecord {
  int64_t user, chosen, rejected, line;
};

// Sorts by (rank[user], line): the store's user order, then input order.
void sort_records(std::vector<PairRecord>& records, const std::vector<int64_t>& rank);

// Spilled runs of records; each file is removed on destruction, whatever happened. Throws
// vrf::DataError when a run cannot be written.
class SpillRuns {
 public:
  struct Run {
    std::string path;
    int64_t count;
    bool string_order;  // sorted by user name (else by integer id)
  };

  explicit SpillRuns(std::string prefix) : prefix_(std::move(prefix)) {}
  SpillRuns(const SpillRuns&) = delete;
  SpillRuns& operator=(const SpillRuns&) = delete;
  ~SpillRuns();

  std::vector<Run>& runs() { return runs_; }
  // Writes `records` as a new run "<prefix><k>.tmp".
  void add(const std::vector<PairRecord>& records, bool string_order);
  // Rewrites an existing run with `records`.
  void write(Run& run, const std::vector<PairRecord>& records) const;

 private:
  std::string prefix_;
  std::vector<Run> runs_;
};

// Reads one sorted run front to back, from memory or from a spilled file (4096 records at a
// time). The in-memory form borrows `records`, which must outlive the cursor.
class RunCursor {
 public:
  explicit RunCursor(const std::vector<PairRecord>& records)
      : at_(records.data()), end_(records.data() + records.size()) {}
  explicit RunCursor(const SpillRuns::Run& run);
  bool done() const { return at_ == end_; }
  const PairRecord& top() const { return *at_; }
  void advance() {
    if (++at_ == end_) refill();
  }

 private:
  void refill();

  std::ifstream in_;
  std::string path_;
  int64_t left_ = 0;
  std::vector<PairRecord> buffer_;
  const PairRecord* at_ = nullptr;
  const PairRecord* end_ = nullptr;
};

}  // namespace vrf::io
