#!/usr/bin/env bash
# The store's URL is privileged configuration, and its password a secret
# (issue #21, docs/scaling.md "Credentials"):
#   1. a procedure writes .tactus/config.yml and a sidecar re-pointing
#      journal.url at a planted loopback listener, then waits for a person;
#      run again, approvals, approve, resume, runs, submit and a worker,
#      from the project folder or on the procedure: every one refuses (exit
#      2, the file, the key, `tactus trust`), the listener is never reached,
#      and the run still waits in the real store (the user's journal.url);
#   2. the password of the user's journal.url (TCP, SCRAM) never reaches the
#      runtime (its environment and command line: the process itself with
#      --no-sandbox, the container's configuration in the Docker sandbox), the
#      journal, the worker's log or any command's output.
#   trust.sh TACTUS CASE        CASE: nosandbox | docker
set -u
tactus=${1:?usage: trust.sh TACTUS nosandbox|docker}
case=${2:?usage: trust.sh TACTUS nosandbox|docker}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
pg_test_init pgtrust
on_cleanup() { rm -f "$work/lines/hold"; }
fail() {
    echo "pg/trust $case: FAIL: $*" >&2
    for f in "$work/out" "$work/err" "$work"/*.log; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; grep -v '^\[SANDBOX\]' "$f" | tail -n 20 >&2; }; done
    exit 1
}
note() { echo "pg/trust $case: $*"; }
sb=--no-sandbox
[ "$case" = docker ] && sb=--sandbox=docker
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/data NO_COLOR=1
unset TACTUS_STORE TACTUS_TENANT PGPASSWORD PGPASSFILE PGSERVICE
mkdir -p "$HOME" "$XDG_CONFIG_HOME/tactus" "$work/lines" "$work/proj"

# The user's store, in trusted configuration: TCP with a password.
db=$(pg_new_db trust) || fail "createdb"
dbs+=("$db")
name=${db#*@/}
name=${name%%\?*}
secret=$TACTUS_PG_PASSWORD
url="postgresql://tactus:$secret@127.0.0.1:$TACTUS_PG_PORT/$name"
python_exe=$(python3 -c "import sys; print(sys.executable)")
cat >"$XDG_CONFIG_HOME/tactus/config.yml" <<YML
journal:
  url: $url
host_tools:
  append_line:
    command: ["$python_exe", "$here/../durable/append.py", "$work/lines"]
    timeout: 30
YML
"$tactus" store migrate >"$work/out" 2>"$work/err" || fail "store migrate from the trusted journal.url"
grep -qF "postgresql://tactus:***@127.0.0.1:$TACTUS_PG_PORT/$name" "$work/out" || fail "migrate does not name the store, masked"

# The planted listener: records every connection (a client would send its
# user name at once, and its password when asked).
"$python_exe" - "$work/evil.port" "$work/evil.log" <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        data = c.recv(4096)
    except OSError:
        data = b""
    with open(sys.argv[2], "ab") as f:
        f.write(b"connection: " + data + b"\n")
    c.close()
PY
pids+=($!)
for _ in $(seq 50); do [ -s "$work/evil.port" ] && break; sleep 0.1; done
evil=$(cat "$work/evil.port") || fail "the planted listener did not start"
evil_url="postgresql://loot:x@127.0.0.1:$evil/loot"
t() { "$tactus" "$@" >"$work/out" 2>"$work/err" </dev/null; rc=$?; }
tp() { (cd "$work/proj" && "$tactus" "$@" >"$work/out" 2>"$work/err" </dev/null); rc=$?; }
no_leak() { # no_leak WHAT
    [ ! -s "$work/evil.log" ] || fail "$1: the planted store was contacted: $(cat "$work/evil.log")"
    ! grep -qF -- "$secret" "$work/out" "$work/err" || fail "$1: the store's password was printed"
}
refused() { # refused WHAT: a planted file named with its line and column
    [ "$rc" -eq 2 ] || fail "$1: exit $rc, expected 2 (refused)"
    grep -qE -- "(\.tactus/config\.yml|attack\.tac\.yml):[0-9]+:[0-9]+: " "$work/err" ||
        fail "$1: the message does not name the planted file, line and column"
    grep -qF -- "'journal' is a privileged key" "$work/err" || fail "$1: the message does not name the key journal"
    grep -qF -- "tactus trust" "$work/err" || fail "$1: the message does not say how to trust"
    no_leak "$1"
}

# 1. The procedure re-points its host's store, then waits for a person.
cat >"$work/proj/attack.tac" <<TAC
Procedure { function()
  local yml = "journal:\\n  url: $evil_url\\n"
  pcall(File.write, ".tactus/config.yml", yml)
  pcall(File.write, "attack.tac.yml", yml)
  if Human.approve({message = "Go on?", timeout = 3600, default = false}) then
    Host.call("host.append_line", {text = "approved"})
  end
  return "done"
end }
TAC
t run $sb --json "$work/proj/attack.tac"
[ "$rc" -eq 3 ] || fail "the first run: exit $rc, expected 3 (waiting)"
run=$(grep -o '"run_id":"[^"]*"' "$work/out" | head -1 | cut -d'"' -f4)
no_leak "the first run"
# Where the sandbox does not let the procedure write its folder, the files
# are planted as a cloned repository would bring them.
mkdir -p "$work/proj/.tactus"
[ -f "$work/proj/.tactus/config.yml" ] || printf 'journal:\n  url: %s\n' "$evil_url" >"$work/proj/.tactus/config.yml"
[ -f "$work/proj/attack.tac.yml" ] || printf 'journal:\n  url: %s\n' "$evil_url" >"$work/proj/attack.tac.yml"
got=$(pg_sql "$db" "SELECT status FROM runs WHERE id = '$run'")
[ "$got" = waiting ] || fail "the run is not waiting in the user's store: '$got' ($(pg_sql "$db" "SELECT id, status FROM runs" 2>&1); $(ls "$XDG_DATA_HOME"/tactus 2>&1))"
t run $sb "$work/proj/attack.tac"
refused "the second run"
tp approvals
refused "approvals from the project folder"
tp approve "$run" 0
refused "approve from the project folder"
tp runs
refused "runs from the project folder"
t resume "$run" $sb
refused "resume"
t submit "$work/proj/attack.tac"
refused "submit"
tp worker $sb --exit-when-idle
refused "a worker started in the project folder"
# The approval, given from elsewhere, reaches the user's store; a worker
# started elsewhere will not run the procedure under its planted config.
t approve "$run" 0
[ "$rc" -eq 0 ] || fail "approve from outside the project: exit $rc"
no_leak "approve from outside the project"
t resume "$run" $sb
refused "resume after the approval"
[ ! -e "$work/lines/$run.txt" ] || fail "the run went on under the planted configuration"
[ "$(pg_sql "$db" "SELECT count(*) FROM runs")" = 1 ] || fail "runs were written to the user's store by refused commands"
rm -rf "$work/proj/.tactus" "$work/proj/attack.tac.yml"
t resume "$run" $sb --json
[ "$rc" -eq 0 ] || fail "resume once the planted files are gone: exit $rc"
[ -s "$work/lines/$run.txt" ] || fail "the resumed run did not call its tool"
no_leak "the resume once the planted files are gone"
note "1. journal.url planted by the procedure: run, approvals, approve, runs, resume, submit and worker refused (exit 2, the file, 'journal'); the listener was never contacted"

# 2. The password stays on the host's side.
cat >"$work/proj/hold.tac" <<'TAC'
Procedure { function()
  Host.call("host.append_line", {text = "held"})
  return "held done"
end }
TAC
echo 0 >"$work/lines/hold"
held=$("$tactus" submit "$work/proj/hold.tac" 2>"$work/err") || fail "submit: $(cat "$work/err")"
"$tactus" worker $sb --exit-when-idle --poll 100 -v >"$work/worker.log" 2>&1 </dev/null &
w=$!
pids+=("$w")
for _ in $(seq 600); do [ -f "$work/lines/held-0" ] && break; sleep 0.1; done
[ -f "$work/lines/held-0" ] || fail "the run did not reach its tool call"
if [ "$case" = docker ]; then
    # Named tactus-RUN, with a random suffix on newer builds.
    ctr=$(docker ps --filter "name=tactus-$held" --format '{{.Names}}' | head -1)
    [ -n "$ctr" ] || fail "no running container named tactus-$held*"
    docker inspect "$ctr" >"$work/inspect.json" 2>"$work/err" || fail "docker inspect $ctr"
    grep -qF -- "$secret" "$work/inspect.json" && fail "the store's password is in the container's configuration"
    grep -qF -- "$TACTUS_PG_PORT/$name" "$work/inspect.json" && fail "the store's URL is in the container's configuration"
    where="the container's configuration (docker inspect: Env, Cmd, Args, Mounts)"
else
    rpid=
    for p in $(pgrep -P "$w"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = tactus-runtime ] && rpid=$p; done
    [ -n "$rpid" ] || fail "no tactus-runtime child of the worker"
    tr '\0' '\n' <"/proc/$rpid/environ" >"$work/runtime.env"
    tr '\0' ' ' <"/proc/$rpid/cmdline" >"$work/runtime.cmdline"
    grep -qF -- "$secret" "$work/runtime.env" "$work/runtime.cmdline" && fail "the store's password reached the runtime"
    grep -qF -- "$name" "$work/runtime.env" "$work/runtime.cmdline" && fail "the store's URL reached the runtime"
    where="the runtime's environment ($(wc -l <"$work/runtime.env") variables) and command line"
fi
rm -f "$work/lines/hold"
wait "$w" || fail "the worker: exit $?"
grep -qF "run $held (epoch 1): done" "$work/worker.log" || fail "the run did not complete"
grep -qF -- "$secret" "$work/worker.log" && fail "the store's password is in the worker's log"
t show "$held" --json
grep -qF '"output":"held done"' "$work/out" || fail "the held run's output: $(head -c 300 "$work/out")"
for cmd in "queue" "runs" "store status" "approvals"; do
    # shellcheck disable=SC2086
    t $cmd
    [ "$rc" -eq 0 ] || fail "$cmd: exit $rc"
    no_leak "$cmd"
done
pg_sql "$db" "SELECT * FROM runs" | grep -qF -- "$secret" && fail "the store's password is in the journal"
no_leak "the end"
note "2. the password is in neither $where, the worker's log (-v), the journal nor any command's output"
note "ok"
