#!/usr/bin/env bash
# Bad input to the stdlib file modules, through the real binary: a CSV with
# a ragged row, a JSON file that is not JSON, a path outside the workspace,
# a module that does not exist, a foreign format. Each fails the run with a
# message saying what is wrong, at the file and line of the call.
#   io-errors.sh TACTUS
set -u
tactus=$1
here=$(cd "$(dirname "$0")" && pwd)/io
fail=0
check() { # case line message
    out=$("$tactus" run --no-sandbox --json "$here/io.tac" --input case="$1" 2>/dev/null)
    python3 - "$out" "$2" "$3" <<'PY' || { echo "io-errors $1: $out" >&2; return 1; }
import json, sys
r = json.loads(sys.argv[1]); e = r["error"] or {}
assert r["status"] == "failed", r
assert e.get("line") == int(sys.argv[2]), ("line", e.get("line"))
assert (e.get("file") or "").endswith("io.tac"), ("file", e.get("file"))
assert sys.argv[3] in e["message"], ("message", e["message"])
PY
}
check ragged 9 "tactus.io.csv.read: ragged.csv line 3 has 3 fields, but the header has 2" || fail=1
check json 10 "tactus.io.json.read: broken.json is not JSON" || fail=1
check outside 11 "the path leaves the workspace: ../../../etc/passwd" || fail=1
check module 12 "tactus.io.yaml" || fail=1
check excel 13 "tactus.io.excel.read is not available in this runtime" || fail=1
[ $fail = 0 ] && echo "io-errors: 5 bad inputs, each an error at io.tac:LINE naming what is wrong"
exit $fail
