#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# needed, regenerates the grammars and fails on any difference, builds a
# release (RelWithDebInfo), an optimized (Release, -O3: what packagers and
# users build), a sanitizer and a fuzz build, and runs every ctest test of
# the release and sanitizer builds, the unit, CLI and docs tests of the
# optimized one, and the fuzz build's libFuzzer targets for a bounded run
# (tests/fuzz/README.md). The docker tests must leave no dangling image.
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

# Sandbox images no name points to any more, built by this tactus (it
# records the runtime of each image): the suite must not add any.
dangling_images() {
    docker image ls -q --no-trunc -f dangling=true -f label=tactus.runtime_path 2>/dev/null | sort -u
}
dangling_before=$(dangling_images)

bash scripts/build.sh release
# -LE slow: pg_chaos_full (200 runs, 60 s of kills) runs on demand: ctest -L slow
run_ctest build -j "$(nproc)" -LE slow

new_dangling=$(comm -13 <(printf '%s\n' "$dangling_before") <(dangling_images) | sed '/^$/d')
if [ -n "$new_dangling" ]; then
    echo "test.sh: the suite left dangling sandbox images: $new_dangling" >&2
    exit 1
fi

# The Release configuration (-O3) compiles warning-free too, and its
# binary passes the unit, CLI and docs tests.
bash scripts/build.sh optimized
run_ctest build-optimized -j "$(nproc)" -L 'unit|cli|docs'

bash scripts/build.sh asan
# LeakSanitizer is part of ASan: a leak fails the test that caused it.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest build-asan -j "$(nproc)" -LE 'no-asan|slow'

# libFuzzer: every target for a fixed number of inputs from a fixed seed
# (about 20 s each here); a crasher found is kept in tests/fuzz/corpus_NAME/.
bash scripts/build.sh fuzz
run_ctest build-fuzz -j "$(nproc)" -L fuzz-run
# Every build's count in one closing line.
echo "tests: $passed_in_all passed, 0 failed"
