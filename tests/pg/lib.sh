# shellcheck shell=bash
# The tests' side of the shared PostgreSQL server (tests/pg/server.sh).
#   source tests/pg/lib.sh          (needs TACTUS_PG_FIXTURE: the state folder)
#   url=$(pg_new_db NAME)           a new empty database, its URL (unix socket)
#   pg_drop_db URL                  drops it
#   pg_sql URL SQL                  runs SQL with psql, rows on stdout
pg_state=${TACTUS_PG_FIXTURE:?TACTUS_PG_FIXTURE: the folder of tests/pg/server.sh start}
[ -f "$pg_state/env" ] || { echo "pg/lib.sh: no server: run tests/pg/server.sh start $pg_state (ctest does: fixture pg)" >&2; exit 1; }
# shellcheck disable=SC1091
source "$pg_state/env"
pg_admin_url="postgresql://tactus@/postgres?host=$TACTUS_PG_SOCK&port=$TACTUS_PG_PORT"

pg_sql() {
    "$TACTUS_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"
}
pg_new_db() {
    local name
    name="t_$(echo "${1:-test}" | tr -c 'a-zA-Z0-9_\n' '_')_$$_$RANDOM"
    pg_sql "$pg_admin_url" "CREATE DATABASE $name" >/dev/null || return 1
    echo "postgresql://tactus@/$name?host=$TACTUS_PG_SOCK&port=$TACTUS_PG_PORT"
}
pg_drop_db() {
    local name=${1#*@/}
    name=${name%%\?*}
    pg_sql "$pg_admin_url" "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
}

# pg_test_init NAME: the test's folder in $work (readable by the server's
# owner), and a cleanup on exit that runs the test's own `on_cleanup` if it
# defines one, kills the processes in pids, drops the databases in dbs and
# removes the folder.
pg_test_init() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-$1.XXXXXX")
    chmod 755 "$work"
    pids=()
    dbs=()
    trap pg_test_cleanup EXIT
}
pg_test_cleanup() {
    declare -F on_cleanup >/dev/null && on_cleanup
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    for d in "${dbs[@]}"; do pg_drop_db "$d"; done
    rm -rf "$work"
}
