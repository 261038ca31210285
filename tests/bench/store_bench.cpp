// tests/bench/store_bench.cpp — streaming throughput of PairStream against a raw sequential read
// of the same store file, warm and cold page cache, deflated and not; and how long a consumer that
// computes between batches waits on I/O. File GB/s are store-file bytes per second of wall time.
//
//   store_bench [--users N] [--dir DIR] [google-benchmark flags, e.g. --benchmark_repetitions=5]
//
// Stores are synthesized once into DIR (default /tmp/vrf-store-bench) with the default benchmark
// shape and N seen users (default 200000). "Cold" evicts the file's pages with
// posix_fadvise(DONTNEED) before each iteration.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "io/pair_stream.h"
#include "io/synthetic_benchmark.h"
#include "tests/bench/bench_flags.h"

namespace {

std::string g_dir = "/tmp/vrf-store-bench";
int64_t g_users = 200000;

std::string store_path(bool compressed) {
  return g_dir + (compressed ? "/deflate" : "/plain") + "/train.h5";
}

void make_stores() {
  for (bool compressed : {false, true}) {
    if (std::filesystem::exists(store_path(compressed))) continue;
    vrf::io::SynthConfig c;
    c.out_dir = g_dir + (compressed ? "/deflate" : "/plain");
    c.users = g_users;
    c.unseen_users = 0;
    c.compress = compressed;
    vrf::io::write_synthetic_benchmark(c, &std::cerr);
  }
}

void evict(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

// Reads the whole file front to back with read(2) into one reused buffer of range(2) MiB (4: the
// classic sequential read; 32: the size of a stream block, the memory traffic the stream has).
void BM_RawRead(benchmark::State& state) {
  const auto path = store_path(state.range(0));
  const bool cold = state.range(1);
  std::vector<char> buffer(static_cast<size_t>(state.range(2)) << 20);
  int64_t bytes = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      evict(path);
      state.ResumeTiming();
    }
    const int fd = open(path.c_str(), O_RDONLY);
    ssize_t n = 0;
    while ((n = read(fd, buffer.data(), buffer.size())) > 0) bytes += n;
    close(fd);
  }
  if (bytes != static_cast<int64_t>(std::filesystem::file_size(path)) *
                   static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("short read");
  }
  state.SetBytesProcessed(bytes);
}

// The stream's read path alone, no consumer: every pair of the store read and checked in the
// stream's block-sized ranges (32 MiB) into reused buffers, as the I/O thread does.
void BM_StoreRead(benchmark::State& state) {
  const auto path = store_path(state.range(0));
  const bool cold = state.range(1);
  const vrf::io::PreferenceStore store(path);
  std::vector<int64_t> chosen, rejected;
  const int64_t block = (int64_t{32} << 20) / 16;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      evict(path);
      state.ResumeTiming();
    }
    for (int64_t begin = 0; begin < store.num_pairs(); begin += block) {
      store.read_pairs(begin, std::min(store.num_pairs(), begin + block), chosen, rejected);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(std::filesystem::file_size(path)) *
                          static_cast<int64_t>(state.iterations()));
  state.SetItemsProcessed(store.num_pairs() * static_cast<int64_t>(state.iterations()));
}

// Steady state: one long-lived stream (after a warm-up epoch), each iteration one epoch consumed
// as fast as batches come (32 users each). Reports the I/O thread's own read rate (store bytes per
// second spent reading, to compare with BM_RawRead), and end-to-end pairs/s including batch
// assembly on the consumer.
void BM_StreamEpoch(benchmark::State& state) {
  const auto path = store_path(state.range(0));
  const bool cold = state.range(1);
  vrf::io::PairStream stream(path, vrf::io::PairStreamOptions{});
  const int64_t users = stream.users_per_epoch();
  const int64_t pairs = vrf::io::PreferenceStore(path).num_pairs();
  const auto epoch = [&] {
    for (int64_t visited = 0; visited < users; visited += 32) {
      benchmark::DoNotOptimize(stream.next_batch(std::min<int64_t>(32, users - visited)));
    }
  };
  epoch();  // warm-up: buffers allocated, first blocks read
  const double io_seconds_before = stream.io_busy_seconds();
  const int64_t io_bytes_before = stream.bytes_read();
  int64_t epochs = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      evict(path);
      state.ResumeTiming();
    }
    epoch();
    ++epochs;
    if (stream.cursor().position != 0) state.SkipWithError("the epoch did not end where expected");
  }
  // The I/O thread runs one block ahead; the block it prefetched counts in its time and bytes.
  const double io_seconds = stream.io_busy_seconds() - io_seconds_before;
  const double io_bytes = double(stream.bytes_read() - io_bytes_before);
  const double file_bytes = double(std::filesystem::file_size(path));
  // Store-file bytes the I/O thread got through per second of its reading time.
  state.counters["io_file_GBps"] =
      io_bytes / (16.0 * double(pairs)) * file_bytes / io_seconds / 1e9;
  state.SetItemsProcessed(pairs * epochs);  // items_per_second: end-to-end pairs/s
}

// A consumer that computes for `range(1)` microseconds per batch of 32 users (a training step):
// the share of its time spent waiting for blocks after the first one.
void BM_ConsumerWait(benchmark::State& state) {
  const auto path = store_path(state.range(0));
  const auto work = std::chrono::microseconds(state.range(1));
  double waited = 0, total = 0;
  for (auto _ : state) {
    vrf::io::PairStream stream(path, vrf::io::PairStreamOptions{});
    stream.next_batch(32);  // start-up: the first block
    const double startup_wait = stream.io_wait_seconds();
    const auto started = std::chrono::steady_clock::now();
    for (int64_t step = 0; step < 2000; ++step) {
      benchmark::DoNotOptimize(stream.next_batch(32));
      const auto until = std::chrono::steady_clock::now() + work;
      while (std::chrono::steady_clock::now() < until) {
      }
    }
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    waited += stream.io_wait_seconds() - startup_wait;
  }
  state.counters["wait_pct"] = 100.0 * waited / total;
}

}  // namespace

BENCHMARK(BM_RawRead)
    ->ArgsProduct({{0, 1}, {0, 1}, {4, 32}})
    ->ArgNames({"deflate", "cold", "buffer_mib"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_StoreRead)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"deflate", "cold"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_StreamEpoch)
    ->ArgsProduct({{0, 1}, {0, 1}})
    ->ArgNames({"deflate", "cold"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_ConsumerWait)
    ->ArgsProduct({{0, 1}, {200}})
    ->ArgNames({"deflate", "work_us"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

int main(int argc, char** argv) {
  auto rest = vrf::bench::take_bench_flags(argc, argv, g_users, g_dir);
  g_dir += "/users-" + std::to_string(g_users);
  make_stores();
  int count = static_cast<int>(rest.size());
  benchmark::Initialize(&count, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
