#!/usr/bin/env bash
# Slow and many clients (load_test.py): slowloris from another loopback
# address, 1,000 idle SSE connections; people are still served quickly and
# memory stays bounded.
#   load.sh TACTUS
source "$(dirname "$0")/lib.sh"
# 1,000 streams and the server's own descriptors
ulimit -n 8192 2>/dev/null || ulimit -n 4096 || fail "cannot raise the open-file limit for 1,000 streams"
start_server --rate 0 --per-ip 20 --idle-timeout 2 --max-connections 1500 --streams-per-token 0
start_worker acme
# The memory bound of 1,000 idle streams: 300 MiB; an AddressSanitizer build
# keeps shadow memory and allocator caches per thread (measured ~290 MiB
# there against ~94 in a release build), so it gets 800.
bound=300
ldd "$tactus" 2>/dev/null | grep -q libasan && bound=800
python3 - "$work/cfg.json" "$(token acme approver alice)" "$(token acme submitter ci)" "$bound" <<'PY'
import json, sys
json.dump({"token": sys.argv[2], "submitter": sys.argv[3], "per_ip": 20, "idle_timeout": 2,
           "rss_bound_mib": int(sys.argv[4])}, open(sys.argv[1], "w"))
PY
python3 "$here/load_test.py" "$url" "$here/../../service/assets/openapi.json" "$work/cfg.json" "$server_pid" ||
    fail "load_test.py"
