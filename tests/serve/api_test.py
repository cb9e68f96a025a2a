"""api_test.py - every endpoint of tactus serve's API with every role,
against the real server and a real worker (api.sh starts them):
cross-tenant access is 404, a stale or missing request_hash is refused,
a second answer is refused, and every response is valid against the
OpenAPI file.

    python3 api_test.py URL OPENAPI TOKENS.json
"""
import json
import sys

from client import Checks, Api, wait_for

url, openapi, tokens_file = sys.argv[1:4]
api = Api(url, openapi)
with open(tokens_file) as f:
    tok = json.load(f)
acme = {r: tok["acme_" + r] for r in ("viewer", "submitter", "approver", "admin")}
other = tok["other_admin"]
revoked = tok["revoked"]
expect = Checks()


def status_of(run_id, token=acme["viewer"]):
    s, d = api.call("GET", f"/v1/runs/{run_id}", token)
    expect(s == 200, f"GET run {run_id}: {s} {d}")
    return d


def submit(procedure, inputs=None, token=acme["submitter"]):
    s, d = api.call("POST", "/v1/runs", token, {"procedure": procedure, "inputs": inputs or {}})
    expect(s == 201, f"submit {procedure}: {s} {d}")
    # queued, or already claimed by the worker (it listens for submissions)
    expect(d["status"] in ("queued", "running"), f"a submitted run is queued: {d}")
    return d["run_id"]


def pending_of(run_id, token=acme["viewer"]):
    s, d = api.call("GET", "/v1/approvals", token)
    expect(s == 200, f"GET approvals: {s}")
    return [q for q in d["approvals"] if q["run_id"] == run_id]


# ---- authentication -------------------------------------------------------------------
s, d = api.call("GET", "/v1/openapi.json")
expect(s == 200 and d["openapi"] == "3.1.0", "the OpenAPI file is served")
for method, path in [("GET", "/v1/runs"), ("POST", "/v1/runs"), ("GET", "/v1/runs/run-x"),
                     ("POST", "/v1/runs/run-x/cancel"), ("GET", "/v1/approvals"),
                     ("GET", "/v1/approvals/run-x.1"), ("POST", "/v1/approvals/run-x.1")]:
    for t in (None, "tct_0000000000000000_" + "0" * 64, revoked, "garbage"):
        s, d = api.call(method, path, t, {} if method == "POST" else None)
        expect(s == 401, f"{method} {path} with token {t!r:.20}: {s}, expected 401")

# ---- submit: who may ------------------------------------------------------------------
for role in ("viewer", "approver"):
    s, d = api.call("POST", "/v1/runs", acme[role], {"procedure": "gate.tac"})
    expect(s == 403, f"a {role} may not submit: {s}")
s, d = api.call("POST", "/v1/runs", acme["submitter"], {"procedure": "nope.tac"})
expect(s == 404, f"an unknown procedure: {s}")
s, d = api.call("POST", "/v1/runs", acme["submitter"], {"procedure": "/etc/passwd"})
expect(s == 404, f"a path outside the folder: {s}")
s, d = api.call("POST", "/v1/runs", acme["submitter"], {"procedure": "gate.tac", "inputs": {"bogus": 1}})
expect(s == 422 and d["code"] == "bad_inputs", f"an unknown input: {s} {d}")
s, d = api.call("POST", "/v1/runs", acme["submitter"], {"procedure": "gate.tac", "inputs": [1]})
expect(s == 422, f"inputs not an object: {s}")
s, d = api.call("POST", "/v1/runs", acme["submitter"], b"{not json", "application/json")
expect(s == 400 and d["code"] == "malformed_json", f"malformed JSON: {s} {d}")
s, d = api.call("POST", "/v1/runs", acme["submitter"], b"{}", "text/plain")
expect(s == 415, f"not JSON: {s}")

run = submit("gate.tac", {"release": "3.0"})
admin_run = submit("gate.tac", {"release": "3.1"}, acme["admin"])

# ---- reading, and other tenants -------------------------------------------------------
wait_for("the run to wait for a person", lambda: status_of(run)["status"] == "waiting")
for role, t in acme.items():
    s, d = api.call("GET", "/v1/runs", t)
    expect(s == 200 and run in [r["run_id"] for r in d["runs"]], f"a {role} lists the run")
s, d = api.call("GET", "/v1/runs?status=waiting", acme["viewer"])
expect(run in [r["run_id"] for r in d["runs"]] and all(r["status"] == "waiting" for r in d["runs"]),
       "?status=waiting")
s, d = api.call("GET", "/v1/runs?status=bogus", acme["viewer"])
expect(s == 400, f"?status=bogus: {s}")
s, d = api.call("GET", "/v1/runs?limit=1", acme["viewer"])
expect(s == 200 and len(d["runs"]) == 1, "?limit=1")
s, d = api.call("GET", "/v1/runs", other)
expect(s == 200 and run not in [r["run_id"] for r in d["runs"]], "another tenant does not list the run")
s, d = api.call("GET", f"/v1/runs/{run}", other)
expect(s == 404, f"another tenant reads the run: {s}")
s, d = api.call("POST", f"/v1/runs/{run}/cancel", other)
expect(s == 404, f"another tenant cancels the run: {s}")
expect(status_of(run)["status"] == "waiting", "the run is untouched by the other tenant")

reqs = pending_of(run)
expect(len(reqs) == 1 and reqs[0]["kind"] == "approve", f"one pending approval: {reqs}")
rid, rhash = reqs[0]["request_id"], reqs[0]["request_hash"]
s, d = api.call("GET", f"/v1/approvals/{rid}", acme["viewer"])
expect(s == 200 and d["request_hash"] == rhash and d["message"] == "Ship release 3.0?", "GET approval")
expect(d["run"]["inputs"] == {"release": "3.0"} and d["run"]["procedure"] == "gate.tac",
       "the request shows its run's procedure and inputs")
s, d2 = api.call("GET", f"/v1/runs/{d['run_id']}", acme["viewer"])
expect(s == 200 and d2["procedure"] == "gate.tac", f"a run names its procedure's file, not the host's folders: {d2.get('procedure')}")
expect(d["request"]["timeout"] == 3600 and d["default"] is False, "the timeout and its default")
s, d = api.call("GET", "/v1/approvals", other)
expect(s == 200 and rid not in [q["request_id"] for q in d["approvals"]], "another tenant sees no request")
s, d = api.call("GET", f"/v1/approvals/{rid}", other)
expect(s == 404, f"another tenant reads the request: {s}")

# ---- answering: who may, and what ----------------------------------------------------
for role in ("viewer", "submitter"):
    s, d = api.call("POST", f"/v1/approvals/{rid}", acme[role], {"approved": True, "request_hash": rhash})
    expect(s == 403, f"a {role} may not answer: {s}")
s, d = api.call("POST", f"/v1/approvals/{rid}", other, {"approved": True, "request_hash": rhash})
expect(s == 404, f"another tenant's admin answers: {s}, expected 404")
s, d = api.call("POST", f"/v1/approvals/{rid}", acme["approver"], {"approved": True})
expect(s == 422 and d["code"] == "request_hash_missing", f"no request_hash: {s} {d}")
s, d = api.call("POST", f"/v1/approvals/{rid}", acme["approver"], {"approved": True, "request_hash": "0" * 64})
expect(s == 409 and d["code"] == "stale_request_hash", f"a stale request_hash: {s} {d}")
s, d = api.call("POST", f"/v1/approvals/{rid}", acme["approver"], {"value": "yes", "request_hash": rhash})
expect(s == 422, f"a value for an approval: {s}")
s, d = api.call("POST", f"/v1/approvals/{rid}", acme["approver"], b"[", "application/json")
expect(s == 400, f"malformed JSON: {s}")
expect(pending_of(run)[0]["status"] == "pending", "nothing refused was recorded")
s, d = api.call("POST", f"/v1/approvals/{rid}", acme["approver"], {"approved": True, "request_hash": rhash})
expect(s == 200 and d["status"] == "answered" and d["answer"] is True, f"the answer: {s} {d}")
expect(d["answered_by"] == "alice", f"the answer records the token's person: {d['answered_by']}")
s, d = api.call("POST", f"/v1/approvals/{rid}", acme["approver"], {"approved": False, "request_hash": rhash})
expect(s == 409 and d["code"] == "already_answered", f"a second answer: {s} {d}")

# the run resumes on a worker and finishes; its events say so
ev = api.events(f"/v1/runs/{run}/events", acme["viewer"], lambda n, d: n == "result")
expect(ev and ev[-1][0] == "result" and ev[-1][1]["output"] == {"path": "approved", "approved": True},
       f"the run's events end with its result: {ev[-1:] if ev else ev}")
names = [n for n, _ in ev]
expect("tool_call" in names and "state" in names, f"tool calls and states are streamed: {names}")
d = status_of(run)
expect(d["status"] == "completed" and d["requests"][0]["answered_by"] == "alice", "completed, answered by alice")

# ---- the other kinds -------------------------------------------------------------------
kinds = submit("kinds.tac")
wait_for("the select", lambda: pending_of(kinds))
q = pending_of(kinds)[0]
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", acme["approver"],
                {"value": "blue", "request_hash": q["request_hash"]})
expect(s == 422 and d["code"] == "answer_does_not_fit", f"an answer outside the options: {s} {d}")
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", acme["approver"],
                {"approved": True, "request_hash": q["request_hash"]})
expect(s == 422, f"approved for a select: {s}")
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", acme["admin"],
                {"value": "red", "request_hash": q["request_hash"]})
expect(s == 200, f"an admin answers the select: {s} {d}")
wait_for("the input", lambda: [x for x in pending_of(kinds) if x["kind"] == "input"])
q = pending_of(kinds)[0]
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", acme["approver"],
                {"value": "Aurora", "request_hash": q["request_hash"]})
expect(s == 200, f"the input: {s} {d}")
wait_for("the review", lambda: [x for x in pending_of(kinds) if x["kind"] == "review"])
q = pending_of(kinds)[0]
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", acme["approver"],
                {"value": {"decision": "Approve", "edited_artifact": "final notes", "feedback": "ok"},
                 "request_hash": q["request_hash"]})
expect(s == 200, f"the review: {s} {d}")
d = wait_for("kinds to finish", lambda: (lambda r: r if r["status"] == "completed" else None)(status_of(kinds)))
expect(d["output"] == {"color": "red", "name": "Aurora", "decision": "Approve", "edited": "final notes"},
       f"every answer reached the procedure: {d['output']}")

# ---- a tool approval: the exact tool and arguments, run once approved ----------------------
dep = submit("deploy.tac", {"target": "staging"})
q = wait_for("the tool approval", lambda: pending_of(dep))[0]
expect(q["kind"] == "tool_approval", f"a tool approval: {q}")
s, d = api.call("GET", f"/v1/approvals/{q['request_id']}", acme["viewer"])
expect(d["request"]["name"] == "host.deploy" and d["request"]["args"] == {"line": "v2 to staging"},
       f"the exact tool and arguments: {d['request']}")
import os
expect(not os.path.exists(tok["deployed_file"]), "the tool has not run before the approval")
s, d = api.call("POST", f"/v1/approvals/{q['request_id']}", acme["approver"],
                {"approved": True, "request_hash": q["request_hash"]})
expect(s == 200, f"approve the tool: {s} {d}")
d = wait_for("deploy to finish", lambda: (lambda r: r if r["status"] == "completed" else None)(status_of(dep)))
expect(d["output"] == {"deployed": True}, f"deployed: {d['output']}")
expect(open(tok["deployed_file"]).read() == "v2 to staging\n", "the approved tool ran once, with those arguments")

# ---- cancel ----------------------------------------------------------------------------
s, d = api.call("POST", f"/v1/runs/{admin_run}/cancel", acme["viewer"])
expect(s == 403, f"a viewer may not cancel: {s}")
s, d = api.call("POST", f"/v1/runs/{admin_run}/cancel", acme["approver"])
expect(s == 403, f"an approver may not cancel: {s}")
s, d = api.call("POST", f"/v1/runs/{admin_run}/cancel", acme["submitter"])
expect(s == 200 and d["status"] == "failed", f"a submitter cancels: {s} {d}")
s, d = api.call("POST", f"/v1/runs/{admin_run}/cancel", acme["admin"])
expect(s == 409, f"cancelling twice: {s}")
s, d = api.call("GET", "/v1/runs/run-does-not-exist", acme["viewer"])
expect(s == 404, "no such run")
ev = api.events("/v1/approvals/events", acme["viewer"], lambda n, d: True)
expect(ev and ev[0][0] == "approvals" and isinstance(ev[0][1], list), f"the pending list as an event: {ev}")
print(f"api: {expect.n} checks passed, {api.checked} responses valid against the OpenAPI file")
