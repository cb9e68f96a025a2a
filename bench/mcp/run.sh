#!/usr/bin/env bash
# MCP broker overhead: builds bench_mcp and the echo server (release build
# in build/) and runs it, against our minimal C server (the floor: the
# server's own time is next to nothing) and against the reference
# server-everything (node, tests/mcp/npm); then the whole path of a run
# (runtime -> supervisor -> journal -> broker -> server) for information.
#   bench/mcp/run.sh              # N=2000, markdown tables
#   N=5000 bench/mcp/run.sh
# Exits 1 when the broker overhead misses its target against the C server
# (against node, the server's own garbage-collection pauses swamp a p99 of
# differences: printed, not gated).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-2000}
if [ ! -f build/CMakeCache.txt ]; then cmake -S . -B build >/dev/null; fi
cmake --build build --target bench_mcp mcp-echo-server tactus -j "$(nproc)" >/dev/null
everything=tests/mcp/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[ -f "$everything" ] || { echo "bench/mcp: $everything is missing: run scripts/install-deps.sh" >&2; exit 2; }
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -sr)"
build_type=$(grep -m1 '^CMAKE_BUILD_TYPE:' build/CMakeCache.txt | cut -d= -f2)
echo "tools: node $(node --version), ${build_type:-RelWithDebInfo (the default)} build, commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
status=0
echo
echo "## against the C echo server (tests/mcp/echo_server.c)"
./build/tests/bench_mcp -n "$N" --markdown || status=1
echo
echo "## against server-everything (node), tool echo, for information (node's own pauses dominate its p99)"
./build/tests/bench_mcp -n "$N" --markdown --server "$(command -v node)" "$PWD/$everything" stdio \
    --tool echo --args '{"message":"hello from the benchmark"}' || true

# The whole path in a run, for information: 200 calls in one procedure
# against one, --no-sandbox, the run journaled (each call an effect
# recorded with fsync); per call = the difference / 199. The same with the
# built-in host tool host.ping beside it: what MCP adds over a host tool.
echo
echo "## a run's whole path (runtime, supervisor, journal, broker, server), for information"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/host/tactus" "$work/proj"
printf 'mcp_servers:\n  bench:\n    command: ["%s"]\n' "$PWD/build/mcp-echo-server" >"$work/host/tactus/config.yml"
printf 'Procedure { function() for i = 1, 200 do mcp.bench.echo({text = "hello"}) end return 1 end }\n' >"$work/proj/calls.tac"
printf 'Procedure { function() mcp.bench.echo({text = "hello"}) return 1 end }\n' >"$work/proj/one.tac"
printf 'Procedure { function() for i = 1, 200 do Host.call("host.ping", {text = "hello"}) end return 1 end }\n' >"$work/proj/pings.tac"
printf 'Procedure { function() Host.call("host.ping", {text = "hello"}) return 1 end }\n' >"$work/proj/ping.tac"
export XDG_CONFIG_HOME=$work/host XDG_DATA_HOME=$work/data TACTUS_STORE=$work/data/journal.db
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tactus_bin=$PWD/build/tactus
time_run() {
    for _ in 1 2 3 4 5; do
        s=$(date +%s%N)
        (cd "$work/proj" && "$tactus_bin" run --no-sandbox "$1" >/dev/null 2>&1) || { echo "bench/mcp: the run of $1 failed" >&2; exit 2; }
        echo $(( $(date +%s%N) - s ))
    done | median
}
for kind in "MCP tool (mcp.bench.echo):one.tac:calls.tac" "host tool (host.ping):ping.tac:pings.tac"; do
    IFS=: read -r label f1 f200 <<<"$kind"
    one=$(time_run "$f1")
    many=$(time_run "$f200")
    awk -v l="$label" -v a="$one" -v b="$many" 'BEGIN { printf "%-26s run of 1 call %.1f ms, of 200 calls %.1f ms: %.3f ms per call (5 runs each, medians)\n", l, a/1e6, b/1e6, (b-a)/1e6/199 }'
done
exit $status
