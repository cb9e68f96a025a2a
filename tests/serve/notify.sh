#!/usr/bin/env bash
# Notifications: a new pending request is POSTed as JSON to the configured
# webhook, retried with backoff when it fails, once it succeeds not again;
# a request pending before the server started is not announced.
#   notify.sh TACTUS
source "$(dirname "$0")/lib.sh"
submitter=$(token acme submitter ci)
approver=$(token acme approver alice)
start_worker acme
# pending before the server starts
"$tactus" submit --tenant acme --store "$store" "$work/procs/gate.tac" --input release=0.1 >/dev/null || fail "tactus submit"
for _ in $(seq 1 100); do
    "$tactus" approvals --tenant acme --store "$store" --json | grep -q 'Ship release 0.1' && break
    sleep 0.1
done
# hook: fails once, then answers; hang: never answers; other: only tenant other's requests
for h in hook:1 hang:-1 other:0; do
    python3 "$here/hook_receiver.py" "$work/${h%%:*}.port" "$work/${h%%:*}.log" "${h#*:}" &
    pids+=($!)
done
for h in hook hang other; do
    for _ in $(seq 1 50); do [ -s "$work/$h.port" ] && break; sleep 0.1; done
done
# the webhooks from the user's own configuration (trusted), not the command line
mkdir -p "$XDG_CONFIG_HOME/tactus"
printf 'serve:\n  webhooks:\n    - "http://127.0.0.1:%s/hook"\n    - "http://127.0.0.1:%s/hang"\n    - {url: "http://127.0.0.1:%s/other", tenants: [other]}\n  public_url: https://inbox.example\n' \
    "$(cat "$work/hook.port")" "$(cat "$work/hang.port")" "$(cat "$work/other.port")" >"$XDG_CONFIG_HOME/tactus/config.yml"
start_server -v
# the notifier's first look: what is pending now was there before
for _ in $(seq 1 200); do grep -q "pending at the start" "$work/serve.err" && break; sleep 0.05; done
grep -q "1 request(s) pending at the start" "$work/serve.err" || fail "the notifier's first look: $(cat "$work/serve.err")"
submitted=$(date +%s.%N)
curl -s -f -H "Authorization: Bearer $submitter" -H 'Content-Type: application/json' \
    -d '{"procedure": "gate.tac", "inputs": {"release": "7.7"}}' "$url/v1/runs" >"$work/submit.json" ||
    fail "submit"
run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$work/submit.json")
for _ in $(seq 1 100); do
    grep -q '"status": 200' "$work/hook.log" 2>/dev/null && break
    sleep 0.1
done
sleep 2.5 # room for a duplicate, if one were sent
python3 - "$work/hook.log" "$run" "$submitted" "$work/other.log" "$work/hang.log" <<'PY' || fail "the notifications: $(cat "$work/hook.log" 2>/dev/null)"
import json, os, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
run, submitted, other_log, hang_log = sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
assert not os.path.exists(other_log), "a webhook of tenant other only was sent acme's request"
assert os.path.exists(hang_log), "the hanging webhook was sent the request too"
# the hanging webhook (5 s per attempt) does not hold the other back: one
# failure, a 1 s backoff, the retry, within a second of the worker parking the run
assert posts[1]["time"] - submitted < 4.0, f"the healthy webhook waited {posts[1]['time'] - submitted:.1f} s"
assert len(posts) == 2, f"one failed attempt and one retry, no more: {len(posts)} posts"
assert posts[0]["status"] == 500 and posts[1]["status"] == 200, [p["status"] for p in posts]
assert posts[1]["time"] - posts[0]["time"] >= 0.9, "the retry waits (backoff)"
assert posts[0]["body"] == posts[1]["body"], "the retry sends the same notification"
d = json.loads(posts[1]["body"])
assert posts[1]["type"] == "application/json"
assert d["event"] == "approval.pending" and d["tenant"] == "acme" and d["kind"] == "approve", d
assert d["run_id"] == run and d["request_id"] == run + ".1", d
assert d["message"] == "Ship release 7.7?", d
assert d["url"] == "https://inbox.example/ui/approvals/" + run + ".1", d
# (by its message: the old run's id is random hex, which may contain "0.1")
assert all(json.loads(p["body"])["run_id"] == run for p in posts), "a request pending before the start is not announced"
assert "Ship release 0.1?" not in "".join(p["body"] for p in posts), "a request pending before the start is not announced"
print("notify: 1 notification, retried once after a 500, with the request's link")
PY
