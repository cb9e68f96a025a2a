#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# needed, regenerates the grammars and fails on any difference, builds a
# release and a sanitizer build, and runs every ctest test in both.
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
