#!/usr/bin/env bash
# Golden-file test of the tactus binary (jq-style: the test is data).
#   golden.sh TACTUS CASE [--update]
# cases/CASE.cmd holds the arguments (one line, run from cases/ with sh word
# splitting); cases/CASE.out holds the expected stdout, stderr and exit code.
# --update rewrites CASE.out from the current binary (review the diff!).
set -u
tactus=$1 case=$2 update=${3:-}
cd "$(dirname "$0")/cases" || exit 2
args=$(cat "$case.cmd")
# CASE.env: VAR=value lines set for this case only (e.g. an unreachable Docker).
if [ -f "$case.env" ]; then
    while IFS= read -r kv; do [ -n "$kv" ] && export "${kv?}"; done < "$case.env"
fi
out=$(mktemp) err=$(mktemp)
# shellcheck disable=SC2086
NO_COLOR=1 "$tactus" $args >"$out" 2>"$err" </dev/null
code=$?
actual=$(printf '$ tactus %s\n--- stdout\n%s\n--- stderr\n%s\n--- exit %d\n' "$args" "$(cat "$out")" "$(cat "$err")" "$code")
rm -f "$out" "$err"
if [ "$update" = "--update" ]; then
    printf '%s\n' "$actual" > "$case.out"
    echo "updated $case.out"
    exit 0
fi
if ! diff -u "$case.out" <(printf '%s\n' "$actual"); then
    echo "golden: $case differs from cases/$case.out (expected first, actual second)" >&2
    exit 1
fi
