#!/usr/bin/env bash
# Starts dockerd when no Docker daemon answers (CI machines start with none),
# then waits until `docker info` succeeds. Registers gVisor (runsc, from
# Debian) as a runtime named runsc, for `sandbox.runtime: runsc` and its
# tests: networkless, with our seccomp profile loaded inside gVisor too.
# Idempotent.
set -euo pipefail
daemon_json=/etc/docker/daemon.json

# Adds the runsc runtime to daemon.json (kept otherwise as it is); prints
# "changed" when it wrote the file.
register_runsc() {
    command -v runsc >/dev/null || return 0
    mkdir -p "$(dirname "$daemon_json")"
    python3 - "$daemon_json" "$(command -v runsc)" <<'PY'
import json, os, sys
path, runsc = sys.argv[1], sys.argv[2]
conf = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as f:
        conf = json.load(f)
want = {"path": runsc, "runtimeArgs": ["--platform=ptrace", "--network=none", "--oci-seccomp"]}
if conf.get("runtimes", {}).get("runsc") != want:
    conf.setdefault("runtimes", {})["runsc"] = want
    with open(path + ".tmp", "w") as f:
        json.dump(conf, f, indent=2)
    os.replace(path + ".tmp", path)
    print("changed")
PY
}

changed=$(register_runsc)
if docker info >/dev/null 2>&1; then
    if [ "$changed" = changed ] || { command -v runsc >/dev/null && ! docker info --format '{{json .Runtimes}}' | grep -q '"runsc"'; }; then
        # dockerd reloads its runtimes on SIGHUP.
        pkill -HUP -x dockerd && sleep 1
        echo "start-dockerd: registered the runsc runtime (gVisor) in $daemon_json" >&2
    fi
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
