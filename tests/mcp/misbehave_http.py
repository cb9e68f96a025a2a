#!/usr/bin/env python3
"""A Streamable HTTP MCP server for tests/mcp/http.sh, misbehaving as its
first argument says, on 127.0.0.1 (the port it took is printed first):

  redirect    answers every POST with 307 to the second argument (a URL the
              client must never follow)
  hang        answers initialize and tools/list, never tools/call
  oversize    answers tools/call with a 3 MiB JSON body
  malformed   answers tools/call with a body that is not JSON
  status500   answers tools/call with HTTP 500
  sse         answers tools/call as an event stream: a progress
              notification, then the response (well-behaved)
  headers     well-behaved, and echoes the Authorization header it got in
              the tool's result (and records it in $MCP_LOG)

Every request body it receives is appended to $MCP_LOG (one per line).
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode = sys.argv[1]
target = sys.argv[2] if len(sys.argv) > 2 else ""
log = os.environ.get("MCP_LOG")

TOOLS = [{"name": "echo", "description": "Echoes text",
          "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Mcp-Session-Id", "session-1")
        self.end_headers()
        self.wfile.write(data)

    def do_DELETE(self):
        self.send_json(200, b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if log:
            with open(log, "a") as f:
                f.write(body.decode(errors="replace") + "\n")
                if mode == "headers":
                    f.write("Authorization: " + str(self.headers.get("Authorization")) + "\n")
        if mode == "redirect":
            self.send_response(307)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        msg = json.loads(body)
        mid, method = msg.get("id"), msg.get("method")
        if mid is None:
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if method == "initialize":
            self.send_json(200, {"jsonrpc": "2.0", "id": mid, "result": {
                "protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                "serverInfo": {"name": "misbehave-http-" + mode, "version": "1"}}})
        elif method == "tools/list":
            self.send_json(200, {"jsonrpc": "2.0", "id": mid, "result": {"tools": TOOLS}})
        elif method == "tools/call":
            text = str((msg["params"].get("arguments") or {}).get("text"))
            answer = {"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": text}]}}
            if mode == "hang":
                time.sleep(30)
                return
            if mode == "oversize":
                answer["result"]["content"][0]["text"] = "x" * (3 << 20)
                self.send_json(200, answer)
            elif mode == "malformed":
                self.send_json(200, b'{"jsonrpc": "2.0", "id": ' + str(mid).encode() + b', "result": {oops')
            elif mode == "status500":
                self.send_json(500, b"internal error")
            elif mode == "headers":
                answer["result"]["content"][0]["text"] = "you sent " + str(self.headers.get("Authorization"))
                self.send_json(200, answer)
            elif mode == "sse":
                token = ((msg["params"].get("_meta") or {}).get("progressToken"))
                events = ""
                if token is not None:
                    events += "event: message\ndata: " + json.dumps({
                        "jsonrpc": "2.0", "method": "notifications/progress",
                        "params": {"progressToken": token, "progress": 1, "total": 1, "message": "halfway"}}) + "\n\n"
                events += "event: message\ndata: " + json.dumps(answer) + "\n\n"
                self.send_json(200, events.encode(), "text/event-stream")
            else:
                self.send_json(200, answer)
        else:
            self.send_json(200, {"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "Method not found"}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
