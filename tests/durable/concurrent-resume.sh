#!/usr/bin/env bash
# Durable test: several `tactus resume RUN` of the same run at once (two
# people pressing the button, a retrying scheduler). The effect after the
# answer is a host tool that is NOT idempotent (it counts its calls and
# sleeps 0.3 s): it must run once in all, and the run must end completed
# (the processes that lose the race refuse or wait; none may record the run
# as failed after another completed it). 5 rounds of 3 concurrent resumes.
#   concurrent-resume.sh TACTUS
source "$(dirname "$0")/lib.sh"
setup_proc concurrent
cat >>"$work/proc/.tactus/config.yml" <<YML
  count:
    command: ["/bin/sh", "-c", "cat >/dev/null; sleep 0.3; echo call >>'$work/count.txt'; echo '{\"ok\": true}'"]
    timeout: 10
YML
trust_proc
for round in 1 2 3 4 5; do
    rm -f "$work/count.txt"
    t run --json --no-sandbox "$proc"
    expect_rc 3 "round $round: run"
    run=$(jv 'd["run_id"]')
    t approve "$run" 0
    expect_rc 0 "round $round: approve"
    pids=()
    for k in 1 2 3; do
        "$tactus" resume "$run" --no-sandbox --json --store "$store" >"$work/r$k.out" 2>&1 </dev/null &
        pids+=($!)
    done
    codes=()
    for p in "${pids[@]}"; do
        wait "$p"
        codes+=($?)
    done
    calls=$(wc -l <"$work/count.txt" 2>/dev/null || echo 0)
    [ "$calls" -eq 1 ] || fail "round $round: the tool ran $calls times for one effect (resume exits: ${codes[*]}):
$(cat "$work"/r*.out)"
    t show "$run" --json
    check 'd["status"] == "completed" and d["output"] == "done"' \
        "round $round: the run ends completed (resume exits: ${codes[*]})"
done
note "ok"
