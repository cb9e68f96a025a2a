#!/usr/bin/env bash
# One bounded libFuzzer run of a fuzz target: the ctest fuzz_run_NAME (label
# fuzz-run) of a -DTACTUS_FUZZ=ON build (tests/fuzz/README.md).
#   run.sh FUZZER NAME RUNS CORPUS [SEEDS...]
# - A fixed amount of work from a fixed seed: RUNS inputs (FUZZ_RUNS
#   overrides) from -seed=$FUZZ_SEED (default 20261205), whatever the
#   machine's speed; FUZZ_MAX_TIME (default 120 s) caps it, and a run the cap
#   stopped early fails (the target got slower, or the machine is far too
#   busy), so a short run never passes for a whole one.
# - libFuzzer writes what it learns into a fresh folder under the current
#   (build) folder; CORPUS and SEEDS are only read.
# - A crash, a leak, a timeout (FUZZ_TIMEOUT s per input, default 30) or an
#   out-of-memory fails the test, and the input is kept as a corpus file:
#   copied into CORPUS as crash-SHA1 (leak-, timeout-, oom-), so that the
#   replay test of every build runs it from then on (commit it with the
#   fix), and printed in base64, so a CI log is enough to get it back.
set -u
fuzzer=$1 name=$2 runs=${FUZZ_RUNS:-$3} corpus=$4
shift 4
seed=${FUZZ_SEED:-20261205}
max_time=${FUZZ_MAX_TIME:-120}
work=$PWD/fuzz-run-$name
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
log=$work/libfuzzer.log
start=$(date +%s)
"$fuzzer" "$work/corpus" "$corpus" "$@" -seed="$seed" -runs="$runs" -max_total_time="$max_time" \
    -timeout="${FUZZ_TIMEOUT:-30}" -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$log" 2>&1
rc=$?
took=$(($(date +%s) - start))
# libFuzzer's last status line: "#RUNS DONE cov: N ft: N corp: N/SIZE ...".
stats=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+')
executed=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)$/\1/p' "$log")
mapfile -t found < <(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \))
if [ "$rc" -ne 0 ] || [ ${#found[@]} -gt 0 ]; then
    tail -n 60 "$log" >&2
    for f in "${found[@]}"; do
        cp "$f" "$corpus/"
        echo "fuzz_run $name: kept $corpus/${f##*/} ($(wc -c <"$f") bytes; base64 below):" >&2
        base64 -w 76 "$f" >&2
        echo "fuzz_run $name: reproduce with: $fuzzer $corpus/${f##*/}" >&2
    done
    echo "fuzz_run $name: FAIL: libFuzzer exit $rc after ${took} s (seed $seed)" >&2
    exit 1
fi
if [ -z "$executed" ] || [ "$executed" -lt "$runs" ]; then
    tail -n 20 "$log" >&2
    echo "fuzz_run $name: FAIL: ${executed:-no} of $runs inputs run before the ${max_time} s cap (seed $seed)" >&2
    exit 1
fi
echo "fuzz_run $name: ok: $executed inputs in ${took} s from seed $seed, no crash, leak or timeout (${stats:-no stats})"
