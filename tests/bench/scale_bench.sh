#!/usr/bin/env bash
# tests/bench/scale_bench.sh [VRF] — the scale run of issue 5 on 2 ranks:
#  1. synth USERS seen users (default 1,000,000);
#  2. train `vrf` for one epoch (--epochs 1) with a checkpoint at the end;
#  3. resume that checkpoint (--resume auto) for EXTRA_STEPS more steps and checkpoint again;
#  4. raw disk write speed with fsync (dd conv=fsync) of the same size, 3 times, in the same run.
# Prints the wall time of each phase, peak RSS of each rank (GNU time), the checkpoint size, and
# the checkpoint write speed as a ratio of the dd median. Environment: USERS, BATCH_USERS (1024),
# EXTRA_STEPS (50), STEPS (instead of one epoch: this many steps, for memory comparisons),
# SYNTH_ARGS (more `vrf data synth` flags), SCALE_DIR (/tmp/vrf-scale-bench; needs a few GB free).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
vrf="$(realpath "${1:-$repo/build/vrf}")"
dir="${SCALE_DIR:-/tmp/vrf-scale-bench}"
users="${USERS:-1000000}"
batch="${BATCH_USERS:-1024}"
extra="${EXTRA_STEPS:-50}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
[[ -x /usr/bin/time ]] || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"

# rss FILE: peak RSS in MB from a GNU time -v report.
rss() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
# elapsed: prefixes each line of stdin with seconds since this phase began (as each line arrives).
elapsed() {
  local t0="${EPOCHREALTIME/./}" line dt
  while IFS= read -r line; do
    dt=$(((${EPOCHREALTIME/./} - t0) / 100000))
    printf '[%5d.%ds] %s\n' $((dt / 10)) $((dt % 10)) "$line"
  done
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== machine: $(nproc --all) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -I)"
# shellcheck disable=SC2086  # SYNTH_ARGS is a flag list
/usr/bin/time -v -o "$dir/synth.time" "$vrf" data synth --out "$dir/data" --users "$users" \
  --unseen-users 0 ${SYNTH_ARGS:-} >"$dir/synth.log" 2>&1
synth_s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
  for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$dir/synth.time")
"$vrf" data inspect "$dir/data/train.h5" | tee "$dir/inspect.txt" | head -4

train() { # PHASE ARGS...: 2 ranks under GNU time, one report per rank
  local phase="$1"
  shift
  mpiexec -n 2 --oversubscribe bash -c 'exec /usr/bin/time -v -o "$0-$OMPI_COMM_WORLD_RANK.time" "$@"' \
    "$dir/$phase" "$vrf" train --train "$dir/data/train.h5" --model vrf --batch-users "$batch" \
    --eval-every 0 --log-every 100 --ckpt-dir "$dir/ckpt" --keep-last 1 --run-dir "$dir/run" "$@" \
    2>&1 | elapsed | tee "$dir/$phase.log"
}
length=(--epochs 1)
[[ -n "${STEPS:-}" ]] && length=(--steps "$STEPS")
echo "== ${length[*]}, 2 ranks, $batch users per step"
train epoch "${length[@]}" --resume never
epoch_steps=$(grep -o 'saved .*step-[0-9]*' "$dir/epoch.log" | tail -1 | grep -o '[0-9]*$')
echo "== resume from step $epoch_steps, $extra more steps"
train resume --steps $((epoch_steps + extra)) --resume auto

echo "== raw write with fsync, same size as the checkpoint"
ckpt_mb=$(du -sm "$dir/ckpt/step-$((epoch_steps + extra))" | cut -f1)
dd_rates=()
for i in 1 2 3; do
  rate=$(dd if=/dev/zero of="$dir/dd.bin" bs=1M count="$ckpt_mb" conv=fsync 2>&1 |
    awk '/copied/ { print $(NF-1) * ($NF == "GB/s" ? 1000 : 1) }')
  dd_rates+=("$rate")
  rm -f "$dir/dd.bin"
done
dd_mb_s=$(median "${dd_rates[@]}")

# saved DIR (X MB in Y s; posterior table Z s)
save_rates=()
for phase in epoch resume; do
  line=$(grep 'saved ' "$dir/$phase.log" | tail -1)
  mb=$(echo "$line" | sed -E 's/.*\(([0-9.]+) MB in ([0-9.]+) s; posterior table ([0-9.]+) s\).*/\1/')
  s=$(echo "$line" | sed -E 's/.*\(([0-9.]+) MB in ([0-9.]+) s; posterior table ([0-9.]+) s\).*/\2/')
  post=$(echo "$line" | sed -E 's/.*posterior table ([0-9.]+) s\).*/\1/')
  save_rates+=("$(awk -v m="$mb" -v s="$s" 'BEGIN { printf "%.0f", m / s }')")
  echo "$phase checkpoint: $mb MB written in $s s (posterior table $post s before it)"
done
stamp() { sed -E 's/^\[ *([0-9.]+)s\].*/\1/'; } # the [seconds] prefix of a log line
resumed_at=$(grep -m1 'resumed from' "$dir/resume.log" | stamp)
train_end=$(grep -E 'step [0-9]+/[0-9]+ ' "$dir/epoch.log" | tail -1 | stamp)

echo
echo "== summary ($users users, $(grep -m1 -o 'pairs[^0-9]*[0-9,]*' "$dir/inspect.txt" || true))"
echo "synth:            ${synth_s} s, peak RSS $(rss "$dir/synth.time") MB"
echo "epoch ($epoch_steps steps): training ${train_end} s; then posterior table and save;" \
  "total $(tail -1 "$dir/epoch.log" | stamp) s"
echo "resume:           restored after ${resumed_at} s; $extra steps + posterior table + save," \
  "total $(tail -1 "$dir/resume.log" | stamp) s"
for phase in epoch resume; do
  echo "peak RSS $phase:   rank 0 $(rss "$dir/$phase-0.time") MB, rank 1 $(rss "$dir/$phase-1.time") MB"
done
echo "checkpoint:       ${ckpt_mb} MB on disk; written at ${save_rates[*]} MB/s;" \
  "dd conv=fsync ${dd_rates[*]} MB/s (median $dd_mb_s)"
echo "write speed ratio: $(awk -v a="$(median "${save_rates[@]}")" -v b="$dd_mb_s" \
  'BEGIN { printf "%.2f", a / b }') (median checkpoint MB/s / median dd MB/s)"
