"""client.py - the tests' HTTP client for tactus serve: every response is
checked against service/assets/openapi.json (the status must be declared
for the operation, and a JSON body must be valid against its schema).

    from client import Api
    api = Api(url, openapi_path)
    status, doc = api.call("GET", "/v1/runs", token)
"""
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request

import jsonschema

# Requests go straight to the server on loopback, never through a proxy.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Api:
    def __init__(self, url, openapi_path, cafile=None):
        self.url = url.rstrip("/")
        # https: trusting only the test's own CA (cafile)
        self.opener = _opener if not cafile else urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
        with open(openapi_path) as f:
            self.doc = json.load(f)
        jsonschema.Draft202012Validator.check_schema(
            {"components": self.doc["components"]})
        self.routes = []
        for template, ops in self.doc["paths"].items():
            rx = "^" + re.sub(r"\{[a-z_]+\}", "[^/]+", template) + "$"
            self.routes.append((re.compile(rx), template, ops))
        self.checked = 0

    def operation(self, method, path):
        path = path.split("?")[0]
        # a literal route wins over a templated one (/v1/approvals/events)
        for rx, template, ops in sorted(self.routes, key=lambda r: "{" in r[1]):
            if rx.match(path) and method.lower() in ops:
                return template, ops[method.lower()]
        raise AssertionError(f"{method} {path}: not in the OpenAPI file")

    def validate(self, method, path, status, ctype, body):
        template, op = self.operation(method, path)
        responses = op["responses"]
        if str(status) not in responses:
            raise AssertionError(
                f"{method} {path} -> {status}: not a declared response of {template} "
                f"({sorted(responses)})")
        content = responses[str(status)].get("content", {})
        media = ctype.split(";")[0].strip() if ctype else ""
        if media not in content:
            raise AssertionError(
                f"{method} {path} -> {status} {media}: not a declared media type ({sorted(content)})")
        if media.endswith("json"):
            schema = dict(content[media]["schema"])
            schema["components"] = self.doc["components"]
            jsonschema.validate(json.loads(body), schema,
                                cls=jsonschema.Draft202012Validator)
        self.checked += 1

    def raw(self, method, path, token=None, body=None, ctype="application/json", headers=None):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None and ctype:
            req.add_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def call(self, method, path, token=None, body=None, ctype="application/json", headers=None):
        status, h, data = self.raw(method, path, token, body, ctype, headers)
        self.validate(method, path, status, h.get("Content-Type"), data)
        if status >= 400:
            assert h.get("Content-Type", "").startswith("application/problem+json"), \
                f"{method} {path} -> {status}: errors are application/problem+json"
        return status, (json.loads(data) if data else None)

    def events(self, path, token, until, timeout=30):
        """Reads Server-Sent Events until `until(name, data)` is true or the
        stream ends: the list of (name, data)."""
        req = urllib.request.Request(self.url + path)
        req.add_header("Authorization", "Bearer " + token)
        out = []
        deadline = time.time() + timeout
        with self.opener.open(req, timeout=timeout) as r:
            assert r.headers.get("Content-Type", "").startswith("text/event-stream")
            for _, name, d in sse_events(r):
                out.append((name, d))
                if until(name, d) or time.time() >= deadline:
                    return out
        return out


def sse_events(resp):
    """The events of a Server-Sent Events response as they come: (id or
    None, name, data parsed as JSON)."""
    eid, name, data = None, None, []
    while True:
        line = resp.readline()
        if not line:
            return
        line = line.decode().rstrip("\n")
        if line.startswith("id: "):
            eid = line[4:]
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name:
            yield eid, name, json.loads("\n".join(data))
            eid, name, data = None, None, []


def proc_status(pid, key):
    """A field of /proc/PID/status (VmRSS in KiB, Threads), 0 if absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def read_until_all(socks, marker, timeout=30):
    """Reads each socket until `marker` came (or it ends): how many got it."""
    got = 0
    for s in socks:
        s.settimeout(timeout)
        data = b""
        while marker not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        got += marker in data
    return got


class Checks:
    """expect(cond, what): counts what held; raises with `what` otherwise."""

    def __init__(self):
        self.n = 0

    def __call__(self, cond, what):
        if not cond:
            raise AssertionError(what)
        self.n += 1


def wait_for(what, fn, timeout=30, period=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(period)
    raise AssertionError("timed out waiting for " + what)


def port_of(url):
    return int(url.rsplit(":", 1)[1].split("/")[0])


def connect(url):
    return socket.create_connection(("127.0.0.1", port_of(url)), timeout=10)
