#!/usr/bin/env bash
# launch/demo.sh — the README's main command: installs what is missing, builds vrf, synthesizes
# the default benchmark, trains `vrf` and the `bt` baseline with 2 MPI ranks, and prints their
# validation accuracy. Outputs go to runs/demo/ (DEMO_DIR overrides); STEPS sets the length.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"
demo_dir="${DEMO_DIR:-$repo/runs/demo}"
steps="${STEPS:-3000}"
ranks="${RANKS:-2}"

source "$repo/launch/install_deps.sh"
vrf_install_missing_packages

echo "== building vrf in $build_dir"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target vrf
vrf="$build_dir/vrf"

echo "== synthesizing the default benchmark into $demo_dir/data"
"$vrf" data synth --out "$demo_dir/data" --force

# Open MPI refuses root and more ranks than cores unless told.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
declare -A accuracy
for model in vrf bt; do
  echo "== training $model on $ranks ranks for $steps steps"
  rm -rf "$demo_dir/$model"
  mpirun -np "$ranks" --oversubscribe "$vrf" train --model "$model" \
    --train "$demo_dir/data/train.h5" --val "$demo_dir/data/val.h5" \
    --steps "$steps" --batch-users 32 --lr 3e-3 --eval-every 500 --log-every 250 \
    --run-dir "$demo_dir/$model" | tee "$demo_dir/$model.log"
  accuracy[$model]="$(grep -o 'final validation: accuracy [0-9.]*' "$demo_dir/$model.log" |
    grep -o '[0-9.]*$')"
done

echo
echo "| model | validation pairwise accuracy (seen users, val.h5) |"
echo "|---|---|"
for model in vrf bt; do echo "| $model | ${accuracy[$model]} |"; done
