#!/usr/bin/env bash
# tests/launch/train_faults_test.sh VRF MPIEXEC POKE — `vrf train` under real mpiexec with 2 ranks: it
# learns and checkpoints; bad input fails on every rank with a clear message; a rank that throws
# mid-training, or dies, ends the whole job non-zero within the timeout (no hang); SIGUSR1 to one
# rank stops all ranks at the same step with a checkpoint and exit code 0; a diverging run aborts
# after --max-bad-steps skipped steps.
set -uo pipefail
vrf="$1"
mpiexec="$2"
poke="$3"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
run2() { timeout 120 "$mpiexec" -n 2 --oversubscribe "$vrf" "$@"; }

"$vrf" data synth --out "$tmp/d" --users 60 --unseen-users 0 --prompts 20 --dim 8 >/dev/null ||
  fail "synth"

# 1. A short run learns, logs metrics and writes a committed checkpoint.
run2 train --train "$tmp/d/train.h5" --val "$tmp/d/val.h5" --steps 60 --batch-users 8 \
  --log-every 20 --eval-every 30 --run-dir "$tmp/run" >"$tmp/out" 2>&1 || fail "train: $(cat "$tmp/out")"
grep -q "final validation: accuracy" "$tmp/out" || fail "no final validation: $(cat "$tmp/out")"
[[ $(wc -l <"$tmp/run/metrics.jsonl") -eq 3 ]] || fail "metrics lines: $(cat "$tmp/run/metrics.jsonl")"
grep -q '"pairs_per_s"' "$tmp/run/metrics.jsonl" || fail "metrics keys"
[[ -f "$tmp/run/checkpoints/step-60/manifest.json" && -f "$tmp/run/checkpoints/step-60/shared.h5" ]] ||
  fail "checkpoint missing"

# 2. Bad input: every rank reports it and the job exits non-zero.
run2 train --train "$tmp/missing.h5" --steps 5 --run-dir "$tmp/r2" >"$tmp/out" 2>&1
code=$?
[[ $code -ne 0 && $code -ne 124 ]] || fail "missing store: exit $code"
for r in 0 1; do
  grep -q "^\[rank $r\] error: .*missing.h5: cannot open the file" "$tmp/out" ||
    fail "rank $r message: $(cat "$tmp/out")"
done
! grep -q "MPI_ABORT" "$tmp/out" || fail "an agreed input error aborted the job: $(cat "$tmp/out")"

# 3. A rank that throws mid-training (a bad pair index in the last user, read only by the last
#    rank) ends the whole job non-zero, naming the rank, without waiting for the timeout.
cp "$tmp/d/train.h5" "$tmp/bad.h5"
pairs=$("$vrf" data inspect "$tmp/bad.h5" --json | grep -o '"pairs": [0-9]*' | grep -o '[0-9]*$')
"$poke" "$tmp/bad.h5" /pairs/rejected $((pairs - 1)) 1000000000 || fail "poke"
start=$(date +%s)
run2 train --train "$tmp/bad.h5" --steps 100000 --batch-users 8 --collective-timeout 60 \
  --run-dir "$tmp/r3" >"$tmp/out" 2>&1
code=$?
elapsed=$(($(date +%s) - start))
[[ $code -ne 0 && $code -ne 124 ]] || fail "throwing rank: exit $code: $(cat "$tmp/out")"
((elapsed < 60)) || fail "throwing rank: the job took ${elapsed}s to end"
grep -q "\[rank 1\] error: .*response index 1000000000" "$tmp/out" || fail "message: $(cat "$tmp/out")"

# 3b. A rank killed outright leaves its peer in a collective: the job still ends non-zero.
run2 train --train "$tmp/d/train.h5" --steps 100000 --batch-users 8 --collective-timeout 10 \
  --run-dir "$tmp/r3b" >"$tmp/out" 2>&1 &
pid=$!
sleep 6
# Ranks' command lines start with the binary (mpiexec's and timeout's do not).
victim=$(pgrep -f "^$vrf train --train $tmp/d/train.h5 --steps 100000 --batch-users 8 --collective-timeout 10" | tail -1)
[[ -n "$victim" ]] || fail "no rank to kill"
kill -9 "$victim"
wait $pid
code=$?
[[ $code -ne 0 && $code -ne 124 ]] || fail "killed rank: exit $code: $(cat "$tmp/out")"

# 4. SIGUSR1 to one rank: all ranks stop at the same step, save, and exit 0.
run2 train --train "$tmp/d/train.h5" --steps 100000 --batch-users 8 --log-every 1000 \
  --run-dir "$tmp/r4" >"$tmp/out" 2>&1 &
pid=$!
sleep 6
target=$(pgrep -f "^$vrf train --train $tmp/d/train.h5 --steps 100000 --batch-users 8 --log-every" | head -1)
[[ -n "$target" ]] || fail "no rank to signal"
kill -USR1 "$target"
wait $pid
code=$?
[[ $code -eq 0 ]] || fail "signal: exit $code: $(cat "$tmp/out")"
grep -q "stop requested (signal): saving and exiting at step" "$tmp/out" || fail "no stop line"
step=$(grep -o "exiting at step [0-9]*" "$tmp/out" | grep -o "[0-9]*$")
[[ -f "$tmp/r4/checkpoints/step-$step/manifest.json" ]] || fail "no checkpoint at step $step"
# 5. A diverging run (absurd learning rate): every rank skips the non-finite steps together and
#    the job aborts after --max-bad-steps of them in a row, with the same message on every rank.
run2 train --train "$tmp/d/train.h5" --steps 200 --lr 1e20 --warmup-steps 0 --max-bad-steps 3 \
  --run-dir "$tmp/r5" >"$tmp/out" 2>&1
code=$?
[[ $code -ne 0 && $code -ne 124 ]] || fail "diverging run: exit $code"
for r in 0 1; do
  grep -q "^\[rank $r\] error: training aborted at step [0-9]*: 3 steps in a row had a non-finite" \
    "$tmp/out" || fail "rank $r message: $(cat "$tmp/out")"
done
echo "train faults: all checks passed"
