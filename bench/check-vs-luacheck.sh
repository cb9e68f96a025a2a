#!/usr/bin/env bash
# check-vs-luacheck.sh - time `tactus check` against luacheck on one corpus.
#
# usage: bash bench/check-vs-luacheck.sh [--reuse] [CORPUS_DIR]
#
#   CORPUS_DIR  where the corpus is generated (default: a temporary folder,
#               removed at exit). Generation is deterministic, so an existing
#               folder is simply rewritten.
#   --reuse     time CORPUS_DIR as it is, without generating anything.
#
# Environment (all optional):
#   TACTUS=path        tactus binary (default: build/tactus; built if missing)
#   FILES=1000         files to generate          SEED=20240601  generator seed
#   WARMUP=1 RUNS=10   hyperfine warm-up and timed runs per command (about 2.5 min)
#   TARGET_SECONDS=1.0 tactus check (default threads) must have a median <= this
#   TARGET_RATIO=10    luacheck median / tactus median, like with like, must be >= this
#   RESULTS_DIR=dir    where hyperfine's JSON and CSV go (default: a new /tmp folder, kept)
#
# What it does, in one hyperfine session (every command on the same files):
#   1. tactus check DIR            default threads (one per core, at most 16)
#   2. tactus check -j 1 DIR       one thread
#   3. luacheck ... DIR            one job (luacheck's default)
#   4. luacheck on as many cores   `-j N` when LuaLanes is installed; otherwise
#      as tactus's default         N luacheck processes over N slices of the file
#                                  list (xargs -P N), since luacheck silently
#                                  ignores -j without LuaLanes (N = 2 here)
# It prints the medians and the ratios luacheck / tactus, and exits 1 if a
# target is missed, 2 if the setup is broken (bad corpus, missing tool).

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TACTUS=${TACTUS:-$ROOT/build/tactus}
FILES=${FILES:-1000}
SEED=${SEED:-20240601}
WARMUP=${WARMUP:-1}
RUNS=${RUNS:-10}
TARGET_SECONDS=${TARGET_SECONDS:-1.0}
TARGET_RATIO=${TARGET_RATIO:-10}

# The DSL's globals, declared to luacheck so that it reports nothing on a
# valid corpus (top-level tools and agents are allowed by --allow-defined-top).
DSL_GLOBALS="Procedure Agent Tool Toolset Model Classify Mocks Specifications Specification Step
Evaluation Evaluations field State state Stage Stages Log Iterations Stop Human File Json Host Retry
input output"
DSL_GLOBALS=$(echo $DSL_GLOBALS) # one line

die() { echo "check-vs-luacheck: $*" >&2; exit 2; }

reuse=0
corpus=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reuse) reuse=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$corpus" ] || die "only one CORPUS_DIR"; corpus=$1 ;;
  esac
  shift
done

for tool in hyperfine luacheck lua5.4 find xargs awk; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed"
done
if [ ! -x "$TACTUS" ]; then
  echo "== $TACTUS missing; building it"
  cmake --build "$ROOT/build" >/dev/null || die "cannot build $TACTUS"
fi

started=$(date +%s)
results=${RESULTS_DIR:-$(mktemp -d /tmp/tactus-bench.XXXXXX)}
mkdir -p "$results"
json="$results/check-vs-luacheck.json"
csv="$results/check-vs-luacheck.csv"

cleanup_dir=""
if [ -z "$corpus" ]; then
  [ "$reuse" = 0 ] || die "--reuse needs a CORPUS_DIR"
  corpus=$(mktemp -d /tmp/tactus-corpus.XXXXXX)
  cleanup_dir=$corpus
fi
trap '[ -z "$cleanup_dir" ] || rm -rf "$cleanup_dir"' EXIT
case "$corpus$TACTUS" in *[\'\"\ \[\]\*\?]*) die "paths with quotes, spaces or glob characters are not supported" ;; esac
mkdir -p "$corpus"
corpus=$(cd "$corpus" && pwd) # absolute: luacheck's --include-files glob needs it
case "$corpus" in *[\'\"\ \[\]\*\?]*) die "the corpus path $corpus has quotes, spaces or glob characters" ;; esac

# ---- corpus -------------------------------------------------------------------------------
if [ "$reuse" = 0 ]; then
  echo "== generating the corpus"
  lua5.4 "$HERE/gen-corpus.lua" "$corpus" "$FILES" "$SEED"
fi
n_files=$(find "$corpus" -type f -name '*.tac' | wc -l)
[ "$n_files" -gt 0 ] || die "no .tac files in $corpus"
n_lines=$(find "$corpus" -type f -name '*.tac' -exec cat {} + | wc -l)
n_bytes=$(find "$corpus" -type f -name '*.tac' -exec cat {} + | wc -c)

# ---- the corpus must be clean for every tool, or the timings compare different work -------
echo "== verifying the corpus"
# Every file must load in Lua 5.4 (loadfile = luac -p; one process, since
# luac5.4 -p with hundreds of files at once crashes in Debian's build).
find "$corpus" -type f -name '*.tac' -print0 | xargs -0 lua5.4 -e '
  for i = 1, #arg do
    local ok, err = loadfile(arg[i])
    if not ok then io.stderr:write(err, "\n"); os.exit(1) end
  end' /dev/null || die "some files do not load in Lua 5.4"
set +e
check_out=$("$TACTUS" check "$corpus" 2>&1)
check_rc=$?
set -e
if [ "$check_rc" != 0 ] || [ -n "$check_out" ]; then
  echo "$check_out" | head -20 >&2
  die "tactus check is not silent on the corpus (exit $check_rc); fix the generator first"
fi

LC_FLAGS="--no-config --no-cache --codes --std lua54 --allow-defined-top --globals $DSL_GLOBALS"
# The same command as timed below, with only the summary line printed: it
# proves the --include-files glob finds every file and that luacheck is clean.
set +e
lc_summary=$(luacheck $LC_FLAGS -qqq --no-color --include-files "$corpus/**/*.tac" -- "$corpus" 2>&1)
set -e
read -r lc_warn lc_err lc_checked < <(echo "$lc_summary" | awk '
  /^Total:/ { w += $2; e += $5; f += $8 } END { print w + 0, e + 0, f + 0 }')
if [ "$lc_checked" != "$n_files" ]; then
  echo "$lc_summary" >&2
  die "luacheck checked $lc_checked files, expected $n_files"
fi
ignore_failure=()
if [ "$lc_warn" != 0 ] || [ "$lc_err" != 0 ]; then
  # luacheck then exits non-zero, which hyperfine treats as a failed run.
  echo "   note: luacheck reports $lc_warn warnings / $lc_err errors on this corpus;" \
    "timing anyway (hyperfine -i), and luacheck also formats that output"
  ignore_failure=(-i)
fi

if luacheck --version | grep -q 'LuaLanes: Not found'; then
  lanes=0
else
  lanes=1
fi

# ---- timing ---------------------------------------------------------------------------------
cores=$(nproc)
threads=$(( cores < 16 ? cores : 16 )) # tactus check's default -j
per_proc=$(( (n_files + threads - 1) / threads ))
name_def="tactus check (default: $threads threads)"
name_j1="tactus check -j 1"
name_lc1="luacheck (1 job)"
cmd_def="'$TACTUS' check '$corpus'"
cmd_j1="'$TACTUS' check -j 1 '$corpus'"
cmd_lc1="luacheck $LC_FLAGS --formatter plain --include-files '$corpus/**/*.tac' -- '$corpus'"
if [ "$lanes" = 1 ]; then
  name_lc2="luacheck -j $threads"
  cmd_lc2="luacheck $LC_FLAGS -j $threads --formatter plain --include-files '$corpus/**/*.tac' -- '$corpus'"
else
  # Same files, split into $threads lists of about equal length, one luacheck each.
  name_lc2="luacheck ($threads processes: xargs -P $threads)"
  cmd_lc2="find '$corpus' -type f -name '*.tac' | xargs -P $threads -n $per_proc luacheck $LC_FLAGS --formatter plain --"
fi

echo "== corpus: $n_files files, $n_lines lines, $n_bytes bytes ($corpus)"
echo "== machine: $cores cores; tactus default = $threads threads; LuaLanes: $([ $lanes = 1 ] && echo yes || echo 'no (luacheck -j is ignored)')"
echo "== hyperfine --warmup $WARMUP --runs $RUNS (4 commands)"
hyperfine --warmup "$WARMUP" --runs "$RUNS" --style basic ${ignore_failure[@]+"${ignore_failure[@]}"} \
  --export-json "$json" --export-csv "$csv" \
  -n "$name_def" "$cmd_def" \
  -n "$name_j1" "$cmd_j1" \
  -n "$name_lc1" "$cmd_lc1" \
  -n "$name_lc2" "$cmd_lc2"

# ---- report ---------------------------------------------------------------------------------
# CSV columns: command,mean,stddev,median,user,system,min,max (names contain no commas).
field() { awk -F, -v n="$1" -v c="$2" 'NR > 1 && $1 == n { print $c }' "$csv"; }
med_def=$(field "$name_def" 4); med_j1=$(field "$name_j1" 4)
med_lc1=$(field "$name_lc1" 4); med_lc2=$(field "$name_lc2" 4)

echo
echo "== results ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $cores cores)"
printf '   corpus: %d files, %d lines, %d bytes\n' "$n_files" "$n_lines" "$n_bytes"
printf '   %-38s %9s %9s %9s %9s %9s\n' command median mean stddev min max
for n in "$name_def" "$name_j1" "$name_lc1" "$name_lc2"; do
  awk -F, -v n="$n" 'NR > 1 && $1 == n {
    printf "   %-38s %8.3fs %8.3fs %8.3fs %8.3fs %8.3fs\n", n, $4, $2, $3, $7, $8 }' "$csv"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
r_1core=$(ratio "$med_lc1" "$med_j1")
r_2core=$(ratio "$med_lc2" "$med_def")
r_box=$(ratio "$med_lc1" "$med_def")
echo
echo "   ratios, luacheck median / tactus median:"
printf '     1 core,  like with like:  %-34s / %-24s = %5sx\n' "$name_lc1" "$name_j1" "$r_1core"
printf '     %d cores, like with like:  %-34s / %-24s = %5sx\n' "$cores" "$name_lc2" "tactus check (default)" "$r_2core"
printf '     out of the box:           %-34s / %-24s = %5sx\n' "$name_lc1" "tactus check (default)" "$r_box"
awk -v l="$n_lines" -v n="$n_files" -v d="$med_def" -v j="$med_j1" -v c="$med_lc1" 'BEGIN {
  printf "   throughput (median): tactus %.0f lines/s (default), %.0f lines/s (-j 1); luacheck %.0f lines/s (1 job)\n",
    l / d, l / j, l / c
  printf "   per file: tactus -j 1 %.2f ms, luacheck (1 job) %.2f ms\n", j * 1000 / n, c * 1000 / n }'

fail=0
verdict() { # label ok
  if [ "$2" = 1 ]; then echo "   [PASS] $1"; else echo "   [FAIL] $1"; fail=1; fi
}
echo
echo "   targets:"
verdict "tactus check (default threads) median = $(printf '%.3f' "$med_def") s (target <= $TARGET_SECONDS s)" \
  "$(awk -v m="$med_def" -v t="$TARGET_SECONDS" 'BEGIN { print (m <= t) ? 1 : 0 }')"
verdict "1 core:  luacheck (1 job) / tactus check -j 1 = ${r_1core}x (target >= ${TARGET_RATIO}x)" \
  "$(awk -v r="$r_1core" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? 1 : 0 }')"
verdict "$threads cores: $name_lc2 / tactus check (default) = ${r_2core}x (target >= ${TARGET_RATIO}x)" \
  "$(awk -v r="$r_2core" -v t="$TARGET_RATIO" 'BEGIN { print (r >= t) ? 1 : 0 }')"
echo
echo "   hyperfine JSON: $json"
echo "   total script time: $(( $(date +%s) - started )) s"
exit "$fail"
