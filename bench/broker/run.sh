#!/usr/bin/env bash
# Broker overhead benchmark: builds bench_broker (release build in build/)
# and runs it against tests/integration/fake_openai.py on loopback.
#   bench/broker/run.sh                 # N=300, 20 words, markdown table
#   N=1000 WORDS=200 bench/broker/run.sh --raw /tmp/raw.tsv
# Extra arguments go to bench_broker (see the top of bench_broker.c).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-300}
WORDS=${WORDS:-20}
if [ ! -f build/CMakeCache.txt ]; then cmake -S . -B build >/dev/null; fi
bin=build/tests/integration/bench_broker
if ! cmake --build build --target bench_broker -j "$(nproc)" >/tmp/bench_broker_build.$$.log 2>&1; then
    if [ -x "$bin" ]; then
        echo "warning: the build failed (see /tmp/bench_broker_build.$$.log); using the existing $bin" >&2
    else
        cat /tmp/bench_broker_build.$$.log >&2
        exit 1
    fi
fi
rm -f /tmp/bench_broker_build.$$.log
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -sr)"
bt=$(grep -m1 '^CMAKE_BUILD_TYPE:' build/CMakeCache.txt | cut -d= -f2)
echo "tools: $(python3 --version 2>&1), libcurl $(pkg-config --modversion libcurl 2>/dev/null || echo '?'), ${bt:-RelWithDebInfo} build"
echo
exec "./$bin" -n "$N" -w "$WORDS" --markdown "$@"
