# shellcheck shell=bash disable=SC2034
# Shared helpers of the MCP tests (sourced, never run).
#   source lib.sh TACTUS
# Each test has its own folder: the host's configuration (XDG_CONFIG_HOME,
# where mcp_servers lives: it is a privileged key), its data (journal, audit
# log) and a project folder for the procedures, apart from each other as
# tactus requires. The MCP peers are the real npm packages that
# scripts/install-deps.sh puts in tests/mcp/npm: a missing one fails the
# test, it is never skipped.
set -u
tactus=${1:?usage: TEST.sh path/to/tactus}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
npm=$here/npm/node_modules
everything=$npm/@modelcontextprotocol/server-everything/dist/index.js
filesystem=$npm/@modelcontextprotocol/server-filesystem/dist/index.js
misbehave=$here/misbehave.py
python=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-mcp.XXXXXX")
export XDG_CONFIG_HOME=$work/host
export XDG_DATA_HOME=$work/data
export TACTUS_STORE=$work/data/journal.db
export NO_COLOR=1
unset TACTUS_TENANT
mkdir -p "$XDG_CONFIG_HOME/tactus" "$work/proj"
config=$XDG_CONFIG_HOME/tactus/config.yml
proj=$work/proj
test_name=$(basename "$0" .sh)${2:+-$2}
pids_to_stop=()
cleanup() {
    for p in "${pids_to_stop[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

for f in "$everything" "$filesystem" "$npm/@modelcontextprotocol/sdk/package.json"; do
    [ -f "$f" ] || { echo "mcp/$test_name: FAIL: $f is missing: run scripts/install-deps.sh" >&2; exit 1; }
done

fail() {
    echo "mcp/$test_name: FAIL: $*" >&2
    for f in "$work/out" "$work/err"; do
        [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; head -c 4000 "$f" >&2; echo >&2; }
    done
    exit 1
}
note() { echo "mcp/$test_name: $*"; }

# t ARGS...: tactus in the project folder; stdout in $work/out, stderr in
# $work/err, exit status in $rc.
t() {
    (cd "$proj" && "$tactus" "$@") >"$work/out" 2>"$work/err" </dev/null
    rc=$?
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit status $rc, expected $1"; }
out_has() { grep -qF -- "$1" "$work/out" || fail "stdout lacks: $1"; }
err_has() { grep -qF -- "$1" "$work/err" || fail "stderr lacks: $1"; }
out_lacks() { ! grep -qF -- "$1" "$work/out" || fail "stdout has: $1"; }
# json EXPR: evaluates a Python expression over the JSON on stdout (as d).
json() { "$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/out" "$1"; }

# A free loopback port (bound, then released).
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT: until something listens there (10 s at most).
wait_port() {
    for _ in $(seq 100); do
        "$python" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2)' "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Processes whose command line holds MARK (ours only), zombies included.
procs_with() { pgrep -f -- "$1" || true; }
