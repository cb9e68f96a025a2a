#!/usr/bin/env bash
# `tactus eval` throughput and the cost of its statistics and reports (see
# RESULTS.md beside this file): a generated evaluation of CASES cases x RUNS
# runs (mocked: every case's agent answers from Mocks, tools and state are
# used, three evaluators judge each run, and a share of runs fail on
# purpose so that intervals, flakiness and consistency have work to do),
# run with `--mock --no-sandbox -j 2`, writing all three reports (JSON to a
# file, the HTML page, the --save document).
#   target: >= 500 runs/s, wall clock, everything included;
#   target: statistics + reports <= 2% of the time spent running the runs
#           (tactus eval --timings measures both in the same process; the
#           median over the timed invocations counts).
#
#   bench/eval/run.sh                     REPEAT=5 CASES=100 RUNS=100
# Exit: 0 targets met, 1 one missed, 2 broken setup.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
REPEAT=${REPEAT:-5}
CASES=${CASES:-100}
RUNS=${RUNS:-100}
TARGET_RATE=500
TARGET_OVERHEAD=2.0
# shellcheck source=../lib.sh
. bench/lib.sh
bench_need eval hyperfine awk
bench_build
tactus=$root/build/tactus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/xdg

# ---- the evaluation -------------------------------------------------------------------------
mkdir -p "$work/p" # a folder of its own (the host's files are elsewhere)
{
    cat <<'LUA'
local done = require("tactus.tools.done")

lookup = Tool {
  description = "Look an order up",
  input = {id = field.string{required = true}},
  function(args) return {status = "shipped", id = args.id} end,
}

support = Agent {
  model = "openai/gpt-4o-mini",
  system_prompt = "Help with: {input.question}",
  tools = {lookup, done},
}

Mocks {
  support = {message = "Your order has shipped.", tool_calls = {{tool = "done", args = {reason = "ok"}}}},
}

Procedure {
  input = {question = field.string{required = true}, flakiness = field.number{required = true}},
  function(input)
    lookup({id = input.question})
    State.set("asked", input.question)
    local r = support({message = input.question})
    -- A share of runs go wrong, differently per run (the seed is fixed per run).
    local ok = math.random() >= input.flakiness
    return {answer = ok and r.output or "sorry", checked = 1}
  end,
}

Evaluation({
LUA
    echo "  runs = $RUNS,"
    echo "  pass_k = {1, 3, 5},"
    echo "  dataset = {"
    for ((i = 1; i <= CASES; i++)); do
        # Most cases always right, some flaky, a few mostly wrong.
        f=$(awk -v i="$i" 'BEGIN { print (i % 10 == 0) ? 0.7 : (i % 4 == 0) ? 0.1 : 0 }')
        echo "    {name = \"case_$i\", inputs = {question = \"order $i\", flakiness = $f}, expected_output = {checked = 1}},"
    done
    cat <<'LUA'
  },
  evaluators = {
    field.equals_expected{},
    field.contains{field = "answer", value = "shipped"},
    field.tool_called{value = "lookup", min_value = 1, max_value = 1},
  },
  thresholds = {min_success_rate = 0.5, max_flaky_cases = 100, min_pass_k = {k = 3, value = 0.3}},
})
LUA
} >"$work/p/bench.tac"
total=$((CASES * RUNS))

# Valid before timed: it checks, runs and meets its thresholds (5 runs per
# case are enough to know; the timed invocations make all of them).
if ! "$tactus" eval --mock --no-sandbox -j 2 --runs 5 --format json -o "$work/check.json" "$work/p/bench.tac" 2>"$work/check.err"; then
    echo "bench/eval: the generated evaluation does not pass:" >&2
    head -20 "$work/check.err" >&2
    exit 2
fi
bench_header
echo "evaluation: $CASES cases x $RUNS runs = $total runs, mocked, --no-sandbox -j 2, reports: JSON file, HTML page, --save"

cmd="$tactus eval --mock --no-sandbox -j 2 --timings --format json -o $work/r.json --html $work/r.html --save $work/s.json $work/p/bench.tac 2>>$work/timings.log"
hyperfine --style basic --warmup 0 --runs "$REPEAT" --export-json "$work/h.json" -n eval "$cmd" \
    >"$work/h.txt" 2>&1 || { cat "$work/h.txt" >&2; exit 2; }
wall=$(awk '/"median":/ { v = $2; gsub(/,/, "", v); print v; exit }' "$work/h.json")
rate=$(awk -v t="$wall" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
# "tactus eval: 10000 runs in R s (X runs/s); statistics S s, reports P s (Q% of the runs' time)"
grep -E '^tactus eval: [0-9]+ runs in' "$work/timings.log" >"$work/t.txt" || { cat "$work/timings.log" >&2; exit 2; }
med() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
runs_s=$(awk '{ print $6 }' "$work/t.txt" | med)
stats_s=$(awk '{ print $11 }' "$work/t.txt" | med)
reports_s=$(awk '{ print $14 }' "$work/t.txt" | med)
overhead=$(sed -E 's/.*\(([0-9.]+)% of the runs.*/\1/' "$work/t.txt" | med)
echo "invocations: $REPEAT (hyperfine); per invocation (tactus eval --timings):"
sed 's/^/  /' "$work/t.txt"
# CPU time of tactus and every runtime it started (hyperfine's user + system
# means): what a run costs whatever else the machine is doing, and the rate
# two idle cores would give. Information only: the wall clock is the gate.
cpu=$(awk '/"user":/ { u = $2 } /"system":/ { s = $2 } END { gsub(/,/, "", u); gsub(/,/, "", s); print u + s }' "$work/h.json")
printf 'wall clock: median %.3f s -> %s runs/s (target >= %d)\n' "$wall" "$rate" "$TARGET_RATE"
printf 'CPU (tactus + runtimes): mean %.3f s -> %.3f ms per run; two idle cores would give about %.0f runs/s\n' \
    "$cpu" "$(awk -v c="$cpu" -v n="$total" 'BEGIN { print c * 1000 / n }')" \
    "$(awk -v c="$cpu" -v n="$total" 'BEGIN { print 2 * n / c }')"
printf 'running the runs: median %.3f s; statistics: median %.4f s; reports: median %.4f s\n' \
    "$runs_s" "$stats_s" "$reports_s"
printf 'statistics + reports: median %.2f%% of the runs'"'"' time (target <= %.1f%%)\n' "$overhead" "$TARGET_OVERHEAD"
printf 'report sizes: JSON %s bytes, HTML %s bytes, --save %s bytes\n' \
    "$(wc -c <"$work/r.json")" "$(wc -c <"$work/r.html")" "$(wc -c <"$work/s.json")"
status=0
[ "$rate" -ge "$TARGET_RATE" ] || { echo "bench/eval: runs/s target missed" >&2; status=1; }
awk -v o="$overhead" -v t="$TARGET_OVERHEAD" 'BEGIN { exit !(o <= t) }' ||
    { echo "bench/eval: statistics and reports overhead target missed" >&2; status=1; }
exit $status
