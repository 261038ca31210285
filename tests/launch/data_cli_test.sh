#!/usr/bin/env bash
# tests/launch/data_cli_test.sh VRF — `vrf data synth | import | inspect` end to end, as a user
# runs them: outputs, exit codes and messages.
set -euo pipefail
vrf="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$vrf" data synth --out "$tmp/s" --users 40 --unseen-users 5 --prompts 20 --dim 8 >"$tmp/out"
grep -q "40 seen users" "$tmp/out" || fail "synth summary: $(cat "$tmp/out")"
for split in train val test unseen; do [[ -f "$tmp/s/$split.h5" ]] || fail "missing $split.h5"; done
"$vrf" data inspect "$tmp/s/train.h5" --json >"$tmp/json"
grep -q '"valid": true' "$tmp/json" || fail "inspect --json: $(cat "$tmp/json")"
grep -q '"users": 40' "$tmp/json" || fail "inspect users"
"$vrf" data inspect "$tmp/s/unseen.h5" | grep -q "num_context:    yes" || fail "inspect text"

# Never overwrite without --force; with it, the run succeeds.
if "$vrf" data synth --out "$tmp/s" --users 40 2>"$tmp/err"; then fail "overwrote without --force"; fi
grep -q "already exists; pass --force" "$tmp/err" || fail "message: $(cat "$tmp/err")"
"$vrf" data synth --out "$tmp/s" --users 10 --force >/dev/null

# An invalid store: non-zero exit, one-line error; --json says valid false.
echo "not a store" >"$tmp/bad.h5"
if "$vrf" data inspect "$tmp/bad.h5" 2>"$tmp/err"; then fail "accepted a non-HDF5 file"; fi
grep -q "^error: .*bad.h5: not an HDF5 file" "$tmp/err" || fail "message: $(cat "$tmp/err")"
if "$vrf" data inspect "$tmp/bad.h5" --json >"$tmp/json"; then fail "--json exit code 0"; fi
grep -q '"valid": false' "$tmp/json" || fail "--json on an invalid store"

# Text import through the hashing featurizer.
cat >"$tmp/pairs.jsonl" <<'JSONL'
{"user": "bob", "prompt": "p1", "chosen": "a short kind answer", "rejected": "no"}
{"user": "alice", "prompt": "p1", "chosen": "no", "rejected": "a short kind answer"}
{"user": "bob", "prompt": "p2", "chosen": "sure, here it is", "rejected": "go away"}
JSONL
"$vrf" data import --jsonl "$tmp/pairs.jsonl" --out "$tmp/imported.h5" --text-dim 16 >"$tmp/out"
grep -q "2 users, 3 pairs, 4 distinct responses, D = 16" "$tmp/out" || fail "import: $(cat "$tmp/out")"
"$vrf" data inspect "$tmp/imported.h5" --json | grep -q '"valid": true' || fail "imported store"

# Unknown flags and commands name themselves.
if "$vrf" data synth --out "$tmp/x" --userz 3 2>"$tmp/err"; then fail "accepted --userz"; fi
grep -q "^error: vrf data synth: .*userz" "$tmp/err" || fail "message: $(cat "$tmp/err")"
if "$vrf" data frob 2>"$tmp/err"; then fail "accepted data frob"; fi
echo "data CLI: all checks passed"
