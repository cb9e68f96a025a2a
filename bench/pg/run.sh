#!/usr/bin/env bash
# The journal on PostgreSQL and on SQLite, side by side (issue #21; see
# RESULTS.md beside this file):
#   1. one journaled effect: the slope between a run of N host.ping effects
#      and a run of none (hyperfine medians), on each store, and the journal's
#      own timestamps as a cross-check.                   target (PostgreSQL) <= 2 ms
#   2. a 3-step run end to end: `tactus run --no-sandbox` of three host.ping
#      effects, the whole process (start, runtime, store, the three effects),
#      hyperfine median.                                  target (PostgreSQL) <= 20 ms
#   3. throughput of 1, 2 and 4 workers (`tactus worker --exit-when-idle`, one
#      run at a time each) on K queued runs of the same 3-step procedure,
#      --no-sandbox and in the Docker sandbox: runs/s from the first claim
#      possible to the last worker's exit, median of ROUNDS rounds. No target:
#      the figures for scaling.md.
# PostgreSQL 15 runs with fsync on (its default; tests/pg/server.sh with
# TACTUS_PG_FSYNC=on), over its unix socket; SQLite in WAL with
# synchronous=FULL; both stores on the same disk.
#
#   bench/pg/run.sh          env: RUNS (15), N (200), K (40), KSANDBOX (12), ROUNDS (3),
#                                 SANDBOX (1; 0 skips the sandboxed throughput)
# Needs hyperfine, sqlite3, PostgreSQL 15 (scripts/install-deps.sh); the
# sandboxed figures need dockerd. Exit: 0 targets met, 1 a target missed,
# 2 broken setup.
# shellcheck disable=SC2016 # backquotes are Markdown
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-15} N=${N:-200} K=${K:-40} KSANDBOX=${KSANDBOX:-12} ROUNDS=${ROUNDS:-3}
TARGET_EFFECT_MS=2
TARGET_RUN3_MS=20
# shellcheck source=../lib.sh
. bench/lib.sh
bench_need pg hyperfine sqlite3 awk
[ "$RUNS" -ge 10 ] || { echo "bench/pg: RUNS must be >= 10" >&2; exit 2; }

bench_build
tactus=$root/build/tactus

work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-bench-pg.XXXXXX")
chmod 755 "$work" # the server's unprivileged owner reaches its folder inside
export TACTUS_PG_FIXTURE=$work/pgstate
cleanup() {
    bash "$root/tests/pg/server.sh" stop "$TACTUS_PG_FIXTURE" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
TACTUS_PG_FSYNC=on bash tests/pg/server.sh start "$TACTUS_PG_FIXTURE" >/dev/null ||
    { echo "bench/pg: the PostgreSQL server did not start (tests/pg/server.sh)" >&2; exit 2; }
# shellcheck source=../../tests/pg/lib.sh
. tests/pg/lib.sh
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/data NO_COLOR=1
unset TACTUS_STORE TACTUS_TENANT
mkdir -p "$HOME" "$work/p"

bench_header
bt=$(grep -m1 '^CMAKE_BUILD_TYPE:' build/CMakeCache.txt | cut -d= -f2)
echo "tools: $(hyperfine --version), sqlite3 $(sqlite3 --version | cut -d' ' -f1), $("$TACTUS_PG_BIN/postgres" --version), ${bt:-RelWithDebInfo} build"
echo "PostgreSQL: fsync=$(pg_sql "$pg_admin_url" 'SHOW fsync'), synchronous_commit=$(pg_sql "$pg_admin_url" 'SHOW synchronous_commit'), unix socket; SQLite: WAL, synchronous=FULL; both in $work"
echo "RUNS=$RUNS N=$N K=$K KSANDBOX=$KSANDBOX ROUNDS=$ROUNDS"
echo

gen() { # gen NAME COUNT: a procedure of COUNT host.ping effects
    printf 'Procedure { function(input)\n  for i = 1, %d do Host.call("host.ping", {i = i}) end\n  return "ok"\nend }\n' \
        "$2" >"$work/p/$1.tac"
}
gen zero 0
gen many "$N"
gen three 3
# store BACKEND NAME: a fresh, migrated store
store() {
    local s
    if [ "$1" = sqlite ]; then
        mkdir -p "$work/$2"
        s=$work/$2/journal.db
    else
        s=$(pg_new_db "$2") || return 1
    fi
    "$tactus" store migrate --store "$s" >/dev/null || return 1
    echo "$s"
}
# count BACKEND STORE SQL: one number from the store
count() {
    if [ "$1" = sqlite ]; then sqlite3 "$2" "$3"; else pg_sql "$2" "$3"; fi
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
csv_median() { awk -F, -v row="$2" 'NR == row + 1 {print $4}' "$1"; }
ms() { awk -v s="$1" 'BEGIN {printf "%.3f", s * 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }

# Check the input before timing anything: a benchmark of an error path is useless.
for be in sqlite postgresql; do
    s=$(store "$be" "check_$be") || { echo "bench/pg: cannot make a $be store" >&2; exit 2; }
    out=$("$tactus" run --no-sandbox --json --store "$s" "$work/p/three.tac")
    case "$out" in *'"status":"completed","output":"ok"'*) ;; *) echo "bench/pg: the 3-step procedure does not complete on $be: $out" >&2; exit 2 ;; esac
    [ "$(count "$be" "$s" "SELECT count(*) FROM effects")" = 3 ] || { echo "bench/pg: $be did not journal 3 effects" >&2; exit 2; }
done

declare -A R
# ---- the machine at the time: what a durable commit costs without tactus -----------------
# pg_test_fsync: one 8 kB write + fdatasync on the same disk; pgbench: one
# client, a transaction like an effect's (lock a row, insert a 300-byte row,
# update the locked row, commit), statement by statement.
fsync_us=$(cd "$work" && "$TACTUS_PG_BIN/pg_test_fsync" -s 2 -f "$work/fsync.test" 2>/dev/null |
    awk '/one 8kB write/ {f = 1} f && $1 == "fdatasync" {print $(NF - 1); exit}')
floor=$(pg_new_db floor) || { echo "bench/pg: cannot make the floor database" >&2; exit 2; }
pg_sql "$floor" "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT); CREATE TABLE h (id INT PRIMARY KEY, n BIGINT);
                 INSERT INTO h VALUES (1, 0)" >/dev/null
cat >"$work/effect.sql" <<'SQL'
\set k random(1, 1000000000000)
BEGIN;
SELECT n FROM h WHERE id = 1 FOR UPDATE;
INSERT INTO t VALUES (:k, repeat('x', 300)) ON CONFLICT DO NOTHING;
UPDATE h SET n = n + 1 WHERE id = 1;
COMMIT;
SQL
R[floor]=$("$TACTUS_PG_BIN/pgbench" -n -c 1 -T 5 -f "$work/effect.sql" "$floor" 2>/dev/null |
    awk -F' = ' '/latency average/ {printf "%.3f", $2}')
[ -n "${R[floor]}" ] || { echo "bench/pg: pgbench did not run" >&2; exit 2; }

# ---- 1 and 2: one effect, a 3-step run --------------------------------------------------
for be in sqlite postgresql; do
    s1=$(store "$be" "effects_$be") s2=$(store "$be" "run3_$be")
    hyperfine -N --style none --warmup 2 --runs "$RUNS" --export-csv "$work/effects-$be.csv" \
        "$tactus run --no-sandbox --json --store $s1 $work/p/zero.tac" \
        "$tactus run --no-sandbox --json --store $s1 $work/p/many.tac" >/dev/null
    want=$(((RUNS + 2) * N)) got=$(count "$be" "$s1" "SELECT count(*) FROM effects")
    [ "$got" -eq "$want" ] || { echo "bench/pg: $got effects journaled on $be, expected $want" >&2; exit 2; }
    R[$be.zero]=$(ms "$(csv_median "$work/effects-$be.csv" 1)")
    R[$be.many]=$(ms "$(csv_median "$work/effects-$be.csv" 2)")
    R[$be.effect]=$(awk -v a="${R[$be.zero]}" -v b="${R[$be.many]}" -v n="$N" 'BEGIN {printf "%.3f", (b - a) / n}')
    # Cross-check: per run, (last effect - first effect) / (N - 1), from the journal.
    R[$be.ts]=$(count "$be" "$s1" "SELECT (max(created_ms) - min(created_ms)) * 1.0 / (count(*) - 1) FROM effects
                                   GROUP BY run_id HAVING count(*) > 1" | median | awk '{printf "%.3f", $1}')
    hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-csv "$work/run3-$be.csv" \
        "$tactus run --no-sandbox --json --store $s2 $work/p/three.tac" >/dev/null
    R[$be.run3]=$(ms "$(csv_median "$work/run3-$be.csv" 1)")
    R[$be.run3min]=$(awk -F, 'NR == 2 {printf "%.3f", $7 * 1000}' "$work/run3-$be.csv")
done

# ---- 3: throughput of workers ----------------------------------------------------------------
sandbox_ok=0
if [ "${SANDBOX:-1}" = 1 ]; then
    if docker info >/dev/null 2>&1; then sandbox_ok=1; else echo "bench/pg: dockerd is not reachable: sandboxed throughput skipped" >&2; fi
fi
# throughput BACKEND MODE WORKERS COUNT: runs/s of one round
throughput() {
    local be=$1 mode=$2 w=$3 k=$4 st flag=--no-sandbox t0 t1 done_runs pids=()
    [ "$mode" = sandbox ] && flag=--sandbox=docker
    st=$(store "$be" "q_${mode}_${w}_$RANDOM") || return 1
    for _ in $(seq "$k"); do "$tactus" submit --store "$st" "$work/p/three.tac" >/dev/null || return 1; done
    t0=$EPOCHREALTIME
    for _ in $(seq "$w"); do
        "$tactus" worker "$flag" --store "$st" --exit-when-idle --poll 50 >>"$work/worker.log" 2>&1 </dev/null &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || true; done
    t1=$EPOCHREALTIME
    done_runs=$(count "$be" "$st" "SELECT count(*) FROM runs WHERE status = 'completed'")
    [ "$done_runs" = "$k" ] || { echo "bench/pg: $be $mode $w workers completed $done_runs of $k runs (see the worker log)" >&2; tail -5 "$work/worker.log" >&2; return 1; }
    awk -v k="$k" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", k / (b - a)}'
}
for mode in nosandbox sandbox; do
    [ "$mode" = sandbox ] && [ "$sandbox_ok" != 1 ] && continue
    k=$K
    [ "$mode" = sandbox ] && k=$KSANDBOX
    for w in 1 2 4; do
        for be in sqlite postgresql; do
            rounds=()
            for _ in $(seq "$ROUNDS"); do rounds+=("$(throughput "$be" "$mode" "$w" "$k")") || exit 2; done
            R[$be.$mode.$w]=$(printf '%s\n' "${rounds[@]}" | median)
            R[$be.$mode.$w.all]="${rounds[*]}"
        done
    done
done

# ---- the table -------------------------------------------------------------------------------
echo "| figure | SQLite (WAL, synchronous=FULL) | PostgreSQL 15 (fsync on) | PostgreSQL / SQLite |"
echo "|---|---:|---:|---:|"
printf '| run, 0 effects (median) | %s ms | %s ms | %s |\n' "${R[sqlite.zero]}" "${R[postgresql.zero]}" "$(ratio "${R[postgresql.zero]}" "${R[sqlite.zero]}")"
printf '| run, %d effects (median) | %s ms | %s ms | %s |\n' "$N" "${R[sqlite.many]}" "${R[postgresql.many]}" "$(ratio "${R[postgresql.many]}" "${R[sqlite.many]}")"
printf '| **one journaled effect** (slope of the medians) | %s ms | **%s ms** | %s |\n' "${R[sqlite.effect]}" "${R[postgresql.effect]}" "$(ratio "${R[postgresql.effect]}" "${R[sqlite.effect]}")"
printf '| one journaled effect (journal timestamps, median of runs) | %s ms | %s ms | %s |\n' "${R[sqlite.ts]}" "${R[postgresql.ts]}" "$(ratio "${R[postgresql.ts]}" "${R[sqlite.ts]}")"
printf '| **3-step run end to end** (median) | %s ms | **%s ms** | %s |\n' "${R[sqlite.run3]}" "${R[postgresql.run3]}" "$(ratio "${R[postgresql.run3]}" "${R[sqlite.run3]}")"
printf '| 3-step run end to end (min) | %s ms | %s ms | %s |\n' "${R[sqlite.run3min]}" "${R[postgresql.run3min]}" "$(ratio "${R[postgresql.run3min]}" "${R[sqlite.run3min]}")"
for mode in nosandbox sandbox; do
    for w in 1 2 4; do
        [ -n "${R[sqlite.$mode.$w]:-}" ] || continue
        label="--no-sandbox, $K runs"
        [ "$mode" = sandbox ] && label="Docker sandbox, $KSANDBOX runs"
        printf '| throughput, %d worker%s, %s (median of %s rounds) | %s runs/s | %s runs/s | %s |\n' "$w" \
            "$([ "$w" = 1 ] || echo s)" "$label" "$ROUNDS" "${R[sqlite.$mode.$w]}" "${R[postgresql.$mode.$w]}" \
            "$(ratio "${R[postgresql.$mode.$w]}" "${R[sqlite.$mode.$w]}")"
    done
done
echo
for mode in nosandbox sandbox; do
    for w in 1 2 4; do
        [ -n "${R[sqlite.$mode.$w]:-}" ] || continue
        echo "rounds, $mode, $w worker(s): SQLite ${R[sqlite.$mode.$w.all]}; PostgreSQL ${R[postgresql.$mode.$w.all]} runs/s"
    done
done
echo
echo "the machine at the time: fdatasync of one 8 kB write ${fsync_us:-?} µs (pg_test_fsync); an effect-like transaction (BEGIN, SELECT ... FOR UPDATE, INSERT, UPDATE, COMMIT) ${R[floor]} ms (pgbench, 1 client, 5 s, latency average)"
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
ok=0
if awk -v a="${R[postgresql.effect]}" -v t="$TARGET_EFFECT_MS" 'BEGIN {exit !(a <= t)}'; then
    echo "target (one journaled effect on PostgreSQL <= $TARGET_EFFECT_MS ms): met"
else
    echo "target (one journaled effect on PostgreSQL <= $TARGET_EFFECT_MS ms): MISSED"
    ok=1
fi
if awk -v a="${R[postgresql.run3]}" -v t="$TARGET_RUN3_MS" 'BEGIN {exit !(a <= t)}'; then
    echo "target (3-step run on PostgreSQL <= $TARGET_RUN3_MS ms): met"
else
    echo "target (3-step run on PostgreSQL <= $TARGET_RUN3_MS ms): MISSED"
    ok=1
fi
exit $ok
