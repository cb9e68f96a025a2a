#!/usr/bin/env bash
# experiment.sh - measures what the fixes proposed in bench/run/RESULTS.md would gain, on a
# throw-away build in /tmp (the product tree is not touched).
#
# usage: bash bench/run/experiment.sh [--sandbox]
#
# It builds COMMIT (default 3bb5752, the tree the patch was written against) with
# experiment.patch applied into a temporary folder. The patch only adds switches, each off
# unless asked for, so one binary serves every variant:
#   EXP_CLOSE_RANGE=1   the child closes its descriptors with one close_range(2) instead of
#                       one close(2) per number up to RLIMIT_NOFILE
#   EXP_PIDFD_WAIT=1    after run.finish the host waits for the runtime's exit on a pidfd
#                       instead of polling waitpid(WNOHANG) with 5 ms sleeps
#   EXP_NO_SRC_SHA=1    no SHA-256 of the source through OpenSSL's EVP (its first use
#   EXP_NO_CURL_INIT=1  initialises OpenSSL: config file, providers) and no curl_global_init
#                       (both: "no OpenSSL initialisation" for a run that makes no HTTP call)
#   /tmp/tactus-exp-bc  when this folder exists, the runtime caches the embedded DSL as Lua
#                       bytecode there and loads it with mode "b" (stands for embedding
#                       precompiled bytecode at build time)
# and "no libcurl at start-up" is emulated with a stub libcurl.so.4 (the 10 functions tactus
# imports, no dependencies) on LD_LIBRARY_PATH: it stands for loading libcurl lazily
# (dlopen) only when a real HTTP call is made. The stub is only valid for runs that make no
# HTTP call, like hello.tac.
#
# One hyperfine session, cumulative variants, all behind `env` so they pay the same exec:
#   0 build as is, 1 +close_range, 2 +pidfd wait, 3 +no OpenSSL init, 4 +no libcurl at
#   start-up, 5 +DSL bytecode, 6 +journal on tmpfs (information: fsyncs), and the floor.
# With --sandbox, also a hand-interleaved session: docker run hello, tactus run (sandboxed)
# as built, and with every host-side fix plus `docker info` and `docker image inspect`
# answered at once by a shim.
#
# Environment: COMMIT, WARMUP=5, RUNS=40, KEEP=1 (keep the build folder).

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
COMMIT=${COMMIT:-3bb5752}
WARMUP=${WARMUP:-5}
RUNS=${RUNS:-40}
sandbox=0
case "${1:-}" in
  --sandbox) sandbox=1 ;;
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  "") ;;
  *) echo "experiment.sh: unknown argument $1" >&2; exit 2 ;;
esac
die() { echo "experiment.sh: $*" >&2; exit 2; }
for tool in hyperfine gcc cmake patch git; do command -v "$tool" >/dev/null || die "'$tool' is not installed"; done

exp=$(mktemp -d /tmp/tactus-exp.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$exp" /tmp/tactus-exp-bc' EXIT
echo "== building $COMMIT + experiment.patch in $exp"
mkdir -p "$exp/src"
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$exp/src"
patch -s -d "$exp/src" -p1 <"$HERE/experiment.patch" || die "the patch does not apply to $COMMIT"
cmake -S "$exp/src" -B "$exp/build" >/dev/null
cmake --build "$exp/build" -j2 --target tactus tactus-runtime >/dev/null 2>&1 || die "build failed"
E=$exp/build/tactus
ER=$exp/build/tactus-runtime
MR=$ROOT/build/tactus-runtime # the unpatched runtime (same code as ER when the cache folder is absent)

# The stub libcurl.so.4: tactus's 10 libcurl imports, versioned like Debian's.
mkdir -p "$exp/stubcurl"
cat >"$exp/stubcurl/stub.c" <<'EOF'
/* Benchmark-only stand-in for libcurl.so.4: measures the start-up cost of the real one. */
#include <stddef.h>
int curl_global_init(long f) { (void)f; return 0; }
void curl_global_cleanup(void) {}
void *curl_easy_init(void) { return NULL; }
void curl_easy_cleanup(void *h) { (void)h; }
int curl_easy_setopt(void *h, int o, ...) { (void)h; (void)o; return 0; }
int curl_easy_perform(void *h) { (void)h; return 7; }
int curl_easy_getinfo(void *h, int i, ...) { (void)h; (void)i; return 0; }
const char *curl_easy_strerror(int c) { (void)c; return "stub"; }
void *curl_slist_append(void *l, const char *s) { (void)s; return l; }
void curl_slist_free_all(void *l) { (void)l; }
EOF
ver=$(objdump -T "$E" | awk '/curl_easy_init/ { v = $(NF - 1); gsub(/[()]/, "", v); print v }')
[ -n "$ver" ] || die "cannot find the version of the libcurl imports"
echo "$ver { global: *; };" >"$exp/stubcurl/ver.map"
gcc -O2 -shared -fPIC -o "$exp/stubcurl/libcurl.so.4" "$exp/stubcurl/stub.c" \
  -Wl,--version-script="$exp/stubcurl/ver.map" -Wl,-soname,libcurl.so.4

work=$exp/work
mkdir -p "$work"
chmod 755 "$work"
cat >"$work/hello.tac" <<'EOF'
Procedure { output = { greeting = field.string{} }, function() return {greeting = "Hello, world!"} end }
EOF
cd "$work"
export TACTUS_STORE=$work/journal.db
rm -rf /tmp/tactus-exp-bc
mkdir -p /tmp/tactus-exp-bc
# Fill the bytecode cache, and check every variant still greets.
TACTUS_RUNTIME=$ER "$E" run --no-sandbox hello.tac 2>/dev/null | grep -q 'Hello, world!' || die "patched run fails"
ls /tmp/tactus-exp-bc/*.luac >/dev/null 2>&1 || die "the bytecode cache was not written"
ALL="EXP_CLOSE_RANGE=1 EXP_PIDFD_WAIT=1 EXP_NO_SRC_SHA=1 EXP_NO_CURL_INIT=1"
env LD_LIBRARY_PATH=$exp/stubcurl TACTUS_RUNTIME=$ER $ALL "$E" run --no-sandbox hello.tac 2>/dev/null |
  grep -q 'Hello, world!' || die "the all-fixes variant fails"

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), RLIMIT_NOFILE $(ulimit -n)"
csv=$exp/experiment.csv
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-csv "$csv" \
  -n "0 as built (runtime: build/)" "env TACTUS_RUNTIME=$MR $ROOT/build/tactus run --no-sandbox hello.tac" \
  -n "0b patched build (switches off)" "env TACTUS_RUNTIME=$MR $E run --no-sandbox hello.tac" \
  -n "1 +close_range" "env TACTUS_RUNTIME=$MR EXP_CLOSE_RANGE=1 $E run --no-sandbox hello.tac" \
  -n "2 +pidfd wait" "env TACTUS_RUNTIME=$MR EXP_CLOSE_RANGE=1 EXP_PIDFD_WAIT=1 $E run --no-sandbox hello.tac" \
  -n "3 +no OpenSSL init" "env TACTUS_RUNTIME=$MR $ALL $E run --no-sandbox hello.tac" \
  -n "4 +no libcurl at start-up" "env LD_LIBRARY_PATH=$exp/stubcurl TACTUS_RUNTIME=$MR $ALL $E run --no-sandbox hello.tac" \
  -n "5 +DSL bytecode" "env LD_LIBRARY_PATH=$exp/stubcurl TACTUS_RUNTIME=$ER $ALL $E run --no-sandbox hello.tac" \
  -n "6 +journal on tmpfs (info)" "env TACTUS_STORE=/dev/shm/tactus-exp-journal.db LD_LIBRARY_PATH=$exp/stubcurl TACTUS_RUNTIME=$ER $ALL $E run --no-sandbox hello.tac" \
  -n "floor: env /bin/true" "env X=1 /bin/true" >/dev/null 2>&1 || die "hyperfine failed"
rm -f /dev/shm/tactus-exp-journal.db*
printf '   %-32s %9s %9s %9s\n' variant median min max
awk -F, 'NR > 1 { printf "   %-32s %7.2fms %7.2fms %7.2fms\n", $1, $4*1000, $7*1000, $8*1000 }' "$csv"

# Peak RSS of the runtime with the bytecode cache (information).
printf '#!/bin/sh\nexec /usr/bin/time -f %%M -o %s/rt.$$ %s\n' "$work" "$ER" >"$work/rss.sh"
chmod +x "$work/rss.sh"
for i in $(seq 10); do TACTUS_RUNTIME=$work/rss.sh "$E" run --no-sandbox hello.tac >/dev/null 2>&1; done
echo "   runtime peak RSS with DSL bytecode, 10 runs: $(cat "$work"/rt.* | sort -n | awk '{ v[NR] = $1 } END { printf "median %d kB, max %d kB", v[int((NR + 1) / 2)], v[NR] }')"

[ "$sandbox" = 1 ] || exit 0

# ---- sandboxed: every fix at once ------------------------------------------------------------
DOCKER=$(command -v docker)
HELLO_IMAGE=${HELLO_IMAGE:-tactus-bench-hello:latest}
docker image inspect "$HELLO_IMAGE" >/dev/null 2>&1 || die "run bench/sandbox/run.sh first (it builds $HELLO_IMAGE)"
"$ROOT/build/tactus" run hello.tac >/dev/null 2>&1 || die "sandboxed run fails"
dv=$(docker info --format '{{.ServerVersion}}')
img=$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -m1 '^tactus-sandbox:')
label=$(docker image inspect --format '{{index .Config.Labels "tactus.runtime_sha256"}}' "$img")
mkdir -p "$exp/shim"
cat >"$exp/shim/shim.c" <<EOF
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    (void)argc;
    if (argv[1] && strcmp(argv[1], "info") == 0) { puts("$dv"); return 0; }
    if (argv[1] && argv[2] && !strcmp(argv[1], "image") && !strcmp(argv[2], "inspect")) { puts("$label"); return 0; }
    execv("$DOCKER", argv);
    return 127;
}
EOF
gcc -O2 -o "$exp/shim/docker" "$exp/shim/shim.c"
names=("docker run hello" "tactus run (sandboxed), as built" "tactus run (sandboxed), every fix + no info/inspect")
for k in 0 1 2; do : >"$exp/s-$k.txt"; done
# Fixes that apply in the container too: host start-up (no OpenSSL init, no libcurl),
# close_range, pidfd wait, no info/inspect. The runtime inside is the image's (unchanged).
for r in $(seq 20); do
  for o in 0 1 2; do
    k=$(( (r + o) % 3 ))
    t0=$EPOCHREALTIME
    case $k in
      0) "$DOCKER" run --rm --network none "$HELLO_IMAGE" >/dev/null ;;
      1) "$ROOT/build/tactus" run hello.tac >/dev/null 2>&1 ;;
      2) env PATH="$exp/shim:$PATH" LD_LIBRARY_PATH="$exp/stubcurl" TACTUS_RUNTIME="$MR" $ALL "$E" run hello.tac >/dev/null 2>&1 ;;
    esac
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$exp/s-$k.txt"
  done
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
a=$(med "$exp/s-0.txt")
echo "== sandboxed, 20 hand-interleaved rounds"
for k in 0 1 2; do
  m=$(med "$exp/s-$k.txt")
  printf '   %-56s median %6.1f ms  ratio %.2f\n' "${names[$k]}" "$(awk -v s="$m" 'BEGIN { print s * 1000 }')" "$(awk -v a="$a" -v b="$m" 'BEGIN { print b / a }')"
done
