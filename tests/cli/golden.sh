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
# Byte-exact: each stream is copied from its file (never through $(...),
# which drops trailing newlines) and the result cmp'd. A stream that ends in
# one newline reads as before; one with no final newline, or that is one
# newline alone, is followed by a marker line, so no two outputs look alike.
emit_stream() { # FILE
    if [ ! -s "$1" ]; then
        printf '\n'
    elif [ "$(tail -c1 "$1" | wc -l)" -eq 0 ]; then
        cat "$1"
        printf '\n\\ no newline at end\n'
    elif [ "$(wc -c <"$1")" -eq 1 ]; then
        printf '\n\\ one newline only\n'
    else
        cat "$1"
    fi
}
actual=$(mktemp)
{
    printf '$ tactus %s\n--- stdout\n' "$args"
    emit_stream "$out"
    printf -- '--- stderr\n'
    emit_stream "$err"
    printf -- '--- exit %d\n' "$code"
} >"$actual"
rm -f "$out" "$err"
if [ "$update" = "--update" ]; then
    mv "$actual" "$case.out"
    echo "updated $case.out"
    exit 0
fi
if ! cmp -s "$case.out" "$actual"; then
    diff -u "$case.out" "$actual"
    cmp "$case.out" "$actual" >&2
    rm -f "$actual"
    echo "golden: $case differs from cases/$case.out (expected first, actual second; compared byte for byte)" >&2
    exit 1
fi
rm -f "$actual"
