#!/usr/bin/env bash
# launch/test.sh — installs what is missing (Debian 12), builds vrf in build/ (Release), checks
# formatting and runs the unit and MPI test suites. Re-running reuses the build. Benchmarks are
# built (so that they keep compiling) but not run.
#
#   bash launch/test.sh            # VRF_WERROR=ON turns compiler warnings into errors (CI does)
#   BUILD_DIR=build-x bash launch/test.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$repo/build}"
werror="${VRF_WERROR:-OFF}"
jobs="$(nproc)"

# --- 1. Dependencies ------------------------------------------------------------------------------
source "$repo/launch/install_deps.sh"
vrf_install_missing_packages

# --- 2. Build -------------------------------------------------------------------------------------
echo "== configuring $build_dir (Release, VRF_WERROR=$werror)"
cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DVRF_WERROR="$werror" \
  -DVRF_BUILD_TESTS=ON -DVRF_BUILD_BENCHMARKS=ON >/dev/null
echo "== building with $jobs jobs"
cmake --build "$build_dir" -j "$jobs"

# NCCL backend: compile and link against the CUDA toolkit's NCCL when it is there (no GPU needed),
# so that the code behind VRF_WITH_NCCL cannot rot.
cuda_root="${CUDA_HOME:-/usr/local/cuda}"
if [[ -f "$cuda_root/include/nccl.h" ]]; then
  echo "== building vrf with the NCCL backend against $cuda_root (compile and link only)"
  cmake -S "$repo" -B "$build_dir-nccl" -DCMAKE_BUILD_TYPE=Release -DVRF_WERROR="$werror" \
    -DVRF_WITH_NCCL=ON -DVRF_BUILD_TESTS=OFF -DCUDAToolkit_ROOT="$cuda_root" >/dev/null
  cmake --build "$build_dir-nccl" -j "$jobs" --target vrf
else
  echo "== no NCCL under $cuda_root: skipping the NCCL build"
fi

# --- 3. Formatting --------------------------------------------------------------------------------
echo "== checking formatting (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1))"
cd "$repo"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t sources < <(git ls-files --cached --others --exclude-standard -- \
    'core/*.h' 'core/*.cpp' 'io/*.h' 'io/*.cpp' 'distributed/*.h' 'distributed/*.cpp' \
    'launch/*.h' 'launch/*.cpp' 'tests/*.h' 'tests/*.cpp')
else
  mapfile -t sources < <(find core io distributed launch tests -name '*.h' -o -name '*.cpp' \
    2>/dev/null)
fi
clang-format --dry-run --Werror "${sources[@]}"

# --- 4. Tests -------------------------------------------------------------------------------------
# Open MPI refuses root and more ranks than cores unless told; tests launch mpiexec themselves.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
echo "== running ctest (labels unit, mpi, fault, slurm; never gpu)"
ctest --test-dir "$build_dir" -L 'unit|mpi|fault|slurm' -LE gpu --output-on-failure -j "$jobs" \
  --timeout 600
