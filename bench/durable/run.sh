#!/usr/bin/env bash
# Durable-run benchmarks (see RESULTS.md beside this file):
#   1. journaled effect overhead: the median cost of one effect with durable
#      commits (SQLite WAL + synchronous=FULL: an fsync per effect), as the
#      slope between a procedure doing N host.ping calls and the same doing
#      none; the same on tmpfs (fsync is free there) as the baseline, and
#      the journal's own timestamps as a cross-check.        target <= 2 ms
#   2. resume speed: a run with R recorded host.ping effects, suspended on a
#      Human.approve that is its last effect, answered; `tactus resume` then
#      replays R effects and performs one new one (recording the answer).
#      Timed to that first new effect (its journal timestamp minus the
#      moment the command started), and as a whole.        target <= 100 ms
#
#   bench/durable/run.sh                  RUNS=10 N=500 R=1000
#   RUNS=20 DISK_DIR=/var/tmp bench/durable/run.sh
# Environment: RUNS (repetitions, >= 10), N, R, DISK_DIR (a folder on a real
# disk for the durable store; default $TMPDIR or /tmp, checked not to be
# tmpfs), TMPFS_DIR (default /dev/shm). Needs hyperfine and sqlite3.
# Exit: 0 targets met, 1 a target missed, 2 broken setup.
# shellcheck disable=SC2016,SC2001 # backquotes are Markdown; sed is clearer here
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-10}
N=${N:-500}
R=${R:-1000}
TARGET_EFFECT_MS=2
TARGET_RESUME_MS=100
# shellcheck source=../lib.sh
. bench/lib.sh
bench_need durable hyperfine sqlite3 awk
[ "$RUNS" -ge 10 ] || { echo "bench/durable: RUNS must be >= 10" >&2; exit 2; }

bench_build
tactus=$root/build/tactus

disk=$(mktemp -d "${DISK_DIR:-${TMPDIR:-/tmp}}/tactus-bench-durable.XXXXXX")
tmpfs=$(mktemp -d "${TMPFS_DIR:-/dev/shm}/tactus-bench-durable.XXXXXX")
trap 'rm -rf "$disk" "$tmpfs"' EXIT
fstype() { { findmnt -n -o FSTYPE -T "$1" 2>/dev/null || stat -f -c %T "$1"; } | head -1; }
if [ "$(fstype "$disk")" = tmpfs ]; then
    echo "bench/durable: $disk is on tmpfs; set DISK_DIR to a folder on a disk" >&2
    exit 2
fi
export XDG_CONFIG_HOME=$disk/xdg # no user configuration
# The procedures in a folder of their own: tactus refuses a procedure folder
# that holds its configuration or a store.
proj=$disk/proc
mkdir -p "$proj"
unset TACTUS_STORE TACTUS_TENANT

bench_header
dev=$(df -P "$disk" | awk 'NR == 2 {print $1}')
cache=$(cat "/sys/block/$(basename "$dev")/queue/write_cache" 2>/dev/null || echo '?')
echo "durable store: $disk ($(fstype "$disk") on $dev, write cache: $cache); baseline store: $tmpfs ($(fstype "$tmpfs"))"
bt=$(grep -m1 '^CMAKE_BUILD_TYPE:' build/CMakeCache.txt | cut -d= -f2)
echo "tools: $(hyperfine --version), sqlite3 $(sqlite3 --version | cut -d' ' -f1), ${bt:-RelWithDebInfo} build; RUNS=$RUNS N=$N R=$R"
echo

# median of the numbers on stdin
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# the median (seconds) of a hyperfine CSV export, one command per row
csv_median() { awk -F, -v row="$2" 'NR == row + 1 {print $4}' "$1"; }
ms() { awk -v s="$1" 'BEGIN {printf "%.3f", s * 1000}'; }

cat >"$proj/pings.tac" <<'TAC'
-- N host.ping effects, each journaled before its result reaches the procedure.
Procedure {
  input = {n = field.integer{default = 500}},
  function(input)
    for i = 1, input.n do Host.call("host.ping", {i = i}) end
    return "ok"
  end,
}
TAC
cat >"$proj/replay.tac" <<'TAC'
-- R recorded effects, then a human approval as the last effect.
Procedure {
  input = {n = field.integer{default = 1000}},
  function(input)
    for i = 1, input.n do Host.call("host.ping", {i = i}) end
    local ok = Human.approve({message = "Resume benchmark: go on?"})
    return {approved = ok}
  end,
}
TAC
# Check the inputs before timing anything: a benchmark of an error path is useless.
out=$("$tactus" run --no-sandbox --json --store "$disk/check.db" --input n=3 "$proj/pings.tac")
grep -q '"status":"completed","output":"ok","error":null,"pending":\[\]' <<<"$out" ||
    { echo "bench/durable: the ping procedure does not complete: $out" >&2; exit 2; }

# ---- 1. journaled effect overhead ----------------------------------------------------------
echo "## 1. Journaled effect overhead ($N host.ping effects vs none, $RUNS runs each)"
echo
for where in disk tmpfs; do
    dir=${!where}
    hyperfine -N --style none --warmup 2 --runs "$RUNS" --export-csv "$dir/effects.csv" \
        "$tactus run --no-sandbox --json --store $dir/journal.db --input n=0 $proj/pings.tac" \
        "$tactus run --no-sandbox --json --store $dir/journal.db --input n=$N $proj/pings.tac" >/dev/null
    count=$(sqlite3 "$dir/journal.db" "SELECT count(*) FROM effects")
    want=$(((RUNS + 2) * N))
    [ "$count" -eq "$want" ] || { echo "bench/durable: $count effects journaled in $where, expected $want" >&2; exit 2; }
done
d0=$(csv_median "$disk/effects.csv" 1) dn=$(csv_median "$disk/effects.csv" 2)
t0=$(csv_median "$tmpfs/effects.csv" 1) tn=$(csv_median "$tmpfs/effects.csv" 2)
per_disk=$(awk -v a="$d0" -v b="$dn" -v n="$N" 'BEGIN {printf "%.3f", (b - a) * 1000 / n}')
per_tmpfs=$(awk -v a="$t0" -v b="$tn" -v n="$N" 'BEGIN {printf "%.3f", (b - a) * 1000 / n}')
# Cross-check from the journal: per run, (last effect - first effect) / (N - 1), in ms.
per_ts() {
    sqlite3 "$1" "SELECT (max(created_ms) - min(created_ms)) * 1.0 / (count(*) - 1) FROM effects
                  GROUP BY run_id HAVING count(*) > 1" | median
}
ts_disk=$(per_ts "$disk/journal.db") ts_tmpfs=$(per_ts "$tmpfs/journal.db")
printf '| store | run, 0 effects (median) | run, %d effects (median) | per effect (slope) | per effect (journal timestamps) |\n' "$N"
echo '|---|---:|---:|---:|---:|'
printf '| durable, %s (fsync) | %s ms | %s ms | **%s ms** | %.3f ms |\n' "$(fstype "$disk")" "$(ms "$d0")" "$(ms "$dn")" "$per_disk" "$ts_disk"
printf '| baseline, tmpfs | %s ms | %s ms | %s ms | %.3f ms |\n' "$(ms "$t0")" "$(ms "$tn")" "$per_tmpfs" "$ts_tmpfs"
fsync_cost=$(awk -v a="$per_disk" -v b="$per_tmpfs" 'BEGIN {printf "%.3f", a - b}')
echo
echo "durability (disk - tmpfs): $fsync_cost ms per effect"
if command -v strace >/dev/null; then
    # That the commits are durable: an fsync/fdatasync per effect (strace, if installed).
    strace -f -qq -e trace=fsync,fdatasync -o "$disk/strace.txt" \
        "$tactus" run --no-sandbox --json --store "$disk/strace.db" --input n=100 "$proj/pings.tac" >/dev/null
    echo "syncs for a run of 100 effects (strace): $(grep -c 'sync(' "$disk/strace.txt")"
fi
effect_ok=$(awk -v a="$per_disk" -v t="$TARGET_EFFECT_MS" 'BEGIN {print (a <= t) ? 1 : 0}')
if [ "$effect_ok" = 1 ]; then
    echo "target (<= $TARGET_EFFECT_MS ms per durable effect): met"
else
    echo "target (<= $TARGET_EFFECT_MS ms per durable effect): MISSED"
fi
echo

# ---- 2. resume speed ------------------------------------------------------------------------
echo "## 2. Resume speed ($R replayed effects + 1 new one, $RUNS runs)"
echo
# template NAME PINGS: a store holding one run that waits on its approval,
# answered; prints the run id. The store is checkpointed into one file, to be copied.
template() {
    local db=$disk/$1.db out run
    out=$("$tactus" run --no-sandbox --json --store "$db" --input n="$2" "$proj/replay.tac") && {
        echo "bench/durable: the replay procedure did not suspend: $out" >&2
        exit 2
    }
    run=$(echo "$out" | sed 's/.*"run_id":"\([^"]*\)".*/\1/')
    "$tactus" approve "$run" "$2" --store "$db" >/dev/null
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    rm -f "$db-wal" "$db-shm"
    [ "$(sqlite3 "$db" "SELECT count(*) FROM effects WHERE run_id = '$run'")" -eq "$2" ] ||
        { echo "bench/durable: template $1 does not hold $2 effects" >&2; exit 2; }
    echo "$run"
}
run_r=$(template replay "$R")
run_0=$(template replay0 0)
fresh() { cp "$disk/$1.db" "$disk/resume.db" && rm -f "$disk/resume.db-wal" "$disk/resume.db-shm"; }

# Own loop: the time from the start of `tactus resume` to the first new
# effect (the answer's record, journal position R), and the whole command.
# PIN=taskset -c 0: the same with the host and the runtime on one CPU (for
# information: the replay is a ping-pong over pipes, and waking a process
# on the other vCPU is what costs most on this VM).
resume_loop() { # PREFIX...: sets to_first and whole
    to_first=() whole=()
    local start end out rec
    for _ in $(seq "$RUNS"); do
        fresh replay
        start=$EPOCHREALTIME
        out=$("$@" "$tactus" resume "$run_r" --no-sandbox --json --store "$disk/resume.db")
        end=$EPOCHREALTIME
        case "$out" in *'"status":"completed"'*) ;; *) echo "bench/durable: resume did not complete: $out" >&2; exit 2 ;; esac
        rec=$(sqlite3 "$disk/resume.db" "SELECT created_ms FROM effects WHERE run_id = '$run_r' AND position = $R")
        to_first+=("$(awk -v s="$start" -v r="$rec" 'BEGIN {printf "%.1f", r - s * 1000}')")
        whole+=("$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f", (e - s) * 1000}')")
    done
}
pinned_first=n/a pinned_whole=n/a
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    resume_loop taskset -c 0
    pinned_first=$(printf '%s\n' "${to_first[@]}" | median)
    pinned_whole=$(printf '%s\n' "${whole[@]}" | median)
fi
resume_loop env
first_med=$(printf '%s\n' "${to_first[@]}" | median)
whole_med=$(printf '%s\n' "${whole[@]}" | median)

# hyperfine: the whole `tactus resume`, R replayed effects vs none (the fixed cost).
hyperfine --style none --runs "$RUNS" --export-csv "$disk/resume.csv" \
    --prepare "cp $disk/replay.db $disk/resume.db; rm -f $disk/resume.db-wal $disk/resume.db-shm" \
    "$tactus resume $run_r --no-sandbox --json --store $disk/resume.db" >/dev/null
hyperfine --style none --runs "$RUNS" --export-csv "$disk/resume0.csv" \
    --prepare "cp $disk/replay0.db $disk/resume.db; rm -f $disk/resume.db-wal $disk/resume.db-shm" \
    "$tactus resume $run_0 --no-sandbox --json --store $disk/resume.db" >/dev/null
hr=$(csv_median "$disk/resume.csv" 1) h0=$(csv_median "$disk/resume0.csv" 1)
per_replay=$(awk -v a="$h0" -v b="$hr" -v n="$R" 'BEGIN {printf "%.4f", (b - a) * 1000 / n}')
echo "| measure | median |"
echo "|---|---:|"
printf '| start of `tactus resume` -> first new effect recorded (own loop, journal timestamp, ms resolution) | **%s ms** |\n' "$first_med"
printf '| whole `tactus resume`, %d replayed + 1 new effect (own loop) | %s ms |\n' "$R" "$whole_med"
printf '| whole `tactus resume`, %d replayed + 1 new effect (hyperfine) | %s ms |\n' "$R" "$(ms "$hr")"
printf '| whole `tactus resume`, 0 replayed + 1 new effect (hyperfine: the fixed cost) | %s ms |\n' "$(ms "$h0")"
printf '| replay, per recorded effect ((R - 0) / R) | %s ms |\n' "$per_replay"
printf '| (information) start -> first new effect, host and runtime pinned to CPU 0 (own loop) | %s ms |\n' "$pinned_first"
printf '| (information) whole `tactus resume`, pinned to CPU 0 (own loop) | %s ms |\n' "$pinned_whole"
echo
echo "to first new effect, each run (ms): ${to_first[*]}"
resume_ok=$(awk -v a="$first_med" -v t="$TARGET_RESUME_MS" 'BEGIN {print (a <= t) ? 1 : 0}')
if [ "$resume_ok" = 1 ]; then
    echo "target (<= $TARGET_RESUME_MS ms to the first new effect): met"
else
    echo "target (<= $TARGET_RESUME_MS ms to the first new effect): MISSED"
fi
[ "$effect_ok" = 1 ] && [ "$resume_ok" = 1 ]
