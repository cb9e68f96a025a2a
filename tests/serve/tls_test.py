"""tls_test.py - tactus serve over TLS (tls.sh starts it with a chain made
by the test's own CA and --idle-timeout 2): the API through it, both
ways in large pieces; clients that send garbage instead of a ClientHello
are dropped and the server keeps serving; stalled handshakes are timed
out; closes travel both ways; 1,000 idle SSE streams over TLS cost
bounded memory, get each change, and end when their clients leave.

    python3 tls_test.py URL OPENAPI CONFIG.json SERVER_PID
"""
import json
import os
import socket
import ssl
import sys
import time

from client import Checks, Api, port_of, proc_status, read_until_all

url, openapi, cfg_path, pid = sys.argv[1:5]
cfg = json.load(open(cfg_path))
api = Api(url, openapi, cafile=cfg["ca"])
token = cfg["token"]
idle = cfg["idle_timeout"]
port = port_of(url)
ctx = ssl.create_default_context(cafile=cfg["ca"])
expect = Checks()


def status_of(key):
    return proc_status(pid, key)


def served_quickly(what, limit=1.0):
    t = time.time()
    s, d = api.call("GET", "/v1/approvals", token)
    dt = time.time() - t
    expect(s == 200 and dt < limit, f"{what}: a person's request is answered over TLS ({s} in {dt:.3f} s)")
    return dt


def closed_by_server(sock, within):
    """Whether the server closes `sock` (an end, a reset) within `within` s,
    having sent at most a TLS alert (a record of type 21), never HTTP."""
    sock.settimeout(within)
    got = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return False
    return got == b"" or (got[0] == 0x15 and b"HTTP" not in got)


def tls_socket():
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


# ---- the API over TLS, large both ways ---------------------------------------------------------
s, d = api.call("GET", "/v1/openapi.json")
with open(openapi, "rb") as f:
    expect(s == 200 and d == json.load(f), "the OpenAPI file (larger than a TLS record) comes whole")
big = b'{"procedure": "' + b"x" * 900000 + b'"'  # 900 KB, malformed: read whole, then refused
s, d = api.call("POST", "/v1/runs", cfg["submitter"], big)
expect(s == 400 and d["code"] == "malformed_json", f"a 900 KB body through TLS is read whole: {s}")
s, d = api.call("POST", "/v1/runs", cfg["submitter"], {"procedure": "gate.tac", "inputs": {"release": "tls"}})
expect(s == 201, f"a submission over TLS: {s} {d}")
run = d["run_id"]

# ---- garbage instead of a ClientHello ----------------------------------------------------------
garbage = [
    b"GET /v1/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n",
    os.urandom(65536),
    b"\x16\x03\x01\x00\x05" + b"\xff" * 5,                    # a handshake record holding no ClientHello
    b"\x16\x03\x01\x40\x00" + b"\x01" + b"\xff" * 16383,       # a record claiming 16 KiB of nonsense
    b"\x80\x80\x01\x03\x01" + b"\x00" * 200,                   # an SSLv2-style hello
]
for g in garbage:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(g)
    except OSError:
        pass
    expect(closed_by_server(sock, 5), f"garbage {g[:12]!r}... is dropped (closed, nothing answered)")
    sock.close()
    served_quickly(f"after garbage {g[:8]!r}")
print(f"tls: {len(garbage)} clients sending garbage dropped; the server still serves")

# ---- stalled handshakes (slowloris over TLS) ---------------------------------------------------
stalled = []
for i in range(40):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if i % 2:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # the start of a ClientHello
    stalled.append(sock)
t0 = time.time()
worst = 0.0
while time.time() - t0 < idle + 2:
    worst = max(worst, served_quickly("with 40 stalled handshakes"))
    time.sleep(0.3)
gone = sum(closed_by_server(s, 0.5) for s in stalled)
expect(gone == len(stalled), f"stalled handshakes dropped after {idle} s: {gone}/{len(stalled)}")
for sock in stalled:
    sock.close()
print(f"tls: 40 stalled handshakes dropped after {idle} s; people served within {worst * 1000:.1f} ms meanwhile")

# ---- closes both ways --------------------------------------------------------------------------
# the server's idle timeout closes a quiet keep-alive connection: the client sees TLS end
sock = tls_socket()
sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
sock.settimeout(5)
reply = sock.recv(4096)
expect(reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"ok\n"), f"a keep-alive request: {reply[:40]!r}")
t0 = time.time()
sock.settimeout(idle + 5)
try:
    end = sock.recv(4096)
except (ConnectionResetError, ssl.SSLError) as e:
    end = repr(e).encode()
expect(end == b"" and time.time() - t0 < idle + 3,
       f"the server's close after {idle} s idle reaches the client as TLS's end: {end[:60]!r}")
sock.close()

# ---- 1,000 idle SSE streams over TLS -----------------------------------------------------------
rss0, threads0 = status_of("VmRSS"), status_of("Threads")
req = b"GET /v1/approvals/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n"
streams = []
t0 = time.time()
for i in range(1000):
    sock = tls_socket()
    sock.sendall(req)
    streams.append(sock)
first = read_until_all(streams, b"event: approvals")
expect(first == 1000, f"1,000 SSE streams over TLS each got the pending list ({first})")
rss1 = status_of("VmRSS")
print(f"tls: 1,000 SSE streams over TLS open in {time.time() - t0:.1f} s: RSS {rss0 / 1024:.1f} -> "
      f"{rss1 / 1024:.1f} MiB, {status_of('Threads')} threads")
bound = cfg["rss_bound_mib"]
expect(rss1 - rss0 < bound * 1024, f"1,000 idle TLS streams cost {(rss1 - rss0) / 1024:.1f} MiB (bound {bound} MiB)")
w = max(served_quickly("with 1,000 idle TLS streams") for _ in range(20))
print(f"tls: with 1,000 idle TLS streams, the slowest of 20 requests took {w * 1000:.1f} ms")
s, d = api.call("POST", "/v1/runs", cfg["submitter"],
                {"procedure": "gate.tac", "inputs": {"release": "fan-out"}})
expect(s == 201, f"submit: {s}")
t0 = time.time()
got = read_until_all(streams, d["run_id"].encode())
expect(got == 1000, f"the new request reached all 1,000 TLS streams ({got})")
print(f"tls: a new request reached 1,000 TLS streams in {time.time() - t0:.2f} s")
# the clients leave: the server's side of each ends (its thread, its pair)
for sock in streams:
    sock.close()
deadline = time.time() + 15  # the streams notice within a second or two
while status_of("Threads") > threads0 + 20 and time.time() < deadline:
    time.sleep(0.2)
expect(status_of("Threads") <= threads0 + 20,
       f"the streams ended when their clients left: {status_of('Threads')} threads (were {threads0})")
while len(os.listdir(f"/proc/{pid}/fd")) >= 200 and time.time() < deadline:
    time.sleep(0.2)
fds = len(os.listdir(f"/proc/{pid}/fd"))
expect(fds < 200, f"their sockets were closed: {fds} descriptors open")
print(f"tls: 1,000 clients left: their threads and sockets were gone {time.time() - deadline + 15:.1f} s later")
served_quickly("after the streams closed")
print(f"tls: {expect.n} checks passed, {api.checked} responses valid against the OpenAPI file")
