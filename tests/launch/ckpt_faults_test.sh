#!/usr/bin/env bash
# tests/launch/ckpt_faults_test.sh VRF MPIEXEC CKPT_COMPARE [TRIALS] — checkpoints under faults, 2
# ranks under real mpiexec. Each trial SIGKILLs one rank — at a random moment, or at a chosen point
# of writing a checkpoint (VRF_TEST_KILL_AT) — then runs the same command with --resume auto, and
# requires the final checkpoint to be bit-identical to an uninterrupted run (ckpt_compare), and a
# torn step directory (no manifest) never to be the one resumed from. Then: a corrupted users file
# is detected and the previous checkpoint used; 2 -> 1 -> 3 ranks reshards; --resume never
# refuses to overwrite without --force. VRF_FAULT_SEED fixes the random moments (printed).
set -uo pipefail
vrf="$1"
mpiexec="$2"
compare="$3"
trials="${4:-21}"
tmp="$(mktemp -d)"
trap 'pkill -9 -f "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
seed="${VRF_FAULT_SEED:-$(date +%s)}"
RANDOM=$seed
echo "ckpt_faults_test: $trials trials, VRF_FAULT_SEED=$seed"
fail() { echo "FAIL: $*" >&2; exit 1; }
models=(vrf factorized vpl)
steps=40
train_args() { # MODEL RUN_DIR
  echo train --train "$tmp/d/train.h5" --model "$1" --steps $steps --batch-users 8 --ckpt-every 4 \
    --keep-last 2 --log-every 1000 --eval-every 0 --collective-timeout 60 --run-dir "$2" --resume auto
}
run() { # NP ARGS...: run to completion (bounded)
  local np="$1"
  shift
  timeout 120 "$mpiexec" -n "$np" --oversubscribe "$vrf" "$@"
}

"$vrf" data synth --out "$tmp/d" --users 60 --unseen-users 0 --prompts 20 --dim 8 >/dev/null ||
  fail "synth"
started=$(date +%s%N)
for model in "${models[@]}"; do
  run 2 $(train_args "$model" "$tmp/ref-$model") >"$tmp/out" 2>&1 || fail "reference $model: $(cat "$tmp/out")"
done
run_ms=$((($(date +%s%N) - started) / 3000000)) # one uninterrupted run: kill moments lie within it
echo "an uninterrupted run takes about $run_ms ms"

# Resumes RUN_DIR with MODEL after a kill and checks the outcome against the reference.
resume_and_check() { # TRIAL MODEL RUN_DIR
  local trial="$1" model="$2" dir="$3" torn=() d from
  for d in "$dir"/checkpoints/step-*; do
    [[ -d "$d" && ! -f "$d/manifest.json" ]] && torn+=("$d")
  done
  run 2 $(train_args "$model" "$dir") >"$tmp/resume.out" 2>&1 ||
    fail "trial $trial: resume failed: $(cat "$tmp/resume.out")"
  from="$(sed -n 's/^resumed from \([^ ]*\) .*/\1/p' "$tmp/resume.out")"
  for d in "${torn[@]}"; do
    [[ "$from" != "$d" ]] || fail "trial $trial: resumed from the torn $d"
  done
  "$compare" "$tmp/ref-$model/checkpoints/step-$steps" "$dir/checkpoints/step-$steps" \
    >"$tmp/cmp.out" 2>&1 || fail "trial $trial ($model): not bit-identical: $(cat "$tmp/cmp.out")"
  echo "trial $trial ($model): killed $4; ${#torn[@]} torn dir(s); resumed from ${from:-nothing (fresh)}; identical"
}

points=(users-written shared-written committed)
interrupted=0
for ((trial = 1; trial <= trials; ++trial)); do
  model="${models[trial % 3]}"
  dir="$tmp/t$trial"
  if ((trial % 2 == 1)); then
    # A random moment: SIGKILL one rank of the running job.
    "$mpiexec" -n 2 --oversubscribe "$vrf" $(train_args "$model" "$dir") >"$tmp/kill.out" 2>&1 &
    job=$!
    delay="$((RANDOM % run_ms + 100))"
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    ranks=($(pgrep -P "$job"))
    ((${#ranks[@]})) && kill -9 "${ranks[RANDOM % ${#ranks[@]}]}" 2>/dev/null
    for ((i = 0; i < 600 && $(kill -0 "$job" 2>/dev/null && echo 1 || echo 0); ++i)); do sleep 0.1; done
    kill -0 "$job" 2>/dev/null && fail "trial $trial: the job hangs 60 s after a rank was killed"
    wait "$job" && what="a rank after ${delay} ms (the run had finished)" ||
      { what="a rank after ${delay} ms"; ((++interrupted)); }
  else
    # A chosen point of a checkpoint write.
    point="${points[RANDOM % 3]}"
    rank=$((RANDOM % 2))
    [[ "$point" != users-written ]] && rank=0
    at="$point:$rank:$((4 * (RANDOM % 9 + 1)))"
    VRF_TEST_KILL_AT="$at" timeout 120 "$mpiexec" -n 2 --oversubscribe "$vrf" \
      $(train_args "$model" "$dir") >"$tmp/kill.out" 2>&1 && fail "trial $trial: $at did not kill"
    grep -q "killing myself" "$tmp/kill.out" || fail "trial $trial: no kill at $at: $(cat "$tmp/kill.out")"
    what="at $at"
    ((++interrupted))
  fi
  resume_and_check "$trial" "$model" "$dir" "$what"
done
((interrupted >= trials / 2)) || fail "only $interrupted of $trials trials interrupted a run"
echo "$interrupted of $trials trials interrupted a run; all ended bit-identical"

# A corrupted users file in the newest checkpoint: detected by name, the previous one is used.
dir="$tmp/corrupt"
VRF_TEST_KILL_AT="committed:0:20" timeout 120 "$mpiexec" -n 2 --oversubscribe "$vrf" \
  $(train_args vrf "$dir") >/dev/null 2>&1
printf '\x5a\x5a\x5a\x5a' | dd of="$dir/checkpoints/step-20/users-1-of-2.h5" bs=1 seek=2100 \
  conv=notrunc 2>/dev/null
"$vrf" ckpt inspect "$dir/checkpoints/step-20" >"$tmp/out" 2>&1 && fail "inspect accepts a corrupt file"
grep -q "users-1-of-2.h5.*corrupted" "$tmp/out" || fail "inspect: $(cat "$tmp/out")"
run 2 $(train_args vrf "$dir") >"$tmp/out" 2>&1 || fail "resume after corruption: $(cat "$tmp/out")"
grep -q "skipping a corrupt checkpoint: .*step-20/users-1-of-2.h5" "$tmp/out" || fail "not reported: $(cat "$tmp/out")"
grep -q "resumed from .*step-16 " "$tmp/out" || fail "did not fall back to step-16: $(cat "$tmp/out")"
"$compare" "$tmp/ref-vrf/checkpoints/step-$steps" "$dir/checkpoints/step-$steps" >/dev/null 2>&1 ||
  fail "not identical after the corrupt checkpoint"
echo "corrupted users file detected; resumed from the previous checkpoint; identical"

# Resharding: 2 ranks to step 20, 1 rank to 30, 3 ranks to 40 (factorized: per-user rows move).
dir="$tmp/reshard"
args=(train --train "$tmp/d/train.h5" --model factorized --batch-users 9 --ckpt-every 10
  --log-every 1000 --eval-every 0 --run-dir "$dir" --resume auto)
run 2 "${args[@]}" --steps 20 >/dev/null 2>&1 || fail "reshard: 2 ranks"
run 1 "${args[@]}" --steps 30 >"$tmp/out" 2>&1 || fail "reshard 2 -> 1: $(cat "$tmp/out")"
grep -q "resumed from .*step-20 (step 20, epoch 2, resharded from 2 rank(s)" "$tmp/out" ||
  fail "2 -> 1: $(cat "$tmp/out")"
run 3 "${args[@]}" --steps 40 >"$tmp/out" 2>&1 || fail "reshard 1 -> 3: $(cat "$tmp/out")"
grep -q "resharded from 1 rank(s)" "$tmp/out" || fail "1 -> 3: $(cat "$tmp/out")"
"$vrf" ckpt inspect "$dir/checkpoints/step-40" --json >"$tmp/out" || fail "inspect after resharding"
grep -q '"world_size": 3' "$tmp/out" || fail "world size: $(cat "$tmp/out")"
echo "resharded 2 -> 1 -> 3 ranks"

# --resume never refuses a directory with checkpoints; --force starts over.
run 2 "${args[@]/auto/never}" --steps 40 >"$tmp/out" 2>&1 && fail "--resume never overwrote"
grep -q "already holds .* --force" "$tmp/out" || fail "refusal message: $(cat "$tmp/out")"
run 2 "${args[@]/auto/never}" --steps 10 --force >"$tmp/out" 2>&1 || fail "--force: $(cat "$tmp/out")"
[[ ! -d "$dir/checkpoints/step-40" && -f "$dir/checkpoints/step-10/manifest.json" ]] ||
  fail "--force left $(ls "$dir/checkpoints")"
echo "--resume never refuses without --force"
echo "PASS"
