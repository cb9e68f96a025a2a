#!/usr/bin/env python3
"""A host command tool that is NOT idempotent (tests/pg/chaos.sh): every call
appends its idempotency key (RUN.POSITION) to FILE, so a call made again
after a worker died shows up as a duplicate line.

    append_key.py FILE      (stdin: {"args", "run_id", "position", "idempotency_key"})
"""
import json
import os
import sys

req = json.load(sys.stdin)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.write(fd, (req["idempotency_key"] + "\n").encode())
os.close(fd)
json.dump({"key": req["idempotency_key"]}, sys.stdout)
