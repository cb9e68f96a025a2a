#!/usr/bin/env bash
# Sleep in a real run: the host waits (about 1.2 s of wall clock), the
# run completes, and the procedure's own clock moved on.
#   sleep.sh TACTUS
set -u
tactus=$1
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s%N)
out=$("$tactus" run --no-sandbox --json "$here/sleep.tac" 2>/dev/null)
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$out" | grep -q '"status":"completed"' || { echo "sleep: the run failed: $out" >&2; exit 1; }
echo "$out" | grep -Eq '"waited":[12]' || { echo "sleep: os.time did not move on: $out" >&2; exit 1; }
[ "$took" -ge 1150 ] || { echo "sleep: the run took $took ms; Sleep(1.2) did not wait" >&2; exit 1; }
echo "sleep: Sleep(1.2) waited ($took ms for the whole run)"
