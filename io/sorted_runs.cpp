// io/sorted_runs.cpp — SpillRuns, RunCursor and sort_records.
#include "io/sorted_runs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/errors.h"

namespace vrf::io {
namespace {

constexpr int64_t kReadBlockRecords = 4096;  // per spilled run during the merge (128 KiB)

}  // namespace

void sort_records(std::vector<PairRecord>& records, const std::vector<int64_t>& rank) {
  std::sort(records.begin(), records.end(), [&](const PairRecord& a, const PairRecord& b) {
    return rank[a.user] != rank[b.user] ? rank[a.user] < rank[b.user] : a.line < b.line;
  });
}

SpillRuns::~SpillRuns() {
  for (const auto& run : runs_) {
    std::error_code ignored;
    std::filesystem::remove(run.path, ignored);
  }
}

void SpillRuns::add(const std::vector<PairRecord>& records, bool string_order) {
  runs_.push_back({prefix_ + std::to_string(runs_.size()) + ".tmp", 0, string_order});
  write(runs_.back(), records);
}

void SpillRuns::write(Run& run, const std::vector<PairRecord>& records) const {
  std::ofstream out(run.path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(records.data()),
            static_cast<std::streamsize>(records.size() * sizeof(PairRecord)));
  out.close();
  if (!out) {
    throw DataError(run.path + ": cannot write a temporary sort run (" + std::strerror(errno) +
                    "); expected free space next to the output");
  }
  run.count = static_cast<int64_t>(records.size());
}

RunCursor::RunCursor(const SpillRuns::Run& run)
    : in_(run.path, std::ios::binary), path_(run.path), left_(run.count) {
  refill();
}

void RunCursor::refill() {
  const int64_t n = std::min(left_, kReadBlockRecords);
  if (n == 0) return;
  buffer_.resize(static_cast<size_t>(n));
  in_.read(reinterpret_cast<char*>(buffer_.data()),
           static_cast<std::streamsize>(n * sizeof(PairRecord)));
  if (!in_) throw DataError(path_ + ": temporary sort run is shorter than written");
  left_ -= n;
  at_ = buffer_.data();
  end_ = at_ + n;
}

}  // namespace vrf::io
