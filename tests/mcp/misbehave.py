#!/usr/bin/env python3
"""A stdio MCP server for tests/mcp, well-behaved or not, as its first
argument says:

  good        answers like a server should (the default): tools echo,
              append (one line per call into $COUNTER_FILE), facts (its
              environment, rlimits, cwd, process group), slow (sleeps)
  paginate    good, its tools/list in pages of one (nextCursor)
  malformed   answers tools/call with a line that is not JSON
  oversize    answers tools/call with a 3 MiB text
  hang        never answers tools/call (interrupt: the same)
  crash       exits in the middle of a tools/call (status 3, a note on stderr)
  version     answers initialize with protocol version 1999-01-01
  older       good, and answers initialize with 2024-11-05 (an older version
              the client speaks too)
  lazy        good (the test checks it is not started when unused)
  shaped      good, with a tool "shaped" whose outputSchema requires a number
              n, answering per its argument how: "ok" {n: 1}, "missing" no
              structuredContent, "absent" {}, "wrong" {n: "one"}
  changing    during the first tools/call, says tools/list_changed (before
              its answer) and gives echo another input schema
  pinger      sends the client a ping (and waits for its answer) before
              answering tools/call
  spawner     good, and leaves a grandchild (sleep) running in its group
  leaky       good, and says its $TOKEN everywhere it can: in its tools'
              descriptions, a progress message, a result (text and
              structuredContent), an isError text, and its stderr before it
              crashes (tool crash)

Every message it receives is appended to $MCP_LOG (one JSON per line) when
that is set, so a test can tell what reached the server.
"""
import json
import os
import resource
import subprocess
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "good"
log = os.environ.get("MCP_LOG")
state = {"calls": 0, "changed": False}


def record(msg):
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(msg) + "\n")


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def echo_schema():
    if state["changed"]:
        return {"type": "object", "properties": {"text": {"type": "number"}}, "required": ["text"]}
    return {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def tools():
    return [
        {"name": "echo", "description": "Echoes text", "inputSchema": echo_schema()},
        {"name": "append", "description": "Appends a line to the counter file",
         "inputSchema": {"type": "object", "properties": {"line": {"type": "string"}}}},
        {"name": "facts", "description": "The server's environment and limits",
         "inputSchema": {"type": "object", "properties": {}},
         "outputSchema": {"type": "object"}},
        {"name": "slow", "description": "Sleeps",
         "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number"}}}},
        {"name": "fail", "description": "Always an isError result",
         "inputSchema": {"type": "object", "properties": {}}},
    ]


def leaky_tools():
    token = os.environ.get("TOKEN", "")
    ts = tools()
    for t in ts:
        t["description"] += " (token " + token + ")"
    ts.append({"name": "crash", "description": "Crashes, token " + token,
               "inputSchema": {"type": "object", "properties": {}}})
    return ts


def leaky_call(mid, name, params):
    token = os.environ.get("TOKEN", "")
    ptoken = ((params.get("_meta") or {}).get("progressToken"))
    if ptoken is not None:
        send({"jsonrpc": "2.0", "method": "notifications/progress",
              "params": {"progressToken": ptoken, "progress": 1, "total": 2, "message": "using " + token}})
    if name == "crash":
        sys.stderr.write("leaky: my token is " + token + "\n")
        sys.stderr.flush()
        os._exit(4)
    if name == "fail":
        return result("failed with token " + token, isError=True)
    return result("the token is " + token, structuredContent={"token": token, "note": "the token is " + token})


SHAPED = {"name": "shaped", "description": "Structured output, right or wrong",
          "inputSchema": {"type": "object", "properties": {"how": {"type": "string"}}},
          "outputSchema": {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}}


def shaped(how):
    if how == "missing":
        return result("no structure")
    sc = {"ok": {"n": 1}, "absent": {}, "wrong": {"n": "one"}}.get(how, {"n": 1})
    return result(json.dumps(sc), structuredContent=sc)


def result(text, **extra):
    r = {"content": [{"type": "text", "text": text}]}
    r.update(extra)
    return r


def call(name, args):
    state["calls"] += 1
    if name == "echo":
        return result(str(args.get("text")))
    if name == "append":
        with open(os.environ["COUNTER_FILE"], "a") as f:
            f.write(str(args.get("line", "x")) + "\n")
        return result("appended")
    if name == "facts":
        facts = {
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "pid": os.getpid(),
            "pgid": os.getpgid(0),
            "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
            "rlimit_nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
            "rlimit_fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
        }
        return result(json.dumps(facts), structuredContent=facts)
    if name == "slow":
        time.sleep(float(args.get("seconds", 1)))
        return result("slept")
    if name == "fail":
        return result("the tool failed on purpose", isError=True)
    return None


def main():
    if mode == "spawner":
        # A grandchild in the server's process group: stopping the server
        # must stop it too.
        subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        msg = json.loads(line)
        record(msg)
        mid, method = msg.get("id"), msg.get("method")
        if method is None or mid is None:
            continue  # notifications, and the client's answers
        if method == "initialize":
            version = {"version": "1999-01-01", "older": "2024-11-05"}.get(mode, msg["params"]["protocolVersion"])
            send({"jsonrpc": "2.0", "id": mid, "result": {
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": True}},
                "serverInfo": {"name": "misbehave-" + mode, "version": "1"}}})
        elif method == "ping":
            send({"jsonrpc": "2.0", "id": mid, "result": {}})
        elif method == "tools/list":
            all_tools = leaky_tools() if mode == "leaky" else tools() + ([SHAPED] if mode == "shaped" else [])
            if mode == "paginate":
                cursor = int((msg.get("params") or {}).get("cursor") or 0)
                page = {"tools": all_tools[cursor:cursor + 1]}
                if cursor + 1 < len(all_tools):
                    page["nextCursor"] = str(cursor + 1)
                send({"jsonrpc": "2.0", "id": mid, "result": page})
            else:
                send({"jsonrpc": "2.0", "id": mid, "result": {"tools": all_tools}})
        elif method == "tools/call":
            p = msg.get("params") or {}
            if mode == "malformed":
                sys.stdout.write('{"jsonrpc": "2.0", "id": ' + str(mid) + ', "result": {oops\n')
                sys.stdout.flush()
                continue
            if mode == "oversize":
                send({"jsonrpc": "2.0", "id": mid, "result": result("x" * (3 << 20))})
                continue
            if mode in ("hang", "interrupt"):
                continue
            if mode == "crash":
                sys.stderr.write("misbehave: crashing in the middle of a call\n")
                sys.stderr.flush()
                os._exit(3)
            if mode == "pinger":
                send({"jsonrpc": "2.0", "id": "ping-1", "method": "ping"})
                answer = json.loads(sys.stdin.readline())
                record(answer)
                if answer.get("id") != "ping-1" or "result" not in answer:
                    send({"jsonrpc": "2.0", "id": mid, "error": {"code": -1, "message": "no pong"}})
                    continue
            if mode == "changing" and not state["changed"]:
                # Its tools change while it handles the first call: it says
                # so before it answers (said after the answer, the client's
                # next call may already be on its way: no order to test).
                state["changed"] = True
                send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            if mode == "leaky":
                r = leaky_call(mid, p.get("name"), p)
            elif mode == "shaped" and p.get("name") == "shaped":
                r = shaped((p.get("arguments") or {}).get("how"))
            else:
                r = call(p.get("name"), p.get("arguments") or {})
            if r is None:
                send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32602, "message": "Unknown tool"}})
            else:
                send({"jsonrpc": "2.0", "id": mid, "result": r})
        else:
            send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "Method not found"}})


if __name__ == "__main__":
    main()
