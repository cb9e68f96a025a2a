#!/usr/bin/env bash
# A .tac names the files `tactus eval` reads as datasets: it must not read
# the host's files outside the procedure's folder (an absolute path, a path
# with "..", a shipped symbolic link; their rows would reach the report and
# the sandbox), and a FIFO named like a dataset or a configuration file must
# not hang the host. docs/security.md, "Files the host reads".
#   datasets.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "security-datasets: FAIL: $*" >&2; cat "$work/out" "$work/err" >&2 2>/dev/null; exit 1; }
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg NO_COLOR=1
mkdir -p "$HOME" "$work/outside" "$work/p"
printf 'name,inputs\nalice-secret-row,{}\nbob-secret-row,{}\n' >"$work/outside/staff.csv"
ln -s "$work/outside/staff.csv" "$work/p/link.csv"
mkfifo "$work/p/cases.jsonl"
eval_with() { # eval_with DATASET_FILE -> $rc, $work/out, $work/err
    cat >"$work/p/e.tac" <<TAC
Procedure { function() return "ok" end }
Evaluation({ dataset_file = "$1", evaluators = { field.equals_expected{} } })
TAC
    timeout 20 "$tactus" eval --no-sandbox "$work/p/e.tac" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
}
for ds in "$work/outside/staff.csv" "../outside/staff.csv" "link.csv"; do
    eval_with "$ds"
    [ $rc -eq 2 ] || fail "dataset_file $ds: exit $rc, expected 2"
    grep -q "secret-row" "$work/out" "$work/err" && fail "dataset_file $ds: a host file's rows were read"
    grep -qE "is an absolute path|is outside the procedure's folder" "$work/err" || fail "dataset_file $ds: unclear message"
done
eval_with cases.jsonl
[ $rc -eq 124 ] && fail "a FIFO as dataset_file hung tactus eval"
[ $rc -eq 2 ] && grep -qF "cannot read dataset_file $work/p/cases.jsonl: not a regular file" "$work/err" ||
    fail "a FIFO as dataset_file: exit $rc"
# A FIFO where the host reads configuration: an error, never a hang.
mkdir -p "$work/p/.tactus"
mkfifo "$work/p/.tactus/config.yml"
printf 'Procedure { function() return "ok" end }\n' >"$work/p/r.tac"
timeout 20 "$tactus" run --no-sandbox "$work/p/r.tac" >"$work/out" 2>"$work/err" </dev/null
rc=$?
[ $rc -eq 124 ] && fail "a FIFO as .tactus/config.yml hung tactus run"
[ $rc -eq 2 ] && grep -qF "not a regular file" "$work/err" || fail "a FIFO as .tactus/config.yml: exit $rc"
# The control: a dataset beside the procedure is read.
rm "$work/p/.tactus/config.yml"
printf '{"name": "c1", "inputs": {}, "expected_output": "ok"}\n' >"$work/p/good.jsonl"
eval_with good.jsonl
[ $rc -eq 0 ] || fail "a dataset beside the procedure: exit $rc"
echo "security-datasets: ok"
