#!/usr/bin/env bash
# Bad input on a PostgreSQL store: clear errors, nothing half-written, no
# password ever printed.
#   1. an unreachable store URL (a closed loopback port), with a password in it;
#   2. wrong credentials (the server's TCP port asks for a SCRAM password); the
#      right ones work, and the URL is shown with its password masked;
#   3. a store of a newer schema version: every command refuses it before
#      writing; an older (empty) store names `tactus store migrate`;
#   4. a lease stolen: worker A is stopped (SIGSTOP: to A, a jump of its clock)
#      past its lease; worker B takes the run over (epoch 2) and completes it;
#      A, continued, writes nothing more ("the lease ... was taken over"); the
#      run completed once, its journal whole and sealed. And a worker whose own
#      clock is an hour ahead (faketime) does not take a live lease: leases run
#      on the database's clock.
#   bad-input.sh TACTUS
set -u
tactus=${1:?usage: bad-input.sh TACTUS}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
pg_test_init pgbad
on_cleanup() { for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; done; }
fail() {
    echo "pg/bad-input: FAIL: $*" >&2
    for f in "$work/out" "$work/err" "$work"/w*.log; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; tail -c 2000 "$f" >&2; echo >&2; }; done
    exit 1
}
note() { echo "pg/bad-input: $*"; }
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/data NO_COLOR=1
unset TACTUS_STORE TACTUS_TENANT
mkdir -p "$HOME"
t() { "$tactus" "$@" >"$work/out" 2>"$work/err" </dev/null; rc=$?; }
contains() { grep -qF -- "$1" "$2" || fail "$3: '$1' not in ${2##*/}"; }
lacks() { grep -qF -- "$1" "$work/out" "$work/err" && fail "$2: '$1' was printed"; true; }
secret=s3cret-Pa55word

# 1. Unreachable.
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t runs --store "postgresql://tactus:$secret@127.0.0.1:$closed/nowhere"
[ "$rc" -eq 1 ] || fail "unreachable store: exit $rc, expected 1"
contains "cannot connect to the store" "$work/err" "unreachable store"
contains "postgresql://tactus:***@127.0.0.1:$closed/nowhere" "$work/err" "unreachable store: the URL, masked"
contains "Connection refused" "$work/err" "unreachable store: libpq's reason"
lacks "$secret" "unreachable store"
TACTUS_STORE="postgresql://tactus@127.0.0.1:$closed/nowhere?password=$secret" t approvals
[ "$rc" -eq 1 ] || fail "unreachable store from \$TACTUS_STORE: exit $rc"
contains "password=***" "$work/err" "a password= parameter, masked"
lacks "$secret" "unreachable store (password= parameter)"
note "1. unreachable: exit 1, the URL named with its password masked"

# 2. Wrong credentials; then the right ones.
t store migrate --store "postgresql://tactus:$secret@127.0.0.1:$TACTUS_PG_PORT/postgres"
[ "$rc" -eq 1 ] || fail "wrong password: exit $rc"
contains "password authentication failed" "$work/err" "wrong password"
lacks "$secret" "wrong password"
db=$(pg_new_db badinput) || fail "createdb"
dbs+=("$db")
name=${db#*@/}
name=${name%%\?*}
tcp="postgresql://tactus:$TACTUS_PG_PASSWORD@127.0.0.1:$TACTUS_PG_PORT/$name"
t store migrate --store "$tcp"
[ "$rc" -eq 0 ] || fail "right password: exit $rc"
contains "postgresql://tactus:***@127.0.0.1" "$work/out" "migrate names the store, masked"
lacks "$TACTUS_PG_PASSWORD" "migrate (right password)"
note "2. wrong credentials refused (exit 1, no password shown); the right ones migrate"

# 3. Schema versions.
old=$(pg_new_db empty) || fail "createdb"
dbs+=("$old")
mkdir -p "$work/proc"
printf 'Procedure { function(input) return "hi" end }\n' >"$work/proc/hi.tac"
t run --no-sandbox --store "$old" "$work/proc/hi.tac"
[ "$rc" -eq 1 ] || fail "an empty store: exit $rc"
contains "tactus store migrate" "$work/err" "an empty store names the fix"
[ "$(pg_sql "$old" "SELECT to_regclass('runs') IS NULL")" = t ] || fail "an empty store got tables without migrate"
pg_sql "$db" "INSERT INTO schema_version VALUES (99, 'from the future', 0)" >/dev/null || fail "insert version 99"
for cmd in "runs" "approvals" "store status" "store migrate"; do
    # shellcheck disable=SC2086
    t $cmd --store "$db"
    [ "$rc" -ne 0 ] || fail "$cmd on a newer store: exit 0"
    contains "schema version 99" "$work/err" "$cmd on a newer store"
    contains "knows versions up to" "$work/err" "$cmd on a newer store"
done
t run --no-sandbox --store "$db" "$work/proc/hi.tac"
[ "$rc" -eq 1 ] || fail "run on a newer store: exit $rc"
[ "$(pg_sql "$db" "SELECT count(*) FROM runs")" = 0 ] || fail "a run was written into a newer store"
t submit --store "$db" "$work/proc/hi.tac"
[ "$(pg_sql "$db" "SELECT count(*) FROM runs")" = 0 ] || fail "a submit wrote into a newer store"
note "3. a newer schema is refused by every command, nothing written; an empty store names tactus store migrate"

# 4. A lease stolen.
store=$(pg_new_db lease) || fail "createdb"
dbs+=("$store")
"$tactus" store migrate --store "$store" >/dev/null || fail "migrate"
export TACTUS_STORE=$store
python_exe=$(python3 -c "import sys; print(sys.executable)")
mkdir -p "$XDG_CONFIG_HOME/tactus" "$work/lines"
cat >"$XDG_CONFIG_HOME/tactus/config.yml" <<YML
host_tools:
  append_line:
    command: ["$python_exe", "$here/../durable/append.py", "$work/lines"]
    timeout: 20
YML
cp "$here/procs/lease.tac" "$work/proc/lease.tac"
run=$("$tactus" submit "$work/proc/lease.tac") || fail "submit"
"$tactus" worker --no-sandbox --lease 2 --poll 200 >"$work/wA.log" 2>&1 </dev/null &
a=$!
pids+=("$a")
for _ in $(seq 100); do grep -q "run $run (epoch 1): claimed" "$work/wA.log" && break; sleep 0.1; done
grep -q "claimed" "$work/wA.log" || fail "worker A did not claim the run"
# A worker whose clock is an hour ahead sees A's lease as live: it runs on the store's clock.
libfaketime=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
if [ -f "$libfaketime" ]; then
    # Preloaded here rather than through the faketime command, which would
    # stand between this script and the worker it signals.
    LD_PRELOAD=$libfaketime FAKETIME="+1h" "$tactus" worker --no-sandbox --lease 2 --poll 200 \
        >"$work/wF.log" 2>&1 </dev/null &
    f=$!
    pids+=("$f")
    sleep 2.5
    kill -TERM "$f"
    wait "$f" 2>/dev/null
    grep -q "claimed" "$work/wF.log" && fail "a worker whose clock is an hour ahead took a live lease"
    note "4a. a worker whose clock is an hour ahead (faketime) did not take the live lease"
else
    note "4a. skipped: libfaketime is not installed (faketime; scripts/install-deps.sh installs it)"
fi
# A stops mid-run (its clock stands still) for three leases.
sleep 0.5
kill -STOP "$a"
sleep 6.5
"$tactus" worker --no-sandbox --lease 2 --poll 200 --exit-when-idle >"$work/wB.log" 2>&1 </dev/null &
b=$!
pids+=("$b")
for _ in $(seq 300); do grep -q "run $run (epoch 2): done" "$work/wB.log" && break; sleep 0.1; done
grep -q "run $run (epoch 2): claimed, taken over" "$work/wB.log" || fail "worker B did not take the run over"
grep -q "run $run (epoch 2): done" "$work/wB.log" || fail "worker B did not complete the run"
kill -CONT "$a"
for _ in $(seq 100); do grep -q "lease lost\|was taken over\|not released" "$work/wA.log" && break; sleep 0.1; done
sleep 1
kill -TERM "$a"
wait "$a" 2>/dev/null
wait "$b" 2>/dev/null
grep -q "was taken over" "$work/wA.log" || fail "worker A did not say its lease was taken over"
t show "$run" --json
check=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
pos = [e["position"] for e in d["effects"]]
ok = d["status"] == "completed" and d["output"] == "done" and pos == [0, 1, 2] and d["seals"] == "ok"
print("ok" if ok else "status %s output %s positions %s seals %s" % (d["status"], d["output"], pos, d["seals"]))' "$work/out")
[ "$check" = ok ] || fail "after the takeover: $check"
[ "$(pg_sql "$store" "SELECT state || ' ' || epoch FROM run_queue WHERE run_id = '$run'")" = "done 2" ] ||
    fail "the queue entry: $(pg_sql "$store" "SELECT state, epoch, worker FROM run_queue")"
note "4b. a lease stolen: B took the run over at epoch 2 and completed it; A, continued, wrote nothing ($(grep -o 'the lease on run [^;]*' "$work/wA.log" | head -1))"
note "ok"
