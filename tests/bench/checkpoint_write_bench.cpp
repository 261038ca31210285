// tests/bench/checkpoint_write_bench.cpp — how close a checkpoint users file comes to the raw disk
// write speed: io::write_tensor_file (HDF5, fsync, digest, rename, directory fsync) of one rank's
// users file for N users, against one write() of the same number of bytes and an fsync, in the
// same process and the same directory. Both write a new file per iteration and delete the previous
// one, so they see the same page-cache conditions. bytes_per_second is the figure to compare.
//
//   checkpoint_write_bench [--users N] [--dir DIR] [google-benchmark flags, e.g.
//                          --benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
//
// N defaults to 500000 (one rank's shard of the 1M-user scale run: 68 MB); DIR to
// /tmp/vrf-checkpoint-bench.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/tensor_file.h"
#include "tests/bench/bench_flags.h"

namespace {

std::string g_dir = "/tmp/vrf-checkpoint-bench";
int64_t g_users = 500000;
constexpr int64_t kLatentDim = 16;  // the default model's posterior width

// The tensors of a users file (io/FORMAT.md "Checkpoints") for g_users users.
vrf::io::NamedTensors users_file_tensors() {
  return {{"/range", torch::tensor({int64_t{0}, g_users}, torch::kInt64)},
          {"/posterior/mean", torch::randn({g_users, kLatentDim})},
          {"/posterior/logvar", torch::randn({g_users, kLatentDim})},
          {"/posterior/seen", torch::ones({g_users}, torch::kInt64)}};
}

void BM_TensorFileWrite(benchmark::State& state) {
  const auto tensors = users_file_tensors();
  int64_t bytes = 0, iteration = 0;
  for (auto _ : state) {
    const std::string path = g_dir + "/users-" + std::to_string(iteration++) + ".h5";
    bytes += vrf::io::write_tensor_file(path, tensors).bytes;
    state.PauseTiming();
    std::filesystem::remove(g_dir + "/users-" + std::to_string(iteration - 2) + ".h5");
    state.ResumeTiming();
  }
  state.SetBytesProcessed(bytes);
}

void BM_RawWriteFsync(benchmark::State& state) {
  // The same byte count as one users file, written with one write() and made durable by fsync.
  const std::string probe = g_dir + "/probe.h5";
  const int64_t size = vrf::io::write_tensor_file(probe, users_file_tensors()).bytes;
  std::filesystem::remove(probe);
  std::vector<char> buffer(static_cast<size_t>(size), 1);
  int64_t iteration = 0;
  for (auto _ : state) {
    const std::string path = g_dir + "/raw-" + std::to_string(iteration++) + ".bin";
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buffer.data(), buffer.size()) != size || fsync(fd) != 0) {
      state.SkipWithError(("cannot write " + path).c_str());
      break;
    }
    close(fd);
    state.PauseTiming();
    std::filesystem::remove(g_dir + "/raw-" + std::to_string(iteration - 2) + ".bin");
    state.ResumeTiming();
  }
  state.SetBytesProcessed(size * static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_TensorFileWrite)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RawWriteFsync)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  auto rest = vrf::bench::take_bench_flags(argc, argv, g_users, g_dir);
  std::filesystem::remove_all(g_dir);
  std::filesystem::create_directories(g_dir);
  int rest_count = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_count, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(g_dir);
  return 0;
}
