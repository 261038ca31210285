#!/usr/bin/env bash
# launch/benchmark.sh [VRF] — VRF against its baselines on the default synthetic benchmark
# (DESIGN.md sections 5-6): trains bt, factorized, vpl, vrf and the ablations vrf-noatt
# (--attenuation none) and vrf-mean (--aggregator mean) on RANKS ranks for each seed in SEEDS,
# evaluates each checkpoint on test.h5 (seen users) and unseen.h5 (new users at k = SHOTS), and
# prints one table, mean +- std over seeds.
#
# Hyperparameters: with SELECT=1 (default) each model's learning rate is chosen from LRS by the
# validation accuracy (val.h5, seen users) of a run with the first seed; test.h5 and unseen.h5
# are only ever evaluated, never used for a choice. SELECT=0 uses LR for every model.
#
# Environment: BENCH_DIR (runs/benchmark), SEEDS ("0 1 2"), STEPS (3000), BATCH_USERS (32),
# RANKS (2), MODELS (all six), SHOTS (1,2,5,10,20), SELECT (1), LRS ("1e-3 3e-3 1e-2"), LR (3e-3),
# SYNTH_ARGS (extra `vrf data synth` flags; default: none, the default benchmark).
# Outputs: BENCH_DIR/<model>-s<seed>/{report.json,report.md,train.log}, BENCH_DIR/table.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vrf="$(realpath "${1:-$repo/build/vrf}")"
dir="${BENCH_DIR:-$repo/runs/benchmark}"
seeds=(${SEEDS:-0 1 2})
steps="${STEPS:-3000}"
batch="${BATCH_USERS:-32}"
ranks="${RANKS:-2}"
models=(${MODELS:-bt factorized vpl vrf vrf-noatt vrf-mean})
shots="${SHOTS:-1,2,5,10,20}"
select="${SELECT:-1}"
lrs=(${LRS:-1e-3 3e-3 1e-2})
default_lr="${LR:-3e-3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
mpirun=(mpirun -np "$ranks" --oversubscribe)
[[ -x "$vrf" ]] || { echo "error: $vrf is not an executable (build vrf first)" >&2; exit 1; }

data="$dir/data"
if [[ ! -f "$data/unseen.h5" ]]; then
  echo "== synthesizing the benchmark into $data"
  # shellcheck disable=SC2086
  "$vrf" data synth --out "$data" --force ${SYNTH_ARGS:-} >/dev/null
fi

model_flags() { # LABEL -> vrf train flags
  case "$1" in
    vrf-noatt) echo "--model vrf --attenuation none" ;;
    vrf-mean) echo "--model vrf --aggregator mean" ;;
    *) echo "--model $1" ;;
  esac
}

train() { # LABEL SEED LR RUN_DIR: train, checkpoint at the end; prints the validation accuracy
  local label="$1" seed="$2" lr="$3" run="$4" started=$SECONDS
  rm -rf "$run"
  mkdir -p "$run"
  # shellcheck disable=SC2046
  "${mpirun[@]}" "$vrf" train $(model_flags "$label") --train "$data/train.h5" \
    --val "$data/val.h5" --steps "$steps" --batch-users "$batch" --lr "$lr" --seed "$seed" \
    --eval-every 0 --log-every 1000 --run-dir "$run" --ckpt-dir "$run/ckpt" \
    >"$run/train.log" 2>&1 || { echo "error: training $label failed:" >&2; tail "$run/train.log" >&2; exit 1; }
  echo "   $label seed $seed lr $lr: $(grep -o 'final validation: accuracy [0-9.]*' "$run/train.log" |
    grep -o '[0-9.]*$') validation accuracy ($((SECONDS - started)) s)" >&2
  grep -o 'final validation: accuracy [0-9.]*' "$run/train.log" | grep -o '[0-9.]*$'
}

declare -A chosen_lr
for label in "${models[@]}"; do
  chosen_lr[$label]="$default_lr"
  if [[ "$select" == 1 ]]; then
    echo "== $label: choosing the learning rate on val.h5 (seed ${seeds[0]})"
    best=""
    for lr in "${lrs[@]}"; do
      acc=$(train "$label" "${seeds[0]}" "$lr" "$dir/select/$label-lr$lr")
      if [[ -z "$best" ]] || awk -v a="$acc" -v b="$best" 'BEGIN { exit !(a > b) }'; then
        best="$acc"
        chosen_lr[$label]="$lr"
      fi
    done
    echo "   chosen: lr ${chosen_lr[$label]} (validation accuracy $best)"
  fi
done

reports=()
for label in "${models[@]}"; do
  for seed in "${seeds[@]}"; do
    run="$dir/$label-s$seed"
    echo "== $label, seed $seed, lr ${chosen_lr[$label]}: train and evaluate"
    train "$label" "$seed" "${chosen_lr[$label]}" "$run" >/dev/null
    "${mpirun[@]}" "$vrf" eval --ckpt "$run/ckpt" --train "$data/train.h5" --test "$data/test.h5" \
      --unseen "$data/unseen.h5" --shots "$shots" --label "$label" --out "$run/report.json" \
      --markdown "$run/report.md" >"$run/eval.log" 2>&1 ||
      { echo "error: evaluating $label failed:" >&2; tail "$run/eval.log" >&2; exit 1; }
    reports+=("$run/report.json")
  done
done

echo
echo "== default synthetic benchmark: $ranks ranks, $steps steps of $batch users, seeds ${seeds[*]}"
for label in "${models[@]}"; do echo "   $label: lr ${chosen_lr[$label]}"; done
echo
"$vrf" eval --combine "${reports[@]}" --markdown "$dir/table.md"
