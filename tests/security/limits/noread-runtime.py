#!/usr/bin/env python3
"""A hostile tactus-runtime (TACTUS_RUNTIME) for tests/security/limits.sh:
it sends two host.echo requests of 8 MiB each and never reads its input
again, so the host's replies fill the pipe. The host must not block in
write() past the run's time limit."""
import json
import struct
import sys
import time

def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body

big = "A" * (8 * 1024 * 1024)
out = sys.stdout.buffer
for i in (1, 2):
    out.write(frame({"id": i, "method": "tool.call",
                     "params": {"name": "host.echo", "args": {"x": big}, "line": 1}}))
    out.flush()
time.sleep(120)
