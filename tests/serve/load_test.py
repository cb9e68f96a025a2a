"""load_test.py - slow and many clients: slowloris-style clients from
another loopback address (some silent, some sending a byte at a time),
then 1,000 idle SSE connections; through both, people's requests are
still answered quickly and the server's memory stays bounded.

    python3 load_test.py URL OPENAPI CONFIG.json SERVER_PID
"""
import json
import socket
import sys
import time

from client import Checks, Api, port_of, proc_status, read_until_all

url, openapi, cfg_path, pid = sys.argv[1:5]
cfg = json.load(open(cfg_path))
api = Api(url, openapi)
token = cfg["token"]
expect = Checks()


def status_of(key):
    return proc_status(pid, key)


def timed_get():
    t = time.time()
    s, d = api.call("GET", "/v1/approvals", token)
    return s, time.time() - t


def served_quickly(what, n=20, limit=1.0):
    worst = 0.0
    for _ in range(n):
        s, dt = timed_get()
        expect(s == 200, f"{what}: a person's request is answered ({s})")
        worst = max(worst, dt)
    expect(worst < limit, f"{what}: the slowest of {n} requests took {worst:.3f} s (limit {limit} s)")
    return worst


def attacker_socket():
    """A connection from 127.0.0.2: another address than the people's."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.2", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port_of(url)))
    return s


rss0 = status_of("VmRSS")
print(f"load: server RSS at start {rss0 / 1024:.1f} MiB, {status_of('Threads')} threads")

# ---- slowloris ------------------------------------------------------------------------------
per_ip = cfg["per_ip"]
idle = cfg["idle_timeout"]
silent, dribbling, refused = [], [], 0
for i in range(3 * per_ip):
    try:
        s = attacker_socket()
        s.sendall(b"GET /v1/approvals HTTP/1.1\r\nHost: x\r\n")  # never finished
        (silent if i % 2 else dribbling).append(s)
    except OSError:
        refused += 1
t_end = time.time() + idle + 3
worst = 0.0
while time.time() < t_end:
    for s in dribbling:
        try:
            s.sendall(b"X")  # a byte at a time keeps it from being idle
        except OSError:
            pass
    _, dt = timed_get()
    worst = max(worst, dt)
    time.sleep(0.5)
expect(worst < 1.0, f"slowloris: people's requests answered within {worst:.3f} s")
# The server holds at most per_ip connections of the attacker's address:
# the rest were closed at once.
alive = 0
for s in silent + dribbling:
    try:
        s.settimeout(0.2)
        if s.recv(1) != b"":
            alive += 1
    except socket.timeout:
        alive += 1
    except OSError:
        pass
expect(alive <= per_ip, f"slowloris: {alive} of {3 * per_ip} attacker connections held (cap {per_ip} per address)")
# and the silent ones were closed after the idle timeout
closed_silent = 0
for s in silent:
    try:
        s.settimeout(0.2)
        if s.recv(1) == b"":
            closed_silent += 1
    except socket.timeout:
        pass
    except OSError:
        closed_silent += 1
expect(closed_silent == len(silent), f"slowloris: silent connections closed after {idle} s ({closed_silent}/{len(silent)})")
for s in silent + dribbling:
    s.close()
print(f"load: slowloris: {alive} attacker connections held of {3 * per_ip}, people served within {worst * 1000:.1f} ms")

# ---- 1,000 idle SSE connections ---------------------------------------------------------------
streams = []
req = (b"GET /v1/approvals/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token.encode() + b"\r\n\r\n")
t0 = time.time()
for i in range(1000):
    # many readers, as many people's browsers would be: at most per_ip per address
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((f"127.0.1.{1 + i // per_ip}", 0))
    s.settimeout(30)
    s.connect(("127.0.0.1", port_of(url)))
    s.sendall(req)
    streams.append(s)
first = read_until_all(streams, b"event: approvals")
t_open = time.time() - t0
expect(first == 1000, f"1,000 SSE streams each got the pending list ({first})")
rss1 = status_of("VmRSS")
threads = status_of("Threads")
print(f"load: 1,000 SSE streams open in {t_open:.1f} s: RSS {rss1 / 1024:.1f} MiB, {threads} threads")
bound = cfg["rss_bound_mib"]
expect(rss1 - rss0 < bound * 1024, f"1,000 idle streams cost {(rss1 - rss0) / 1024:.1f} MiB (bound {bound} MiB)")
w = served_quickly("with 1,000 idle streams")
print(f"load: with 1,000 idle streams, the slowest of 20 requests took {w * 1000:.1f} ms")
# a change reaches every stream
s, d = api.call("POST", "/v1/runs", cfg["submitter"], {"procedure": "gate.tac"})
expect(s == 201, f"submit: {s}")
t0 = time.time()
got = read_until_all(streams, d["run_id"].encode())
expect(got == 1000, f"the new request reached all 1,000 streams ({got})")
print(f"load: a new request reached 1,000 streams in {time.time() - t0:.2f} s")
for s in streams:
    s.close()
deadline = time.time() + 10
while status_of("Threads") > 100 and time.time() < deadline:
    time.sleep(0.2)
served_quickly("after the streams closed")
threads_after = status_of("Threads")
expect(threads_after < 100, f"the streams' threads ended: {threads_after} threads left")
# A quiet stream outlives the idle timeout: its keepalives come more often.
s = socket.create_connection(("127.0.0.1", port_of(url)), timeout=10)
s.sendall(req)
data, t_end = b"", time.time() + 3 * idle
while time.time() < t_end:
    chunk = s.recv(65536)
    expect(chunk != b"", f"a quiet stream is not closed by the {idle} s idle timeout")
    data += chunk
s.close()
expect(data.count(b": keepalive") >= 2, f"keepalives on a quiet stream: {data.count(b': keepalive')}")
print(f"load: {expect.n} checks passed")
