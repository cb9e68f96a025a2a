#!/usr/bin/env bash
# Event streams (streams_test.py), each written as an attack: one token
# holding every stream, one tenant watching so many runs that the others
# could stream nothing, a large pending list fanned out to many streams
# (memory), a stream that outlives its revoked token or its signed-out
# session.
#   streams.sh TACTUS
source "$(dirname "$0")/lib.sh"
start_server --rate 0
start_worker acme
# 30 streams of a 4.8 MB list: a copy each would be 144 MB; one shared list
# and 30 connections stay under 40 MiB (90 under AddressSanitizer, whose
# allocator and stacks cost more per connection).
bound=40
ldd "$tactus" 2>/dev/null | grep -q libasan && bound=90
python3 - "$work/cfg.json" "$bound" "$server_pid" "$tactus" "$(token acme submitter ci)" "$(token acme approver alice)" \
    "$(token acme viewer vic)" "$(token other admin mallory)" "$(token evil submitter eve1)" \
    "$(token evil viewer eve2)" "$(token evil viewer eve3)" <<'PY'
import json, sys
out, bound, pid, tactus, submitter, approver, viewer, other, eve1, eve2, eve3 = sys.argv[1:]
json.dump({"pid": int(pid), "tactus": tactus, "rss_bound_mib": int(bound),
           "tokens": {"submitter": submitter, "approver": approver, "viewer": viewer, "other": other,
                      "evil": [eve1, eve2, eve3]}}, open(out, "w"))
PY
python3 "$here/streams_test.py" "$url" "$here/../../service/assets/openapi.json" "$work/cfg.json" ||
    fail "streams_test.py"
