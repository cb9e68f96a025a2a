"""attacks_test.py - attacks on tactus serve, each written as an attacker
would send it, each asserting that nothing happened: the request they aim
at is still pending, no run was queued, the server still serves.

    python3 attacks_test.py URL OPENAPI CONFIG.json
"""
import json
import socket
import sys
import time
import urllib.parse

from client import Checks, Api, connect, wait_for

url, openapi, cfg_path = sys.argv[1:4]
cfg = json.load(open(cfg_path))
api = Api(url, openapi)
tok = cfg["tokens"]
expect = Checks()


def pending(token=tok["approver"]):
    return api.call("GET", "/v1/approvals", token)[1]["approvals"]


def runs(token=tok["approver"]):
    return api.call("GET", "/v1/runs", token)[1]["runs"]


def raw_http(data, read_timeout=10):
    """Sends bytes as they are; the server's whole answer (or what came
    before it closed)."""
    s = connect(url)
    s.settimeout(read_timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    return out


def still_serves():
    s, d = api.call("GET", "/v1/approvals", tok["approver"])
    expect(s == 200, f"the server still serves: {s}")


# The target: a pending approval of tenant acme.
s, d = api.call("POST", "/v1/runs", tok["submitter"], {"procedure": "gate.tac"})
expect(s == 201, f"submit: {s} {d}")
run = d["run_id"]
q = wait_for("the approval", lambda: [x for x in pending() if x["run_id"] == run])[0]
rid, rhash = q["request_id"], q["request_hash"]
n_runs = len(runs())


def untouched(what):
    now = [x for x in pending() if x["request_id"] == rid]
    expect(now and now[0]["status"] == "pending", f"{what}: the request is still pending")
    expect(len(runs()) == n_runs, f"{what}: no run was queued")


# ---- another tenant's token aims at acme's request -------------------------------------------
for path, body in [(f"/v1/approvals/{rid}", {"approved": True, "request_hash": rhash}),
                   (f"/v1/runs/{run}/cancel", None)]:
    s, d = api.call("POST", path, tok["other_admin"], body)
    expect(s == 404, f"another tenant's admin POST {path}: {s} (404: ids do not leak)")
s, d = api.call("GET", f"/v1/approvals/{rid}", tok["other_admin"])
fake = "run-0000000000000000.1"
s2, d2 = api.call("GET", f"/v1/approvals/{fake}", tok["other_admin"])
expect(s == s2 == 404 and json.dumps(d).replace(rid, fake) == json.dumps(d2),
       "another tenant gets for a real id exactly what it gets for a made-up one")
untouched("cross-tenant answer")

# ---- the page's session cannot be used for API writes, nor forms without their token -----------
# sign in as the approver (as a browser would), then forge requests with the cookie
def sign_in(token):
    """The login form as a browser sends it; the server's whole answer."""
    sess = raw_http(b"GET /ui/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    pre = sess.split(b"tactus_pre=")[1].split(b";")[0].decode()
    form = urllib.parse.urlencode({"csrf": pre, "token": token}).encode()
    return raw_http(b"POST /ui/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: tactus_pre=" +
                    pre.encode() + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                    str(len(form)).encode() + b"\r\n\r\n" + form)


ans = sign_in(tok["approver"])
expect(b" 303 " in ans.split(b"\r\n")[0] and b"tactus_session=" in ans, f"signed in: {ans[:200]!r}")
cookie = ans.split(b"tactus_session=")[1].split(b";")[0].decode()
expect(b"HttpOnly" in ans and b"SameSite=Strict" in ans, "the session cookie is HttpOnly, SameSite=Strict")
jar = {"Cookie": "tactus_session=" + cookie}
s, d = api.call("POST", f"/v1/approvals/{rid}", None, {"approved": True, "request_hash": rhash}, headers=jar)
expect(s == 403 and d["code"] == "bearer_required", f"an API write with the page's cookie: {s}")
s, d = api.call("GET", "/v1/approvals", None, headers=jar)
expect(s == 200, "the page's cookie reads the API (GET only)")
# Another tenant's token signing in 4,200 times replaces its own
# sessions, not the approver's (one table of sessions used to be shared).
for _ in range(4200):
    sign_in(tok["other_admin"])
s, d = api.call("GET", "/v1/approvals", None, headers=jar)
expect(s == 200, f"the approver's session outlives another token's 4,200 sign-ins (more than the table holds): {s}")
for headers, csrf in [({}, None), ({}, "0" * 64), ({"Origin": "http://evil.example"}, "0" * 64),
                      ({"Sec-Fetch-Site": "cross-site"}, None)]:
    fields = {"request_hash": rhash, "decision": "approve"}
    if csrf:
        fields["csrf"] = csrf
    h = dict(jar, **headers)
    s, hd, body = api.raw("POST", f"/ui/approvals/{rid}", None, urllib.parse.urlencode(fields).encode(),
                          "application/x-www-form-urlencoded", h)
    expect(s == 403, f"a forged form ({headers}, csrf {csrf!r:.8}): {s}")
untouched("forged forms")
# a login form posted from elsewhere (login CSRF) signs no one in
s, hd, body = api.raw("POST", "/ui/login", None, urllib.parse.urlencode({"token": tok["approver"]}).encode(),
                      "application/x-www-form-urlencoded", {"Origin": "http://evil.example"})
expect(s == 403 and "tactus_session" not in str(hd), f"a cross-site sign-in: {s}")

# ---- oversize and malformed bodies --------------------------------------------------------------
# a declared 2 MiB body is refused before a byte of it is read
out = raw_http(b"POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok["submitter"].encode() +
               b"\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{\"procedure\": ")
head, _, body = out.partition(b"\r\n\r\n")
expect(head.startswith(b"HTTP/1.1 413") and b"application/problem+json" in head and b"body_too_large" in body,
       f"a 2 MiB body: {out[:300]!r}")
# a chunked body (no Content-Length) that grows past the cap: the connection is closed
chunk = b"x" * 65536
req = (b"POST /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok["submitter"].encode() +
       b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
       (b"10000\r\n" + chunk + b"\r\n") * 40 + b"0\r\n\r\n")
out = raw_http(req)
expect(b" 201 " not in out.split(b"\r\n")[0], f"a chunked 2.5 MiB body is not taken: {out[:80]!r}")
s, d = api.call("POST", "/v1/runs", tok["submitter"], b"[" * 100000 + b"]" * 100000)
expect(s == 400, f"100,000 nested arrays: {s}")
s, d = api.call("POST", "/v1/runs", tok["submitter"], b"\xff\xfe{\"procedure\": 1}")
expect(s == 400, f"not UTF-8: {s}")
s, d = api.call("POST", f"/v1/approvals/{rid}", tok["approver"], b'{"approved": true, "request_hash": "' +
                rhash.encode() + b'", "approved": false}')
expect(s == 400, f"a duplicate key (which one counts?) is refused: {s}")
for ctype in ["text/plain", "application/jsonfoo", "application/json-patch+json"]:
    s, d = api.call("POST", f"/v1/approvals/{rid}", tok["approver"],
                    {"approved": True, "request_hash": rhash}, ctype=ctype)
    expect(s == 415, f"a JSON answer sent as {ctype}: {s} (415)")
out = raw_http(b"GARBAGE / HTTP/9\r\n\r\n")
expect(b"201" not in out and b"200 OK" not in out, "a request line that is not HTTP")
out = raw_http(b"GET /v1/approvals HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 200000 + b"\r\n\r\n")
expect(not out.startswith(b"HTTP/1.1 200"), f"a 200 KB header is refused: {out[:60]!r}")
untouched("oversize and malformed bodies")

# ---- procedures outside the folder ---------------------------------------------------------------
for name in ["../outside.tac", "/etc/passwd", "link.tac", "procs/../../outside.tac", "gate.tac\x00.txt", ""]:
    s, d = api.call("POST", "/v1/runs", tok["submitter"], {"procedure": name})
    expect(s in (400, 404, 422), f"procedure {name!r}: {s}")
expect(len(runs()) == n_runs, "no run of a procedure outside the folder was queued")
still_serves()

# ---- the rate limit per token -------------------------------------------------------------------
limited = [api.call("GET", "/v1/runs?limit=1", tok["viewer"])[0] for _ in range(100)]
expect(429 in limited, f"100 requests at once with a --rate 20 token: some are 429 ({limited.count(429)})")
s, d = api.call("GET", "/v1/runs?limit=1", tok["approver"])
expect(s == 200, "another token is not limited by the first")
time.sleep(1.2)
s, d = api.call("GET", "/v1/runs?limit=1", tok["viewer"])
expect(s == 200, "the limited token is served again after a second")

untouched("the whole attack suite")
print(f"attacks: {expect.n} checks passed")
