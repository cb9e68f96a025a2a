#!/usr/bin/env bash
# Configures and builds. Usage: scripts/build.sh [release|optimized|asan|fuzz]
#   release   -> build/           (RelWithDebInfo: -O2 -g, the development build)
#   optimized -> build-optimized/ (Release: -O3, what packagers and users build;
#                                  -O3 finds warnings -O2 does not, e.g.
#                                  -Wformat-truncation, and they are errors)
#   asan    -> build-asan/  (AddressSanitizer + UndefinedBehaviorSanitizer)
#   fuzz    -> build-fuzz/  (clang, libFuzzer + ASan + UBSan; the fuzz targets
#                            only: tests/fuzz/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
targets=()
case "$kind" in
    release) dir=build; flags=() ;;
    optimized) dir=build-optimized; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
    asan) dir=build-asan; flags=(-DTACTUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
    fuzz) dir=build-fuzz; flags=(-DTACTUS_FUZZ=ON -DCMAKE_C_COMPILER=clang); targets=(--target fuzz_targets) ;;
    *) echo "usage: scripts/build.sh [release|optimized|asan|fuzz]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
