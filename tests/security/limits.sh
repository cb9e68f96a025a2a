#!/usr/bin/env bash
# Limits that hold (docs/security.md "Limits"): a procedure cannot make the
# host wait past the run's --timeout, whatever it waits on.
#   limits.sh TACTUS CASE [--docker]
#   sleep-over-limit  Sleep(3600) under --timeout 2 fails at once, with the message
#   sleep-loop        a loop of Sleep(1) under --timeout 2.5 ends by the limit
#   slow-model        a model that sends one chunk, then nothing for 30 s
#                     (the provider's own stall_timeout is 60 s) under --timeout 2
#   slow-tool         a host command that sleeps 30 s (its own timeout: 60 s)
#                     under --timeout 2: the command is killed too
#   retry-overflow    an Agent retry delay of 1e16 s (its milliseconds overflow)
#   retry-test        `tactus test --timeout 3` of an Agent retrying every 20 s
#   journal-fill      40 host calls of 7 MiB each: budgets.journal_bytes (20 MiB) stops them
#   print-flood       40 MiB of prints: the terminal gets 16 MiB and a note
#   runtime-noread    a hostile runtime that never reads its replies (--timeout 3)
#   pattern           a backtracking string.find (one C call) under --timeout 1:
#                     the watchdog stops it and names string.find
# Asserts the exit status, the message (file:line and "timed out after"),
# the elapsed time (generous: a noisy 2-core machine), that the procedure
# did not go on, and that no runtime, command or container is left behind.
set -u
tactus=$(realpath "$1") case=$2 mode=${3:---no-sandbox}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
sandbox=(--no-sandbox)
[ "$mode" = "--docker" ] && sandbox=()
fail() { echo "limits $case: $*" >&2; cat "$work/err" >&2 2>/dev/null; exit 1; }
# The user's own configuration (trusted): $XDG_CONFIG_HOME/tactus/config.yml.
export XDG_CONFIG_HOME=$work/cfg XDG_DATA_HOME=$work/data
mkdir -p "$work/cfg/tactus" "$work/proj"
user_config() { cat >"$work/cfg/tactus/config.yml"; }

# The loopback model server (tests/integration/fake_openai.py); sets $port.
start_model_server() {
    mkfifo "$work/srv.in"
    python3 "$here/../integration/fake_openai.py" --stall-seconds 30 \
        --log "$work/requests.jsonl" <"$work/srv.in" >"$work/srv.out" 2>&1 &
    srv_pid=$!
    exec 9>"$work/srv.in"
    for _ in $(seq 1 50); do grep -q '^PORT ' "$work/srv.out" && break; sleep 0.1; done
    port=$(awk '/^PORT /{print $2; exit}' "$work/srv.out")
    [ -n "$port" ] || fail "the loopback model server did not start"
}

case "$case" in
    sleep-over-limit)
        printf 'Procedure {\n  function()\n    Sleep(3600)\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=2 max_ms=2500 want="run.tac:3: error: timed out after 2 s (the run's time limit, --timeout 2): Sleep(3600) cannot finish" ;;
    sleep-loop)
        printf 'Procedure {\n  function()\n    for i = 1, 100 do Sleep(1) end\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=2.5 max_ms=4500 want="run.tac:3: error: timed out after 2.5 s" ;;
    slow-model)
        start_model_server
        user_config <<YML
providers:
  openai:
    base_url: http://127.0.0.1:$port/v1
    stall_timeout: 60
    timeout: 120
    max_retries: 3
YML
        export OPENAI_API_KEY=test-key
        printf 'slow = Agent { model = "openai/stall", system_prompt = "Think." }\nProcedure {\n  function()\n    slow({message = "hi"})\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=2 max_ms=4000 want="run.tac:4: error: timed out after 2 s (the run's time limit, --timeout 2): the run was waiting for llm.chat" ;;
    slow-tool)
        user_config <<YML
host_tools:
  slow:
    command: ["sh", "-c", "echo \$\$ > '$work/tool.pid'; exec sleep 30"]
    timeout: 60
YML
        printf 'Procedure {\n  function()\n    Host.call("host.slow", {})\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=2 max_ms=4000 want="run.tac:3: error: timed out after 2 s (the run's time limit, --timeout 2): the run was waiting for tool.call" ;;
    retry-overflow)
        # A retry delay whose milliseconds overflow an integer (1e16 s): the
        # deadline check once saw a negative delay and slept for ages.
        export OPENAI_BASE_URL=http://127.0.0.1:1/v1 OPENAI_API_KEY=test-key
        printf 'a = Agent { model = "openai/gpt-4o-mini", system_prompt = "Hi.",\n  retry = {attempts = 3, delay_seconds = 1e16, backoff = "constant"} }\nProcedure {\n  function()\n    a({message = "hi"})\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=3 max_ms=4500 want="run.tac:5: error: " ;;
    retry-test)
        # `tactus test` runs on a fixed clock, but a model's retries are real
        # waits: they end by the run's limit too.
        export OPENAI_BASE_URL=http://127.0.0.1:1/v1 OPENAI_API_KEY=test-key
        printf 'a = Agent { model = "openai/gpt-4o-mini", system_prompt = "Hi.",\n  retry = {attempts = 11, delay_seconds = 20, backoff = "constant"} }\nProcedure {\n  function()\n    a({message = "hi"})\n    return "woke"\n  end\n}\nSpecifications([[\nFeature: f\n  Scenario: s\n    Then the procedure should complete successfully\n]])\n' > "$work/proj/run.tac"
        timeout=3 max_ms=4500 want="expected the procedure to complete successfully, but it failed" ;;
    journal-fill)
        # Fills the host's disk through the journal: every host call is
        # recorded. budgets.journal_bytes (20 MiB here, 256 MiB by default)
        # stops it.
        printf 'budgets:\n  journal_bytes: 20971520\n' | user_config
        printf 'Procedure {\n  function()\n    for i = 1, 40 do Host.call("host.echo", {x = string.rep("A", 7 * 1024 * 1024)}) end\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=60 max_ms=20000 want="run.tac:3: error: the run's journal budget is spent: recording effect 1 (14.0 MiB) would pass 20 MiB (budgets.journal_bytes" ;;
    print-flood)
        # 40 MiB of prints: the terminal gets 16 MiB and one note.
        printf 'Procedure {\n  function()\n    local s = string.rep("x", 1024 * 1024)\n    for i = 1, 40 do print(s) end\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        timeout=60 max_ms=20000 want="the procedure has shown more than 16 MiB; the rest of its output is not shown" ;;
    runtime-noread)
        # A hostile runtime (native code in the sandbox) that stops reading
        # its input: the host's 8 MiB reply cannot be written. The host
        # must give up at the limit, not block in write().
        export TACTUS_RUNTIME=$here/limits/noread-runtime.py
        printf 'Procedure { function() return "woke" end }\n' > "$work/proj/run.tac"
        timeout=3 max_ms=8000 want="the runtime stopped reading its input" ;;
    pattern)
        printf 'Procedure {\n  function()\n    local s = string.rep("a", 40)\n    s:find(string.rep("a*", 40) .. "b")\n    return "woke"\n  end\n}\n' > "$work/proj/run.tac"
        # The watchdog fires at the limit plus its grace (1 s).
        timeout=1 max_ms=4000 want="run.tac:4: error: timed out after 1 s (the run's time limit) in string.find, one call into C" ;;
    *) echo "limits.sh: unknown case $case" >&2; exit 2 ;;
esac
if [ "$mode" = "--docker" ]; then
    max_ms=$((max_ms + 5000)) # a container start
    chown -R 65534:65534 "$work/proj"
fi
cd "$work/proj" || exit 1
start=$(date +%s%N)
if [ "$case" = retry-test ]; then
    NO_COLOR=1 timeout 60 "$tactus" test "${sandbox[@]}" --timeout "$timeout" run.tac >"$work/out" 2>"$work/err"
    code=$?
    cp "$work/out" "$work/err.test" && cat "$work/err.test" >>"$work/err"
else
    NO_COLOR=1 timeout 60 "$tactus" run "${sandbox[@]}" --store "$work/j.db" --timeout "$timeout" run.tac \
        >"$work/out" 2>"$work/err"
    code=$?
fi
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$case" = print-flood ]; then
    # Not a failure: the run completes; only what is shown is cut.
    [ $code -eq 0 ] || fail "exit $code, expected 0"
    size=$(stat -c %s "$work/err")
    [ "$size" -lt $((17 * 1024 * 1024)) ] || fail "$size bytes reached the terminal"
    grep -qF "$want" "$work/err" || fail "no '$want' on the terminal"
    echo "limits $case: ok ($size bytes shown)"
    exit 0
fi
[ $code -eq 1 ] || fail "exit $code, expected 1"
grep -qF "$want" "$work/err" || fail "no '$want' in the error"
grep -q '"woke"\|^woke' "$work/out" && fail "the procedure went on after the limit"
[ $ms -le $max_ms ] || fail "took $ms ms, expected at most $max_ms ms"
# Only runtimes whose working directory is this test's folder are ours.
for pid in $(pgrep -u "$(id -u)" -f tactus-runtime); do
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$work/proj" ] && fail "tactus-runtime $pid left behind"
done
if [ -f "$work/tool.pid" ]; then
    sleep 0.2
    kill -0 "$(cat "$work/tool.pid")" 2>/dev/null && fail "the host command $(cat "$work/tool.pid") was left running"
fi
if [ "$case" = journal-fill ]; then
    # The budget counts what the effects hold; SQLite's write-ahead log and
    # the seals' rewrites keep pages more than once until a checkpoint, so
    # the files may be a few times that, never the 2 GB of the whole loop.
    size=$(du -cb "$work"/j.db* | tail -1 | cut -f1)
    [ "$size" -lt $((100 * 1024 * 1024)) ] || fail "the journal's files hold $size bytes"
fi
if [ "$case" = slow-model ]; then
    n=$(grep -c '' "$work/requests.jsonl" 2>/dev/null || echo 0)
    [ "$n" = 1 ] || fail "the model server got $n requests, expected 1 (no retry after the limit)"
fi
run_id=$(grep -o 'run run-[0-9a-f]*' "$work/err" | head -1 | cut -d' ' -f2)
# The container is stopped when tactus returns; Docker removes it (--rm)
# a moment later.
if [ "$mode" = "--docker" ] && [ -n "$run_id" ]; then
    docker ps -q --filter "name=$run_id" | grep -q . && fail "container of $run_id still running"
    for _ in $(seq 1 50); do docker ps -aq --filter "name=$run_id" | grep -q . || break; sleep 0.1; done
    docker ps -aq --filter "name=$run_id" | grep -q . && fail "container of $run_id left behind"
fi
echo "limits $case${3:+ $3}: ok ($ms ms)"
