#!/usr/bin/env bash
# Starts dockerd when no Docker daemon answers (CI machines start with none),
# then waits until `docker info` succeeds. Idempotent.
set -euo pipefail
if docker info >/dev/null 2>&1; then
    echo "start-dockerd: a Docker daemon answers" >&2
    exit 0
fi
command -v dockerd >/dev/null || { echo "start-dockerd: dockerd is not installed (scripts/install-deps.sh installs docker.io)" >&2; exit 1; }
log=${TMPDIR:-/tmp}/tactus-dockerd.log
echo "start-dockerd: starting dockerd (log: $log)" >&2
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { echo "start-dockerd: ready" >&2; exit 0; }
    sleep 1
done
echo "start-dockerd: dockerd did not answer within 60 s; see $log" >&2
tail -20 "$log" >&2
exit 1
