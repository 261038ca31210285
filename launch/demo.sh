#!/usr/bin/env bash
# launch/demo.sh — the README's main command: installs what is missing, builds vrf, synthesizes
# the default benchmark, trains bt, factorized, vpl, vrf and two vrf ablations with 2 MPI ranks
# (one seed, known-good defaults), evaluates each on seen users (test.h5) and new users
# (unseen.h5), and prints the comparison table. A shortened launch/benchmark.sh (which runs 3
# seeds and chooses learning rates on val.h5). Outputs go to runs/demo/ (DEMO_DIR overrides);
# STEPS, SEEDS, RANKS and MODELS pass through to benchmark.sh.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"

source "$repo/launch/install_deps.sh"
vrf_install_missing_packages

echo "== building vrf in $build_dir"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target vrf

BENCH_DIR="${DEMO_DIR:-$repo/runs/demo}" SEEDS="${SEEDS:-0}" SELECT=0 STEPS="${STEPS:-3000}" \
  bash "$repo/launch/benchmark.sh" "$build_dir/vrf"
