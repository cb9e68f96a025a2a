#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# needed, regenerates the grammars and fails on any difference, builds a
# release, a sanitizer and a fuzz build, and runs every ctest test of each
# (the fuzz build: each libFuzzer target for a bounded run, tests/fuzz/README.md).
# Every ctest run must run and pass exactly the tests registered for it.
set -euo pipefail
cd "$(dirname "$0")/.."

# run_ctest DIR CTEST_ARGS...: ctest in DIR, then the count: as many tests
# passed as `ctest -N` registers for the same arguments (label filters), so
# that a skipped, disabled or never started test cannot leave a smaller suite
# passing for the whole one. The log is kept as DIR/ctest-run.log.
run_ctest() {
    local dir=$1 registered passed total log
    shift
    registered=$(cd "$dir" && ctest -N "$@" | sed -n 's/^Total Tests: \([0-9][0-9]*\)$/\1/p')
    log=$dir/ctest-run.log
    (cd "$dir" && ctest --output-on-failure "$@") 2>&1 | tee "$log"
    passed=$(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) .* Passed +[0-9.]+ sec$/\1/p' "$log" | sort -u | wc -l)
    total=$(sed -nE 's/^[0-9]+% tests passed, [0-9]+ tests failed out of ([0-9]+)$/\1/p' "$log")
    if [ -z "$registered" ] || [ "$registered" -eq 0 ] || [ "$passed" -ne "$registered" ] ||
        [ "${total:-0}" -ne "$registered" ]; then
        echo "test.sh: $dir (ctest $*): ${registered:-no} tests registered, ${total:-no} run, $passed passed" >&2
        exit 1
    fi
    echo "test.sh: $dir (ctest $*): all $registered registered tests ran and passed"
    passed_in_all=$((passed_in_all + registered))
}
passed_in_all=0

bash scripts/install-deps.sh
bash scripts/start-dockerd.sh
bash scripts/regen-grammars.sh --check

bash scripts/build.sh release
run_ctest build -j "$(nproc)"

bash scripts/build.sh asan
# LeakSanitizer is part of ASan: a leak fails the test that caused it.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest build-asan -j "$(nproc)" -LE no-asan

# libFuzzer: every target for a fixed number of inputs from a fixed seed
# (about 20 s each here); a crasher found is kept in tests/fuzz/corpus_NAME/.
bash scripts/build.sh fuzz
run_ctest build-fuzz -j "$(nproc)" -L fuzz-run
# Every build's count in one closing line.
echo "tests: $passed_in_all passed, 0 failed"
