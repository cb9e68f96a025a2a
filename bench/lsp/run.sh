#!/usr/bin/env bash
# The language server benchmark (see RESULTS.md beside this file), through
# the real binary on pipes, as an editor drives it:
#   - a generated 5,000-line .tac file: an edit to fresh diagnostics (pull)
#     p50 <= 3 ms and p99 <= 10 ms; completion and hover p99 <= 5 ms;
#   - a 1,000-file workspace (bench/gen-corpus.lua): indexed in <= 1 s, and
#     <= 50 KiB of server memory per indexed file (RSS delta / files).
#
#   bench/lsp/run.sh                 N=300 LINES=5000 FILES=1000
# Exit: 0 targets met, 1 missed, 2 broken setup.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-300}
LINES=${LINES:-5000}
FILES=${FILES:-1000}
# shellcheck source=../lib.sh
. bench/lib.sh
bench_need lsp lua5.4
bench_build
log=$(mktemp)
if ! cmake --build build --target bench_lsp -j "$(nproc)" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 2
fi
rm -f "$log"
tactus=$PWD/build/tactus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Inputs are generated and must check clean before anything is timed.
lua5.4 bench/lsp/gen-big.lua "$LINES" >"$work/big.tac"
if ! "$tactus" check -q "$work/big.tac" >/dev/null 2>&1; then
    echo "bench/lsp: the generated file does not check clean:" >&2
    "$tactus" check "$work/big.tac" | head -20 >&2
    exit 2
fi
lua5.4 bench/gen-corpus.lua "$work/ws" "$FILES" >/dev/null
if ! "$tactus" check -q "$work/ws" >/dev/null 2>&1; then
    echo "bench/lsp: the generated workspace does not check clean" >&2
    exit 2
fi

bench_header
bt=$(grep -m1 '^CMAKE_BUILD_TYPE:' build/CMakeCache.txt | cut -d= -f2)
echo "build: ${bt:-RelWithDebInfo}, libtree-sitter $(dpkg-query -W -f='${Version}' libtree-sitter0 2>/dev/null || echo '?')"
echo
rc=0
build/tests/bench_lsp edits "$tactus" "$work/big.tac" "$N" || rc=1
echo
build/tests/bench_lsp workspace "$tactus" "$work/ws" || rc=1
echo
echo "lua-language-server: not installable here (no Debian 12 package; not in the npm registry);"
echo "see RESULTS.md for its published figures."
[ $rc -eq 0 ] || echo "bench/lsp: a target was missed" >&2
exit $rc
