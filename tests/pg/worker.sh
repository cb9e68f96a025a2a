#!/usr/bin/env bash
# The run queue and its workers on PostgreSQL (issue #21, docs/scaling.md):
#   1. tenancy: `tactus submit --tenant acme` prints the run's id; the queue,
#      the runs and a worker of another tenant see nothing of it;
#   2. LISTEN/NOTIFY: a worker polling once a minute claims a submitted run
#      at once, gives it back when it waits for a person (parked), and takes
#      it again as soon as `tactus approve` (another process) answers;
#   3. SIGTERM drains: the running run finishes within the grace period, the
#      queued one is not claimed, the worker exits 0;
#   4. a grace period that runs out: the call in flight is cut and the run
#      handed back; another worker resumes it by replay (the idempotent
#      host tool, asked again with the same key, appends its line once);
#   5. `tactus queue cancel`: only the run's tenant can; a worker never runs it.
#   worker.sh TACTUS
set -u
tactus=${1:?usage: worker.sh TACTUS}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
pg_test_init pgworker
on_cleanup() { rm -f "$work/lines/hold"; }
fail() {
    echo "pg/worker: FAIL: $*" >&2
    for f in "$work"/*.log "$work/err"; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; grep -v "^\[SANDBOX\]" "$f" | tail -n 20 >&2; }; done
    exit 1
}
note() { echo "pg/worker: $*"; }
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/data NO_COLOR=1
unset TACTUS_STORE TACTUS_TENANT
mkdir -p "$HOME" "$XDG_CONFIG_HOME/tactus" "$work/lines" "$work/proc"
python_exe=$(python3 -c "import sys; print(sys.executable)")
cat >"$XDG_CONFIG_HOME/tactus/config.yml" <<YML
host_tools:
  append_line:
    command: ["$python_exe", "$here/../durable/append.py", "$work/lines"]
    timeout: 30
YML
cp "$here/../durable/procs/gate.tac" "$here/procs/drain.tac" "$work/proc/"
store=$(pg_new_db worker) || fail "createdb"
dbs+=("$store")
"$tactus" store migrate --store "$store" >/dev/null || fail "tactus store migrate"
export TACTUS_STORE=$store
# state RUN [TENANT]: the run's queue state ("" when the tenant's queue lacks it)
state() {
    "$tactus" queue --json --tenant "${2:-acme}" | python3 -c 'import json, sys
print(next((q["state"] for q in json.load(sys.stdin) if q["run_id"] == sys.argv[1]), ""))' "$1"
}
# wait_state RUN STATE SECONDS: polls the queue; sets waited (seconds, 0.1 s steps)
wait_state() {
    waited=0
    for i in $(seq $(($3 * 10))); do
        [ "$(state "$1")" = "$2" ] && { waited=$(awk -v i="$i" 'BEGIN {printf "%.1f", i / 10}'); return 0; }
        sleep 0.1
    done
    return 1
}
worker() { # worker LOG ARGS...: starts a worker, its pid in $wpid
    local log=$1
    shift
    "$tactus" worker --no-sandbox "$@" >>"$work/$log" 2>&1 </dev/null &
    wpid=$!
    pids+=("$wpid")
}
run_field() { # run_field RUN FIELD: from tactus show --json (tenant acme)
    "$tactus" show "$1" --json --tenant acme | python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps(d[sys.argv[1]], sort_keys=True))' "$2"
}

# 1. Tenancy.
run=$("$tactus" submit --tenant acme "$work/proc/gate.tac" --input release=2.0 2>"$work/err") || fail "submit"
[[ "$run" =~ ^run-[0-9a-f]{16}$ ]] || fail "submit printed '$run', expected a run id"
[ "$(state "$run")" = ready ] || fail "the submitted run is not ready in acme's queue: '$(state "$run")'"
[ -z "$(state "$run" other)" ] || fail "tenant other's queue lists acme's run"
"$tactus" runs --tenant other --json | grep -qF "$run" && fail "tenant other's runs list acme's run"
"$tactus" show "$run" --tenant other >/dev/null 2>&1 && fail "tenant other can show acme's run"
worker other.log --tenant other --exit-when-idle --poll 100
wait "$wpid" || fail "a worker of tenant other: exit $?"
grep -q "claimed" "$work/other.log" && fail "a worker of tenant other claimed acme's run"
[ "$(state "$run")" = ready ] || fail "after tenant other's worker: '$(state "$run")'"
note "1. submit printed $run; tenant other's queue, runs, show and worker see nothing of it"

# 2. LISTEN/NOTIFY: polling once a minute, so only a notification wakes the worker in time.
worker notify.log --tenant acme --poll 60000
w=$wpid
wait_state "$run" parked 20 || fail "the run was not parked at its approval: '$(state "$run")'"
grep -q "woken by LISTEN/NOTIFY" "$work/notify.log" || fail "the worker does not listen"
run2=$("$tactus" submit --tenant acme "$work/proc/gate.tac" --input release=3.0) || fail "submit 2"
wait_state "$run2" parked 10 || fail "a run submitted while the worker sleeps (poll 60 s) was not claimed within 10 s: '$(state "$run2")'"
claim_s=$waited
"$tactus" approvals --json --tenant acme | grep -qF "\"$run.1\"" || fail "no pending approval $run.1"
"$tactus" approve "$run" 1 --tenant acme --as tester >/dev/null || fail "approve"
wait_state "$run" done 10 || fail "the approval did not wake the worker within 10 s (poll 60 s): '$(state "$run")'"
answer_s=$waited
[ "$(run_field "$run" output)" = '{"approved": true, "path": "approved"}' ] || fail "output: $(run_field "$run" output)"
"$tactus" approve "$run2" 1 --deny --tenant acme >/dev/null || fail "deny run 2"
wait_state "$run2" done 10 || fail "the denial did not wake the worker: '$(state "$run2")'"
[ "$(run_field "$run2" output)" = '{"approved": false, "path": "denied"}' ] || fail "run 2 output: $(run_field "$run2" output)"
kill -TERM "$w"
wait "$w" || fail "the worker did not drain cleanly: exit $?"
grep -q "run $run (epoch 1): parked for a person" "$work/notify.log" || fail "the worker did not log the parked run"
note "2. LISTEN/NOTIFY (poll 60 s): a submitted run claimed in ${claim_s} s, an approval answered by another process resumed in ${answer_s} s"

# 3. SIGTERM drains: the running run finishes, the queued one waits.
echo 0 >"$work/lines/hold"
d1=$("$tactus" submit --tenant acme "$work/proc/drain.tac" --input name=d1) || fail "submit d1"
d2=$("$tactus" submit --tenant acme "$work/proc/drain.tac" --input name=d2) || fail "submit d2"
worker drain.log --tenant acme --poll 100 --grace 20
w=$wpid
for _ in $(seq 200); do [ -f "$work/lines/held-0" ] && break; sleep 0.1; done
[ -f "$work/lines/held-0" ] || fail "the first run did not reach its held tool call"
kill -TERM "$w"
for _ in $(seq 50); do grep -q "draining" "$work/drain.log" && break; sleep 0.1; done
grep -q "draining (signal 15): no new claims; 1 running run" "$work/drain.log" || fail "the worker did not say it drains"
rm -f "$work/lines/hold"
wait "$w" || fail "the draining worker: exit $?"
first=$(grep -oE "run ($d1|$d2) \(epoch 1\): claimed" "$work/drain.log" | head -1 | cut -d' ' -f2)
other=$d2
[ "$first" = "$d2" ] && other=$d1
[ "$(state "$first")" = done ] || fail "the running run did not finish within the grace period: '$(state "$first")'"
[ "$(state "$other")" = ready ] || fail "the queued run was claimed while draining: '$(state "$other")'"
grep -q "drained; 1 run completed" "$work/drain.log" || fail "the worker did not report its drain"
note "3. SIGTERM: the running run finished within the grace period, the queued one stayed ready, exit 0"

# 4. The grace period runs out: the run is handed back, then resumed by replay elsewhere.
rm -f "$work/lines/held-0"
echo 0 >"$work/lines/hold"
worker grace.log --tenant acme --poll 100 --grace 1
w=$wpid
for _ in $(seq 200); do [ -f "$work/lines/held-0" ] && break; sleep 0.1; done
[ -f "$work/lines/held-0" ] || fail "the queued run did not reach its held tool call"
# The call in flight is cut at the end of the grace period (docs/durability.md,
# "Stopping a worker"; tests/durable/drain-cut.sh has the details): the
# worker does not wait for it.
start=$SECONDS
kill -TERM "$w"
wait "$w" || fail "the worker whose grace ran out: exit $?"
[ $((SECONDS - start)) -le 3 ] || fail "the worker took $((SECONDS - start)) s to stop with --grace 1 (its call in flight was not cut)"
rm -f "$work/lines/hold"
grep -q "run $other (epoch 1): handed back" "$work/grace.log" || fail "the run was not handed back"
[ "$(state "$other")" = ready ] || fail "after the hand-back: '$(state "$other")'"
[ "$(wc -l <"$work/lines/$other.txt")" -eq 1 ] || fail "the stopped run went on past its first effect"
worker resume.log --tenant acme --poll 100 --exit-when-idle
wait "$wpid" || fail "the second worker: exit $?"
grep -q "run $other (epoch 2): done" "$work/resume.log" || fail "the handed-back run was not resumed at epoch 2"
out=$(run_field "$other" output)
case "$out" in '"d1 done"' | '"d2 done"') ;; *) fail "the resumed run's output: $out" ;; esac
[ "$(run_field "$other" seals)" = '"ok"' ] || fail "the resumed run's seals: $(run_field "$other" seals)"
lines=$(wc -l <"$work/lines/$other.txt")
[ "$lines" -eq 2 ] || fail "the resumed run's host tool file holds $lines lines (a key twice?): $(cat "$work/lines/$other.txt")"
note "4. --grace 1: the call in flight was cut, the run handed back; another worker resumed it (epoch 2), each tool key once"

# 5. Cancel.
c=$("$tactus" submit --tenant acme "$work/proc/drain.tac" --input name=c) || fail "submit c"
"$tactus" queue cancel "$c" --tenant other >/dev/null 2>"$work/err" && fail "tenant other cancelled acme's run"
[ "$(state "$c")" = ready ] || fail "after tenant other's cancel: '$(state "$c")'"
"$tactus" queue cancel "$c" --tenant acme >/dev/null 2>"$work/err" || fail "cancel: $(cat "$work/err")"
[ "$(state "$c")" = cancelled ] || fail "after cancel: '$(state "$c")'"
worker cancel.log --tenant acme --poll 100 --exit-when-idle
wait "$wpid" || fail "a worker after the cancel: exit $?"
grep -q "claimed" "$work/cancel.log" && fail "a worker claimed a cancelled run"
[ -e "$work/lines/$c.txt" ] && fail "a cancelled run's tool ran"
[ "$(run_field "$c" status)" = '"failed"' ] || fail "a cancelled run's status: $(run_field "$c" status)"
note "5. cancel: refused to tenant other; the run is cancelled (failed) and no worker runs it"
note "ok"
