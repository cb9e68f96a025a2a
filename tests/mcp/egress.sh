#!/usr/bin/env bash
# The network of an isolate: docker MCP server, as attacks a user could
# write: the static echo server (tests/mcp/echo_server.c, tools fetch and
# resolve) in an image FROM scratch tries to reach what it was not given.
#   allow    network: {allow: ["host.docker.internal:PORT"]}: a GET of the
#            allowed host:port works; the same host on another port, the
#            host's addresses (the default bridge's gateway, the gateway of
#            the server's own network), a public address and a name resolved
#            through Docker's DNS all fail, and the host's listeners prove no
#            connection was made; the forwarder holds nothing of the
#            server's, runs read-only, as nobody, without capabilities; after
#            the run no container or network of the server's remains
#   none     without network: the server has no network at all
#   crash    the broker killed (SIGKILL) mid-run: the forwarders and the
#            server exit and are removed by themselves; the network left
#            behind goes at the next start
#   config   allow-lists that would not mean what they say are refused
#            before anything starts (wildcards, ports, URLs, addresses,
#            localhost, a network: on a process server, a misspelt key)
#   egress.sh TACTUS CASE
source "$(dirname "$0")/lib.sh"
case_=${2:?case}
export MCP_TEST_TOKEN=tok-given-to-the-server-only-0005
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"

run_tac() { # run_tac LUA [run options]: a procedure around LUA, run with --json
    local body=$1
    shift
    printf 'Procedure {\n  function()\n    %s\n  end\n}\n' "$body" >"$proj/p.tac"
    t run p.tac --json "$@"
}

# The echo server's image (FROM scratch), removed with its containers.
image=tactus-mcp-echo-test:egress-$$
build_image() {
    mkdir -p "$work/image"
    cp "$(dirname "$tactus")/mcp-echo-server" "$work/image/server"
    printf 'FROM scratch\nCOPY server /server\nENTRYPOINT ["/server"]\n' >"$work/image/Dockerfile"
    docker build -q -t "$image" --label tactus.test=mcp "$work/image" >/dev/null 2>"$work/build.err" || fail "docker build of the test server image"
    trap 'docker rm -f $(docker ps -aq --filter ancestor='"$image"') >/dev/null 2>&1; docker rmi -f '"$image"' >/dev/null 2>&1; cleanup' EXIT
}

# listen PORT...: an HTTP listener on every address of the host per port,
# logging each connection's peer to $work/hits-PORT (the proof of what
# reached the host, whatever the server claims).
listen() {
    "$python" - "$work" "$@" <<'PY' &
import socket, sys, threading
work, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    open(f"{work}/ready-{port}", "w").close()
    while True:
        c, peer = s.accept()
        with open(f"{work}/hits-{port}", "a") as f:
            f.write(peer[0] + "\n")
        try:
            c.settimeout(10)
            req = c.recv(4096)
            if req.startswith(b"PUT /bulk"):
                # a MiB of i % 251 up, checked; 4 MiB of i % 253 down when it was right
                head, _, body = req.partition(b"\r\n\r\n")
                while len(body) < 1 << 20:
                    more = c.recv(65536)
                    if not more: break
                    body += more
                ok = body == bytes(i % 251 for i in range(1 << 20))
                c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
                c.sendall(bytes(i % 253 for i in range(4 << 20)) if ok else b"the upload was changed")
            else:
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        c.close()
threads = [threading.Thread(target=serve, args=(p,), daemon=True) for p in ports]
for t in threads: t.start()
for t in threads: t.join()
PY
    pids_to_stop+=($!)
    for p in "$@"; do
        for _ in $(seq 50); do [ -e "$work/ready-$p" ] && break; sleep 0.1; done
        [ -e "$work/ready-$p" ] || fail "the test listener on port $p did not start"
    done
}
hits() { [ -e "$work/hits-$1" ] && wc -l <"$work/hits-$1" || echo 0; }

# What of this server start is on dockerd: containers and networks labelled
# with its egress id.
left_of() {
    docker ps -aq --filter "label=tactus.mcp.egress=$1"
    docker network ls -q --filter "label=tactus.mcp.egress=$1"
}

# The server's container during the run (by its image), waited for.
server_container() {
    for _ in $(seq 150); do
        cid=$(docker ps -q --filter ancestor="$image")
        [ -n "$cid" ] && return 0
        sleep 0.1
    done
    return 1
}

case $case_ in
allow)
    build_image
    allowed=$(free_port)
    other=$(free_port)
    listen "$allowed" "$other"
    bridge_gw=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
    [ -n "$bridge_gw" ] || fail "the default bridge has no gateway"
    cat >"$config" <<YML
mcp_servers:
  net:
    isolate: docker
    image: "$image"
    env: { TOKEN: "\${secret:MCP_TEST_TOKEN}" }
    network: { allow: ["host.docker.internal:$allowed", "HOST.docker.internal:$allowed", "host.docker.internal"] }
YML
    # The gateway of the server's own network: the forwarder's address with
    # .1 at the end (checked against Docker's record below).
    run_tac "local fwd = mcp.net.resolve({host = 'host.docker.internal'})
    local own_gw = fwd:gsub('%.%d+\$', '.1')
    local r = {fwd = fwd, own_gw = own_gw}
    r.allowed = mcp.net.fetch({host = 'host.docker.internal', port = $allowed})
    r.bulk = mcp.net.bulk({host = 'host.docker.internal', port = $allowed})
    r.other_port = mcp.net.fetch({host = 'host.docker.internal', port = $other})
    r.gw_allowed = mcp.net.fetch({host = '$bridge_gw', port = $allowed})
    r.gw_other = mcp.net.fetch({host = '$bridge_gw', port = $other})
    r.own_gw_allowed = mcp.net.fetch({host = own_gw, port = $allowed})
    r.own_gw_other = mcp.net.fetch({host = own_gw, port = $other})
    r.fwd_other = mcp.net.fetch({host = fwd, port = $other})
    r.public = mcp.net.fetch({host = '1.1.1.1', port = 80})
    r.dns = mcp.net.resolve({host = 'exfil-$$.example.com'})
    Sleep(3)
    return r" --no-sandbox --timeout 240 &
    bg=$!
    server_container || { wait $bg; fail "no container of the server during the run"; }
    egress=$(docker inspect -f '{{index .Config.Labels "tactus.mcp.egress"}}' "$cid")
    net=$(docker inspect -f '{{.HostConfig.NetworkMode}}' "$cid")
    net_facts=$(docker network inspect -f '{{.Internal}} {{index .Options "com.docker.network.bridge.inhibit_ipv4"}} {{range .IPAM.Config}}{{.Gateway}}{{end}}' "$net")
    fwds=$(docker ps -q --filter "label=tactus.mcp.egress=$egress" | grep -v "^${cid:0:12}")
    fwd_facts=
    for f in $fwds; do
        fwd_facts+=$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.Config.User}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' "$f")
        fwd_args=$(docker inspect -f '{{join .Args " "}}' "$f")
        docker inspect "$f" | grep -qF "$MCP_TEST_TOKEN" && fail "the server's secret is in its forwarder's container"
    done
    wait $bg
    rc=$?
    expect_rc 0 "a server with an allow-list"
    [ -n "${EGRESS_DEBUG:-}" ] && cat "$work/out" >&2
    [ -n "$egress" ] || fail "the server's container carries no egress label"
    [ "$(echo "$fwds" | grep -c .)" = 1 ] || fail "one forwarder per allowed host expected: $fwds"
    [ "$fwd_facts" = "true [ALL] 65534:65534 67108864 16" ] || fail "the forwarder's isolation: $fwd_facts"
    # One host named three ways: one forwarder, its port once, 443 for none.
    [[ "$fwd_args" = "--from "*" host.docker.internal $allowed 443" ]] || fail "the forwarder's arguments: $fwd_args"
    [ "$(json 'd["output"]["allowed"]')" = "HTTP/1.0 200 OK" ] || fail "the allowed host:port: $(json 'd["output"]["allowed"]')"
    # A MiB up (checked by the listener), 4 MiB down, both unchanged.
    want=$("$python" -c '
h = 2166136261
for b in b"" + bytes(i % 253 for i in range(4 << 20)): h = ((h ^ b) * 16777619) & 0xffffffff
print("sent 1048576 received 4194304 fnv %08x" % h)')
    [ "$(json 'd["output"]["bulk"]')" = "$want" ] || fail "bytes through the forwarder: $(json 'd["output"]["bulk"]'), expected $want"
    for k in other_port gw_allowed gw_other own_gw_allowed own_gw_other fwd_other public dns; do
        v=$(json "d['output']['$k']")
        case $v in failed:*) ;; *) fail "$k reached something: $v" ;; esac
    done
    json 'd["output"]["dns"]' | grep -q "resolve" || fail "an outside name was resolved: $(json 'd["output"]["dns"]')"
    # The host's side: the allowed port saw exactly the two allowed calls,
    # from the forwarder (the default bridge), the other port nothing.
    [ "$(hits "$allowed")" = 2 ] || fail "the allowed listener saw $(hits "$allowed") connections, expected 2: $(cat "$work/hits-$allowed" 2>/dev/null)"
    [ "$(hits "$other")" = 0 ] || fail "the other listener was reached from $(cat "$work/hits-$other")"
    note "allowed host:port reached (2 connections, 1 MiB up and 4 MiB down unchanged); other port, gateways, public address, DNS: nothing reached the host"
    set -- $net_facts
    [ "$1 $2" = "true true" ] || fail "the server's network is not internal without a host address: $net_facts"
    [ "$(json 'd["output"]["own_gw"]')" = "$3" ] || fail "the gateway attacked ($(json 'd["output"]["own_gw"]')) is not the network's ($3)"
    sleep 1
    [ -z "$(left_of "$egress")" ] || fail "containers or networks of the server outlived the run: $(left_of "$egress")"
    note "no container or network of the server remains"
    # An allowed host that does not resolve: a clear error, nothing left.
    before=$(docker network ls -q --filter label=tactus.mcp.egress | sort)
    cat >"$config" <<YML
mcp_servers:
  net:
    isolate: docker
    image: "$image"
    network: ["no-such-host-$$.invalid:443"]
YML
    run_tac "return mcp.net.echo({text = 'x'})" --no-sandbox --timeout 120
    expect_rc 1 "an allowed host that does not resolve"
    json 'd["error"]["message"]' | grep -qF "MCP server net could not be started: its network (mcp_servers.net.network) could not be set up: the forwarder to no-such-host-$$.invalid could not start: it ended: tactus-mcp-forward: cannot resolve the allowed host" ||
        fail "the unresolved host's error: $(json 'd["error"]["message"]')"
    [ -z "$(docker ps -aq --filter ancestor="$image")" ] || fail "the server was started without its network"
    [ "$(docker network ls -q --filter label=tactus.mcp.egress | sort)" = "$before" ] || fail "a network was left behind"
    note "an allowed host that does not resolve: the server does not start, nothing is left"
    ;;
none)
    build_image
    other=$(free_port)
    listen "$other"
    bridge_gw=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
    cat >"$config" <<YML
mcp_servers:
  net:
    isolate: docker
    image: "$image"
YML
    run_tac "return {gw = mcp.net.fetch({host = '$bridge_gw', port = $other}),
      name = mcp.net.fetch({host = 'host.docker.internal', port = $other}),
      public = mcp.net.fetch({host = '1.1.1.1', port = 80})}" --no-sandbox --timeout 120
    expect_rc 0 "a server without network:"
    for k in gw name public; do
        v=$(json "d['output']['$k']")
        case $v in failed:*) ;; *) fail "$k reached something: $v" ;; esac
    done
    json 'd["output"]["gw"]' | grep -q "unreachable" || fail "a network route exists: $(json 'd["output"]["gw"]')"
    [ "$(hits "$other")" = 0 ] || fail "the host's listener was reached from $(cat "$work/hits-$other")"
    note "without network: no route at all"
    ;;
crash)
    build_image
    allowed=$(free_port)
    listen "$allowed"
    cat >"$config" <<YML
mcp_servers:
  net:
    isolate: docker
    image: "$image"
    network: ["host.docker.internal:$allowed"]
YML
    printf 'Procedure {\n  function()\n    local r = mcp.net.fetch({host = "host.docker.internal", port = %s})\n    Sleep(60)\n    return r\n  end\n}\n' "$allowed" >"$proj/p.tac"
    (cd "$proj" && exec "$tactus" run p.tac --no-sandbox --timeout 120) >"$work/out" 2>"$work/err" </dev/null &
    bg=$!
    server_container || { kill -9 $bg; fail "no container of the server during the run"; }
    egress=$(docker inspect -f '{{index .Config.Labels "tactus.mcp.egress"}}' "$cid")
    for _ in $(seq 100); do [ "$(hits "$allowed")" = 1 ] && break; sleep 0.1; done
    [ "$(hits "$allowed")" = 1 ] || { kill -9 $bg; fail "the allowed fetch did not happen"; }
    kill -9 $bg
    wait $bg 2>/dev/null
    for _ in $(seq 100); do
        [ -z "$(docker ps -aq --filter "label=tactus.mcp.egress=$egress")" ] && break
        sleep 0.2
    done
    [ -z "$(docker ps -aq --filter "label=tactus.mcp.egress=$egress")" ] ||
        fail "containers of the killed broker's server are still there: $(docker ps -a --filter "label=tactus.mcp.egress=$egress")"
    note "the broker killed: its forwarder and server exited and were removed by themselves"
    [ -n "$(docker network ls -q --filter "label=tactus.mcp.egress=$egress")" ] || note "(its network went too)"
    # The next start on this machine removes the network left behind.
    printf 'Procedure {\n  function()\n    return mcp.net.fetch({host = "host.docker.internal", port = %s})\n  end\n}\n' "$allowed" >"$proj/p.tac"
    t run p.tac --json --no-sandbox --timeout 120
    expect_rc 0 "the next run"
    [ "$(json 'd["output"]')" = "HTTP/1.0 200 OK" ] || fail "the next run's fetch: $(json 'd["output"]')"
    [ -z "$(left_of "$egress")" ] || fail "what the killed broker left was not removed: $(left_of "$egress")"
    note "what the killed broker left was removed by the next start"
    ;;
config)
    cat >"$proj/p.tac" <<'TAC'
Procedure { function() return mcp.net.echo({text = "x"}) end }
TAC
    before=$(docker network ls -q --filter label=tactus.mcp.egress | sort)
    check() { # check NETWORK-YAML ISOLATE EXPECTED-TEXT
        cat >"$config" <<YML
mcp_servers:
  net:
    command: ["$(dirname "$tactus")/mcp-echo-server"]
    $2
    network: $1
YML
        t run p.tac --json --no-sandbox
        expect_rc 1 "network: $1"
        json 'd["error"]["message"]' | grep -qF -- "$3" || fail "network: $1: $(json 'd["error"]["message"]')"
        for must in "nothing was started" "\`tactus config\` shows which file sets it"; do
            json 'd["error"]["message"]' | grep -qF -- "$must" ||
                fail "network: $1: the message lacks \"$must\": $(json 'd["error"]["message"]')"
        done
    }
    docker="isolate: docker
    image: tactus-mcp-not-built-here-$$"
    check '["*.example.com:443"]' "$docker" 'mcp_servers.net.network[0] ("*.example.com:443") has a wildcard'
    check '{allow: ["api.example.com:0"]}' "$docker" 'mcp_servers.net.network.allow[0] ("api.example.com:0") has the port "0": a port is a number from 1 to 65535 (without one, 443)'
    check '["api.example.com:70000"]' "$docker" 'has the port "70000"'
    check '["api.example.com:https"]' "$docker" 'has the port "https"'
    check '["https://api.example.com"]' "$docker" 'is a URL: write HOST:PORT'
    check '["10.0.0.5:5432"]' "$docker" 'is an IP address'
    check '["[::1]:80"]' "$docker" 'is an IPv6 address'
    check '["localhost:8080"]' "$docker" 'this machine is host.docker.internal'
    check '["ok.example.com", 42]' "$docker" 'network[1] ("") is not a string'
    check '{allow: []}' "$docker" 'takes none, or an allow-list of hosts'
    check '{alow: ["api.example.com"]}' "$docker" 'mcp_servers.net.network.alow is not a key of it (keys: allow)'
    check '"host"' "$docker" 'takes none, or an allow-list of hosts'
    check '["api.example.com:443"]' "" 'mcp_servers.net.network needs isolate: docker'
    [ -z "$(docker ps -aq --filter label=tactus.mcp=1 --filter "ancestor=tactus-mcp-not-built-here-$$")" ] || fail "a server was started"
    [ "$(docker network ls -q --filter label=tactus.mcp.egress | sort)" = "$before" ] || fail "a network was made"
    note "allow-lists that would not mean what they say start nothing"
    ;;
*) fail "unknown case $case_" ;;
esac
note "ok"
