#!/usr/bin/env bash
# experiment.sh - measures what the fixes proposed in bench/run/RESULTS.md would gain, on a
# throw-away build in /tmp (the product tree is not touched).
#
# usage: bash bench/run/experiment.sh [--sandbox]
#
# It builds COMMIT (default 4dbfa39, the tree the patch was written against) with
# experiment.patch applied into a temporary folder. The patch only adds switches, each off
# unless asked for, so one binary serves every variant:
#   EXP_PIDFD_WAIT=1    after run.finish the host waits for the runtime's exit on a pidfd
#                       instead of polling waitpid(WNOHANG) with 5 ms sleeps
#   EXP_SHA_LOWLEVEL=1  SHA-256 (of the source, and of tactus-runtime for the image check)
#                       with OpenSSL's low-level SHA256_* instead of EVP_Digest, whose first
#                       use fetches the algorithm from OpenSSL's provider tables
#   /tmp/tactus-exp-bc  when this folder exists, the runtime caches the embedded DSL as Lua
#                       bytecode there and loads it with mode "b" (stands for embedding
#                       precompiled bytecode at build time)
# (An earlier version, against 3bb5752, measured close_range, libcurl at start-up and the
# openssl.cnf load; 4dbfa39 made those changes. See RESULTS.md.)
#
# One hyperfine session, cumulative variants, all behind `env` so they pay the same exec:
#   0 build as is, 0b patched with every switch off, 1 +pidfd wait, 2 +low-level SHA-256,
#   3 +DSL bytecode, 4 +journal on tmpfs (information: the fsyncs), and the floor.
# With --sandbox, also a hand-interleaved session: docker run hello, tactus run (sandboxed)
# as built, and with the host-side fixes plus `docker info` and `docker image inspect`
# answered at once by a shim.
#
# Environment: COMMIT, WARMUP=5, RUNS=40, KEEP=1 (keep the build folder).

set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
COMMIT=${COMMIT:-4dbfa39}
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
ALL="EXP_PIDFD_WAIT=1 EXP_SHA_LOWLEVEL=1"
env TACTUS_RUNTIME=$ER $ALL "$E" run --no-sandbox hello.tac 2>/dev/null |
  grep -q 'Hello, world!' || die "the all-fixes variant fails"

echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), RLIMIT_NOFILE $(ulimit -n)"
csv=$exp/experiment.csv
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-csv "$csv" \
  -n "0 as built (build/)" "env TACTUS_RUNTIME=$MR $ROOT/build/tactus run --no-sandbox hello.tac" \
  -n "0b patched (switches off)" "env TACTUS_RUNTIME=$MR $E run --no-sandbox hello.tac" \
  -n "1 +pidfd wait" "env TACTUS_RUNTIME=$MR EXP_PIDFD_WAIT=1 $E run --no-sandbox hello.tac" \
  -n "2 +low-level SHA-256" "env TACTUS_RUNTIME=$MR $ALL $E run --no-sandbox hello.tac" \
  -n "3 +DSL bytecode" "env TACTUS_RUNTIME=$ER $ALL $E run --no-sandbox hello.tac" \
  -n "4 +journal on tmpfs (info)" "env TACTUS_STORE=/dev/shm/tactus-exp-journal.db TACTUS_RUNTIME=$ER $ALL $E run --no-sandbox hello.tac" \
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
img=$("$ROOT/build/tactus" sandbox status --json 2>/dev/null | grep -o '"image":"[^"]*"' | sed 's/.*:"//; s/"$//')
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
names=("docker run hello" "tactus run (sandboxed), as built" "tactus run (sandboxed), host fixes + no info/inspect")
for k in 0 1 2; do : >"$exp/s-$k.txt"; done
# Host-side fixes that apply with the container too: pidfd wait, low-level SHA-256 (of the
# 0.6 MB runtime, for the image check), no info/inspect. The runtime inside is the image's.
for r in $(seq 20); do
  for o in 0 1 2; do
    k=$(( (r + o) % 3 ))
    t0=$EPOCHREALTIME
    case $k in
      0) "$DOCKER" run --rm --network none "$HELLO_IMAGE" >/dev/null ;;
      1) "$ROOT/build/tactus" run hello.tac >/dev/null 2>&1 ;;
      2) env PATH="$exp/shim:$PATH" TACTUS_RUNTIME="$MR" $ALL "$E" run hello.tac >/dev/null 2>&1 ;;
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
