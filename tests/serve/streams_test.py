"""streams_test.py - attacks on the event streams of tactus serve (streams.sh).

    python3 streams_test.py URL OPENAPI CONFIG.json
"""
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse

from client import Checks, Api, connect, proc_status, wait_for

url, openapi, cfg_path = sys.argv[1:4]
cfg = json.load(open(cfg_path))
tok = cfg["tokens"]
api = Api(url, openapi)
expect = Checks()


def open_stream(path, token=None, cookie=None):
    """A stream's socket and its status code (the headers read)."""
    s = connect(url)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    jar = f"Cookie: tactus_session={cookie}\r\n" if cookie else ""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}{jar}\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    return s, int(head.split(b" ")[1]) if head else 0


def stream_status(path, token):
    """The status a stream is opened with (then closed)."""
    s, code = open_stream(path, token)
    s.close()
    return code


def ended(s, within):
    """Whether the server ends the stream within `within` s (its chunked
    body's last chunk, or a close); what it sent."""
    s.settimeout(0.5)
    data, deadline = b"", time.time() + within
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return True, data
        if not chunk:
            return True, data
        data += chunk
        if (b"\r\n" + data).endswith(b"\r\n0\r\n\r\n"):
            return True, data
    return False, data


def submit(token, release):
    s, d = api.call("POST", "/v1/runs", token, {"procedure": "gate.tac", "inputs": {"release": release}})
    expect(s == 201, f"submit: {s} {d}")
    return d["run_id"]


# ---- one token cannot hold every stream ------------------------------------------------------
held = []
for i in range(32):
    s, code = open_stream("/v1/approvals/events", tok["viewer"])
    expect(code == 200, f"stream {i + 1} of a token: {code}")
    held.append(s)
code = stream_status("/v1/approvals/events", tok["viewer"])
expect(code == 429, f"the 33rd stream of one token: {code} (429)")
code = stream_status("/v1/approvals/events", tok["approver"])
expect(code == 200, f"another token still gets its stream: {code}")
for s in held:
    s.close()
time.sleep(1.5)  # the server sees them go within a second
code = stream_status("/v1/approvals/events", tok["viewer"])
expect(code == 200, f"closed streams are given back to their token: {code}")
print("streams: a token holds at most 32 streams; others are not affected")

# ---- one tenant cannot take the table of watched things --------------------------------------
runs = [submit(tok["evil"][0], f"e{i}") for i in range(65)]  # tenant evil has no worker: they stay queued
held = []
for i, run in enumerate(runs[:64]):
    s, code = open_stream(f"/v1/runs/{run}/events", tok["evil"][i // 30])
    expect(code == 200, f"tenant evil's run stream {i + 1}: {code}")
    held.append(s)
code = stream_status(f"/v1/runs/{runs[64]}/events", tok["evil"][2])
expect(code == 503, f"tenant evil's 65th different thing: {code} (503)")
acme_run = submit(tok["submitter"], "a1")
code = stream_status(f"/v1/runs/{acme_run}/events", tok["approver"])
expect(code == 200, f"another tenant still streams a run of its own: {code}")
code = stream_status("/v1/approvals/events", tok["other"])
expect(code == 200, f"and tenant other its inbox: {code}")
for s in held:
    s.close()
print("streams: a tenant watches at most 64 things; other tenants are not affected")

# ---- a large pending list, many streams: one list in memory ---------------------------------
big = "x" * 600000
for i in range(8):
    submit(tok["submitter"], f"{i}-{big}")
wait_for("8 large requests pending",
         lambda: sum(1 for q in api.call("GET", "/v1/approvals", tok["approver"])[1]["approvals"]
                     if big in q["message"]) == 8, timeout=60)
rss0 = proc_status(cfg["pid"], "VmRSS")
held = []
for i in range(30):
    s, code = open_stream("/v1/approvals/events", tok["approver"])
    expect(code == 200, f"stream {i + 1} of the large list: {code}")
    held.append(s)
# each stream is sent the list (about 4.8 MB); none reads it
time.sleep(2)
rss1 = proc_status(cfg["pid"], "VmRSS")
grown = (rss1 - rss0) / 1024
print(f"streams: 30 streams of a {8 * 0.6:.1f} MB list: RSS grew {grown:.1f} MiB")
bound = cfg["rss_bound_mib"]
expect(grown < bound, f"30 streams of a 4.8 MB list cost {grown:.1f} MiB (one list, not 30: < {bound})")
for s in held:
    s.close()

# ---- a revoked token's stream ends -----------------------------------------------------------
made = subprocess.run([cfg["tactus"], "tokens", "create", "--tenant", "acme", "--role", "viewer", "--name", "carol"],
                      capture_output=True, text=True, check=True).stdout.strip().splitlines()
carol = made[-1]
listed = json.loads(subprocess.run([cfg["tactus"], "tokens", "list", "--json"], capture_output=True, text=True,
                                   check=True).stdout)
carol_id = [t["id"] for t in listed if t["name"] == "carol"][0]
s, code = open_stream("/v1/approvals/events", carol)
expect(code == 200, f"carol's stream: {code}")
subprocess.run([cfg["tactus"], "tokens", "revoke", carol_id], check=True, capture_output=True)
submit(tok["submitter"], "SECRET-AFTER-REVOKE")
gone, data = ended(s, 6)
expect(gone, "a revoked token's stream ends")
expect(b"SECRET-AFTER-REVOKE" not in data, "a revoked token's stream was sent a request made after the revocation")
s.close()
print("streams: a revoked token's stream ended, and saw nothing after")

# ---- a signed-out session's stream ends ------------------------------------------------------
def raw_http(data):
    """Sends bytes as they are; the server's whole answer."""
    c = connect(url)
    c.sendall(data)
    out = b""
    c.settimeout(10)
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        out += chunk
    c.close()
    return out


def form_post(path, fields, cookie):
    body = urllib.parse.urlencode(fields).encode()
    return raw_http(f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: {cookie}\r\n"
                    f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                    .encode() + body)


pre = re.search(rb"tactus_pre=([0-9a-f]{64})",
                raw_http(b"GET /ui/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).group(1).decode()
ans = form_post("/ui/login", {"csrf": pre, "token": tok["approver"]}, "tactus_pre=" + pre)
cookie = re.search(rb"tactus_session=([0-9a-f]{64})", ans).group(1).decode()
page = raw_http(f"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: tactus_session={cookie}\r\n\r\n"
                .encode()).decode(errors="replace")
csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
s, code = open_stream("/v1/approvals/events", cookie=cookie)
expect(code == 200, f"the inbox's stream: {code}")
out = form_post("/ui/logout", {"csrf": csrf}, "tactus_session=" + cookie)
expect(b" 303 " in out.split(b"\r\n")[0], f"sign-out: {out[:80]!r}")
submit(tok["submitter"], "AFTER-LOGOUT")
gone, data = ended(s, 6)
expect(gone, "a signed-out session's stream ends")
expect(b"AFTER-LOGOUT" not in data, "a signed-out session's stream was sent a request made after it")
s.close()
print(f"streams: {expect.n} checks passed")
