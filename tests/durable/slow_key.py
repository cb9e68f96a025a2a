#!/usr/bin/env python3
"""A slow host command tool that is NOT idempotent (tests/durable/drain-cut.sh).

    slow_key.py KEYS HOLD MARKER     (stdin: {"args", "run_id", "position", "idempotency_key"})

Appends its idempotency key to KEYS as soon as it starts; then, while the
file HOLD exists, waits on a child process of its own (whose last argument
is MARKER.child, so the test can tell whether the child outlived a cut
call) for up to 60 s. Answers {"key": KEY}.
"""
import json
import os
import subprocess
import sys

req = json.load(sys.stdin)
keys, hold, marker = sys.argv[1:4]
fd = os.open(keys, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.write(fd, (req["idempotency_key"] + "\n").encode())
os.close(fd)
if os.path.exists(hold):
    subprocess.run([sys.executable, "-c", "import time; time.sleep(60)", marker + ".child"], check=False)
json.dump({"key": req["idempotency_key"]}, sys.stdout)
