#!/usr/bin/env bash
# tests/launch/eval_cli_test.sh VRF MPIEXEC — `vrf eval / infer / score / export` end to end on a
# small synthetic benchmark: the report has the documented keys; eval on 2 and 3 ranks equals 1
# rank; a report combines into a table; infer reads stores and JSONL; score ranks candidates for a
# seen and a new user; the README's h5py snippet on `vrf export` reproduces `vrf score` (vrf and
# factorized); bad input fails with a message naming it. Needs python3 with h5py and numpy.
set -euo pipefail
vrf="$1"
mpiexec="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }
expect_error() { # MESSAGE_REGEX ARGS...: vrf fails and prints the message
  local pattern="$1"
  shift
  if "$vrf" "$@" >"$tmp/err.out" 2>&1; then fail "vrf $* succeeded"; fi
  grep -Eq -e "$pattern" "$tmp/err.out" || fail "vrf $*: expected /$pattern/, got: $(cat "$tmp/err.out")"
}

"$vrf" data synth --out "$tmp/d" --users 120 --unseen-users 40 --prompts 80 --dim 8 --seed 5 \
  >/dev/null
for model in vrf factorized; do
  "$mpiexec" -n 2 --oversubscribe "$vrf" train --train "$tmp/d/train.h5" --model "$model" \
    --steps 150 --batch-users 16 --log-every 1000 --eval-every 0 --run-dir "$tmp/run-$model" \
    --ckpt-dir "$tmp/ckpt-$model" >"$tmp/train-$model.log" 2>&1 ||
    fail "training $model: $(tail "$tmp/train-$model.log")"
done

# --- eval: keys, and the same numbers on 1, 2 and 3 ranks ------------------------------------------
eval_args=(eval --ckpt "$tmp/ckpt-vrf" --test "$tmp/d/test.h5" --unseen "$tmp/d/unseen.h5"
  --shots 1,5)
"$vrf" "${eval_args[@]}" --out "$tmp/r1.json" --markdown "$tmp/r1.md" >/dev/null
for np in 2 3; do
  "$mpiexec" -n "$np" --oversubscribe "$vrf" "${eval_args[@]}" --out "$tmp/r$np.json" >/dev/null
done
"$python" - "$tmp" <<'PY' || fail "eval report"
import json, math, sys
d = sys.argv[1]
r1 = json.load(open(f"{d}/r1.json"))
for path in ["model", "seen.accuracy", "unseen.k5.accuracy", "unseen.k1.accuracy",
             "oracle.seen.accuracy", "calibration.ece", "best_of_n.normalized"]:
    node = r1
    for key in path.split("."):
        node = node[key]
    assert node is not None, path
    if path != "model":
        assert 0 <= node <= 1 or path == "best_of_n.normalized", (path, node)
assert r1["model"] == "vrf"
assert r1["seen"]["users"] == 120 and r1["unseen"]["k5"]["users"] == 40, r1["seen"]["users"]
def compare(a, b, where=""):
    if isinstance(a, dict):
        for k in a:
            if k not in ("world_size",):
                compare(a[k], b[k], where + "." + k)
    elif isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, a, b)
    else:
        assert a == b, (where, a, b)
for np in (2, 3):
    compare(r1, json.load(open(f"{d}/r{np}.json")))
PY
pass "eval report keys; 2 and 3 ranks equal 1 rank"
# A bad input on 2 ranks: every rank reports it and the job ends non-zero without MPI_Abort.
if "$mpiexec" -n 2 --oversubscribe "$vrf" eval --ckpt "$tmp/ckpt-vrf" --test "$tmp/missing.h5" \
  >"$tmp/err.out" 2>&1; then fail "eval of a missing store succeeded"; fi
for r in 0 1; do
  grep -q "^\[rank $r\] error: .*missing.h5: cannot open the file" "$tmp/err.out" ||
    fail "eval rank $r message: $(cat "$tmp/err.out")"
done
! grep -q "MPI_ABORT" "$tmp/err.out" || fail "eval aborted: $(cat "$tmp/err.out")"
pass "a missing store on 2 ranks fails on every rank"
grep -q "| seen | 120 | 2400 |" "$tmp/r1.md" || fail "markdown: $(cat "$tmp/r1.md")"
"$vrf" eval --combine "$tmp/r1.json" "$tmp/r2.json" --markdown "$tmp/table.md" >/dev/null
grep -Eq "^\| vrf \| 2 \| [0-9.]+ ± [0-9.]+ \|" "$tmp/table.md" || fail "combine: $(cat "$tmp/table.md")"
pass "eval --combine"
expect_error "give --test .*--unseen" eval --ckpt "$tmp/ckpt-vrf"
expect_error "not a store of new users" eval --ckpt "$tmp/ckpt-vrf" --unseen "$tmp/d/test.h5"
expect_error "nothing: no such checkpoint directory" eval --ckpt "$tmp/nothing" \
  --test "$tmp/d/test.h5"
expect_error "--shots: 'x' is not a positive integer" eval --ckpt "$tmp/ckpt-vrf" \
  --test "$tmp/d/test.h5" --shots 1,x
pass "eval errors"

# --- infer: a store of new users, and JSONL with embeddings and with text ----------------------
"$vrf" infer --ckpt "$tmp/ckpt-vrf" --pairs "$tmp/d/unseen.h5" --out "$tmp/infer.json"
"$python" - "$tmp" <<'PY' > "$tmp/new_user.jsonl" || fail "infer on a store"
import json, sys, h5py, numpy as np
d = sys.argv[1]
r = json.load(open(f"{d}/infer.json"))
assert len(r["users"]) == 40, len(r["users"])
for u in r["users"]:
    assert abs(sum(u["weights"]) - 1) < 1e-5 and len(u["posterior_mean"]) == 16
    assert all(v > 0 for v in u["posterior_variance"]) and u["pairs"] == 20
# One new user as JSONL embedding pairs: the first unseen user's context pairs.
with h5py.File(f"{d}/d/unseen.h5", "r") as f:
    emb = f["responses/embedding"][:]
    c, rj = f["pairs/chosen"][:5], f["pairs/rejected"][:5]
for a, b in zip(c, rj):
    print(json.dumps({"user": "alice", "chosen": emb[a].tolist(), "rejected": emb[b].tolist()}))
PY
"$vrf" infer --ckpt "$tmp/ckpt-vrf" --pairs "$tmp/new_user.jsonl" | grep -q '"user": "alice"' ||
  fail "infer JSONL"
printf '%s\n' '{"user": 1, "chosen": "a short kind answer", "rejected": "a rude answer"}' \
  >"$tmp/text.jsonl"
"$vrf" infer --ckpt "$tmp/ckpt-vrf" --pairs "$tmp/text.jsonl" | grep -q '"uncertainty"' ||
  fail "infer text"
printf '%s\n' '{"user": 1, "chosen": [1, 2], "rejected": [3, 4]}' >"$tmp/bad.jsonl"
expect_error "bad.jsonl:1 chosen: expected an embedding array of 8 numbers" infer \
  --ckpt "$tmp/ckpt-vrf" --pairs "$tmp/bad.jsonl"
pass "infer: store, JSONL embeddings, JSONL text, bad width"

# --- score and export: the README's h5py snippet equals `vrf score` ------------------------------
"$python" - "$tmp" <<'PY' > "$tmp/candidates.jsonl"
import json, sys, h5py
with h5py.File(f"{sys.argv[1]}/d/test.h5", "r") as f:
    emb = f["responses/embedding"][:]
for i in range(12):
    print(json.dumps({"id": f"resp{i}", "response": emb[i].tolist()}))
PY
for model in vrf factorized; do
  user=$("$python" -c "import h5py,sys; print(h5py.File(sys.argv[1],'r')['users/id'][7])" \
    "$tmp/d/train.h5")
  "$vrf" score --ckpt "$tmp/ckpt-$model" --user "$user" --candidates "$tmp/candidates.jsonl" \
    --out "$tmp/score-$model.json" >"$tmp/score-$model.txt"
  "$vrf" export --ckpt "$tmp/ckpt-$model" --out "$tmp/export-$model.h5" >/dev/null
  expect_error "exists; add --force" export --ckpt "$tmp/ckpt-$model" --out "$tmp/export-$model.h5"
  "$python" - "$tmp" "$model" "$user" <<'PY' || fail "export of $model does not reproduce vrf score"
import json, sys
import h5py, numpy as np
d, model, user_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
# --- the README snippet (README.md, "Using a trained model") ---
f = h5py.File(f"{d}/export-{model}.h5", "r")
mean, std = f["buffers/standardizer.mean"][:], f["buffers/standardizer.std"][:]
V = f["params/basis_rewards.V"][:]                    # [D, K]
ids, W = f["users/id"][:], f["users/weights"][:]      # seen users' basis weights [U, K]
def reward(user_id, phi):                             # phi: a response embedding [D]
    w = W[np.searchsorted(ids, user_id)]
    return w @ (V.T @ ((phi - mean) / std))
# --- end of the snippet ---
scores = json.load(open(f"{d}/score-{model}.json"))["candidates"]
cands = {json.loads(l)["id"]: np.array(json.loads(l)["response"]) for l in open(f"{d}/candidates.jsonl")}
for c in scores:
    mine = reward(user_id, cands[c["id"]])
    assert abs(mine - c["reward"]) < 1e-4 * max(1, abs(mine)), (c, mine)
rewards = [c["reward"] for c in scores]
assert rewards == sorted(rewards, reverse=True)
# A pair's margin is the difference of the two rewards.
PY
done
pass "score ranks candidates; the README's h5py snippet on vrf export reproduces vrf score"
"$vrf" score --ckpt "$tmp/ckpt-vrf" --pairs "$tmp/new_user.jsonl" \
  --candidates "$tmp/candidates.jsonl" | grep -q "new user alice (5 pairs)" || fail "score new user"
expect_error "no such user in the training store" score --ckpt "$tmp/ckpt-vrf" --user 999999 \
  --candidates "$tmp/candidates.jsonl"
expect_error "give --user ID .* or --pairs FILE" score --ckpt "$tmp/ckpt-vrf" \
  --candidates "$tmp/candidates.jsonl"
pass "score: new user, unknown user, missing flags"
echo "PASS: eval_cli_test"
