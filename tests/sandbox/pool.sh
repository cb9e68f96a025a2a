#!/usr/bin/env bash
# Runs that share a container (tactus test and eval workers; docs/sandbox.md,
# "Pooled containers"), one case per invocation:
#   pool.sh BUILD CASE [runc|runsc]
# isolation  one worker (-j 1), six runs in order: a run writes a file, the
#            next does not see it; a run killed by the kernel for memory (the
#            container's limit below the runtime's budget) fails alone and the
#            next is served; a run stopped by its budget likewise. The project
#            folder is unchanged afterwards, no container is left, and at most
#            two containers served the six runs (the OOM retires one).
# workers    -j 2, eight times over: a pooled container started by one
#            worker's thread keeps serving after that thread has ended (the
#            last, slow run may go to it); every run passes.
# twice      two `tactus test -j 2` of the same file at once: the run ids
#            are the same (they come from the file and the scenario), the
#            containers' names must not be; both pass.
# warm       sandbox.warm (tactus run): a spare container of the exact plan
#            (every flag doctor checks, read back with docker inspect) is
#            claimed by one run, replaced, and never taken by another plan.
# doctor     `tactus sandbox doctor --pooled`: every check holds in the shared
#            container, the project folder is read-only there, the scratch
#            folder writable.
set -u
build=$1 case=$2 rt=${3:-runc}
tactus=$build/tactus
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "sandbox pool $case $rt: FAIL: $*" >&2; cat "$work/err" >&2 2>/dev/null; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
export XDG_CONFIG_HOME=$work/cfg NO_COLOR=1
mkdir -p "$work/cfg/tactus" "$work/p"
printf 'sandbox:\n  limits:\n    memory: 64m\n' >"$work/cfg/tactus/config.yml"
# Under gVisor the limits hold the whole sandbox, its kernel included: room
# for that kernel beside the runtime.
[ "$rt" = runsc ] && printf 'sandbox:\n  runtime: runsc\n  limits:\n    memory: 256m\n' >"$work/cfg/tactus/config.yml"
cp "$here/pool/iso.tac" "$here/pool/workers.tac" "$work/p/"
chown -R 65534:65534 "$work/p"
case "$case" in
isolation)
    before=$(cd "$work/p" && find . -printf '%p %s %T@\n' | sort)
    since=$(date +%s)
    (cd "$work/p" && "$tactus" test --mock -j 1 --timeout 20 --format json iso.tac) >"$work/out" 2>"$work/err"
    rc=$?
    until=$(date +%s)
    [ $rc -eq 1 ] || fail "exit $rc, expected 1 (two scenarios fail by design)"
    python3 - "$work/out" "$rt" <<'PY' || fail "unexpected results: $(cat "$work/out")"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(s["name"], s["status"]) for f in d["features"] for s in f["scenarios"]]
want = [("the first run writes a file", "passed"), ("the next run does not see it", "passed"),
        ("a run that exhausts its memory budget", "failed"), ("the run after it is served", "passed"),
        ("a run stopped at its time limit", "failed"), ("the run after that is served too", "passed")]
assert got == want, got
text = json.dumps(d)
# The kernel's OOM kill is named as such under runc (under gVisor the
# sandbox's memory, not the process, is limited: the runtime's own budget
# may stop it first).
if sys.argv[2] == "runc":
    assert "killed: out of memory (limit: 64m)" in text, "no OOM message"
PY
    after=$(cd "$work/p" && find . -printf '%p %s %T@\n' | sort)
    [ "$before" = "$after" ] || fail "the project folder changed: $(diff <(echo "$before") <(echo "$after"))"
    # This invocation's containers: other suites on the machine run the same
    # file (the same run ids), but the plan's tactus.protected label is the
    # identity of this folder's files (sb_protect_tree: DEV:INO in hex, one
    # per line, in the folder's order).
    label=$(python3 - "$work/p" <<'PY'
import hashlib, os, sys
ids = ""
for name in os.listdir(sys.argv[1]):
    if name.endswith((".tac", ".tac.yml")) or name.startswith(".env") or name == ".tactus":
        st = os.lstat(os.path.join(sys.argv[1], name))
        ids += "%x:%x\n" % (st.st_dev, st.st_ino)
print(hashlib.sha256(ids.encode()).hexdigest())
PY
)
    started=$(docker events --since "$since" --until "$((until + 1))" --filter type=container \
        --filter event=start --filter "label=tactus.protected=$label" \
        --format '{{.Actor.Attributes.name}}' | grep -c '^tactus-pool-' || true)
    [ "$started" -ge 1 ] && [ "$started" -le 2 ] || fail "$started containers served 6 runs (expected 1 or 2)"
    ours() { docker ps -aq --filter name=tactus-pool- --filter "label=tactus.protected=$label"; }
    for _ in $(seq 1 50); do ours | grep -q . || break; sleep 0.1; done
    ours | grep -q . && fail "a pooled container was left behind"
    echo "sandbox pool isolation $rt: ok (6 runs, $started container(s); files, OOM and budget stops isolated)" ;;
doctor)
    out=$("$tactus" sandbox doctor --pooled --json "$work/p" 2>"$work/err") || fail "doctor --pooled: $out"
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); bad=[k for k,v in d.items() if isinstance(v,dict) and not v["ok"]]; assert not bad, bad' "$out" || fail "$out"
    w=$("$tactus" sandbox doctor --pooled --probe write /workspace/x "$work/p" 2>/dev/null | head -1)
    grep -q '"written": false' <<<"$w" || fail "the project folder is writable in a pooled container: $w"
    w=$("$tactus" sandbox doctor --pooled --probe write /scratch/x "$work/p" 2>/dev/null | head -1)
    grep -q '"written": true' <<<"$w" || fail "the scratch folder is not writable: $w"
    echo "sandbox pool doctor $rt: ok" ;;
workers)
    for i in 1 2 3 4 5 6 7 8; do
        (cd "$work/p" && "$tactus" test --mock -j 2 --timeout 60 workers.tac) >"$work/out" 2>"$work/err" ||
            fail "round $i: $(grep -A3 '✗' "$work/out")"
    done
    echo "sandbox pool workers $rt: ok (8 rounds of 9 runs on 2 workers)" ;;
twice)
    for i in 1 2; do
        (cd "$work/p" && "$tactus" test --mock -j 2 --timeout 60 workers.tac) >"$work/out$i" 2>"$work/err$i" &
        eval "pid$i=$!"
    done
    wait "$pid1" || fail "the first invocation: $(grep -A3 '✗' "$work/out1") $(cat "$work/err1")"
    wait "$pid2" || fail "the second invocation: $(grep -A3 '✗' "$work/out2") $(cat "$work/err2")"
    echo "sandbox pool twice $rt: ok (two invocations of the same file at once, both passed)" ;;
warm)
    # sandbox.warm: 1: the first run starts a spare container for the next;
    # the next run claims it (it was up before the run and is gone after:
    # one container, one run) and starts another.
    export XDG_RUNTIME_DIR=$work/rt
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
    extra=""
    [ "$rt" = runsc ] && extra="  runtime: runsc"
    printf 'sandbox:\n  warm: 1\n  warm_idle: 60\n%s\n' "$extra" >"$work/cfg/tactus/config.yml"
    printf 'Procedure { output = { hi = field.string{} }, function() return {hi = "warm"} end }\n' >"$work/p/hello.tac"
    chown -R 65534:65534 "$work/p"
    sock() { ls "$XDG_RUNTIME_DIR/tactus/warm/" 2>/dev/null | grep -c '\.sock$' || true; }
    wait_warm() { # the keeper's container, up
        for _ in $(seq 1 150); do
            [ "$(sock)" -ge 1 ] && docker ps --filter name=tactus-warm- --filter status=running -q | grep -q . && return 0
            sleep 0.1
        done
        return 1
    }
    (cd "$work/p" && "$tactus" run --json hello.tac) >"$work/out" 2>"$work/err" || fail "the first (cold) run failed"
    grep -q '"warm"' "$work/out" || fail "first run: $(cat "$work/out")"
    wait_warm || fail "no warm container was started after the first run"
    first=$(docker ps --filter name=tactus-warm- -q)
    # Started from the run's own plan: every flag doctor checks is there.
    docker inspect "$first" >"$work/inspect" || fail "docker inspect $first"
    python3 - "$work/inspect" "$rt" <<'PY' || fail "the warm container's flags: $(cat "$work/inspect")"
import json, sys
c = json.load(open(sys.argv[1]))[0]
h = c["HostConfig"]
assert h["NetworkMode"] == "none", h["NetworkMode"]
assert h["ReadonlyRootfs"] is True
assert h["CapDrop"] == ["ALL"], h["CapDrop"]
assert "no-new-privileges" in h["SecurityOpt"], h["SecurityOpt"]
assert any(o.startswith("seccomp=") and o != "seccomp=unconfined" for o in h["SecurityOpt"]), h["SecurityOpt"]
assert h["PidsLimit"] and h["PidsLimit"] > 0 and h["Memory"] > 0 and h["MemorySwap"] == h["Memory"]
assert (h.get("Runtime") or "runc") == sys.argv[2], h.get("Runtime")
user = c["Config"]["User"]
assert user and not user.startswith("0:") and user != "0", user
assert not [e for e in c["Config"]["Env"] if e.split("=")[0].endswith(("_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD"))]
PY
    (cd "$work/p" && "$tactus" run --json hello.tac) >"$work/out" 2>"$work/err" || fail "the warm run failed"
    grep -q '"warm"' "$work/out" || fail "warm run: $(cat "$work/out")"
    for _ in $(seq 1 50); do docker ps -q | grep -qx "$first" || break; sleep 0.1; done
    docker ps -q | grep -qx "$first" && fail "the claimed container $first is still running after its run"
    wait_warm || fail "no new warm container after the warm run"
    # A different plan (another limit) never takes it.
    printf 'sandbox:\n  warm: 1\n  warm_idle: 60\n  limits:\n    memory: 512m\n%s\n' "$extra" >"$work/cfg/tactus/config.yml"
    spare=$(docker ps --filter name=tactus-warm- -q | head -1)
    (cd "$work/p" && "$tactus" run --json hello.tac) >"$work/out" 2>"$work/err" || fail "a run with another plan failed"
    docker ps -q | grep -qx "$spare" || fail "a run with another plan took the spare container"
    # Nor does a plan whose protected file was replaced on the host (an
    # editor's save: a new file renamed over it): the spare's read-only
    # mount still holds the old file.
    wait_warm || fail "no spare container for the plan with 512m"
    spare=$(docker ps --filter name=tactus-warm- --filter label=tactus.protected -q | head -1)
    [ -n "$spare" ] || fail "the spare container has no tactus.protected label"
    cp -p "$work/p/hello.tac" "$work/p/hello.tac.new" && mv "$work/p/hello.tac.new" "$work/p/hello.tac"
    (cd "$work/p" && "$tactus" run --json hello.tac) >"$work/out" 2>"$work/err" || fail "a run after the save failed"
    docker ps -q | grep -qx "$spare" || fail "a run whose .tac was replaced took the spare holding the old file"
    # Clean up: that run started a spare too; once it is up, the keepers
    # (their pids are in the sockets' names) and their containers go.
    wait_warm || fail "no spare after the last run"
    for s in "$XDG_RUNTIME_DIR"/tactus/warm/*.sock; do kill "$(basename "$s" .sock | cut -d- -f2)" 2>/dev/null; done
    for c in $(docker ps --filter name=tactus-warm- -q); do docker kill "$c" >/dev/null 2>&1; done
    echo "sandbox pool warm $rt: ok (claimed once, replaced, other plans kept apart)" ;;
*) fail "unknown case" ;;
esac
