// tests/bench/bench_flags.h — the flags every benchmark here takes before google-benchmark's own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vrf::bench {

// Takes `--users N` and `--dir DIR` out of argv into `users` and `dir`; returns the rest (argv[0]
// first), for benchmark::Initialize.
inline std::vector<char*> take_bench_flags(int argc, char** argv, int64_t& users,
                                           std::string& dir) {
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--users" && i + 1 < argc) {
      users = std::stoll(argv[++i]);
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  return rest;
}

}  // namespace vrf::bench
