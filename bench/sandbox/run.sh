#!/usr/bin/env bash
# run.sh - cost of the Docker sandbox: `tactus run hello.tac` against a bare `docker run` of a
# static hello-world in a FROM-scratch image, and the container's peak memory.
#
# usage: bash bench/sandbox/run.sh [--help]
#
# Environment (all optional):
#   TACTUS=path           tactus binary (default: build/tactus; built if missing)
#   WARMUP=3 RUNS=20      hyperfine warm-up and timed runs per command
#   MEM_RUNS=10           sandboxed runs for the peak-memory measurement (>= 10)
#   TARGET_RATIO=1.2      median(tactus run) / median(docker run hello) must be <= this
#   TARGET_MEM_KB=10240   container peak memory (median and max) must be <= this (10 MiB)
#   DIAG=1                0 skips the diagnosis (phase timings and the projection session)
#   DIAG_RUNS=10          runs for the phase timings
#   HELLO_IMAGE=tactus-bench-hello:latest   the reference image (rebuilt by every run)
#   RESULTS_DIR=dir       where hyperfine's JSON/CSV and the samples go (default: a new /tmp
#                         folder, kept and printed at the end)
#
# What it does:
#   1. builds a static hello-world C program (gcc -static) into an image FROM scratch, from a
#      temporary build context in /tmp, tagged HELLO_IMAGE;
#   2. writes hello.tac into a fresh temporary folder (the journal of durable runs goes there
#      too: TACTUS_STORE) and runs `tactus run hello.tac` once, so that the sandbox image is
#      current before anything is timed (and checks the greeting);
#   3. ONE hyperfine session (-N, no intermediate shell):
#        (a) docker run --rm --network none HELLO_IMAGE
#        (b) tactus run hello.tac                       <- sandboxed (the default)
#      hyperfine 1.15 runs each command's runs back to back (it cannot interleave), so the
#      script adds a hand-interleaved cross-check (a, b, a, b, ...) timed with bash's
#      $EPOCHREALTIME;
#   4. the container's peak memory during (b): a background poller reads the container's
#      memory cgroup (v1: memory.max_usage_in_bytes under /sys/fs/cgroup/memory/docker/<id>;
#      v2: memory.peak) every ~2 ms while MEM_RUNS sandboxed runs go on; the container of each
#      run is found by its name, tactus-<run id>, the run id being taken from tactus's own
#      "completed ... (run run-...)" line. The same is measured for the hello image, as the
#      floor of any container (runc's init is charged to the container too);
#   5. (DIAG=1) where (b)'s extra time goes: a logging `docker` shim first on PATH records
#      when each docker command tactus starts begins and ends (docker info, docker image
#      inspect, docker run); then a second hyperfine session projects the gain of skipping
#      `docker info`, and both `docker info` and `docker image inspect`, with shims that
#      answer those two at once and exec the real docker for `docker run`.
# Exit: 0 all targets met, 1 a target missed, 2 broken setup (no Docker, no gcc...).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TACTUS=${TACTUS:-$ROOT/build/tactus}
WARMUP=${WARMUP:-3}
RUNS=${RUNS:-20}
MEM_RUNS=${MEM_RUNS:-10}
TARGET_RATIO=${TARGET_RATIO:-1.2}
TARGET_MEM_KB=${TARGET_MEM_KB:-10240}
DIAG=${DIAG:-1}
DIAG_RUNS=${DIAG_RUNS:-10}
HELLO_IMAGE=${HELLO_IMAGE:-tactus-bench-hello:latest}

die() { echo "run.sh: $*" >&2; exit 2; }
case "${1:-}" in
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  "") ;;
  *) die "unknown argument $1 (see --help)" ;;
esac

for tool in hyperfine docker gcc awk sort grep; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed"
done
[ -n "${EPOCHREALTIME:-}" ] || die "bash >= 5 is needed (\$EPOCHREALTIME)"
DOCKER=$(command -v docker)
docker_version=$(docker info --format '{{.ServerVersion}}' 2>/dev/null) ||
  die "docker info fails: start the daemon (e.g. bash scripts/start-dockerd.sh)"
if [ ! -x "$TACTUS" ]; then
  echo "== $TACTUS missing; building it"
  cmake --build "$ROOT/build" >/dev/null || die "cannot build $TACTUS"
fi
TACTUS=$(cd "$(dirname "$TACTUS")" && pwd)/$(basename "$TACTUS")
RUNTIME=${TACTUS_RUNTIME:-$(dirname "$TACTUS")/tactus-runtime}
[ -x "$RUNTIME" ] || die "tactus-runtime not found at $RUNTIME"

started=$(date +%s)
results=${RESULTS_DIR:-$(mktemp -d /tmp/tactus-bench-sandbox-results.XXXXXX)}
mkdir -p "$results"
work=$(mktemp -d /tmp/tactus-bench-sandbox.XXXXXX)
chmod 755 "$work" # the container's user must be able to enter its workspace
poller=""
cleanup() {
  [ -z "$poller" ] || kill "$poller" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export TACTUS_STORE=$work/journal.db

# ---- 1. the reference image -----------------------------------------------------------------
ctx=$work/hello-image
mkdir -p "$ctx"
cat >"$ctx/hello.c" <<'EOF'
#include <unistd.h>
int main(void)
{
    static const char msg[] = "Hello, world!\n";
    return write(1, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1) ? 0 : 1;
}
EOF
gcc -O2 -static -o "$ctx/hello" "$ctx/hello.c" || die "gcc -static failed (is the static libc installed?)"
printf 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n' >"$ctx/Dockerfile"
echo "== building $HELLO_IMAGE (static hello, FROM scratch)"
docker build -q -t "$HELLO_IMAGE" "$ctx" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "docker build failed"; }
[ "$(docker run --rm --network none "$HELLO_IMAGE")" = "Hello, world!" ] || die "$HELLO_IMAGE does not greet"

# ---- 2. the procedure, and a current sandbox image ------------------------------------------
cat >"$work/hello.tac" <<'EOF'
Procedure { output = { greeting = field.string{} }, function() return {greeting = "Hello, world!"} end }
EOF
cd "$work"
echo "== tactus run hello.tac once (builds the sandbox image if it is missing or stale)"
out=$("$TACTUS" run hello.tac 2>"$work/err.txt") || { cat "$work/err.txt" >&2; die "tactus run hello.tac failed"; }
case "$out" in *'"greeting": "Hello, world!"'*) ;; *) die "unexpected output: $out" ;; esac
grep -h 'SANDBOX' "$work/err.txt" | sed 's/^/   /' || true
"$TACTUS" run hello.tac >/dev/null 2>"$work/err.txt" || die "second tactus run hello.tac failed"
if grep -q 'building' "$work/err.txt"; then die "the sandbox image is rebuilt at every run"; fi

echo "== machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r)"
echo "== docker:  client $(docker version --format '{{.Client.Version}}' 2>/dev/null), daemon $docker_version, cgroup v$(docker info --format '{{.CgroupVersion}}' 2>/dev/null)"
echo "== tactus:  $TACTUS (sha1 $(sha1sum "$TACTUS" | cut -c1-12)), runtime sha256 $(sha256sum "$RUNTIME" | cut -c1-12)"
echo "== git:     $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

field() { awk -F, -v n="$1" -v c="$2" 'NR > 1 && $1 == n { print $c }' "$3"; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
table() { # csv
  printf '   %-52s %9s %9s %9s %9s %9s\n' command median mean stddev min max
  awk -F, 'NR > 1 { printf "   %-52s %7.1fms %7.1fms %7.1fms %7.1fms %7.1fms\n", $1, $4*1000, $2*1000, $3*1000, $7*1000, $8*1000 }' "$1"
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
  print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -n | tail -1; }

# ---- 3. wall time ---------------------------------------------------------------------------
A='docker run --rm --network none hello'
B='tactus run hello.tac (sandboxed)'
csv=$results/sandbox.csv
echo
echo "== hyperfine: --warmup $WARMUP --runs $RUNS (no shell: -N)"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
  --export-json "$results/sandbox.json" --export-csv "$csv" \
  -n "$A" "$DOCKER run --rm --network none $HELLO_IMAGE" \
  -n "$B" "$TACTUS run hello.tac"
echo
table "$csv"
med_a=$(field "$A" 4 "$csv")
med_b=$(field "$B" 4 "$csv")
ratio=$(awk -v a="$med_a" -v b="$med_b" 'BEGIN { printf "%.2f", b / a }')
ratio_min=$(awk -v a="$(field "$A" 7 "$csv")" -v b="$(field "$B" 7 "$csv")" 'BEGIN { printf "%.2f", b / a }')
echo "   ratio (b)/(a): medians $ratio, minimums $ratio_min"

# Hand-interleaved cross-check: a, b, a, b... (both started by bash: same fork/exec cost).
echo
echo "== interleaved cross-check: $RUNS pairs (a then b), timed with \$EPOCHREALTIME"
: >"$results/interleaved-a.txt"
: >"$results/interleaved-b.txt"
for i in $(seq "$RUNS"); do
  t0=$EPOCHREALTIME; "$DOCKER" run --rm --network none "$HELLO_IMAGE" >/dev/null; t1=$EPOCHREALTIME
  "$TACTUS" run hello.tac >/dev/null 2>&1; t2=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$results/interleaved-a.txt"
  awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }' >>"$results/interleaved-b.txt"
done
il_a=$(median <"$results/interleaved-a.txt")
il_b=$(median <"$results/interleaved-b.txt")
il_ratio=$(awk -v a="$il_a" -v b="$il_b" 'BEGIN { printf "%.2f", b / a }')
echo "   (a) median $(ms "$il_a") ms, (b) median $(ms "$il_b") ms, ratio $il_ratio"

# ---- 4. peak memory of the container --------------------------------------------------------
echo
echo "== container peak memory: $MEM_RUNS sandboxed runs, and $MEM_RUNS hello containers for reference"
if [ -d /sys/fs/cgroup/memory/docker ]; then
  cg_dir=/sys/fs/cgroup/memory/docker cg_pre="" cg_post="" cg_file=memory.max_usage_in_bytes
  mem_what="cgroup v1 memory.max_usage_in_bytes"
elif [ -d /sys/fs/cgroup/system.slice ]; then
  cg_dir=/sys/fs/cgroup/system.slice cg_pre="docker-" cg_post=".scope" cg_file=memory.peak
  mem_what="cgroup v2 memory.peak"
else
  die "no Docker memory cgroup under /sys/fs/cgroup"
fi
mkfifo "$work/never"
stopfile=$work/poll.stop
# The poller: every ~2 ms (read -t on a fifo nobody writes to: a sleep without a fork), the
# max-usage value of every container's memory cgroup, and the container's name (read once,
# from the daemon's config.v2.json, while the container exists). The value only grows, and
# the cgroup outlives the process by tens of ms (until docker removes the container), so
# the last value read is the peak.
(
  set +e # a container vanishing mid-read is normal here
  exec 3<>"$work/never" 2>>"$results/poller.log"
  declare -A peak name
  while [ ! -e "$stopfile" ]; do
    for d in "$cg_dir/$cg_pre"*"$cg_post"/; do
      [ -d "$d" ] || continue
      id=${d%/}; id=${id##*/}; id=${id#"$cg_pre"}; id=${id%"$cg_post"}
      { v=$(<"$d/$cg_file"); } 2>/dev/null || continue
      [ -n "$v" ] || continue
      peak[$id]=$v
      if [ -z "${name[$id]:-}" ]; then
        { c=$(<"/var/lib/docker/containers/$id/config.v2.json"); } 2>/dev/null || c=""
        [[ $c =~ \"Name\":\"/?([^\"]*)\" ]] && name[$id]=${BASH_REMATCH[1]}
      fi
    done
    read -r -t 0.002 -u 3 _ || true
  done
  for id in "${!peak[@]}"; do echo "${name[$id]:-?} $id ${peak[$id]}"; done >"$work/peaks.txt"
) 2>>"$results/poller.log" &
poller=$!
sleep 0.3
: >"$work/names-tactus.txt"
: >"$work/names-hello.txt"
for i in $(seq "$MEM_RUNS"); do
  "$TACTUS" run hello.tac >/dev/null 2>"$work/err.txt" || die "sandboxed run $i failed"
  rid=$(grep -o '(run run-[0-9a-f]*)' "$work/err.txt" | tr -d '()' | awk '{ print $2 }')
  [ -n "$rid" ] || die "no run id in tactus's output"
  echo "tactus-$rid" >>"$work/names-tactus.txt"
  hn="tactus-bench-hello-$$-$i"
  "$DOCKER" run --rm --network none --name "$hn" "$HELLO_IMAGE" >/dev/null
  echo "$hn" >>"$work/names-hello.txt"
done
sleep 0.3
touch "$stopfile"
wait "$poller" || echo "   (the poller exited with status $?; see $results/poller.log)"
poller=""
[ -f "$work/peaks.txt" ] || die "the memory poller wrote nothing (see $results/poller.log)"
cp "$work/peaks.txt" "$results/mem-peaks.txt"
kb_of() { awk 'NR == FNR { want[$1] = 1; next } ($1 in want) { print int($3 / 1024) }' "$1" "$work/peaks.txt"; }
kb_of "$work/names-tactus.txt" >"$results/mem-tactus-kb.txt"
kb_of "$work/names-hello.txt" >"$results/mem-hello-kb.txt"
n_t=$(wc -l <"$results/mem-tactus-kb.txt")
n_h=$(wc -l <"$results/mem-hello-kb.txt")
[ "$n_t" -ge 1 ] || die "the poller saw none of the sandboxed containers"
mem_t_med=$(median <"$results/mem-tactus-kb.txt"); mem_t_max=$(maxof <"$results/mem-tactus-kb.txt")
mem_h_med=$(median <"$results/mem-hello-kb.txt"); mem_h_max=$(maxof <"$results/mem-hello-kb.txt")
mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
echo "   ($mem_what; seen: $n_t of $MEM_RUNS sandboxed containers, $n_h of $MEM_RUNS hello containers)"
printf '   %-40s median %6s MiB  max %6s MiB\n' \
  "tactus run hello.tac (sandboxed)" "$(mib "$mem_t_med")" "$(mib "$mem_t_max")" \
  "docker run hello (reference)" "$(mib "$mem_h_med")" "$(mib "$mem_h_max")"

# ---- 5. diagnosis ---------------------------------------------------------------------------
if [ "$DIAG" = 1 ]; then
  echo
  echo "== diagnosis: the docker commands tactus starts, $DIAG_RUNS runs (logging shim first on PATH)"
  shim=$work/shim
  mkdir -p "$shim/log" "$shim/noinfo" "$shim/noboth"
  # The image tactus itself uses (configuration may rename it).
  sandbox_image=$("$TACTUS" sandbox status --json 2>/dev/null | grep -o '"image":"[^"]*"' | sed 's/.*:"//; s/"$//' || true)
  [ -n "$sandbox_image" ] || sandbox_image=$(docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -m1 '^tactus-sandbox:' || true)
  label=$(docker image inspect --format '{{index .Config.Labels "tactus.runtime_sha256"}}' "$sandbox_image" 2>/dev/null || true)
  [ -n "$label" ] || die "cannot read the sandbox image's runtime label"
  cat >"$shim/shim.c" <<SHIM
/* A stand-in for docker (benchmark only). LOG: runs the real docker as a child and logs
 * "start end argv[1]" (CLOCK_REALTIME, seconds). ANSWER_INFO / ANSWER_INSPECT: answers
 * 'docker info' / 'docker image inspect' at once with what the daemon answered when the
 * benchmark started; everything else execs the real docker (no extra process). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv)
{
    (void)argc;
    (void)now;
#ifdef ANSWER_INFO
    if (argv[1] && strcmp(argv[1], "info") == 0) { puts("$docker_version"); return 0; }
#endif
#ifdef ANSWER_INSPECT
    if (argv[1] && argv[2] && strcmp(argv[1], "image") == 0 && strcmp(argv[2], "inspect") == 0) { puts("$label"); return 0; }
#endif
#ifdef LOG
    double t0 = now();
    pid_t p = fork();
    if (p == 0) { execv("$DOCKER", argv); _exit(127); }
    int st = 0;
    waitpid(p, &st, 0);
    double t1 = now();
    FILE *f = fopen("$work/docker-log.txt", "a");
    if (f) { fprintf(f, "%.6f %.6f %s\n", t0, t1, argv[1] ? argv[1] : "-"); fclose(f); }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
#else
    execv("$DOCKER", argv);
    return 127;
#endif
}
SHIM
  { gcc -O2 -DLOG -o "$shim/log/docker" "$shim/shim.c" &&
    gcc -O2 -DANSWER_INFO -o "$shim/noinfo/docker" "$shim/shim.c" &&
    gcc -O2 -DANSWER_INFO -DANSWER_INSPECT -o "$shim/noboth/docker" "$shim/shim.c"; } || die "cannot build the docker shims"
  : >"$work/docker-log.txt"
  for i in $(seq "$DIAG_RUNS"); do
    t0=$EPOCHREALTIME
    PATH=$shim/log:$PATH "$TACTUS" run hello.tac >/dev/null 2>&1 || die "run $i with the logging shim failed"
    t1=$EPOCHREALTIME
    echo "$t0 $t1 TOTAL" >>"$work/docker-log.txt"
  done
  cp "$work/docker-log.txt" "$results/docker-log.txt"
  # One line per run: the phases in ms.
  # A docker command tactus did not run (it asks the daemon's socket
  # directly when it can) counts as taking no time, where it would be.
  awk '$3 == "info" { i0 = $1; i1 = $2 } $3 == "image" { m0 = $1; m1 = $2 } $3 == "run" { r0 = $1; r1 = $2 }
       $3 == "TOTAL" { if (!r0) r0 = r1 = $2
                       if (!m0) m0 = m1 = r0
                       if (!i0) i0 = i1 = m0
                       printf "%.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", ($2-$1)*1e3, (i0-$1)*1e3, (i1-i0)*1e3, (m0-i1)*1e3,
                       (m1-m0)*1e3, (r0-m1)*1e3, (r1-r0)*1e3, ($2-r1)*1e3
                       i0 = i1 = m0 = m1 = r0 = r1 = 0 }' "$work/docker-log.txt" >"$results/phases.txt"
  col() { awk -v c="$1" '{ print $c }' "$results/phases.txt" | median; }
  printf '   %-66s %8s\n' "phase (median over $DIAG_RUNS runs)" "ms"
  printf '   %-66s %8.1f\n' \
    "whole tactus run" "$(col 1)" \
    "tactus start, parse, journal, until 'docker info' starts" "$(col 2)" \
    "docker info (skipped when the daemon's socket answers /_ping)" "$(col 3)" \
    "between (sha256 of tactus-runtime, ...)" "$(col 4)" \
    "docker image inspect (skipped when the socket answers)" "$(col 5)" \
    "between (broker, fork, closing fds, ...)" "$(col 6)" \
    "docker run ... tactus-sandbox (until the docker client exits)" "$(col 7)" \
    "after docker run exits, until tactus exits" "$(col 8)"

  echo
  echo "== projection: 'docker info' / 'docker image inspect' answered at once by a shim"
  echo "   ($RUNS rounds, hand-interleaved in rotating order, timed with \$EPOCHREALTIME: a shared"
  echo "   machine drifts too much for back-to-back sessions to compare 4 commands)"
  B1="$B without docker info"
  B2="$B without docker info and image inspect"
  names=("$A" "$B" "$B1" "$B2")
  paths=("" "$PATH" "$shim/noinfo:$PATH" "$shim/noboth:$PATH")
  for k in 0 1 2 3; do : >"$results/projection-$k.txt"; done
  for r in $(seq "$RUNS"); do
    for o in 0 1 2 3; do
      k=$(( (r + o) % 4 ))
      t0=$EPOCHREALTIME
      if [ "$k" = 0 ]; then
        "$DOCKER" run --rm --network none "$HELLO_IMAGE" >/dev/null
      else
        PATH=${paths[$k]} "$TACTUS" run hello.tac >/dev/null 2>&1 || die "projection run failed (${names[$k]})"
      fi
      t1=$EPOCHREALTIME
      awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$results/projection-$k.txt"
    done
  done
  pa=$(median <"$results/projection-0.txt")
  printf '   %-66s %9s %7s\n' command median ratio
  for k in 0 1 2 3; do
    m=$(median <"$results/projection-$k.txt")
    printf '   %-66s %7.1fms %7.2f\n' "${names[$k]}" "$(awk -v s="$m" 'BEGIN { print s * 1000 }')" \
      "$(awk -v a="$pa" -v b="$m" 'BEGIN { print b / a }')"
  done
fi

# ---- verdict --------------------------------------------------------------------------------
fail=0
verdict() { # label ok
  if [ "$2" = 1 ]; then echo "   [PASS] $1"; else echo "   [FAIL] $1"; fail=1; fi
}
echo
echo "   (a) docker run hello: median $(ms "$med_a") ms; (b) tactus run (sandboxed): median $(ms "$med_b") ms"
echo "   targets:"
verdict "(b)/(a) = $ratio (target <= $TARGET_RATIO; interleaved cross-check: $il_ratio)" \
  "$(awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { print (r <= t) ? 1 : 0 }')"
verdict "container peak memory during (b): median $(mib "$mem_t_med") MiB, max $(mib "$mem_t_max") MiB (target <= $(mib "$TARGET_MEM_KB") MiB)" \
  "$(awk -v m="$mem_t_max" -v t="$TARGET_MEM_KB" 'BEGIN { print (m <= t) ? 1 : 0 }')"
echo
echo "   results: $results"
echo "   total script time: $(( $(date +%s) - started )) s"
exit "$fail"
