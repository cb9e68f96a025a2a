"""over_test.py - requests that are over (over.sh): a cancelled run's request,
a request past its deadline. Neither may be answered, by the API or by
`tactus approve`; a late answer must not override the declared default.

    python3 over_test.py URL OPENAPI CONFIG.json TACTUS
"""
import json
import subprocess
import sys
import time

from client import Checks, Api, wait_for

url, openapi, cfg_path, tactus = sys.argv[1:5]
tok = json.load(open(cfg_path))["tokens"]
api = Api(url, openapi)
expect = Checks()


def pending():
    return api.call("GET", "/v1/approvals", tok["approver"])[1]["approvals"]


def work_until_idle():
    """A worker that takes what is ready and goes when nothing is: no
    worker is left to apply a timeout while the test answers late."""
    p = subprocess.run([tactus, "worker", "--no-sandbox", "--tenant", "acme", "--poll", "100",
                        "--exit-when-idle"], capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, f"tactus worker --exit-when-idle: exit {p.returncode}: {p.stderr[-2000:]}")


def parked(procedure):
    s, d = api.call("POST", "/v1/runs", tok["submitter"], {"procedure": procedure})
    expect(s == 201, f"submit {procedure}: {s} {d}")
    run = d["run_id"]
    work_until_idle()
    q = wait_for(f"the request of {procedure}", lambda: [x for x in pending() if x["run_id"] == run])[0]
    return run, q


def approve_cli(run, request):
    p = subprocess.run([tactus, "approve", run, request, "--tenant", "acme", "--as", "cli"],
                       capture_output=True, text=True)
    return p.returncode, p.stderr


# ---- a cancelled run's request ----------------------------------------------------------------
run, q = parked("gate.tac")
s, d = api.call("POST", f"/v1/runs/{run}/cancel", tok["submitter"])
expect(s == 200, f"cancel: {s} {d}")
expect(not [x for x in pending() if x["run_id"] == run], "a cancelled run's request is no longer listed")
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", tok["approver"],
                {"approved": True, "request_hash": q["request_hash"]})
expect(s == 409 and d["code"] == "run_finished", f"answering a cancelled run's request: {s} {d}")
rc, err = approve_cli(run, q["request_id"])
expect(rc != 0 and "finished" in err, f"tactus approve on a cancelled run's request: exit {rc}: {err}")
s, d = api.call("GET", f"/v1/approvals/{q['request_id']}", tok["approver"])
expect(s == 200 and d["status"] == "pending" and d["answered_by"] is None,
       f"nothing was recorded as its answer: {d.get('status')} {d.get('answered_by')}")
s, d = api.call("GET", f"/v1/runs/{run}", tok["approver"])
expect(d["status"] == "failed", f"the run stays cancelled: {d['status']}")

# ---- a request past its deadline --------------------------------------------------------------
run, q = parked("late.tac")
time.sleep(max(0.0, (q["deadline_ms"] / 1000.0) - time.time()) + 0.3)
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", tok["approver"],
                {"approved": True, "request_hash": q["request_hash"]})
expect(s == 409 and d["code"] == "request_timed_out", f"a late answer: {s} {d}")
rc, err = approve_cli(run, q["request_id"])
expect(rc != 0 and "timed out" in err, f"tactus approve after the deadline: exit {rc}: {err}")
work_until_idle()
done = wait_for("the run to finish with its default",
                lambda: (lambda r: r if r["status"] in ("completed", "failed") else None)(
                    api.call("GET", f"/v1/runs/{run}", tok["approver"])[1]), timeout=60)
expect(done["status"] == "completed" and done["output"] == {"approved": False},
       f"the run took the declared default, not the late answer: {done['status']} {done['output']}")
print(f"over: {expect.n} checks passed")
