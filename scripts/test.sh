#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# needed, regenerates the grammars and fails on any difference, builds a
# release, a sanitizer and a fuzz build, and runs every ctest test of each
# (the fuzz build: each libFuzzer target for a bounded run, tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/start-dockerd.sh
bash scripts/regen-grammars.sh --check

bash scripts/build.sh release
(cd build && ctest --output-on-failure -j "$(nproc)")

bash scripts/build.sh asan
# LeakSanitizer is part of ASan: a leak fails the test that caused it.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$(nproc)" -LE no-asan)

# libFuzzer: every target for a fixed number of inputs from a fixed seed
# (about 20 s each here); a crasher found is kept in tests/fuzz/corpus_NAME/.
bash scripts/build.sh fuzz
(cd build-fuzz && ctest --output-on-failure -j "$(nproc)" -L fuzz-run)
