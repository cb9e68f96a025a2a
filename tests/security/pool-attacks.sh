#!/usr/bin/env bash
# Attacks on pooled containers (tactus test and eval workers share one
# container; docs/sandbox.md, "Pooled containers"), one case per invocation:
#   pool-attacks.sh BUILD CASE
# The procedure's runtime is assumed taken over (hostile-runtime.c stands in
# for it, installed as tactus-runtime in a test image): whatever it does,
# the next run of the worker must be untouched.
# linger  run A answers, forges the pool's run.exit and stays to read the
#         next start frame; run B (a secret input) must get its own runtime.
# plant   run A leaves a process behind and a file in /tmp; run B must not
#         be answered by that process nor see the file.
# deep    (the real runtime) run A writes a file 30 folders deep through
#         File.write (the folders exist in the project, so the scratch
#         folder mirrors them); run B must not see it.
set -u
build=$1 case=$2
tactus=$build/tactus
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
image=""
cleanup() {
    [ -n "$image" ] && docker rmi -f "$image" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "pool-attacks $case: FAIL: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
export XDG_CONFIG_HOME=$work/cfg NO_COLOR=1
mkdir -p "$work/cfg/tactus" "$work/p"

victim() { # b.tac: a secret input, and what its own runtime must report
    cat >"$work/p/b.tac" <<'TAC'
Procedure {
  input = { mode = field.string{required = true}, token = field.string{required = true} },
  output = { seen = field.string{required = true} },
  function(input) return {seen = "own:" .. input.mode .. " tmp:empty"} end,
}
Specifications([[
Feature: the next run
  Scenario: its own runtime answers it
    Given the input mode is "victim"
    And the input token is "S3CRET-of-the-next-run"
    When the procedure runs
    Then the output seen should be "own:victim tmp:empty"
]])
TAC
}

hostile_image() { # tactus-runtime replaced by the hostile one, tactus-pool beside it
    mkdir -p "$work/bin"
    cp "$build/tests/hostile-runtime" "$work/bin/tactus-runtime" || fail "no hostile-runtime in $build/tests"
    cp "$build/tactus-pool" "$work/bin/tactus-pool"
    export TACTUS_RUNTIME=$work/bin/tactus-runtime
}

case "$case" in
linger|plant)
    hostile_image
    cat >"$work/p/a.tac" <<TAC
Procedure {
  input = { mode = field.string{required = true} },
  output = { seen = field.string{required = true} },
  function(input) return {seen = "x"} end,
}
Specifications([[
Feature: a run whose runtime is taken over
  Scenario: it answers and stays
    Given the input mode is "$case"
    When the procedure runs
    Then the output seen should not be "x"
]])
TAC
    victim
    chown -R 65534:65534 "$work/p"
    (cd "$work/p" && "$tactus" test --mock -j 1 --timeout 30 --format json a.tac b.tac) >"$work/out" 2>"$work/err"
    image=$(docker images --filter "label=tactus.runtime_path=$(realpath "$work/bin/tactus-runtime")" \
        --format '{{.Repository}}:{{.Tag}}' | head -1)
    grep -q "FORGED" "$work/out" && fail "the next run was answered by the previous run's process: $(grep -o 'FORGED[^"]*' "$work/out")"
    python3 - "$work/out" <<'PY' || fail "unexpected results: $(cat "$work/out") $(cat "$work/err")"
import json, sys
d = json.load(open(sys.argv[1]))
got = {s["name"]: s["status"] for f in d["features"] for s in f["scenarios"]}
assert got.get("its own runtime answers it") == "passed", got
PY
    echo "pool-attacks $case: ok (the next run got its own runtime; nothing of the previous run reached it)" ;;
deep)
    path=$(printf 'd/%.0s' $(seq 1 30))session.json
    cat >"$work/p/a.tac" <<TAC
Procedure {
  output = { wrote = field.boolean{} },
  function() File.write("$path", "private data of run A") return {wrote = File.exists("$path")} end,
}
Specifications([[
Feature: a deep file
  Scenario: run A writes it
    When the procedure runs
    Then the output wrote should be true
]])
TAC
    cat >"$work/p/b.tac" <<TAC
Procedure {
  output = { seen = field.boolean{} },
  function() return {seen = File.exists("$path")} end,
}
Specifications([[
Feature: the next run
  Scenario: run B does not see it
    When the procedure runs
    Then the output seen should be false
]])
TAC
    mkdir -p "$work/p/$(dirname "$path")"
    chown -R 65534:65534 "$work/p"
    (cd "$work/p" && "$tactus" test --mock -j 1 --timeout 30 a.tac b.tac) >"$work/out" 2>"$work/err" ||
        fail "$(cat "$work/out" "$work/err")"
    [ -e "$work/p/$path" ] && fail "run A's file appeared in the project"
    echo "pool-attacks deep: ok (a file 30 folders deep did not survive into the next run)" ;;
*) fail "unknown case" ;;
esac
