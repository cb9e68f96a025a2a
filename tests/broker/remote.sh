#!/usr/bin/env bash
# Remote brokers: `tactus broker serve` over TLS (with a CA generated here)
# and TCP, runtimes joined by tactus-connect with one-time tokens.
#   tls          a run through a TLS broker: result, logs, host tool, model turn
#   tcp          the same over TCP
#   wrong-cert   a broker certificate from another CA is refused by the runtime side
#   expired      an expired broker certificate is refused
#   wrong-token  an unknown token is refused by the broker; a token works once
#   concurrent   100 runs at once through one broker: every event of every run arrives
#   docker       a sandboxed run (bridge network) through a TLS broker
#   remote.sh TACTUS CASE
set -u
tactus=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") case=$2
here=$(cd "$(dirname "$0")" && pwd)
bin=$(dirname "$tactus")
tmp=$(mktemp -d)
broker_pid=
cleanup() {
    [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "remote $case: $*" >&2; [ -f "$tmp/broker.log" ] && sed 's/^/  broker: /' "$tmp/broker.log" >&2; exit 1; }
cd "$tmp" || exit 1
export HOME=$tmp XDG_CONFIG_HOME=$tmp/xdg
unset XDG_RUNTIME_DIR

# A CA, a broker certificate for localhost/127.0.0.1, another CA's certificate,
# and an expired one: all made here, nothing checked in.
make_pki() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Tactus test CA" 2>/dev/null
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj "/CN=Another CA" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext.cnf 2>/dev/null
    openssl x509 -req -in server.csr -CA other.pem -CAkey other.key -CAcreateserial -out wrong.pem -days 1 -extfile ext.cnf 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out expired.pem -days -1 -extfile ext.cnf 2>/dev/null
    [ -s expired.pem ] || fail "openssl could not make the test certificates"
}

# start_broker tls|tcp [CERT] -> $port
start_broker() {
    mkdir -m 700 -p ctl
    local scheme=$1 cert=${2:-server.pem}
    if [ "$scheme" = tls ]; then
        "$tactus" broker serve --listen "tls://${BIND:-127.0.0.1}:0" --cert "$cert" --key server.key \
            --control "$tmp/ctl/broker.sock" >port.txt 2>broker.log &
    else
        "$tactus" broker serve --listen "tcp://${BIND:-127.0.0.1}:0" --control "$tmp/ctl/broker.sock" \
            >port.txt 2>broker.log &
    fi
    broker_pid=$!
    for _ in $(seq 100); do [ -s port.txt ] && break; sleep 0.05; done
    port=$(awk '/listening port/ {print $3}' port.txt)
    [ -n "$port" ] || fail "the broker did not start"
}

project() { # project DIR TRANSPORT [HOST]
    mkdir -p "$1"
    cp "$here/chatty.tac" "$1/"
    {
        echo "sandbox:"
        echo "  broker_transport: $2"
        echo "  broker_port: $port"
        echo "  broker_control: $tmp/ctl/broker.sock"
        [ "$2" = tls ] && echo "  broker_ca_file: $tmp/ca.pem"
        [ -n "${3:-}" ] && echo "  broker_host: $3" && echo "  network: bridge"
        [ -n "${4:-}" ] && echo "  broker_server_name: $4"
    } >"$1/chatty.tac.yml"
    "$tactus" trust "$1" >/dev/null || fail "tactus trust $1"
}

expect_ok_run() { # expect_ok_run DIR TAG [extra args]
    local dir=$1 t=$2
    shift 2
    "$tactus" run --mock "$@" "$dir/chatty.tac" --input tag="$t" >"$dir/out.txt" 2>"$dir/err.txt" \
        || fail "run $t failed: $(cat "$dir/out.txt" "$dir/err.txt")"
    grep -q "pong from the broker" "$dir/out.txt" || fail "run $t: no model answer: $(cat "$dir/out.txt")"
    grep -q "\"$t\"\|$t" "$dir/out.txt" || fail "run $t: no host tool answer"
    n=$(grep -c "event [0-9]* of $t\$" "$dir/err.txt")
    [ "$n" = 20 ] || fail "run $t: $n of 20 log events arrived: $(cat "$dir/err.txt")"
}

case $case in
tls | tcp)
    make_pki
    start_broker "$case"
    project p "$case"
    expect_ok_run p one --no-sandbox
    grep -q "run .* finished" broker.log || fail "the broker did not log the run"
    echo "remote $case: a run through the broker: answer, host tool and 20/20 events"
    ;;
wrong-cert | expired)
    make_pki
    [ "$case" = wrong-cert ] && cert=wrong.pem || cert=expired.pem
    start_broker tls "$cert"
    project p tls
    "$tactus" run --mock --no-sandbox p/chatty.tac --input tag=x >out.txt 2>err.txt && fail "the run was not refused"
    [ "$case" = wrong-cert ] && want="unable to get local issuer certificate" || want="certificate has expired"
    grep -q "tactus-connect.*refused: $want" err.txt || fail "expected '$want' in: $(cat err.txt)"
    grep -q "registered" broker.log || fail "the run was never registered"
    grep -q "finished" broker.log && fail "the broker served a runtime it should not have met"
    echo "remote $case: refused by the runtime side ($want)"
    ;;
wrong-token)
    make_pki
    start_broker tls
    echo "0000000000000000000000000000000000000000000000000000000000000000" |
        "$bin/tactus-connect" "tls://127.0.0.1:$port" --ca ca.pem "$bin/tactus-runtime" >out.txt 2>err.txt
    [ $? = 3 ] || fail "an unknown token must end tactus-connect with status 3"
    grep -q "refused the run: unknown token" err.txt || fail "no refusal: $(cat err.txt)"
    # A real token, used twice: the second connection is refused.
    python3 - "$tmp/ctl/broker.sock" >token.txt <<'PY' &
import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
start = {"type": "start", "protocol": 1, "run_id": "run-token-test",
         "procedure": {"path": "t.tac", "source": "return 1", "name": "main"},
         "inputs": {}, "workspace": "/tmp", "seed": 1, "now_ms": 0}
body = json.dumps({"type": "register", "start": start}).encode()
s.sendall(struct.pack(">I", len(body)) + body)
n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
print(json.loads(s.recv(n, socket.MSG_WAITALL))["token"], flush=True)
time.sleep(5)
PY
    for _ in $(seq 100); do [ -s token.txt ] && break; sleep 0.05; done
    token=$(cat token.txt)
    [ ${#token} = 64 ] || fail "no token from the control socket"
    echo "$token" | "$bin/tactus-connect" "tls://127.0.0.1:$port" --ca ca.pem "$bin/tactus-runtime" >o1 2>e1 \
        || fail "the first use of a token must run: $(cat e1)"
    echo "$token" | "$bin/tactus-connect" "tls://127.0.0.1:$port" --ca ca.pem "$bin/tactus-runtime" >o2 2>e2
    [ $? = 3 ] && grep -q "used already" e2 || fail "a second use of a token must be refused: $(cat e2)"
    echo "remote wrong-token: unknown token refused; a token works once"
    ;;
concurrent)
    make_pki
    start_broker tls
    project p tls
    pids=()
    for i in $(seq 100); do
        mkdir -p "r$i"
        ( "$tactus" run --mock --no-sandbox p/chatty.tac --input tag="t$i" >"r$i/out.txt" 2>"r$i/err.txt"; echo $? >"r$i/rc" ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    bad=0 events=0
    for i in $(seq 100); do
        rc=$(cat "r$i/rc")
        n=$(grep -c "event [0-9]* of t$i\$" "r$i/err.txt")
        events=$((events + n))
        if [ "$rc" != 0 ] || [ "$n" != 20 ] || ! grep -q "pong from the broker" "r$i/out.txt"; then
            bad=$((bad + 1))
            [ $bad -le 3 ] && echo "run $i: rc=$rc events=$n $(head -c 300 "r$i/err.txt")" >&2
        fi
    done
    [ $bad = 0 ] || fail "$bad of 100 runs lost something"
    finished=$(grep -c "finished" broker.log)
    [ "$finished" = 100 ] || fail "the broker finished $finished runs, not 100"
    echo "remote concurrent: 100 runs through one TLS broker, $events/2000 events, 100 answers"
    ;;
docker)
    make_pki
    # The container reaches the host through Docker's bridge gateway.
    # (host-gateway, which the sandbox passes to --add-host, is resolved by
    # dockerd itself.) IPAM may list the bridge's Subnet without its Gateway:
    # then the address is that of the docker0 interface.
    gw=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null)
    [ -n "$gw" ] || gw=$(ip -4 -o addr show docker0 2>/dev/null | awk '{sub("/.*", "", $4); print $4; exit}')
    [ -n "$gw" ] || fail "no bridge gateway: neither in 'docker network inspect bridge' nor on docker0 (is dockerd running?)"
    BIND=0.0.0.0 start_broker tls
    project p tls host.docker.internal localhost
    chown -R 65534:65534 p
    expect_ok_run p docker
    echo "remote docker: a sandboxed run (bridge network) through a TLS broker"
    ;;
*) fail "unknown case" ;;
esac
