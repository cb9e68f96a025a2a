# expect-error.sh - sourced by io-errors.sh and dsl-errors.sh. Defines
#   expect_error TACTUS TAC CASE LINE MESSAGE
# which runs TAC with --input case=CASE and requires a failed run whose
# error is at TAC's LINE and whose message contains MESSAGE.
expect_error() {
    local tactus=$1 tac=$2 case=$3 line=$4 message=$5 out
    out=$("$tactus" run --no-sandbox --json "$tac" --input case="$case" 2>/dev/null)
    python3 - "$out" "$line" "$message" "$(basename "$tac")" <<'PY' || { echo "$(basename "$tac") $case: $out" >&2; return 1; }
import json, sys
r = json.loads(sys.argv[1]); e = r["error"] or {}
assert r["status"] == "failed", r
assert e.get("line") == int(sys.argv[2]), ("line", e.get("line"))
assert (e.get("file") or "").endswith(sys.argv[4]), ("file", e.get("file"))
assert sys.argv[3] in e["message"], ("message", e["message"])
PY
}
