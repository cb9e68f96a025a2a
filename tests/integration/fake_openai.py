#!/usr/bin/env python3
"""A loopback OpenAI-compatible Chat Completions server for integration tests.

Standard library only. Listens on 127.0.0.1 (never any other address) on a
port the kernel picks, and prints "PORT <n>" as its first line on stdout
(nothing else is ever written to stdout). Exits when its stdin reaches end
of file (the test that started it went away) or after --timeout seconds.

    POST /v1/chat/completions   the Chat Completions API (stream or not)
    GET  /_requests             every request received so far, as JSON:
                                [{"method","path","headers","body","raw"}]
                                (header names lower-cased; body parsed when
                                it is JSON, else null; raw is the text)
    GET  /_completed            the answers written to their end, as JSON:
                                [{"idempotency_key", "model", "id"}] (what a
                                provider bills; an answer whose client went
                                away mid-stream is not in it)
    POST /_reset                forget recorded requests and counters

The requested model name picks the behaviour, so that tests are
deterministic:

    echo             streams the last user message back, word by word
    gpt-4o-mini, gpt-4o-mini-2024-07-18
                     echo under real model names (the broker's built-in prices)
    auth             401 unless "Authorization: Bearer test-key", else echo
    auth-echo        always 401, and (like a careless server) quotes the
                     whole key it received in the error message
    key-stream       200, and (like a compromised or careless server)
                     streams the key it received back, one character per
                     chunk, inside a sentence
    slow-key         key-stream in pieces of four characters, a pause
                     (--slow-delay) between them (a follower sees it live)
    key-as-name      a tool call whose arguments have the key as a property
                     name, one character per chunk; then "done"
    key-many-calls   twenty tool calls, then the key in the text one character
                     per chunk, in one answer; then "done"
    key-tool         a tool call to the first offered tool whose arguments
                     hold the key, one character per chunk; after the tool
                     result, a text answer quoting it
    tools            a tool call to the first offered tool, arguments in
                     several pieces; if the last message is a tool result,
                     a text answer quoting it
    done-greeting    a greeter: when a tool named done is offered, calls it
                     with {"reason": "Hello, NAME!"}, NAME read from "by
                     name: NAME" in the system prompt; after the tool result
                     (or without done) a text answer
    multi-tools      two parallel tool calls, their pieces interleaved
    rate-limit       429 with an OpenAI error body
    rate-limit-once  429 on the 1st, 3rd, ... request, echo otherwise
    server-error     500
    server-error-once  500 on the 1st, 3rd, ... request, echo otherwise
    not-found        404 model_not_found (so does any unknown model)
    bad-json         a stream chunk that is not JSON
    bad-args         tool-call arguments that are not JSON
    error-chunk      an {"error": ...} object in the middle of the stream
    stall            headers and one chunk, then silence (--stall-seconds)
    stall-headers    headers only, then silence
    truncated        a few chunks, then the connection is cut mid-body
    slow             echo with a pause (--slow-delay) between words
    fragmented       echo, the bytes written a few at a time
    crlf             echo with CRLF line endings
    no-stream        a non-streamed JSON answer even when asked to stream
    no-usage         echo, streamed without a usage chunk even when asked for
                     one (as some OpenAI-compatible servers do)
    big              a long answer (about 256 KiB) in 1 KiB pieces
    share            for reliability scoring (tests/evals/loopback.sh): the last
                     user message is "share P/Q ..."; of the calls with that
                     exact message, call n (from 0) answers "right" when
                     n mod Q < P, else "wrong", so a case run Q times is right
                     exactly P times whatever the order of concurrent runs.
                     "share down ..." always answers 500 (a provider that is
                     down); "... blip" answers 500 to the first three calls with
                     that message (retries get through, whatever the order)
    judge            an llm_judge: reads the <output> section of the judge's
                     prompt and answers a verdict: "good" passes (score 0.9),
                     "bad" fails (0.1), "fenced" passes inside a ```json fence,
                     "malformed" answers prose, "badscore" a score of 7,
                     "split" passes, fails, passes on calls 1, 2, 3 of the
                     same prompt (a majority of 2 of 3)

Options: --timeout SECONDS (default 600), --log FILE (one JSON line per
request, appended), --stall-seconds (default 10), --slow-delay (default 0.2).
"""
import argparse
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

from loopback import Server, serve

TEST_KEY = "test-key"


class State:
    def __init__(self, log_path):
        self.lock = threading.Lock()
        self.requests = []
        self.completed = []
        self.counters = {}
        self.serial = 0
        self.log_path = log_path

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")

    def count(self, key):
        """Number of earlier calls with this key (0 for the first)."""
        with self.lock:
            n = self.counters.get(key, 0)
            self.counters[key] = n + 1
            return n

    def next_id(self):
        with self.lock:
            self.serial += 1
            return self.serial

    def complete(self, entry):
        with self.lock:
            self.completed.append(entry)

    def reset(self):
        with self.lock:
            self.requests = []
            self.completed = []
            self.counters = {}


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def text_of(content):
    """A message's content as text (string, or a list of text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def words_of(text):
    """Pieces that join back to exactly `text` (leading blanks go first)."""
    m = re.match(r"\s*", text)
    lead = m.group(0)
    pieces = re.findall(r"\S+\s*", text[len(lead):])
    if lead:
        if pieces:
            pieces[0] = lead + pieces[0]
        else:
            pieces = [lead]
    return pieces


def count_words(messages):
    n = 0
    for m in messages:
        if isinstance(m, dict):
            n += len(text_of(m.get("content")).split())
    return n


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fake-openai/1"

    # -- plumbing ------------------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
        if self.server.verbose:
            sys.stderr.write("fake_openai: " + (format % args) + "\n")

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def record(self, raw):
        text = raw.decode("utf-8", errors="replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
            "raw": text,
            "time": time.time(),
        }
        self.server.state.record(entry)
        return body

    def send_json(self, status, obj, extra_headers=()):
        data = compact(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_error_json(self, status, message, etype, code, extra_headers=()):
        self.send_json(status, {"error": {"message": message, "type": etype, "param": None,
                                          "code": code}}, extra_headers)

    # -- the event stream (chunked transfer encoding, as OpenAI sends it) -----

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()

    def write_chunked(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def event(self, payload, eol="\n"):
        text = payload if isinstance(payload, str) else compact(payload)
        data = ("data: " + text + eol + eol).encode()
        if self.fragment:
            for i in range(0, len(data), 3):
                self.write_chunked(data[i:i + 3])
                self.wfile.flush()
                time.sleep(0.0005)
        else:
            self.write_chunked(data)

    # -- chat completions -----------------------------------------------------

    def chunk(self, delta=None, finish=None, choices=True):
        c = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta if delta is not None else {},
                         "logprobs": None, "finish_reason": finish}] if choices else [],
        }
        if self.include_usage:
            c["usage"] = None
        return c

    def usage(self, completion_tokens):
        p = count_words(self.req.get("messages") or [])
        return {"prompt_tokens": p, "completion_tokens": completion_tokens,
                "total_tokens": p + completion_tokens}

    def finish_stream(self, finish, completion_tokens, eol="\n"):
        self.event(self.chunk({}, finish), eol)
        if self.include_usage:
            u = self.chunk(choices=False)
            u["usage"] = self.usage(completion_tokens)
            self.event(u, eol)
        self.event("[DONE]", eol)
        self.end_stream()

    def last_message(self, role=None):
        msgs = self.req.get("messages") or []
        for m in reversed(msgs):
            if isinstance(m, dict) and (role is None or m.get("role") == role):
                return m
        return {}

    def stream_text(self, text, delay=0.0, eol="\n", finish="stop"):
        pieces = words_of(text)
        self.event(self.chunk({"role": "assistant", "content": "", "refusal": None}), eol)
        for p in pieces:
            if delay:
                self.wfile.flush()
                time.sleep(delay)
            self.event(self.chunk({"content": p}), eol)
        self.finish_stream(finish, len(pieces), eol)

    def answer_text(self, text, **kw):
        if self.stream:
            self.start_stream()
            self.stream_text(text, **kw)
        else:
            pieces = words_of(text)
            self.send_json(200, {
                "id": self.completion_id, "object": "chat.completion",
                "created": int(time.time()), "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text,
                                                     "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": self.usage(len(pieces)),
            })

    def tool_names(self):
        names = []
        for t in self.req.get("tools") or []:
            if isinstance(t, dict) and isinstance(t.get("function"), dict):
                names.append(t["function"].get("name", ""))
        return names

    def stream_tool_calls(self, calls):
        """calls: [(id, name, [argument pieces])]; pieces of different calls
        are interleaved, as the format allows (the index tells them apart)."""
        self.start_stream()
        self.event(self.chunk({"role": "assistant", "content": None}))
        for i, (cid, name, _) in enumerate(calls):
            self.event(self.chunk({"tool_calls": [{
                "index": i, "id": cid, "type": "function",
                "function": {"name": name, "arguments": ""}}]}))
        longest = max(len(p) for _, _, p in calls)
        for k in range(longest):
            for i, (_, _, pieces) in enumerate(calls):
                if k < len(pieces):
                    self.event(self.chunk({"tool_calls": [{
                        "index": i, "function": {"arguments": pieces[k]}}]}))
        self.finish_stream("tool_calls", 7 * len(calls))

    # -- dispatch ----------------------------------------------------------------

    def do_GET(self):
        if self.path == "/_requests":
            with self.server.state.lock:
                data = list(self.server.state.requests)
            self.send_json(200, data)
        elif self.path == "/_completed":
            with self.server.state.lock:
                data = list(self.server.state.completed)
            self.send_json(200, data)
        elif self.path == "/_health":
            self.send_json(200, {"ok": True})
        else:
            self.send_error_json(404, "Unknown path " + self.path, "invalid_request_error", None)

    def do_POST(self):
        raw = self.read_body()
        if self.path == "/_reset":
            self.server.state.reset()
            self.send_json(200, {"ok": True})
            return
        self.req = self.record(raw)
        if self.path != "/v1/chat/completions":
            self.send_error_json(404, "Invalid URL (POST %s)" % self.path,
                                 "invalid_request_error", None)
            return
        if not isinstance(self.req, dict):
            self.send_error_json(400, "We could not parse the JSON body of your request.",
                                 "invalid_request_error", None)
            return
        self.model = str(self.req.get("model", ""))
        self.stream = self.req.get("stream") is True
        so = self.req.get("stream_options")
        self.include_usage = self.stream and isinstance(so, dict) and so.get("include_usage") is True
        self.completion_id = "chatcmpl-fake%d" % self.server.state.next_id()
        self.fragment = False
        try:
            self.dispatch(self.model)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up: fine
            return
        self.server.state.complete({"idempotency_key": self.headers.get("Idempotency-Key"),
                                    "model": self.model, "id": self.completion_id})

    def dispatch(self, model):
        state = self.server.state
        last_user = text_of(self.last_message("user").get("content"))
        auth = self.headers.get("Authorization")
        if model in ("echo", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"):
            self.answer_text(last_user)
        elif model == "no-usage":
            self.include_usage = False
            self.answer_text(last_user)
        elif model == "auth":
            if auth != "Bearer " + TEST_KEY:
                if not auth:
                    msg = ("You didn't provide an API key. You need to provide your API key in an "
                           "Authorization header using Bearer auth.")
                else:
                    key = auth[7:] if auth.startswith("Bearer ") else auth
                    masked = (key[:3] + "*" * (len(key) - 7) + key[-4:]) if len(key) >= 12 \
                        else "*" * len(key)
                    msg = ("Incorrect API key provided: %s. You can find your API key at "
                           "https://platform.openai.com/account/api-keys." % masked)
                self.send_error_json(401, msg, "invalid_request_error",
                                     "invalid_api_key" if auth else None)
            else:
                self.answer_text(last_user)
        elif model == "auth-echo":
            key = (auth or "")[7:]
            self.send_error_json(401, "Incorrect API key provided: %s" % key,
                                 "invalid_request_error", "invalid_api_key")
        elif model == "key-stream":
            key = (auth or "")[7:]
            text = "Your key is " + key + " - keep it safe."
            self.start_stream()
            self.event(self.chunk({"role": "assistant", "content": "", "refusal": None}))
            for ch in text:
                self.event(self.chunk({"content": ch}))
            self.finish_stream("stop", len(text))
        elif model == "slow-key":
            text = ("Your key is " + (auth or "")[7:] + " - keep it safe: never paste it into a chat, "
                    "a ticket or a log, and rotate it when in doubt.")
            self.start_stream()
            self.event(self.chunk({"role": "assistant", "content": "", "refusal": None}))
            for i in range(0, len(text), 4):
                time.sleep(self.server.slow_delay)
                self.event(self.chunk({"content": text[i:i + 4]}))
            self.finish_stream("stop", len(text))
        elif model == "key-tool":
            last = self.last_message()
            names = self.tool_names() or ["none"]
            if last.get("role") == "tool":
                self.answer_text("The tool said: " + text_of(last.get("content")))
            else:
                self.stream_tool_calls([("call_key_1", names[0],
                                         list(json.dumps({"q": (auth or "")[7:]})))])
        elif model == "key-as-name":
            # The key as a property NAME of the tool-call arguments.
            last = self.last_message()
            names = self.tool_names() or ["none"]
            if last.get("role") == "tool":
                self.answer_text("done")
            else:
                self.stream_tool_calls([("call_name_1", names[0],
                                         list(json.dumps({(auth or "")[7:]: 1})))])
        elif model == "key-many-calls":
            # Twenty tool calls, then the key in the text, one character per
            # chunk, in the same answer: every stream is open at once.
            last = self.last_message()
            names = self.tool_names() or ["none"]
            if last.get("role") == "tool":
                self.answer_text("done")
            else:
                self.start_stream()
                self.event(self.chunk({"role": "assistant", "content": ""}))
                for i in range(20):
                    self.event(self.chunk({"tool_calls": [{
                        "index": i, "id": "call_many_%d" % i, "type": "function",
                        "function": {"name": names[0], "arguments": '{"q": "x%d"}' % i}}]}))
                for ch in "Your key is " + (auth or "")[7:] + " - keep it safe.":
                    self.event(self.chunk({"content": ch}))
                self.finish_stream("tool_calls", 140)
        elif model == "done-greeting":
            last = self.last_message()
            system = ""
            for m in self.req.get("messages") or []:
                if isinstance(m, dict) and m.get("role") == "system":
                    system = text_of(m.get("content"))
            found = re.search(r"by name: *([^\n]+)", system)
            name = found.group(1).strip() if found else "there"
            if last.get("role") == "tool" or "done" not in self.tool_names():
                self.answer_text("Hello, %s!" % name)
            else:
                args = json.dumps({"reason": "Hello, %s!" % name})
                self.stream_tool_calls([("call_fake_done", "done", [args[:9], args[9:]])])
        elif model == "tools":
            last = self.last_message()
            names = self.tool_names()
            if last.get("role") == "tool":
                self.answer_text("The tool said: " + text_of(last.get("content")))
            elif not names:
                self.answer_text("No tools were offered.")
            else:
                self.stream_tool_calls([("call_fake_1", names[0],
                                         ['{"city": ', '"Par', 'is", "un', 'its": "metric"}'])])
        elif model == "multi-tools":
            names = self.tool_names() or ["none"]
            second = names[1] if len(names) > 1 else names[0]
            self.stream_tool_calls([
                ("call_fake_a", names[0], ['{"ci', 'ty": "Pa', 'ris"}']),
                ("call_fake_b", second, ['{"city"', ': "Tok', 'yo", "days": ', "3}"]),
            ])
        elif model in ("rate-limit", "rate-limit-once"):
            if model == "rate-limit" or state.count(model) % 2 == 0:
                self.send_error_json(
                    429, "Rate limit reached for fake-model in organization org-fake on requests "
                    "per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20ms.",
                    "requests", "rate_limit_exceeded",
                    [("Retry-After", "1"), ("x-ratelimit-remaining-requests", "0")])
            else:
                self.answer_text(last_user)
        elif model in ("server-error", "server-error-once"):
            if model == "server-error" or state.count(model) % 2 == 0:
                self.send_error_json(500, "The server had an error while processing your "
                                     "request. Sorry about that!", "server_error", None)
            else:
                self.answer_text(last_user)
        elif model == "bad-json":
            self.start_stream()
            self.event(self.chunk({"role": "assistant", "content": ""}))
            self.event(self.chunk({"content": "Hello"}))
            self.event('{"id":"chatcmpl-broken","choices":[{"delta":{"content":"oops')
            self.finish_stream("stop", 1)
        elif model == "bad-args":
            names = self.tool_names() or ["lookup"]
            self.stream_tool_calls([("call_fake_bad", names[0], ['{"city": ', "Paris}"])])
        elif model == "error-chunk":
            self.start_stream()
            self.event(self.chunk({"role": "assistant", "content": ""}))
            self.event(self.chunk({"content": "Partial"}))
            self.event({"error": {"message": "The model overloaded mid-answer.",
                                  "type": "server_error", "param": None, "code": None}})
            self.event("[DONE]")
            self.end_stream()
        elif model in ("stall", "stall-headers"):
            self.start_stream()
            if model == "stall":
                self.event(self.chunk({"role": "assistant", "content": ""}))
                self.event(self.chunk({"content": "Thinking"}))
            self.wfile.flush()
            time.sleep(self.server.stall_seconds)
            self.event(self.chunk({"content": " done"}))
            self.finish_stream("stop", 2)
        elif model == "truncated":
            self.start_stream()
            self.event(self.chunk({"role": "assistant", "content": ""}))
            self.event(self.chunk({"content": "The answer is "}))
            self.event(self.chunk({"content": "cut"}))
            self.wfile.flush()
            # Cut the connection in the middle of the body: no final chunk,
            # no finish_reason, no [DONE].
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif model == "share":
            m = re.match(r"share (\d+)/(\d+)|share down", last_user)
            if not m or last_user.startswith("share down"):
                self.send_error_json(500, "The server had an error while processing your "
                                     "request. Sorry about that!", "server_error", None)
                return
            if last_user.endswith(" blip") and state.count("blip:" + last_user) < 3:
                self.send_error_json(500, "The server had an error (a blip).", "server_error",
                                     None)
                return
            p, q = int(m.group(1)), int(m.group(2))
            n = state.count("share:" + last_user)
            self.answer_text("right" if n % q < p else "wrong")
        elif model == "judge":
            prompt = last_user
            m = re.search(r"<output>\n(.*?)\n</output>", prompt, re.S)
            out = m.group(1) if m else ""
            def verdict(ok, score, reason):
                return json.dumps({"pass": ok, "score": score, "reason": reason})
            if "malformed" in out:
                self.answer_text("I think it passes, mostly.")
            elif "badscore" in out:
                self.answer_text(verdict(True, 7, "too sure"))
            elif "fenced" in out:
                self.answer_text("```json\n" + verdict(True, 0.8, "fenced but fine") + "\n```")
            elif "split" in out:
                n = state.count("judge:" + prompt)
                self.answer_text(verdict(n % 3 != 1, 0.6 if n % 3 != 1 else 0.4,
                                         "call %d" % (n + 1)))
            elif "good" in out:
                self.answer_text(verdict(True, 0.9, "it is good"))
            else:
                self.answer_text(verdict(False, 0.1, "it is not good"))
        elif model == "slow":
            self.answer_text(last_user, delay=self.server.slow_delay)
        elif model == "fragmented":
            self.fragment = True
            self.answer_text(last_user)
        elif model == "crlf":
            self.answer_text(last_user, eol="\r\n")
        elif model == "no-stream":
            self.stream = False
            self.answer_text(last_user)
        elif model == "big":
            line = "".join("word%04d " % i for i in range(114))[:1023] + "\n"
            self.answer_text(line * 256)
        else:
            self.send_error_json(404, "The model `%s` does not exist or you do not have access "
                                 "to it." % model, "invalid_request_error", "model_not_found")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="exit after this many seconds (default 600)")
    ap.add_argument("--log", help="append each request as a JSON line to this file")
    ap.add_argument("--stall-seconds", type=float, default=10.0)
    ap.add_argument("--slow-delay", type=float, default=0.2)
    ap.add_argument("--verbose", action="store_true", help="log requests on stderr")
    args = ap.parse_args()

    server = Server(Handler)
    server.state = State(args.log)
    server.stall_seconds = args.stall_seconds
    server.slow_delay = args.slow_delay
    server.verbose = args.verbose
    serve(server, args.timeout)


if __name__ == "__main__":
    main()
