#!/usr/bin/env bash
# bench/serve/run.sh [sqlite|pg|both] - tactus serve under load (bench/README.md #8):
#   1. GET /v1/approvals with wrk at about 1,000 requests/s (20 pending requests in
#      the list): p99 <= 10 ms;
#   2. an answer to the run resumed: from POST /v1/approvals/ID to the run's next
#      event on its SSE stream, with a worker (--poll 10 on SQLite; LISTEN/NOTIFY on
#      PostgreSQL): p50 <= 50 ms.
# On SQLite (a journal on disk, synchronous=FULL) and on PostgreSQL (a server of
# tests/pg/server.sh with fsync on). Exit 0 all targets met, 1 one missed, 2 broken setup.
# Knobs: DURATION (wrk seconds, default 20), ANSWERS (default 30), CONNS (default 12).
set -u
cd "$(dirname "$0")/../.."
source bench/lib.sh
which=${1:-both}
DURATION=${DURATION:-20} ANSWERS=${ANSWERS:-30} CONNS=${CONNS:-12}
command -v wrk >/dev/null || { echo "bench/serve: wrk not found (scripts/install-deps.sh)" >&2; exit 2; }
bench_build
cmake --build build --target bench_answer >/dev/null || exit 2
tactus=$PWD/build/tactus
bench_answer=$PWD/build/tests/serve/bench_answer
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'
missed=0
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${pgstate:-}" ] && tests/pg/server.sh stop "$pgstate" >/dev/null 2>&1
    rm -rf "${work:-/nonexistent}"
}
trap cleanup EXIT

bench_backend() {
    local backend=$1
    work=$(mktemp -d /tmp/tactus-bench-serve.XXXXXX)
    export XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/xdg-data TACTUS_TOKENS=$work/tokens.json
    local store
    if [ "$backend" = pg ]; then
        pgstate=$work/pg
        TACTUS_PG_FSYNC=on tests/pg/server.sh start "$pgstate" >/dev/null || { echo "bench/serve: no PostgreSQL" >&2; exit 2; }
        # shellcheck disable=SC1091
        source "$pgstate/env"
        "$TACTUS_PG_BIN/psql" -X -q "postgresql://tactus@/postgres?host=$TACTUS_PG_SOCK&port=$TACTUS_PG_PORT" \
            -c "CREATE DATABASE bench" >/dev/null || exit 2
        store="postgresql://tactus@/bench?host=$TACTUS_PG_SOCK&port=$TACTUS_PG_PORT"
        "$tactus" store migrate --store "$store" >/dev/null || exit 2
    else
        store=$work/journal.db
    fi
    mkdir -p "$work/procs/.tactus"
    cp tests/serve/procs/gate.tac "$work/procs/"
    printf 'sandbox:\n  enabled: false\n' >"$work/procs/.tactus/config.yml"
    "$tactus" trust "$work/procs" >/dev/null
    local sub appr url
    sub=$("$tactus" tokens create --tenant bench --role submitter --name bench | tail -1)
    appr=$("$tactus" tokens create --tenant bench --role approver --name bench | tail -1)
    : >"$work/serve.out"
    "$tactus" serve --listen 127.0.0.1:0 --procedures "$work/procs" --store "$store" --rate 0 \
        >"$work/serve.out" 2>"$work/serve.err" &
    pids+=($!)
    for _ in $(seq 1 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
    url=$(grep -o 'http://[^ ]*/' "$work/serve.out"); url=${url%/}
    [ -n "$url" ] || { cat "$work/serve.err" >&2; exit 2; }
    "$tactus" worker --no-sandbox --poll 10 --concurrency 2 --tenant bench --store "$store" \
        >"$work/worker.out" 2>"$work/worker.err" &
    pids+=($!)
    submit() {
        curl -s -f -H "Authorization: Bearer $sub" -H 'Content-Type: application/json' \
            -d '{"procedure": "gate.tac"}' "$url/v1/runs" | sed 's/.*"run_id":"\([^"]*\)".*/\1/'
    }
    pending() { curl -s -H "Authorization: Bearer $appr" "$url/v1/approvals"; }
    for _ in $(seq 1 20); do submit >/dev/null; done
    for _ in $(seq 1 300); do [ "$(pending | grep -o '"request_id"' | wc -l)" -ge 20 ] && break; sleep 0.1; done

    # 1. the list under load
    TOKEN=$appr DELAY_MS=10 wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s bench/serve/approvals.lua "$url" \
        >"$work/wrk.out" 2>&1
    local p50 p99 rps bad
    p50=$(awk '/^p50_us/{print $2}' "$work/wrk.out"); p99=$(awk '/^p99_us/{print $2}' "$work/wrk.out")
    rps=$(awk '/^rps/{print $2}' "$work/wrk.out"); bad=$(awk '/^non-200/{print $2}' "$work/wrk.out")
    [ -n "$p99" ] || { cat "$work/wrk.out" >&2; exit 2; }
    printf '%-10s GET /v1/approvals: %s req/s, p50 %.2f ms, p99 %.2f ms, non-200 %s\n' "$backend" "$rps" \
        "$(echo "$p50 / 1000" | bc -l)" "$(echo "$p99 / 1000" | bc -l)" "$bad"
    if [ "$p99" -gt 10000 ] || [ "${bad:-1}" != 0 ] || [ "${rps%.*}" -lt 950 ]; then
        echo "  MISSED: p99 <= 10 ms at >= 950 req/s, every answer 200" ; missed=1
    fi

    # 2. an answer to the resumed run's next event
    local lat=() run hash i
    for i in $(seq 1 "$ANSWERS"); do
        run=$(submit)
        for _ in $(seq 1 300); do pending | grep -q "\"$run.1\"" && break; sleep 0.02; done
        hash=$(pending | grep -o "\"request_id\":\"$run.1\"[^}]*" | grep -o '"request_hash":"[0-9a-f]*"' | cut -d'"' -f4)
        lat+=("$("$bench_answer" "${url##*:}" "$appr" "$run" "$run.1" "$hash")") || { echo "bench/serve: bench_answer failed" >&2; exit 2; }
    done
    local sorted med p90
    sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
    med=$(echo "$sorted" | awk -v n="${#lat[@]}" 'NR == int((n + 1) / 2)')
    p90=$(echo "$sorted" | awk -v n="${#lat[@]}" 'NR == int(n * 0.9 + 0.5)')
    printf '%-10s answer -> next SSE event: p50 %.1f ms, p90 %.1f ms (%d answers)\n' "$backend" \
        "$(echo "$med / 1000" | bc -l)" "$(echo "$p90 / 1000" | bc -l)" "${#lat[@]}"
    if [ "$med" -gt 50000 ]; then echo "  MISSED: p50 <= 50 ms"; missed=1; fi
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pids=()
    [ -n "${pgstate:-}" ] && { tests/pg/server.sh stop "$pgstate" >/dev/null 2>&1; pgstate=; }
    rm -rf "$work"
}

bench_header
[ "$which" = sqlite ] || [ "$which" = both ] && bench_backend sqlite
[ "$which" = pg ] || [ "$which" = both ] && bench_backend pg
exit $missed
