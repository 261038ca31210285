#!/usr/bin/env bash
# tests/launch/slurm_test.sh VRF WORKDIR — launch/slurm/train.sbatch on a real one-node SLURM
# cluster started here (munged, slurmctld, slurmd as root, state in WORKDIR): 2 CPU ranks under
# srun --mpi=pmix get SLURM's USR1 warning before a 2-minute time limit, checkpoint, requeue
# themselves, resume from that checkpoint and finish every step. Needs root and Debian's slurmd,
# slurmctld, slurm-client and munge (installed with apt-get when missing); exits 77 (skip)
# without root. Environment: VRF_SLURM_PORT (16817; slurmd uses the next port),
# VRF_SLURM_TEST_TIMEOUT (seconds for the whole test, 360), VRF_SLURM_TRAIN_SECONDS (how long
# the training would run unsignalled, 100; the warning comes 30-60 s into the run).
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 VRF_BINARY WORKDIR" >&2
  exit 2
fi
vrf="$(realpath "$1")"
work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sbatch_script="$(realpath "$here/../../launch/slurm/train.sbatch")"
port="${VRF_SLURM_PORT:-16817}"
deadline=$((SECONDS + ${VRF_SLURM_TEST_TIMEOUT:-360}))
train_seconds="${VRF_SLURM_TRAIN_SECONDS:-100}"

say() { echo "[slurm_test +${SECONDS}s] $*"; }
pass() { echo "PASS: $*"; }
failures=0
check() {  # check DESCRIPTION COMMAND...: PASS or FAIL line, counted
  local what="$1"
  shift
  if "$@"; then
    pass "$what"
  else
    echo "FAIL: $what"
    failures=$((failures + 1))
  fi
}

if ((EUID != 0)); then
  echo "SKIP: needs root (slurmd and slurmctld run as root here)"
  exit 77
fi
[[ -x "$vrf" ]] || { echo "FAIL: $vrf is not an executable" >&2; exit 1; }
[[ -r "$sbatch_script" ]] || { echo "FAIL: no $sbatch_script" >&2; exit 1; }
[[ -n "$work" && "$work" != "/" ]] || { echo "FAIL: bad WORKDIR '$work'" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
  ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmd slurmctld slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends slurmd slurmctld \
    slurm-client munge >/dev/null
fi

# WORKDIR holds only what this test writes: refuse a non-empty directory it did not make.
if [[ -d "$work" && -n "$(ls -A "$work")" && ! -f "$work/.vrf_slurm_test" ]]; then
  echo "FAIL: WORKDIR $work is not empty and not from an earlier run of this test" >&2
  exit 2
fi
rm -rf "$work"
mkdir -p "$work/log" "$work/state"
touch "$work/.vrf_slurm_test"
work="$(realpath "$work")"
# Unix sockets (munge's, slurmd's per step) must have short paths: keep them under /tmp.
rt="$(mktemp -d /tmp/vrf-slurm.XXXXXX)"
chmod 711 "$rt"
mkdir -m 700 "$rt/munge"
mkdir -p "$rt/spool"

job=""
cleanup() {
  local code=$?
  set +e
  if [[ -n "$job" ]]; then
    scancel "$job" 2>/dev/null
    for _ in $(seq 20); do
      [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]] && break
      sleep 1
    done
  fi
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$rt/munge/munged.pid"; do
    [[ -s "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null
  done
  sleep 1
  for pidfile in "$work/slurmd.pid" "$work/slurmctld.pid" "$rt/munge/munged.pid"; do
    [[ -s "$pidfile" ]] && kill -9 "$(cat "$pidfile")" 2>/dev/null
  done
  rm -rf "$rt"
  if ((code != 0)); then
    echo "--- logs in $work/log; job output:"
    tail -n 40 "$work"/job-*.out 2>/dev/null
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
  echo "FAIL: $*"
  exit 1
}
time_left() { ((SECONDS < deadline)); }
field() {  # field JOB NAME: NAME=value in `scontrol show job JOB`, or empty
  scontrol show job -o "$1" 2>/dev/null | grep -o "\b$2=[^ ]*" | head -1 | cut -d= -f2 || true
}

# --- munge with a fresh key -------------------------------------------------------------------
dd if=/dev/urandom of="$rt/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$rt/munge/munge.key"
munged --force --key-file="$rt/munge/munge.key" --socket="$rt/munge/munge.socket" \
  --log-file="$work/log/munged.log" --pid-file="$rt/munge/munged.pid" \
  --seed-file="$rt/munge/munged.seed" || die "munged did not start: $(cat "$work/log/munged.log")"
munge -n -S "$rt/munge/munge.socket" | unmunge -S "$rt/munge/munge.socket" >/dev/null ||
  die "munge round trip failed"

# --- slurm.conf: one node, this machine ------------------------------------------------------
host="$(hostname -s)"
cpus="$(nproc)"
((cpus >= 2)) || cpus=2  # config_overrides lets 2 tasks share one CPU
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=vrftest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job becomes eligible cred_expire + 1 s later (default 120).
AuthInfo=socket=$rt/munge/munge.socket,cred_expire=5
StateSaveLocation=$work/state
SlurmdSpoolDir=$rt/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$work/log/jobcomp.txt
SchedulerType=sched/backfill
# Schedule often, so that a requeued job starts soon after its BeginTime.
SchedulerParameters=bf_interval=2,sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
MinJobAge=600
KillWait=10
NodeName=$host CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
for p in "$port" $((port + 1)); do
  if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port $p is in use (another slurmctld/slurmd?); set VRF_SLURM_PORT"
  fi
done
slurmctld -c || die "slurmctld did not start: $(tail -5 "$work/log/slurmctld.log")"
slurmd || die "slurmd did not start: $(tail -5 "$work/log/slurmd.log")"
state=""
for _ in $(seq 30); do
  state="$(sinfo -h -n "$host" -o %T 2>/dev/null || true)"
  [[ "$state" == idle ]] && break
  sleep 1
done
[[ "$state" == idle ]] ||
  die "node $host is '$state', not idle:" \
    "$(tail -5 "$work/log/slurmctld.log" "$work/log/slurmd.log")"
srun --mpi=list 2>&1 | grep -q pmix || die "srun has no pmix plugin: $(srun --mpi=list 2>&1)"
say "cluster up: node $host, $cpus CPUs, slurmctld port $port"

# --- data, and a step count that keeps 2 ranks busy for about train_seconds under srun ---------
"$vrf" data synth --out "$work/data" --users 200 --unseen-users 0 --prompts 20 --dim 8 \
  >"$work/log/synth.log" 2>&1 || die "synth: $(cat "$work/log/synth.log")"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
train_flags="--batch-users 8 --log-every 100000 --eval-every 0 --ckpt-every 0"
timed_run() {  # timed_run STEPS: seconds a 2-rank srun of STEPS steps takes
  local start end
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  timeout 120 srun --mpi=pmix -n 2 --cpus-per-task=1 -t 3 "$vrf" train \
    --train "$work/data/train.h5" --steps "$1" $train_flags --run-dir "$work/calibrate-$1" \
    >"$work/log/calibrate-$1.log" 2>&1 || {
    echo "FAIL: calibration run of $1 steps: $(cat "$work/log/calibrate-$1.log")" >&2
    return 1
  }
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ print $2 - $1 }'
}
t_short=$(timed_run 20)
t_long=$(timed_run 520)
steps=$(echo "$t_short $t_long $train_seconds" |
  awk '{ d = $2 - $1; if (d < 0.05) d = 0.05; s = int(500 / d * $3); print (s < 500 ? 500 : s) }')
say "calibration under srun: 20 steps ${t_short}s, 520 steps ${t_long}s -> --steps $steps" \
  "(~${train_seconds}s)"

# --- a failing step: the job fails and is not requeued ------------------------------------------
export VRF_BIN="$vrf" VRF_TRAIN="$work/data/train.h5" VRF_VAL="$work/data/val.h5"
export VRF_BACKEND=mpi VRF_DEVICE=cpu VRF_SRUN_MPI=pmix
bad=$(VRF_RUN_DIR="$work/bad" VRF_EXTRA_ARGS="--no-such-flag" sbatch --parsable --wait \
  --chdir="$work" --output="$work/bad-%j.out" --ntasks-per-node=2 --cpus-per-task=1 \
  --gpus-per-task=0 --time=2 "$sbatch_script") && die "a failing step: sbatch --wait exited 0"
bad="${bad%%;*}"
check "a failing step fails the job (job $bad: $(field "$bad" JobState))" \
  test "$(field "$bad" JobState)" = FAILED
check "a failing step is not requeued" grep -q "not requeueing" "$work/bad-$bad.out"
check "a failing step is not requeued (Restarts=0)" test "$(field "$bad" Restarts)" = 0

# --- submit: 2 CPU tasks, 2-minute limit, USR1 60 s before it (so 30-60 s into the run) -------
export VRF_RUN_DIR="$work/run" VRF_CKPT_DIR="$work/run/checkpoints"
export VRF_EXTRA_ARGS="--steps $steps $train_flags"
out="$work/job-%j.out"
job=$(sbatch --parsable --chdir="$work" --output="$out" --nodes=1 --ntasks-per-node=2 \
  --cpus-per-task=1 --gpus-per-task=0 --time=2 --signal=B:USR1@60 "$sbatch_script") ||
  die "sbatch failed"
job="${job%%;*}"
out="$work/job-$job.out"
say "submitted job $job: $steps steps, output $out"

# Wait for the requeue (Restarts=1), then lift the time limit so that the resumed run is not
# warned again. The requeued job is held until cred_expire + 1 s have passed (BeginTime): the
# node revoked the old run's credential for that long, and `scontrol update StartTime=now`
# would start it too early, to be killed with "Job credential revoked".
requeued_at=""
while time_left; do
  restarts="$(field "$job" Restarts)"
  jstate="$(field "$job" JobState)"
  if [[ "${restarts:-0}" -ge 1 ]]; then
    requeued_at=$SECONDS
    say "job $job requeued (state $jstate, $(field "$job" Reason)," \
      "eligible $(field "$job" EligibleTime))"
    scontrol update JobId="$job" TimeLimit=10 || die "scontrol update TimeLimit failed"
    break
  fi
  case "$jstate" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
      die "job $job ended ($jstate) without being requeued" ;;
  esac
  sleep 1
done
[[ -n "$requeued_at" ]] || die "timeout: job $job was not requeued (state $(field "$job" JobState))"

while time_left; do
  jstate="$(field "$job" JobState)"
  case "$jstate" in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
      break ;;
  esac
  sleep 2
done
time_left ||
  die "timeout: job $job did not finish after its requeue (state $(field "$job" JobState))"
say "job $job ended: $jstate, restarts $(field "$job" Restarts), exit code $(field "$job" ExitCode)"
requeue_time="$(grep "requeueing job" "$out" | head -1 | cut -c15-33 || true)"
restart_time="$(grep "job $job restart 1:" "$out" | head -1 | cut -c15-33 || true)"
if [[ -n "$requeue_time" && -n "$restart_time" ]]; then
  say "requeued at $requeue_time, running again at $restart_time"
fi

# --- checks ------------------------------------------------------------------------------------
stop_step="$(grep -o "saving and exiting at step [0-9]*" "$out" | head -1 | grep -o "[0-9]*$" ||
  true)"
check "the batch shell got SLURM's USR1 warning" grep -q "SIGUSR1 (time limit near)" "$out"
check "vrf stopped on the signal (step ${stop_step:-none})" test -n "$stop_step"
check "checkpoint step-$stop_step committed" test -f "$VRF_CKPT_DIR/step-$stop_step/manifest.json"
check "the job requeued itself" grep -q "requeueing job $job" "$out"
check "the job ran again (restart 1)" grep -q "job $job restart 1:" "$out"
check "vrf resumed from step-$stop_step" grep -Eq "resumed from .*step-$stop_step\b" "$out"
check "the job completed (state $jstate)" test "$jstate" = COMPLETED
check "final checkpoint step-$steps committed" test -f "$VRF_CKPT_DIR/step-$steps/manifest.json"
check "one signal and one requeue only" test "$(grep -c "SIGUSR1 (time limit near)" "$out")" = 1
say "total ${SECONDS}s"
if ((failures > 0)); then
  echo "FAIL: $failures check(s) failed; job output:"
  cat "$out"
  exit 1
fi
echo "PASS: slurm_test"
