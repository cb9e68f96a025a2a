#!/usr/bin/env bash
# A real PostgreSQL 15 server for the tests (Debian's postgresql package):
# initdb in a temporary folder, pg_ctl as an unprivileged user (PostgreSQL
# refuses to run as root: as root the server runs as the `postgres` system
# user, through runuser; otherwise as the user running the tests), a unix
# socket in that folder and a random free loopback port (127.0.0.1 only).
# One server is shared by a whole ctest run (the `pg` fixture); each test
# makes its own database in it (tests/pg/lib.sh).
#
#   server.sh start STATE_DIR    starts it; writes STATE_DIR/env (sourced by lib.sh)
#   server.sh restart STATE_DIR  stops it as a crash would (immediate), starts it again
#   server.sh stop STATE_DIR     stops it and removes its folder
#
# Settings: fsync=off (the tests kill processes, never the machine: a
# killed server loses nothing the kernel has; bench/pg measures with
# TACTUS_PG_FSYNC=on, PostgreSQL's default),
# max_connections=300 (the chaos test's workers and commands).
set -euo pipefail
cmd=${1:?usage: server.sh start|restart|stop STATE_DIR}
state=${2:?usage: server.sh start|restart|stop STATE_DIR}
bin=${TACTUS_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || {
    echo "pg/server.sh: initdb not found under /usr/lib/postgresql/*/bin: install Debian's postgresql (scripts/install-deps.sh)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_server() {
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir/sock -p $port -c listen_addresses=127.0.0.1 -c fsync=${TACTUS_PG_FSYNC:-off} -c max_connections=300 -c shared_buffers=64MB" \
        start >/dev/null
}

case "$cmd" in
start)
    mkdir -p "$state"
    if [ -f "$state/env" ]; then # a server of an earlier run that was not stopped
        "$0" stop "$state" || true
        mkdir -p "$state"
    fi
    dir=$(mktemp -d /tmp/tactus-pg.XXXXXX)
    chmod 755 "$dir"
    mkdir -p "$dir/sock" "$dir/data"
    printf 'tactus-test-password\n' >"$dir/pwfile"
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U tactus --pwfile="$dir/pwfile" -A trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "$port" >"$dir/port"
    start_server || { cat "$dir/server.log" >&2; exit 1; }
    cat >"$state/env" <<ENV
TACTUS_PG_DIR=$dir
TACTUS_PG_BIN=$bin
TACTUS_PG_PORT=$port
TACTUS_PG_SOCK=$dir/sock
TACTUS_PG_PASSWORD=tactus-test-password
ENV
    echo "pg/server.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') in $dir, port $port"
    ;;
restart)
    # shellcheck disable=SC1091
    source "$state/env"
    dir=$TACTUS_PG_DIR
    port=$TACTUS_PG_PORT
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    start_server
    ;;
stop)
    [ -f "$state/env" ] || exit 0
    # shellcheck disable=SC1091
    source "$state/env"
    as_owner "$bin/pg_ctl" -D "$TACTUS_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 ||
        as_owner "$bin/pg_ctl" -D "$TACTUS_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    case "$TACTUS_PG_DIR" in /tmp/tactus-pg.*) rm -rf "$TACTUS_PG_DIR" ;; esac
    rm -f "$state/env"
    ;;
*)
    echo "usage: server.sh start|restart|stop STATE_DIR" >&2
    exit 2
    ;;
esac
