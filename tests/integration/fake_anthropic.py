#!/usr/bin/env python3
"""A loopback Anthropic Messages API server for integration tests.

Standard library only. Listens on 127.0.0.1 (never any other address) on a
port the kernel picks, prints "PORT <n>" as its first line on stdout (and
nothing else ever), and exits when its stdin reaches end of file or after
--timeout seconds.

    POST /v1/messages   the Messages API, streamed (server-sent events)
    GET  /_requests     every request received so far, as JSON:
                        [{"method","path","headers","body","raw"}]
                        (header names lower-cased; body parsed when JSON)
    POST /_reset        forget recorded requests and counters

The requested model picks the behaviour:

    echo             streams the last user text back, word by word
    auth             401 unless "x-api-key: test-key", else echo
    tools            a tool_use of the first offered tool, its input split
                     across input_json_delta events; if the last user
                     message holds a tool_result, a text answer quoting it
    multi-tools      text, then two tool_use blocks
    rate-limit       429 with an Anthropic error body
    rate-limit-once  429 on the 1st, 3rd, ... request, echo otherwise
    overloaded       529 overloaded_error
    overloaded-once  529 on the 1st, 3rd, ... request, echo otherwise
    server-error     500
    bad-json         an event whose data is not JSON
    error-event      an "error" event in the middle of the stream
    stall            a few events, then silence (--stall-seconds)
    truncated        a few events, then the connection is cut (no
                     message_stop)
    no-stop          a complete HTTP body whose stream lacks message_stop
    anything else    404 not_found_error
"""
import argparse
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback import Server, serve

TEST_KEY = "test-key"


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def text_of(content):
    """Text of a message's content: a string or a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def tool_results(message):
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.counters = {}

    def count(self, key):
        """Number of earlier calls with this key (0 for the first)."""
        with self.lock:
            n = self.counters.get(key, 0)
            self.counters[key] = n + 1
            return n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fake-anthropic/1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    # -- plumbing ------------------------------------------------------------

    def send_json(self, status, obj):
        data = compact(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, status, etype, message):
        self.send_json(status, {"type": "error", "error": {"type": etype, "message": message}})

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def raw_event(self, name, data_text):
        data = ("event: %s\ndata: %s\n\n" % (name, data_text)).encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, payload):
        self.raw_event(payload["type"], compact(payload))

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # -- answers ---------------------------------------------------------------

    def begin_message(self):
        self.start_stream()
        self.event({"type": "message_start", "message": {
            "id": "msg_fake", "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": None,
            "usage": {"input_tokens": 11, "output_tokens": 1}}})
        self.event({"type": "ping"})

    def text_block(self, index, text):
        self.event({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": ""}})
        for word in text.split(" "):
            piece = word if word == text.split(" ")[-1] else word + " "
            self.event({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": piece}})
        self.event({"type": "content_block_stop", "index": index})

    def tool_block(self, index, tool_id, name, input_text):
        self.event({"type": "content_block_start", "index": index, "content_block": {
            "type": "tool_use", "id": tool_id, "name": name, "input": {}}})
        for i in range(0, len(input_text), 7):  # pieces that are not JSON alone
            self.event({"type": "content_block_delta", "index": index, "delta": {
                "type": "input_json_delta", "partial_json": input_text[i:i + 7]}})
        self.event({"type": "content_block_stop", "index": index})

    def end_message(self, stop_reason, output_tokens):
        self.event({"type": "message_delta", "delta": {"stop_reason": stop_reason},
                    "usage": {"output_tokens": output_tokens}})
        self.event({"type": "message_stop"})
        self.end_stream()

    def echo(self, text):
        self.begin_message()
        self.text_block(0, text)
        self.end_message("end_turn", len(text.split()))

    # -- requests ---------------------------------------------------------------

    def do_GET(self):
        if self.path == "/_requests":
            with self.server.state.lock:
                self.send_json(200, list(self.server.state.requests))
        else:
            self.send_error_json(404, "not_found_error", "Unknown path " + self.path)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        state = self.server.state
        if self.path == "/_reset":
            with state.lock:
                state.requests, state.counters = [], {}
            self.send_json(200, {"ok": True})
            return
        text = raw.decode("utf-8", errors="replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        with state.lock:
            state.requests.append({"method": self.command, "path": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()},
                                   "body": body, "raw": text})
        if self.path != "/v1/messages":
            self.send_error_json(404, "not_found_error", "Unknown path " + self.path)
            return
        if not isinstance(body, dict) or "max_tokens" not in body:
            self.send_error_json(400, "invalid_request_error", "max_tokens: Field required")
            return
        self.model = str(body.get("model", ""))
        try:
            self.dispatch(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def dispatch(self, body):
        state = self.server.state
        model = self.model
        messages = body.get("messages") or [{}]
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        last_text = text_of(last.get("content"))
        # "-once" models fail on the 1st, 3rd, ... request and answer otherwise.
        failing = not model.endswith("-once") or state.count(model) % 2 == 0
        if model in ("rate-limit", "rate-limit-once") and failing:
            self.send_error_json(429, "rate_limit_error",
                                 "Number of requests has exceeded your rate limit")
        elif model in ("overloaded", "overloaded-once") and failing:
            self.send_error_json(529, "overloaded_error", "Overloaded")
        elif model in ("echo", "rate-limit-once", "overloaded-once"):
            self.echo(last_text)
        elif model == "auth":
            if self.headers.get("x-api-key") != TEST_KEY:
                self.send_error_json(401, "authentication_error", "invalid x-api-key")
            else:
                self.echo(last_text)
        elif model == "server-error":
            self.send_error_json(500, "api_error", "Internal server error")
        elif model in ("tools", "multi-tools"):
            results = tool_results(last)
            names = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
            if results:
                self.echo("The tool said: " + "; ".join(str(r.get("content")) for r in results))
            elif not names:
                self.echo("no tools offered")
            else:
                self.begin_message()
                index = 0
                if model == "multi-tools":
                    self.text_block(0, "Looking up both.")
                    index = 1
                args = compact({"city": "Paris", "units": "c"})
                self.tool_block(index, "toolu_01", names[0], args)
                if model == "multi-tools":
                    self.tool_block(index + 1, "toolu_02", names[-1], compact({"city": "Oslo"}))
                self.end_message("tool_use", 9)
        elif model == "bad-json":
            self.begin_message()
            self.raw_event("content_block_delta", "{not json")
            self.end_message("end_turn", 1)
        elif model == "error-event":
            self.begin_message()
            self.text_block(0, "partial")
            self.event({"type": "error", "error": {"type": "overloaded_error",
                                                   "message": "Overloaded"}})
            self.end_stream()
        elif model == "stall":
            self.begin_message()
            self.text_block(0, "Thinking")
            time.sleep(self.server.stall_seconds)
            self.end_message("end_turn", 1)
        elif model == "truncated":
            self.begin_message()
            self.text_block(0, "The answer is cut")
            # Cut mid-body: no terminating chunk, no message_stop.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif model == "no-stop":
            self.begin_message()
            self.text_block(0, "almost done")
            self.event({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                        "usage": {"output_tokens": 2}})
            self.end_stream()
        else:
            self.send_error_json(404, "not_found_error", "model: " + model)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--stall-seconds", type=float, default=10.0)
    args = ap.parse_args()
    server = Server(Handler)
    server.state = State()
    server.stall_seconds = args.stall_seconds
    serve(server, args.timeout)


if __name__ == "__main__":
    main()
