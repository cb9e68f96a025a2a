"""deltas_test.py - live deltas on GET /v1/runs/{id}/events (deltas.sh
starts the server, a worker and the loopback provider): the model's text
arrives as delta events while the run goes on, in order, redacted (the
provider streams the worker's key back), and its pieces make the final
text; a client that reconnects with Last-Event-ID gets the rest of the
stream and nothing twice.

    python3 deltas_test.py URL OPENAPI CONFIG.json RUN_ID_OUT
"""
import json
import sys
import threading
import time
import urllib.request

import jsonschema

from client import Checks, Api, sse_events

url, openapi, cfg_path, run_id_out = sys.argv[1:5]
cfg = json.load(open(cfg_path))
api = Api(url, openapi)
secret = cfg["secret"]
expect = Checks()
schemas = api.doc["components"]["schemas"]


def validate(name, data):
    schema = dict(schemas[name])
    schema["components"] = api.doc["components"]
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


class Stream:
    """A client of the run's events: every event as (id, name, data, when)."""

    def __init__(self, run, last_event_id=None):
        req = urllib.request.Request(f"{api.url}/v1/runs/{run}/events")
        req.add_header("Authorization", "Bearer " + cfg["viewer"])
        if last_event_id:
            req.add_header("Last-Event-ID", last_event_id)
        self.resp = api.opener.open(req, timeout=60)
        assert self.resp.headers.get("Content-Type", "").startswith("text/event-stream")
        self.events = []

    def read(self, until):
        """Reads events until `until(events)` or the stream ends."""
        for eid, name, data in sse_events(self.resp):
            self.events.append((eid, name, data, time.time()))
            if until(self.events):
                return

    def close(self):
        self.resp.close()


def ended(events):
    return events[-1][1] == "result"


s, d = api.call("POST", "/v1/runs", cfg["submitter"], {"procedure": "stream.tac"})
expect(s == 201, f"submit: {s} {d}")
run = d["run_id"]
open(run_id_out, "w").write(run)

# One client reads the whole stream; another reads three deltas, leaves,
# and comes back with the last id it had, while the run still streams.
whole = Stream(run)
reader = threading.Thread(target=whole.read, args=(ended,))
reader.start()
first = Stream(run)
first.read(lambda ev: sum(1 for e in ev if e[1] == "delta") == 3)
first.close()
expect(sum(1 for e in first.events if e[1] == "delta") == 3, f"three deltas before leaving: {first.events}")
resume_id = first.events[-1][0]
second = Stream(run, resume_id)
second.read(ended)
second.close()
reader.join(60)
expect(not reader.is_alive() and whole.events and ended(whole.events), f"the stream ends with the result")

deltas = [e for e in whole.events if e[1] == "delta"]
result = whole.events[-1][2]
expect(result["status"] == "completed", f"the run completed: {result}")
final = result["output"]["text"]

# ---- live: the text came while the run went on, in pieces spread over time ----------------------
finished_at = whole.events[-1][3]
expect(len(deltas) >= 5, f"the text came in pieces: {len(deltas)} delta events")
expect(finished_at - deltas[0][3] > 0.5,
       f"the first delta came {finished_at - deltas[0][3]:.2f} s before the run finished (live, not at its end)")
expect(len({round(e[3], 1) for e in deltas}) >= 3, "the deltas arrived at different moments")
for e in deltas:
    validate("Delta", e[2])
for e in whole.events:
    if e[1] in ("llm", "tool_call", "human_request", "effect"):
        validate("RunEffect", e[2])
llm = [e for e in whole.events if e[1] == "llm"]
expect(len(llm) == 1 and all(e[2]["position"] == llm[0][2]["position"] for e in deltas),
       "every delta names the model call it comes from")
expect(whole.events.index(llm[0]) > whole.events.index(deltas[-1]), "a call's deltas come before its llm event")

# ---- in order, making the final text, redacted ----------------------------------------------------
seqs = [e[2]["seq"] for e in deltas]
expect(seqs == list(range(1, len(seqs) + 1)), f"the deltas are numbered in order from 1: {seqs}")
text = "".join(e[2]["text"] for e in deltas)
expect(text == final, f"the deltas make the final text: {text!r} vs {final!r}")
expect(final.startswith("Your key is ") and final.endswith(" - keep it safe: never paste it into a chat, a ticket or a log, and rotate it when in doubt."), f"the provider's answer: {final!r}")
expect(secret not in text and secret[len(secret) // 2:] not in text and secret[:12] not in text,
       f"the key streamed by the provider is redacted in the deltas: {text!r}")
expect(all(secret[:6] not in e[2]["text"] for e in deltas), "no piece holds the start of the key")
print(f"deltas: {len(deltas)} pieces over {deltas[-1][3] - deltas[0][3]:.2f} s, the first "
      f"{finished_at - deltas[0][3]:.2f} s before the result: {text!r}")

# ---- Last-Event-ID: the rest, nothing twice -------------------------------------------------------
ids = [e[0] for e in whole.events]
expect(all(ids) and len(set(ids)) == len(ids), f"every event has its own id: {ids}")
plain = lambda evs: [(e[1], json.dumps(e[2], sort_keys=True)) for e in evs]
expect(plain(first.events) + plain(second.events) == plain(whole.events),
       "what a client had before it left and what it got after reconnecting is the whole stream, "
       f"nothing twice, nothing missing:\n{plain(first.events)}\n+ {plain(second.events)}\nvs {plain(whole.events)}")
expect(second.events and second.events[0][1] == "delta" and second.events[0][2]["seq"] == 4 or
       second.events[0][1] != "delta", f"the stream goes on after the id: {second.events[:1]}")
# After the result: a client that had it gets nothing more, and its stream ends.
last = Stream(run, whole.events[-1][0])
t0 = time.time()
last.read(lambda ev: True)
last.close()
expect(last.events == [] and time.time() - t0 < 5, f"reconnecting after the result: {last.events}")
# A made-up id is no way into another run's data: the stream simply goes from there.
s, h, body = api.raw("GET", f"/v1/runs/{run}/events", cfg["viewer"], headers={"Last-Event-ID": "garbage"})
expect(s == 200 and body.count(b"event: delta") == len(deltas), "a malformed Last-Event-ID streams from the start")
print(f"deltas: {expect.n} checks passed")
