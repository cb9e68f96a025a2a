#!/usr/bin/env bash
# Defence in depth for the container, one case per invocation:
#   container.sh TACTUS CASE
# seccomp:   `tactus sandbox doctor` in a real container: our own profile is
#            in force and socket, ptrace, mount, unshare, bpf, keyctl,
#            io_uring_setup, perf_event_open, userfaultfd fail with EPERM
#            (Docker's default profile lets socket through). The same in
#            the pooled container of `tactus test` and `tactus eval`
#            (`doctor --pooled`), and a run, a test and an eval work.
# runsc:     sandbox.runtime: runsc runs the container under gVisor: doctor
#            (and doctor --pooled, the test/eval container) sees a kernel
#            that is not the host's and every other check holds; a run, a
#            test and an eval work; an unknown runtime fails closed in all
#            three.
# plain-tcp: a broker reached or served over plain tcp:// beyond loopback is
#            refused before anything connects: a listener planted on this
#            machine's non-loopback address (docker0's) must see nothing.
#            `tactus test`/`eval --no-sandbox` (and resume) use the
#            in-process broker only (docs/broker.md), so the attack cannot
#            apply to them; sandboxed they honour broker_transport:
# plain-tcp-pooled: the same listener, sandboxed `tactus test` and `tactus
#            eval` with network: bridge: each run refused, nothing connects.
set -u
tactus=$1 case=$2
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "security-container $case: FAIL: $*" >&2; exit 1; }
export HOME=$work/home
mkdir -p "$HOME/.config/tactus" "$work/p"
cat > "$work/p/hello.tac" <<'TAC'
Procedure { output = { text = field.string{} }, function() return {text = "hi"} end }
Specifications([[
Feature: hello
  Scenario: says hi
    When the procedure runs
    Then the output text should be hi
]])
Evaluation({ dataset = {{name = "hi", inputs = {}, expected_output = {text = "hi"}}},
             evaluators = { field.equals_expected{} } })
TAC
# works_in_test_and_eval WHAT [OPTIONS]: the scenario and the case pass.
works_in_test_and_eval() {
    local what=$1
    shift
    (cd "$work/p" && "$tactus" test "$@" hello.tac) >"$work/out" 2>&1 || fail "tactus test $what: $(cat "$work/out")"
    grep -q '1 scenario (1 passed, 0 failed)' "$work/out" || fail "tactus test $what: $(cat "$work/out")"
    (cd "$work/p" && "$tactus" eval "$@" hello.tac) >"$work/out" 2>&1 || fail "tactus eval $what: $(cat "$work/out")"
    grep -q 'Success rate: 100.0% (1/1 runs)' "$work/out" || fail "tactus eval $what: $(cat "$work/out")"
}
# plant_listener: a TCP listener on this machine's non-loopback address;
# sets addr and port, and srv_pid; it prints CONNECTED on a connection.
plant_listener() {
    addr=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
    [ -n "$addr" ] || fail "this machine has no non-loopback IPv4 address to plant a listener on"
    python3 - "$addr" > "$work/srv.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen(5)
print("PORT", s.getsockname()[1], flush=True)
c, _ = s.accept()
print("CONNECTED", flush=True)
PY
    srv_pid=$!
    for _ in $(seq 1 50); do grep -q '^PORT ' "$work/srv.out" && break; sleep 0.1; done
    port=$(awk '/^PORT /{print $2; exit}' "$work/srv.out")
    [ -n "$port" ] || fail "the planted listener did not start: $(cat "$work/srv.out")"
}

case "$case" in
seccomp)
    docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
    chown -R 65534:65534 "$work/p"
    out=$("$tactus" sandbox doctor --json "$work/p" 2>"$work/err") || fail "doctor reported a failed check: $out $(cat "$work/err")"
    detail=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["seccomp"]; assert d["ok"], d; print(d["detail"])' "$out") \
        || fail "seccomp: $out"
    for sc in socket ptrace mount unshare bpf keyctl io_uring_setup perf_event_open userfaultfd; do
        grep -q " $sc EPERM" <<<"$detail" || fail "$sc does not fail with EPERM: $detail"
    done
    # A real run still works under the profile.
    out=$(cd "$work/p" && "$tactus" run hello.tac 2>"$work/err") || fail "a run failed under the profile: $(cat "$work/err")"
    grep -q '"hi"' <<<"$out" || fail "unexpected result: $out"
    # The pooled container of tactus test and tactus eval: the same profile.
    out=$("$tactus" sandbox doctor --pooled --json "$work/p" 2>"$work/err") || fail "doctor --pooled reported a failed check: $out $(cat "$work/err")"
    pooled=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["seccomp"]; assert d["ok"], d; print(d["detail"])' "$out") \
        || fail "seccomp (pooled): $out"
    for sc in socket ptrace mount unshare bpf keyctl io_uring_setup perf_event_open userfaultfd; do
        grep -q " $sc EPERM" <<<"$pooled" || fail "in the pooled container, $sc does not fail with EPERM: $pooled"
    done
    works_in_test_and_eval "under the profile"
    echo "security-container seccomp: ok (run and pooled: $detail)" ;;
runsc)
    # gVisor: the container gets a kernel of its own; every other doctor
    # check still holds (pids, memory, no_new_privs read host side), the
    # attack probes still get EPERM, and a run works.
    docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"' \
        || fail "dockerd has no runsc runtime (scripts/start-dockerd.sh registers it)"
    chown -R 65534:65534 "$work/p"
    printf 'sandbox:\n  runtime: runsc\n' > "$HOME/.config/tactus/config.yml"
    out=$("$tactus" sandbox doctor --json "$work/p" 2>"$work/err") || fail "doctor under runsc reported a failed check: $out $(cat "$work/err")"
    kernel=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["kernel"]; assert d["ok"], d; print(d["detail"])' "$out") \
        || fail "kernel: $out"
    grep -q "^gVisor (runsc), a kernel of its own" <<<"$kernel" || fail "not gVisor's kernel: $kernel"
    grep -q "$(uname -r)" <<<"${kernel%%(the host*}" && fail "the container saw the host's kernel: $kernel"
    detail=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seccomp"]["detail"])' "$out")
    for sc in socket ptrace mount unshare bpf keyctl io_uring_setup perf_event_open userfaultfd; do
        grep -q " $sc EPERM" <<<"$detail" || fail "under runsc, $sc does not fail with EPERM: $detail"
    done
    out=$(cd "$work/p" && "$tactus" run hello.tac 2>"$work/err") || fail "a run failed under runsc: $(cat "$work/err")"
    grep -q '"hi"' <<<"$out" || fail "unexpected result: $out"
    [ -z "$(docker ps -aq --filter name=tactus-run-)" ] || fail "a container was left behind"
    # The pooled container of tactus test and tactus eval: gVisor too.
    out=$("$tactus" sandbox doctor --pooled --json "$work/p" 2>"$work/err") || fail "doctor --pooled under runsc reported a failed check: $out $(cat "$work/err")"
    python3 -c 'import json,sys; d=json.loads(sys.argv[1])["kernel"]; assert d["ok"] and d["detail"].startswith("gVisor (runsc), a kernel of its own"), d' "$out" \
        || fail "the pooled container is not under gVisor: $out"
    works_in_test_and_eval "under runsc"
    # The default (runc) shares the host's kernel, and doctor says so.
    rm "$HOME/.config/tactus/config.yml"
    out=$("$tactus" sandbox doctor --json "$work/p" 2>"$work/err") || fail "doctor under runc: $out"
    python3 -c 'import json,sys; d=json.loads(sys.argv[1])["kernel"]; assert d["detail"].startswith("the host'"'"'s kernel, shared (runc)"), d' "$out" \
        || fail "runc kernel detail: $out"
    # A runtime dockerd does not know fails closed, before any container.
    printf 'sandbox:\n  runtime: nosuch\n' > "$HOME/.config/tactus/config.yml"
    (cd "$work/p" && "$tactus" run hello.tac) >"$work/out" 2>&1 && fail "a run with runtime nosuch went ahead"
    grep -q "sandbox.runtime: 'nosuch' is not runc or runsc" "$work/out" || fail "unclear message: $(cat "$work/out")"
    for cmd in test eval; do
        (cd "$work/p" && "$tactus" "$cmd" hello.tac) >"$work/out" 2>&1 && fail "tactus $cmd with runtime nosuch went ahead"
        grep -q "sandbox.runtime: 'nosuch' is not runc or runsc" "$work/out" || fail "tactus $cmd: unclear message: $(cat "$work/out")"
    done
    echo "security-container runsc: ok ($kernel; test and eval too)" ;;
plain-tcp)
    plant_listener
    printf 'sandbox:\n  broker_transport: tcp\n  broker_host: %s\n  broker_port: %s\n' "$addr" "$port" \
        > "$HOME/.config/tactus/config.yml"
    (cd "$work/p" && "$tactus" run --no-sandbox hello.tac) >"$work/out" 2>&1 && fail "the run went ahead: $(cat "$work/out")"
    grep -q "sandbox.broker_transport 'tcp' to $addr: plain TCP is allowed only to a loopback address" "$work/out" \
        || fail "unclear message: $(cat "$work/out")"
    grep -q "broker_transport: tls" "$work/out" || fail "the message does not say how to fix it: $(cat "$work/out")"
    # The server side: no plain listener beyond loopback either.
    "$tactus" broker serve --listen "tcp://0.0.0.0:0" --control "$work/ctl.sock" >"$work/serve" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 50); do kill -0 "$serve_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$serve_pid" 2>/dev/null; then kill "$serve_pid"; fail "broker serve listened on tcp://0.0.0.0"; fi
    grep -q "plain tcp:// is allowed only on a loopback address" "$work/serve" || fail "unclear message: $(cat "$work/serve")"
    sleep 0.2
    grep -q CONNECTED "$work/srv.out" && fail "a connection reached the planted listener on $addr:$port"
    echo "security-container plain-tcp: ok (run and broker serve refused; nothing reached $addr:$port)" ;;
plain-tcp-pooled)
    docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
    plant_listener
    chown -R 65534:65534 "$work/p"
    printf 'sandbox:\n  network: bridge\n  broker_transport: tcp\n  broker_host: %s\n  broker_port: %s\n' "$addr" "$port" \
        > "$HOME/.config/tactus/config.yml"
    msg="sandbox.broker_transport 'tcp' to $addr: plain TCP is allowed only to a loopback address"
    (cd "$work/p" && "$tactus" test hello.tac) >"$work/out" 2>&1 && fail "tactus test went ahead: $(cat "$work/out")"
    grep -qF "$msg" "$work/out" || fail "tactus test: unclear message: $(cat "$work/out")"
    grep -q '1 scenario (0 passed, 1 failed)' "$work/out" || fail "tactus test: the scenario did not fail: $(cat "$work/out")"
    (cd "$work/p" && "$tactus" eval hello.tac) >"$work/out" 2>&1 && fail "tactus eval went ahead: $(cat "$work/out")"
    grep -qF "$msg" "$work/out" || fail "tactus eval: unclear message: $(cat "$work/out")"
    grep -qF "broker_transport: tls" "$work/out" || fail "the message does not say how to fix it: $(cat "$work/out")"
    sleep 0.2
    grep -q CONNECTED "$work/srv.out" && fail "a connection reached the planted listener on $addr:$port"
    echo "security-container plain-tcp-pooled: ok (test and eval refused; nothing reached $addr:$port)" ;;
*) fail "unknown case" ;;
esac
