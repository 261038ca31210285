#!/usr/bin/env bash
# tests/bench/train_bench.sh [VRF] — data-parallel training throughput and communication:
#  1. pairs/s of `vrf train` (model vrf, 32 users per rank per step) on 1 and 2 ranks on the same
#     store, and the scaling efficiency = 2-rank pairs/s / (2 x 1-rank pairs/s);
#  2. gradient bytes all-reduced per step at 10^3, 10^4 and 10^5 users (vrf and factorized);
#  3. the share of wall time rank 0 spends in collectives and waiting for data.
# Median over REPEATS runs (default 3); stores go to BENCH_DIR (default /tmp/vrf-train-bench).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
vrf="${1:-$repo/build/vrf}"
dir="${BENCH_DIR:-/tmp/vrf-train-bench}"
repeats="${REPEATS:-3}"
steps="${STEPS:-600}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mkdir -p "$dir"
for users in 1000 10000 100000; do
  [[ -f "$dir/u$users/train.h5" ]] ||
    "$vrf" data synth --out "$dir/u$users" --users "$users" --unseen-users 0 >/dev/null
done

# Steady-state figures of one run from its metrics.jsonl (windows after the first).
summarize() {
  python3 - "$1" <<'PY'
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
rates = [l["pairs_per_s"] for l in lines[1:]]
last = lines[-1]
print(statistics.median(rates), last["comm_seconds"] / last["elapsed_s"],
      last["io_wait_seconds"] / last["elapsed_s"])
PY
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== 1. throughput, model vrf, $steps steps, store of 10,000 users ($repeats runs each)"
declare -A rate comm wait
for np in 1 2; do
  r=() c=() w=()
  for ((i = 0; i < repeats; i++)); do
    rm -rf "$dir/run"
    mpirun -np "$np" --oversubscribe "$vrf" train --train "$dir/u10000/train.h5" --steps "$steps" \
      --batch-users $((32 * np)) --log-every 50 --run-dir "$dir/run" >/dev/null
    read -r a b d < <(summarize "$dir/run/metrics.jsonl")
    r+=("$a") c+=("$b") w+=("$d")
  done
  rate[$np]=$(median "${r[@]}") comm[$np]=$(median "${c[@]}") wait[$np]=$(median "${w[@]}")
  echo "ranks $np: pairs/s ${rate[$np]} (runs: ${r[*]}); comm share ${comm[$np]}; data-wait share ${wait[$np]}"
done
python3 -c "print('scaling efficiency (2-rank / (2 x 1-rank)): %.3f' % (${rate[2]} / (2 * ${rate[1]})))"

echo "== 2. gradient bytes all-reduced per step (2 ranks)"
for model in vrf factorized; do
  for users in 1000 10000 100000; do
    rm -rf "$dir/run"
    bytes=$(mpirun -np 2 --oversubscribe "$vrf" train --model "$model" \
      --train "$dir/u$users/train.h5" --steps 2 --log-every 1 --run-dir "$dir/run" |
      grep -o '[0-9]* gradient bytes' | grep -o '^[0-9]*')
    echo "model $model, $users users: $bytes bytes per step"
  done
done
