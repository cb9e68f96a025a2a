#!/usr/bin/env bash
# `tactus test` throughput (see RESULTS.md beside this file): mocked
# scenarios per second with `--mock -j 2 --no-sandbox`, over a generated
# suite of FILES files x SCENARIOS scenarios that exercise what real specs
# do: inputs, inline agent turns with tool calls, tool mocks, human answers,
# custom steps, outlines and a dozen assertions each. -j 1 is timed in the
# same hyperfine session, for the ratio.                  target >= 100/s
#
#   bench/test/run.sh                    RUNS=10 FILES=10 SCENARIOS=30
# Exit: 0 target met, 1 missed, 2 broken setup.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-10}
FILES=${FILES:-10}
SCENARIOS=${SCENARIOS:-30}
TARGET=100
# shellcheck source=../lib.sh
. bench/lib.sh
bench_need test hyperfine awk
bench_build
tactus=$root/build/tactus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/xdg

# ---- the suite (bench/test/gen-suite.sh) -----------------------------------------------------
# In a folder of its own: tactus refuses a procedure's folder that holds its
# configuration ($work/xdg).
suite=$work/suite
mkdir -p "$suite"
bash bench/test/gen-suite.sh "$suite" "$FILES" "$SCENARIOS"
total=$((FILES * SCENARIOS))

# Valid before timed: every scenario must pass.
if ! "$tactus" test --mock --no-sandbox -j 2 --format json "$suite" >"$work/check.json" 2>"$work/check.err"; then
    echo "bench/test: the generated suite does not pass:" >&2
    head -40 "$work/check.err" >&2
    grep -m5 '"error"' "$work/check.json" >&2 || true
    exit 2
fi
bench_header
echo "suite: $FILES files, $total scenarios (every one passes), $(cat "$suite"/*.tac | wc -l) lines"

hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-json "$work/h.json" \
    -n "j2" "$tactus test --mock --no-sandbox -j 2 $suite" \
    -n "j1" "$tactus test --mock --no-sandbox -j 1 $suite" >"$work/h.txt" 2>&1 || { cat "$work/h.txt" >&2; exit 2; }
median() { awk -v name="$1" '
    /"command":/ { cmd = $0; gsub(/.*"command": "|",?$/, "", cmd) }
    /"median":/ && cmd == name { v = $2; gsub(/,/, "", v); print v }' "$work/h.json"; }
j2=$(median j2)
j1=$(median j1)
rate2=$(awk -v t="$j2" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
rate1=$(awk -v t="$j1" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
ratio=$(awk -v a="$j1" -v b="$j2" 'BEGIN { printf "%.2f", a / b }')
printf 'tactus test --mock --no-sandbox -j 2: median %.3f s -> %s scenarios/s (target >= %d)\n' "$j2" "$rate2" "$TARGET"
printf 'tactus test --mock --no-sandbox -j 1: median %.3f s -> %s scenarios/s; -j 2 is %sx faster\n' "$j1" "$rate1" "$ratio"
printf 'per scenario (-j 2): %.2f ms\n' "$(awk -v t="$j2" -v n="$total" 'BEGIN { print t * 1000 / n }')"
[ "$rate2" -ge "$TARGET" ] || { echo "bench/test: target missed" >&2; exit 1; }
