#!/usr/bin/env bash
# run.sh - start-up cost and memory of `tactus run --no-sandbox` on a hello-world procedure.
#
# usage: bash bench/run/run.sh [--help]
#
# Environment (all optional):
#   TACTUS=path          tactus binary (default: build/tactus; built if missing)
#   RUNTIME=path         tactus-runtime binary (default: the one beside TACTUS)
#   WARMUP=5 RUNS=40     hyperfine warm-up and timed runs per command
#   RSS_RUNS=25          runs for the peak-memory measurement (>= 20)
#   TARGET_MS=10         median wall time of `tactus run --no-sandbox hello.tac` must be <= this
#   TARGET_RSS_KB=10240  tactus-runtime peak RSS (median and max) must be <= this (10 MiB)
#   DIAG=1               0 skips the diagnosis session (where the time goes)
#   RESULTS_DIR=dir      where hyperfine's JSON/CSV and the RSS samples go (default: a new
#                        /tmp folder, kept and printed at the end)
#
# What it does:
#   1. writes hello.tac into a fresh temporary folder; the journal of durable runs is
#      redirected there too (TACTUS_STORE), so the benchmark never writes into
#      ~/.local/share/tactus and every session starts from an empty journal;
#   2. checks that the run prints the greeting and `tactus check` is silent;
#   3. ONE hyperfine session (-N: no intermediate shell; hyperfine 1.15 cannot interleave,
#      it runs each command's runs back to back):
#        (a) tactus run --no-sandbox hello.tac       <- the gated number
#        (b) tactus check hello.tac                  reference: parse + check, no runtime
#        (c) /bin/true                               the process-spawn floor
#   4. peak RSS of tactus-runtime over RSS_RUNS runs: TACTUS_RUNTIME points at a
#      wrapper that runs the real runtime under `/usr/bin/time -f %M` (absolute paths:
#      the runtime gets an empty environment); plus the host's ru_maxrss, for
#      information (it covers the host and its children; the runtime is far smaller);
#   5. (DIAG=1) a second hyperfine session that splits the time: the host's own start-up
#      (`tactus --version`), the runtime alone fed a recorded start frame, the journal's
#      fsyncs (store on tmpfs vs on disk), and, when gcc is
#      present, the dynamic-linking cost of tactus's libraries (and of libcurl, if tactus
#      links it again: since 4dbfa39 it is loaded at the first model call), plus a histogram
#      of (a)'s run times (with jq), which shows the 5 ms steps of the host's exit wait.
# Exit: 0 all targets met, 1 a target missed, 2 broken setup.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TACTUS=${TACTUS:-$ROOT/build/tactus}
WARMUP=${WARMUP:-5}
RUNS=${RUNS:-40}
RSS_RUNS=${RSS_RUNS:-25}
TARGET_MS=${TARGET_MS:-10}
TARGET_RSS_KB=${TARGET_RSS_KB:-10240}
DIAG=${DIAG:-1}

die() { echo "run.sh: $*" >&2; exit 2; }
case "${1:-}" in
  -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
  "") ;;
  *) die "unknown argument $1 (see --help)" ;;
esac

for tool in hyperfine awk sort; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed"
done
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is not installed"
if [ ! -x "$TACTUS" ]; then
  echo "== $TACTUS missing; building it"
  cmake --build "$ROOT/build" >/dev/null || die "cannot build $TACTUS"
fi
TACTUS=$(cd "$(dirname "$TACTUS")" && pwd)/$(basename "$TACTUS")
RUNTIME=${RUNTIME:-$(dirname "$TACTUS")/tactus-runtime}
[ -x "$RUNTIME" ] || die "tactus-runtime not found at $RUNTIME"
case "$TACTUS$RUNTIME" in *[\'\"\ ]*) die "paths with quotes or spaces are not supported" ;; esac

started=$(date +%s)
results=${RESULTS_DIR:-$(mktemp -d /tmp/tactus-bench-run-results.XXXXXX)}
mkdir -p "$results"
work=$(mktemp -d /tmp/tactus-bench-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TACTUS_STORE=$work/journal.db

cat >"$work/hello.tac" <<'EOF'
Procedure { output = { greeting = field.string{} }, function() return {greeting = "Hello, world!"} end }
EOF
cd "$work"

# ---- the inputs must do the real thing ------------------------------------------------------
out=$("$TACTUS" run --no-sandbox hello.tac 2>"$work/err.txt") || {
  cat "$work/err.txt" >&2; die "tactus run --no-sandbox hello.tac failed"; }
case "$out" in *'"greeting": "Hello, world!"'*) ;; *) die "unexpected output: $out" ;; esac
chk=$("$TACTUS" check hello.tac 2>&1) || die "tactus check hello.tac failed: $chk"
[ -z "$chk" ] || die "tactus check hello.tac is not silent: $chk"

echo "== machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r)"
echo "== tactus:  $TACTUS (sha1 $(sha1sum "$TACTUS" | cut -c1-12)), runtime sha1 $(sha1sum "$RUNTIME" | cut -c1-12)"
echo "== git:     $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
echo "== RLIMIT_NOFILE (soft) seen by tactus: $(ulimit -n)"
echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC')"

# ---- 1. wall time ---------------------------------------------------------------------------
csv=$results/run.csv
json=$results/run.json
echo
echo "== hyperfine: --warmup $WARMUP --runs $RUNS (no shell: -N)"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
  --export-json "$json" --export-csv "$csv" \
  -n 'tactus run --no-sandbox hello.tac' "$TACTUS run --no-sandbox hello.tac" \
  -n 'tactus check hello.tac' "$TACTUS check hello.tac" \
  -n '/bin/true' "/bin/true"

field() { awk -F, -v n="$1" -v c="$2" 'NR > 1 && $1 == n { print $c }' "$3"; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
table() { # csv
  printf '   %-58s %9s %9s %9s %9s %9s\n' command median mean stddev min max
  awk -F, 'NR > 1 { printf "   %-58s %7.2fms %7.2fms %7.2fms %7.2fms %7.2fms\n", $1, $4*1000, $2*1000, $3*1000, $7*1000, $8*1000 }' "$1"
}
echo
table "$csv"
med_run=$(field 'tactus run --no-sandbox hello.tac' 4 "$csv")
if command -v jq >/dev/null 2>&1; then
  # The host polls for the runtime's exit in 5 ms sleeps: the times come in two groups.
  echo "   (a) run times in 1 ms bins (ms:count): $(jq -r '.results[0].times[] * 1000 | floor' "$json" |
    sort -n | uniq -c | awk '{ printf "%s%d:%d", (NR > 1 ? " " : ""), $2, $1 }')"
fi
med_check=$(field 'tactus check hello.tac' 4 "$csv")
med_true=$(field '/bin/true' 4 "$csv")

# ---- 2. peak RSS ----------------------------------------------------------------------------
mkdir -p "$results/rss"
rm -f "$results"/rss/rt.* "$results"/rss/host.*
wrap=$work/runtime-rss.sh
cat >"$wrap" <<EOF
#!/bin/sh
# The runtime gets an empty environment: absolute paths only.
exec /usr/bin/time -f %M -o $results/rss/rt.\$\$ $RUNTIME "\$@"
EOF
chmod +x "$wrap"
echo
echo "== peak RSS over $RSS_RUNS runs (tactus-runtime under /usr/bin/time -f %M via TACTUS_RUNTIME)"
for i in $(seq "$RSS_RUNS"); do
  o=$(TACTUS_RUNTIME=$wrap /usr/bin/time -f %M -o "$results/rss/host.$i" \
      "$TACTUS" run --no-sandbox hello.tac 2>/dev/null) || die "run $i under the RSS wrapper failed"
  case "$o" in *'Hello, world!'*) ;; *) die "run $i under the RSS wrapper: unexpected output" ;; esac
done
n_rt=$(cat "$results"/rss/rt.* 2>/dev/null | wc -l)
[ "$n_rt" = "$RSS_RUNS" ] || die "expected $RSS_RUNS runtime samples, got $n_rt"
stats() { # files... -> "median max min" in kB
  cat "$@" | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%d %d %d\n", m, v[NR], v[1] }'
}
read -r rt_med rt_max rt_min < <(stats "$results"/rss/rt.*)
read -r host_med host_max host_min < <(stats "$results"/rss/host.*)
kb2mb() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }
printf '   %-44s median %6s MiB  max %6s MiB  min %6s MiB\n' \
  "tactus-runtime peak RSS (ru_maxrss)" "$(kb2mb "$rt_med")" "$(kb2mb "$rt_max")" "$(kb2mb "$rt_min")" \
  "tactus host peak RSS (ru_maxrss, info only)" "$(kb2mb "$host_med")" "$(kb2mb "$host_max")" "$(kb2mb "$host_min")"

# ---- 3. diagnosis ---------------------------------------------------------------------------
if [ "$DIAG" = 1 ]; then
  echo
  echo "== diagnosis: where the time of (a) goes"
  # The runtime alone: record the start frame the host sends (tee in front of the runtime),
  # then replay it. The runtime answers run.finish and exits without needing a reply.
  tee_wrap=$work/runtime-tee.sh
  cat >"$tee_wrap" <<EOF
#!/bin/sh
/usr/bin/tee $work/frame.bin | $RUNTIME
EOF
  chmod +x "$tee_wrap"
  TACTUS_RUNTIME=$tee_wrap "$TACTUS" run --no-sandbox hello.tac >/dev/null 2>&1 || die "recording the start frame failed"
  "$RUNTIME" <"$work/frame.bin" | grep -q '"status":"completed"' || die "the runtime does not complete the recorded frame"
  diag_cmds=(
    -n 'D1 tactus --version (host start-up: exec + dynamic linking)' "$TACTUS --version"
    -n 'D2 sh: tactus-runtime < start frame' "sh -c 'exec $RUNTIME < $work/frame.bin'"
    -n 'D3 sh: /bin/true < start frame (floor of D2)' "sh -c 'exec /bin/true < $work/frame.bin'"
    -n 'D4 env: journal on disk (/tmp)' "env TACTUS_STORE=$work/journal.db $TACTUS run --no-sandbox hello.tac"
  )
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    shm=$(mktemp -d /dev/shm/tactus-bench-run.XXXXXX)
    trap 'rm -rf "$work" "$shm"' EXIT
    diag_cmds+=(-n 'D5 env: journal on tmpfs (/dev/shm)' "env TACTUS_STORE=$shm/journal.db $TACTUS run --no-sandbox hello.tac")
  fi
  if command -v gcc >/dev/null 2>&1 && command -v ldd >/dev/null 2>&1; then
    # Empty programs that load exactly tactus's direct libraries (and so their whole
    # dependency tree), with and without libcurl: the price of each at every start.
    echo 'int main(void) { return 0; }' >"$work/empty.c"
    mapfile -t libs < <(readelf -d "$TACTUS" | awk -F'[][]' '/NEEDED/ { print $2 }')
    all=() nocurl=()
    for l in "${libs[@]}"; do
      p=$(ldd "$TACTUS" | awk -v l="$l" '$1 == l { print $3 }')
      [ -n "$p" ] || continue
      all+=("$p")
      case "$l" in libcurl*) ;; *) nocurl+=("$p") ;; esac
    done
    if gcc -O2 -o "$work/empty-libs" "$work/empty.c" -Wl,--no-as-needed "${all[@]}" 2>/dev/null &&
       gcc -O2 -o "$work/empty" "$work/empty.c" 2>/dev/null; then
      diag_cmds+=(
        -n 'D6 empty program + tactus libraries' "$work/empty-libs"
        -n 'D8 empty program (libc only)' "$work/empty"
      )
      if [ "${#nocurl[@]}" != "${#all[@]}" ] &&
         gcc -O2 -o "$work/empty-nocurl" "$work/empty.c" -Wl,--no-as-needed "${nocurl[@]}" 2>/dev/null; then
        echo "   tactus loads $(ldd "$TACTUS" | wc -l) shared objects; without libcurl: $(ldd "$work/empty-nocurl" | wc -l)"
        diag_cmds+=(-n 'D7 empty program + tactus libraries - libcurl' "$work/empty-nocurl")
      else
        echo "   tactus loads $(ldd "$TACTUS" | wc -l) shared objects (libcurl is not among them)"
      fi
    fi
  fi
  dcsv=$results/diag.csv
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-csv "$dcsv" \
    --export-json "$results/diag.json" "${diag_cmds[@]}" >/dev/null 2>&1 || die "the diagnosis session failed"
  table "$dcsv"
  # Differences of medians, and of minimums (the min is the better estimate of the
  # undisturbed cost on a shared machine; `tactus run` is also bimodal, see RESULTS.md).
  diff_line() { # label nameA nameB
    awk -F, -v l="$1" -v a="$2" -v b="$3" 'NR > 1 && $1 == a { ma = $4; na = $7 } NR > 1 && $1 == b { mb = $4; nb = $7 }
      END { printf "   %-52s %+7.2f ms (min: %+7.2f ms)\n", l, (ma - mb) * 1000, (na - nb) * 1000 }' "$dcsv" "$csv"
  }
  echo
  diff_line 'host start-up above /bin/true (D1 - c)' 'D1 tactus --version (host start-up: exec + dynamic linking)' '/bin/true'
  diff_line 'runtime alone above its floor (D2 - D3)' 'D2 sh: tactus-runtime < start frame' 'D3 sh: /bin/true < start frame (floor of D2)'
  if [ -n "${shm:-}" ]; then
    diff_line 'journal fsyncs on disk (D4 - D5)' 'D4 env: journal on disk (/tmp)' 'D5 env: journal on tmpfs (/dev/shm)'
  fi
  if [ -x "$work/empty-libs" ]; then
    diff_line "loading tactus's libraries (D6 - D8)" 'D6 empty program + tactus libraries' 'D8 empty program (libc only)'
    if [ -x "$work/empty-nocurl" ]; then
      diff_line 'of which libcurl and its dependencies (D6 - D7)' 'D6 empty program + tactus libraries' 'D7 empty program + tactus libraries - libcurl'
    fi
  fi
fi

# ---- verdict --------------------------------------------------------------------------------
fail=0
verdict() { # label ok
  if [ "$2" = 1 ]; then echo "   [PASS] $1"; else echo "   [FAIL] $1"; fail=1; fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }
echo
echo "   (a) tactus run --no-sandbox: median $(ms "$med_run") ms; (b) tactus check: $(ms "$med_check") ms; (c) /bin/true: $(ms "$med_true") ms"
echo "   targets:"
verdict "tactus run --no-sandbox hello.tac median = $(ms "$med_run") ms (target <= $TARGET_MS ms)" \
  "$(le "$(awk -v s="$med_run" 'BEGIN { print s * 1000 }')" "$TARGET_MS")"
verdict "tactus-runtime peak RSS median = $(kb2mb "$rt_med") MiB, max = $(kb2mb "$rt_max") MiB (target <= $(kb2mb "$TARGET_RSS_KB") MiB)" \
  "$(le "$rt_max" "$TARGET_RSS_KB")"
echo
echo "   results: $results"
echo "   total script time: $(( $(date +%s) - started )) s"
exit "$fail"
