#!/usr/bin/env python3
"""Idempotent append: a host command tool for the durable-run tests.

    append.py DIR        (declared in host_tools; input on stdin)

stdin: {"args": {"text": "...", "sleep_ms": N?}, "run_id": R, "position": P,
        "idempotency_key": "R.P"}
Appends "TEXT<TAB>KEY" to DIR/R.txt unless a line with KEY is there already
(the host died after the append and before recording it: the resumed run
asks again with the same key). Check and append happen under one lock, so a
tool orphaned by a killed host and its retry cannot both append. The result
is the same either way: {"text": TEXT, "index": line number of KEY}.

Hold points (crash.sh): while the file DIR/hold lists this call's position
(space-separated numbers), the call, once its line is written (or found),
creates DIR/held-POSITION and waits until the position leaves the list
before it answers. The host and its runtime are then
alive at a known point of the run, whatever the machine's speed, so a kill
timed from there always lands. Without DIR/hold nothing waits.
"""
import fcntl
import json
import os
import sys
import time

req = json.load(sys.stdin)
args = req.get("args") or {}
text = str(args.get("text", ""))
key = req["idempotency_key"]

if args.get("sleep_ms"):
    time.sleep(float(args["sleep_ms"]) / 1000.0)
path = os.path.join(sys.argv[1], req["run_id"] + ".txt")
with open(path, "a+", encoding="utf-8") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.seek(0)
    lines = f.read().splitlines()
    index = next((i + 1 for i, line in enumerate(lines) if line.split("\t")[-1] == key), None)
    if index is None:
        f.write(text + "\t" + key + "\n")
        f.flush()
        os.fsync(f.fileno())
        index = len(lines) + 1


def held():
    try:
        with open(os.path.join(sys.argv[1], "hold"), encoding="utf-8") as f:
            return str(req.get("position")) in f.read().split()
    except FileNotFoundError:
        return False


# The effect is done; the host has not heard of it yet.
if held():
    open(os.path.join(sys.argv[1], "held-%s" % req.get("position")), "w").close()
    deadline = time.monotonic() + 60  # the host's tool timeout (20 s) ends it first
    while held() and time.monotonic() < deadline:
        time.sleep(0.001)
json.dump({"text": text, "index": index}, sys.stdout)
