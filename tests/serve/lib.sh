# shellcheck shell=bash disable=SC2034
# Shared helpers of the tactus serve tests (sourced, never run).
#   source lib.sh TACTUS
# Every test gets its own folder, store, tokens file and server on a free
# loopback port; the same tests run on SQLite and, with
# TACTUS_TEST_BACKEND=pg, on a fresh database of the shared PostgreSQL
# server (tests/pg/server.sh, the ctest fixture `pg`).
set -u
tactus=${1:?usage: TEST.sh path/to/tactus}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-serve.XXXXXX")
export XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/xdg-data NO_COLOR=1
export TACTUS_TOKENS=$work/tokens.json
unset TACTUS_TENANT
# Test traffic stays on loopback: no proxy of the environment may see it.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'
test_name=$(basename "$0" .sh)
if [ "${TACTUS_TEST_BACKEND:-sqlite}" = pg ]; then
    # shellcheck source=../pg/lib.sh
    source "$here/../pg/lib.sh"
    store=$(pg_new_db "serve_$test_name") || { echo "serve: cannot make a database" >&2; exit 1; }
    "$tactus" store migrate --store "$store" >/dev/null || { echo "serve: tactus store migrate failed" >&2; exit 1; }
else
    store=$work/journal.db
fi
export TACTUS_STORE=$store
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ "${TACTUS_TEST_BACKEND:-sqlite}" = pg ] && pg_drop_db "$store"
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "serve/$test_name: FAIL: $*" >&2
    for f in "$work"/serve.err "$work"/worker.err; do
        [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; tail -c 3000 "$f" >&2; echo >&2; }
    done
    exit 1
}
note() { echo "serve/$test_name: $*"; }

# The procedures the server may run (trusted: the test's own files).
mkdir -p "$work/procs/.tactus"
cp "$here"/procs/*.tac "$work/procs/"
python_exe=$(python3 -c "import sys; print(sys.executable)")
cat >"$work/append.py" <<'PY'
import json, sys
d = json.load(sys.stdin)
open(sys.argv[1], "a").write(d["args"]["line"] + "\n")
print(json.dumps({"ok": True}))
PY
# deploy: a host tool a person must approve (deploy.tac); it appends to deployed.txt
cat >"$work/procs/.tactus/config.yml" <<YML
sandbox:
  enabled: false
host_tools:
  deploy:
    command: ["$python_exe", "$work/append.py", "$work/deployed.txt"]
    requires_approval: true
YML
"$tactus" trust "$work/procs" >/dev/null || fail "tactus trust"

# token TENANT ROLE NAME: a new token (its last line).
token() { "$tactus" tokens create --tenant "$1" --role "$2" --name "$3" | tail -1; }

# start_server [OPTIONS...]: tactus serve on a free loopback port; sets $url.
start_server() {
    "$tactus" serve --listen 127.0.0.1:0 --procedures "$work/procs" --store "$store" "$@" \
        >"$work/serve.out" 2>"$work/serve.err" &
    pids+=($!)
    server_pid=$!
    local i
    for i in $(seq 1 100); do
        grep -q "listening on" "$work/serve.out" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || fail "tactus serve exited: $(cat "$work/serve.err")"
        sleep 0.1
    done
    url=$(grep -o 'https\?://[^ ]*/' "$work/serve.out" | head -1)
    url=${url%/}
    [ -n "$url" ] || fail "tactus serve did not say where it listens"
}

# start_worker TENANT...: a worker claiming runs of the tenants.
start_worker() {
    local args=() t
    for t in "$@"; do args+=(--tenant "$t"); done
    "$tactus" worker --no-sandbox --poll 100 --store "$store" "${args[@]}" >>"$work/worker.out" 2>>"$work/worker.err" &
    pids+=($!)
}
