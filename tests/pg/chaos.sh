#!/usr/bin/env bash
# Chaos: RUNS runs of procs/chaos.tac (five journaled effects: two model
# calls through the loopback provider, two calls of a host tool that appends
# its idempotency key to a file, one Human.approve answered by a script while
# the run is parked) on 3 workers of one PostgreSQL store; for SECONDS
# seconds a random worker is killed with SIGKILL every ~0.5 s and started
# again, and PostgreSQL itself is restarted (immediate stop: a crash) once
# in the middle. Then every invariant is checked:
#   - every run completed, with the output its input determines; none stuck
#     or lost (all RUNS are done in the queue);
#   - each model call billed once at the provider: one Idempotency-Key per
#     call (RUN.POSITION), exactly 2 x RUNS keys; a key sent more than once
#     only for a run that was taken over (a call in flight at a kill);
#   - each host tool key in the file at least once, a duplicate only for a
#     run that was taken over;
#   - the journal: positions 0..4 for every run, no gap, no duplicate; the
#     seals of every run hold (tactus show --json).
# Bounded: the kills stop after SECONDS, the runs must then finish within
# 240 s, and the test stops by itself.
#   chaos.sh TACTUS FAKE_OPENAI_PY [RUNS SECONDS]     (ctest: pg_chaos, pg_chaos_full)
set -u
tactus=${1:?usage: chaos.sh TACTUS FAKE_OPENAI_PY [RUNS SECONDS]}
fake=${2:?usage: chaos.sh TACTUS FAKE_OPENAI_PY [RUNS SECONDS]}
runs=${3:-200}
seconds=${4:-60}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-chaos.XXXXXX")
chmod 755 "$work"
srv_pid=
pids=()
approver=
store=
cleanup() {
    [ -n "$approver" ] && kill "$approver" 2>/dev/null
    for p in "${pids[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
    wait 2>/dev/null
    [ -n "$store" ] && pg_drop_db "$store"
    rm -rf "$work"
}
trap cleanup EXIT
fail() {
    echo "pg/chaos: FAIL: $*" >&2
    for f in "$work"/w*.log; do [ -f "$f" ] && { echo "--- ${f##*/} (last lines):" >&2; tail -n 15 "$f" >&2; }; done
    exit 1
}
note() { echo "pg/chaos: $*"; }
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/data NO_COLOR=1
unset OPENAI_API_KEY OPENAI_BASE_URL TACTUS_TENANT TACTUS_STORE
mkdir -p "$HOME" "$XDG_CONFIG_HOME/tactus" "$work/proc"
source "$here/../integration/fake_openai.sh"
start_fake_openai "$fake" "$work" || fail "the loopback provider did not start"
python_exe=$(python3 -c "import sys; print(sys.executable)")
cat >"$XDG_CONFIG_HOME/tactus/config.yml" <<YML
providers:
  fake:
    base_url: http://127.0.0.1:$port/v1
host_tools:
  append_key:
    command: ["$python_exe", "$here/append_key.py", "$work/keys.txt"]
    timeout: 20
YML
cp "$here/procs/chaos.tac" "$work/proc/chaos.tac"
store=$(pg_new_db chaos) || fail "cannot make a database"
"$tactus" store migrate --store "$store" >/dev/null || fail "tactus store migrate"
export TACTUS_STORE=$store

# The runs: queued before the workers start, so the kills land mid-run.
for n in $(seq 1 "$runs"); do
    "$tactus" submit "$work/proc/chaos.tac" --input "n=$n" >>"$work/ids" 2>"$work/submit.err" ||
        fail "submit $n: $(cat "$work/submit.err")"
done
note "$runs runs queued"

start_worker() {
    "$tactus" worker --no-sandbox --concurrency 2 --lease 2 --poll 250 --grace 5 \
        >>"$work/w$1.log" 2>&1 </dev/null &
    pids[$1]=$!
}
for i in 0 1 2; do start_worker "$i"; done

# The person: answers every pending approval, again and again.
(
    while :; do
        "$tactus" approvals --json 2>/dev/null | python3 -c '
import json, sys
try:
    for r in json.load(sys.stdin):
        print(r["run_id"], r["request_id"])
except Exception:
    pass' | while read -r run req; do
            "$tactus" approve "$run" "$req" --as chaos-script >/dev/null 2>&1
        done
        sleep 0.3
    done
) &
approver=$!

# The chaos: a random worker killed every ~0.5 s and restarted; one
# PostgreSQL crash-restart in the middle.
kills=0
end=$((SECONDS + seconds))
restarted=no
while [ "$SECONDS" -lt "$end" ]; do
    sleep 0.$((4 + RANDOM % 3))
    i=$((RANDOM % 3))
    kill -9 "${pids[$i]}" 2>/dev/null && kills=$((kills + 1))
    wait "${pids[$i]}" 2>/dev/null
    start_worker "$i"
    if [ "$restarted" = no ] && [ "$SECONDS" -ge $((end - seconds / 2)) ]; then
        bash "$here/server.sh" restart "$TACTUS_PG_FIXTURE" || fail "PostgreSQL did not restart"
        restarted=yes
        note "PostgreSQL crashed and restarted at $((seconds - end + SECONDS)) s"
    fi
done
note "$kills workers killed with SIGKILL in $seconds s"

# Then the runs must finish, undisturbed, within a bound.
deadline=$((SECONDS + 240))
while :; do
    left=$(pg_sql "$store" "SELECT count(*) FROM run_queue WHERE state <> 'done'") || left=?
    [ "$left" = 0 ] && break
    [ "$SECONDS" -ge "$deadline" ] && fail "$left runs not done 240 s after the chaos stopped: $(pg_sql "$store" "SELECT state, count(*) FROM run_queue GROUP BY state")"
    sleep 1
done
kill "$approver" 2>/dev/null
approver=
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
pids=()
note "all runs done"

pg_sql "$store" "SELECT r.id, r.status, COALESCE(r.output, 'null'), r.inputs, q.resumed FROM runs r JOIN run_queue q ON q.run_id = r.id" >"$work/runs.txt" || fail "read runs"
pg_sql "$store" "SELECT run_id, count(*), min(position), max(position), count(DISTINCT position) FROM effects GROUP BY run_id" >"$work/effects.txt" || fail "read effects"
python3 - "$work" "$runs" <<'PY' || fail "an invariant does not hold (above)"
import collections, json, sys
work, runs = sys.argv[1], int(sys.argv[2])
bad = []
attempts, expected = {}, {}
for line in open(f"{work}/runs.txt"):
    rid, status, output, inputs, att = line.rstrip("\n").split("|")
    attempts[rid] = int(att)  # times the run was taken over unfinished
    n = json.loads(inputs)["n"]
    want = {"n": n, "first": f"first {n:g}", "second": f"second {n:g}", "approved": True}
    out = json.loads(output)
    if status != "completed" or out != want:
        bad.append(f"run {rid}: {status}, output {out}, expected {want}")
if len(attempts) != runs:
    bad.append(f"{len(attempts)} runs in the store, {runs} submitted")
# The journal: positions 0..4, no gap, no duplicate.
for line in open(f"{work}/effects.txt"):
    rid, count, lo, hi, distinct = line.rstrip("\n").split("|")
    if (int(count), int(lo), int(hi), int(distinct)) != (5, 0, 4, 5):
        bad.append(f"run {rid}: effects count {count}, positions {lo}..{hi}, {distinct} distinct")
# Model calls: one Idempotency-Key per call, each billed once.
sent = collections.Counter()
for line in open(f"{work}/requests.jsonl"):
    r = json.loads(line)
    key = (r.get("headers") or {}).get("idempotency-key")
    if not key:
        bad.append("a model request without an Idempotency-Key")
        continue
    sent[key] += 1
model_keys = {f"{rid}.{p}" for rid in attempts for p in (0, 3)}
if set(sent) != model_keys:
    bad.append(f"model keys: {len(set(sent) - model_keys)} unexpected, {len(model_keys - set(sent))} missing")
resent = [k for k, c in sent.items() if c > 1]
for k in resent:
    if attempts.get(k.rsplit(".", 1)[0], 0) < 1:
        bad.append(f"model call {k} sent {sent[k]} times, but its run was never taken over")
# Host tool keys: each at least once; a duplicate only in a run taken over.
keys = collections.Counter(open(f"{work}/keys.txt").read().split())
tool_keys = {f"{rid}.{p}" for rid in attempts for p in (1, 4)}
missing = tool_keys - set(keys)
if missing:
    bad.append(f"{len(missing)} host tool keys missing, e.g. {sorted(missing)[:3]}")
if set(keys) - tool_keys:
    bad.append(f"unexpected host tool keys {sorted(set(keys) - tool_keys)[:3]}")
dups = [k for k, c in keys.items() if c > 1]
for k in dups:
    if attempts.get(k.rsplit(".", 1)[0], 0) < 1:
        bad.append(f"host tool key {k} appended {keys[k]} times, but its run was never taken over")
taken = sum(1 for a in attempts.values() if a > 0)
print(f"pg/chaos: {runs} runs completed with the right output; {taken} taken over by another "
      f"worker (at most {max(attempts.values())} times); model calls: {len(sent)} billed once "
      f"({sum(sent.values())} requests: {len(resent)} re-sent in flight with the same key); host tool: "
      f"{len(keys)} keys ({len(dups)} appended twice, each in a run taken over); journal: no gap, no duplicate")
for b in bad[:20]:
    print("pg/chaos: FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
# Seals: every run's journal verifies.
unsealed=0
while read -r rid; do
    s=$("$tactus" show "$rid" --json 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["seals"])')
    [ "$s" = ok ] || { unsealed=$((unsealed + 1)); echo "pg/chaos: run $rid: seals: $s" >&2; }
done <"$work/ids"
[ "$unsealed" -eq 0 ] || fail "$unsealed runs whose seals do not hold"
note "ok: seals of all $runs runs hold; $kills kills, one PostgreSQL restart"
