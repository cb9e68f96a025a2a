#!/usr/bin/env python3
"""Our own MCP client for `tactus mcp serve` (tests/mcp/serve.sh): speaks
the wire format by hand, over stdio or Streamable HTTP, and asserts what
the spec asks of a server. Prints "ok: ..." per check; exits 1 on the first
failure.

  serve_client.py stdio TACTUS STORE PROJ
  serve_client.py http  TACTUS STORE PROJ
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

mode, tactus, store, proj = sys.argv[1:5]


def check(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)
    print("ok: " + what)


def serve_args(*extra):
    return [tactus, "mcp", "serve", "--no-sandbox", "--store", store, *extra,
            os.path.join(proj, "greet.tac"), os.path.join(proj, "deploy.tac")]


class Stdio:
    def __init__(self):
        self.p = subprocess.Popen(serve_args(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)

    def raw(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def send(self, msg):
        self.p.stdin.write(json.dumps(msg) + "\n")
        self.p.stdin.flush()
        if "id" not in msg:
            return None
        while True:
            r = json.loads(self.p.stdout.readline())
            if "method" not in r:
                return r  # progress notifications before it are skipped

    def close(self):
        self.p.stdin.close()
        check(self.p.wait(timeout=30) == 0, "the server ends when its input ends")


class Http:
    def __init__(self, token=None):
        extra = ["--http", "127.0.0.1:0"] + (["--token", token] if token else [])
        self.p = subprocess.Popen(serve_args(*extra), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        line = self.p.stdout.readline()
        check(line.startswith("listening port "), "the HTTP server says its port")
        self.url = "http://127.0.0.1:%d/mcp" % int(line.split()[2])
        self.session = None
        self.token = token

    def request(self, msg, method="POST", headers=None, session=True):
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if session and self.session:
            h["Mcp-Session-Id"] = self.session
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        data = json.dumps(msg).encode() if msg is not None else None
        req = urllib.request.Request(self.url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                body = resp.read()
                return resp.status, dict(resp.headers), json.loads(body) if body else None
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, dict(e.headers), json.loads(body) if body else None

    def send(self, msg):
        status, headers, body = self.request(msg)
        if msg.get("method") == "initialize":
            self.session = headers.get("Mcp-Session-Id")
        if "id" not in msg:
            check(status == 202, "a notification is accepted with 202")
            return None
        check(status == 200, "%s answered 200" % msg.get("method"))
        return body

    def close(self):
        self.p.terminate()
        check(self.p.wait(timeout=30) == 0, "the HTTP server stops on SIGTERM")


def call(c, i, name, args):
    return c.send({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                   "params": {"name": name, "arguments": args, "_meta": {"progressToken": "p%d" % i}}})


def common(c):
    r = c.send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2024-11-05", "capabilities": {},
                           "clientInfo": {"name": "serve_client", "version": "1"}}})
    check(r["result"]["protocolVersion"] == "2024-11-05", "an older version the server speaks is kept")
    check(r["result"]["capabilities"]["tools"] == {"listChanged": False}, "tools capability")
    c.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    check(c.send({"jsonrpc": "2.0", "id": 2, "method": "ping"})["result"] == {}, "ping")
    tools = {t["name"]: t for t in c.send({"jsonrpc": "2.0", "id": 3, "method": "tools/list"})["result"]["tools"]}
    check(sorted(tools) == ["deploy", "greet", "tactus_resume"], "one tool per file, and tactus_resume")
    g = tools["greet"]
    check(g["inputSchema"]["required"] == ["name"] and g["inputSchema"]["properties"]["times"]["type"] == "integer",
          "the input schema from the procedure's input")
    check(g["outputSchema"]["properties"]["greeting"]["type"] == "string", "the outputSchema from its output")
    r = call(c, 4, "greet", {"name": "Ada", "times": 2})["result"]
    check(r["isError"] is False and r["structuredContent"] == {"greeting": "Hello, Ada! Hello, Ada! "},
          "a call is a run; its output is the structuredContent")
    check(r["_meta"]["tactus/status"] == "completed" and r["_meta"]["tactus/run_id"].startswith("run-"),
          "the run's id in _meta")
    r = call(c, 5, "greet", {"times": 2})["result"]
    check(r["isError"] is True and "name" in r["content"][0]["text"], "a missing required input is a tool error")
    r = call(c, 6, "deploy", {"service": "api"})["result"]
    run_id = r["_meta"]["tactus/run_id"]
    check(r["_meta"]["tactus/status"] == "waiting" and "Deploy api?" in r["content"][0]["text"],
          "a call that waits for a person answers with the pending request")
    subprocess.run([tactus, "approve", run_id, "0", "--store", store], check=True, stdout=subprocess.DEVNULL)
    r = call(c, 7, "tactus_resume", {"run_id": run_id})["result"]
    check(r["_meta"]["tactus/status"] == "completed" and r["content"][0]["text"] == "deployed api",
          "tactus_resume continues it once answered")
    # A waiting run of a procedure this server does not serve (other.tac,
    # answered already): its clients cannot resume it.
    other = subprocess.run([tactus, "run", "--no-sandbox", "--json", "--store", store,
                            os.path.join(proj, "other.tac")], stdout=subprocess.PIPE, text=True)
    other_id = json.loads(other.stdout)["run_id"]
    subprocess.run([tactus, "approve", other_id, "0", "--store", store], check=True, stdout=subprocess.DEVNULL)
    r = call(c, 70, "tactus_resume", {"run_id": other_id})["result"]
    check(r["isError"] is True and "is not a run of a procedure this server serves" in r["content"][0]["text"],
          "tactus_resume refuses a run of another procedure")
    shown = subprocess.run([tactus, "show", other_id, "--json", "--store", store], stdout=subprocess.PIPE, text=True)
    check(json.loads(shown.stdout)["status"] == "waiting", "the other procedure's run was not resumed")
    r = call(c, 71, "tactus_resume", {"run_id": "run-0000000000000000"})["result"]
    check(r["isError"] is True and "no such run" in r["content"][0]["text"], "tactus_resume of no such run")
    e = call(c, 8, "nope", {})
    check(e["error"]["code"] == -32602, "an unknown tool is a JSON-RPC error")
    e = c.send({"jsonrpc": "2.0", "id": 9, "method": "resources/list"})
    check(e["error"]["code"] == -32601, "an unknown method")
    r = c.send({"jsonrpc": "2.0", "id": 10, "method": "initialize",
                "params": {"protocolVersion": "1999-01-01", "capabilities": {},
                           "clientInfo": {"name": "serve_client", "version": "1"}}})
    check(r["result"]["protocolVersion"] == "2025-11-25", "an unknown version gets the server's newest")


if mode == "stdio":
    c = Stdio()
    common(c)
    r = c.raw('{"jsonrpc": "2.0", "id": 11, "method": ')
    check(r["error"]["code"] == -32700, "malformed JSON is a parse error")
    c.close()
else:
    c = Http()
    common(c)
    saved = c.session
    status, _, body = c.request({"jsonrpc": "2.0", "id": 20, "method": "tools/list"}, session=False)
    check(status == 400, "a request without a session is refused (400)")
    status, _, _ = c.request({"jsonrpc": "2.0", "id": 21, "method": "tools/list"},
                             headers={"Mcp-Session-Id": "0" * 32})
    check(status == 404, "an unknown session is 404")
    status, _, _ = c.request({"jsonrpc": "2.0", "id": 22, "method": "tools/list"},
                             headers={"Origin": "http://attacker.example"})
    check(status == 403, "a page from another origin is refused (DNS rebinding)")
    status, _, _ = c.request({"jsonrpc": "2.0", "id": 23, "method": "tools/list"},
                             headers={"MCP-Protocol-Version": "1999-01-01"})
    check(status == 400, "an unsupported MCP-Protocol-Version header is refused")
    status, _, _ = c.request(None, method="GET")
    check(status == 405, "no server-initiated stream: GET is 405")
    status, _, _ = c.request(None, method="DELETE")
    check(status == 200, "DELETE ends the session")
    c.session = saved
    status, _, _ = c.request({"jsonrpc": "2.0", "id": 24, "method": "tools/list"})
    check(status == 404, "an ended session is 404")
    c.close()
    t = Http(token="s3cret-token-for-this-test")
    c2_status, _, _ = t.request({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
                                headers={"Authorization": "Bearer wrong"})
    check(c2_status == 401, "a wrong token is refused (401)")
    common(t)
    t.close()
