#!/usr/bin/env bash
# TLS of tactus serve (OpenSSL in front of libmicrohttpd, service/ws_tls.c),
# with a CA of the test's own (a root, an intermediate, the server's
# certificate): the files it refuses and why, what it negotiates (seen by
# `openssl s_client` and curl), then tls_test.py: the API over TLS, garbage
# instead of a ClientHello, stalled handshakes, closes both ways, 1,000
# idle SSE streams over TLS with bounded memory.
#   tls.sh TACTUS
source "$(dirname "$0")/lib.sh"
ulimit -n 8192 2>/dev/null || ulimit -n 4096 || fail "cannot raise the open-file limit for 1,000 streams"
cd "$work" || fail "cd"
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1 $2"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Tactus test root"
ossl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/CN=Tactus test intermediate"
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
ossl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out int.pem -days 1 -extfile int.ext
ossl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
ossl x509 -req -in server.csr -CA int.pem -CAkey int.key -CAcreateserial -out server.pem -days 1 -extfile server.ext
cat server.pem int.pem >chain.pem # the certificate, then its chain
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key
ossl pkey -in server.key -aes256 -passout pass:secret -out locked.key

# ---- the files it refuses, each naming the file and the fix -------------------------------------
appr=$(token acme approver tls)
refused() { # refused WHAT PATTERN ARGS...: exit 2, the message matches, nothing listened
    local what=$1 pattern=$2
    shift 2
    timeout 10 "$tactus" serve --listen 127.0.0.1:0 --store "$store" "$@" >out 2>err </dev/null
    local rc=$?
    [ "$rc" = 2 ] || fail "$what: exit $rc, expected 2 ($(cat err))"
    grep -q -- "$pattern" err || fail "$what: the message: $(cat err)"
    grep -q listening out && fail "$what: it listened"
}
refused "a key of another certificate" "--tls-key $work/other.key does not match the certificate in --tls-cert chain.pem" \
    --tls-cert chain.pem --tls-key "$work/other.key"
grep -q "openssl x509 -noout -pubkey" err || fail "the mismatch says how to check: $(cat err)"
refused "a certificate that is not PEM" "--tls-cert server.ext: not a PEM certificate chain" \
    --tls-cert server.ext --tls-key server.key
refused "a missing key" "--tls-key nope.key: cannot read it: No such file" --tls-cert chain.pem --tls-key nope.key
refused "a key under a passphrase (never prompted for)" "--tls-key locked.key: not an unencrypted PEM private key" \
    --tls-cert chain.pem --tls-key locked.key
refused "half a TLS configuration" "both --tls-cert FILE and --tls-key FILE" --tls-cert chain.pem
note "refused: a key of another certificate, a certificate not PEM, a missing key, a key under a passphrase"

# 1,000 streams of one token from one address: neither limit applies here
start_server --tls-cert chain.pem --tls-key server.key --idle-timeout 2 --rate 0 --per-ip 0 --streams-per-token 0 -v
case "$url" in https://127.0.0.1:*) ;; *) fail "serve with TLS says it listens on $url" ;; esac
port=${url##*:}

# ---- what it negotiates ---------------------------------------------------------------------------
sclient() { timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile ca.pem "$@" </dev/null 2>&1; }
out=$(sclient -alpn h2,http/1.1)
grep -q "Verify return code: 0 (ok)" <<<"$out" || fail "s_client verifies the chain with the test's root: $out"
grep -q "^New, TLSv1.3, Cipher is TLS_" <<<"$out" || fail "TLS 1.3 by default: $out"
grep -q "ALPN protocol: http/1.1" <<<"$out" || fail "ALPN picks http/1.1 over h2: $out"
note "s_client: $(grep -m1 '^New,' <<<"$out"), $(grep -m1 'ALPN' <<<"$out")"
out=$(sclient -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)
grep -q "^New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256" <<<"$out" || fail "TLS 1.2 with ECDHE and AES-GCM: $out"
out=$(sclient -tls1_2 -cipher AES128-SHA)
grep -q "Cipher is (NONE)" <<<"$out" || fail "TLS 1.2 without forward secrecy (AES128-SHA) is refused: $out"
out=$(sclient -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
grep -q "Cipher is (NONE)" <<<"$out" || fail "TLS 1.1 is refused: $out"
out=$(timeout 10 curl -sS -v --cacert ca.pem -H "Authorization: Bearer $appr" "$url/v1/approvals" 2>&1) ||
    fail "curl over TLS with the test's root: $out"
grep -q '{"approvals":' <<<"$out" || fail "the API over TLS: $out"
grep -q "SSL connection using TLSv1.3" <<<"$out" || fail "curl: TLS 1.3: $out"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/v1/approvals" && fail "plain HTTP answered on the TLS port"
# OpenSSL's own reason for plain HTTP on a TLS port, in the server's log:
# it is OpenSSL that made the handshake, not libmicrohttpd's GnuTLS.
grep -q "TLS 127.0.0.1:[0-9]*: handshake failed.*http request" serve.err ||
    fail "the server's log names OpenSSL's reason for plain HTTP: $(tail -5 serve.err)"
hdr=$(curl -s -i --cacert ca.pem "$url/ui/login" | tr -d '\r')
grep -q '^Set-Cookie: tactus_pre=.*; Secure' <<<"$hdr" || fail "cookies are Secure under TLS: $hdr"
grep -q '^Strict-Transport-Security: max-age=' <<<"$hdr" || fail "HSTS under TLS: $hdr"
note "TLS 1.2 (forward secret, AEAD) and 1.3 only; plain HTTP refused with OpenSSL's reason; Secure cookies, HSTS"

start_worker acme
bound=300
ldd "$tactus" 2>/dev/null | grep -q libasan && bound=800
python3 - cfg.json "$appr" "$(token acme submitter ci)" "$bound" "$work/ca.pem" <<'PY'
import json, sys
json.dump({"token": sys.argv[2], "submitter": sys.argv[3], "idle_timeout": 2, "rss_bound_mib": int(sys.argv[4]),
           "ca": sys.argv[5]}, open(sys.argv[1], "w"))
PY
python3 "$here/tls_test.py" "$url" "$here/../../service/assets/openapi.json" cfg.json "$server_pid" ||
    fail "tls_test.py"
grep -q "handshake not done in time" serve.err || fail "stalled handshakes are logged as such"

# ---- --per-ip counts handshakes: one address cannot take every slot with them -------------------
"$tactus" serve --listen 127.0.0.1:0 --store "$store" --tls-cert chain.pem --tls-key server.key --per-ip 3 \
    >perip.out 2>perip.err &
pids+=($!)
for _ in $(seq 1 100); do grep -q listening perip.out && break; sleep 0.1; done
pport=$(grep -o 'https://127.0.0.1:[0-9]*' perip.out | grep -o '[0-9]*$')
[ -n "$pport" ] || fail "serve --per-ip 3: $(cat perip.err)"
python3 - "$pport" ca.pem <<'PY' || fail "--per-ip under TLS"
import socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
held = []
for _ in range(8):  # handshakes never begun, from 127.0.0.2
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    held.append(s)
time.sleep(0.5)
closed = 0
for s in held:
    s.settimeout(0.3)
    try:
        closed += s.recv(1) == b""
    except socket.timeout:
        pass
    except OSError:
        closed += 1
assert closed == 5, f"3 handshakes held from one address, the other 5 closed at once: {closed} of 8 closed"
c = ssl.create_default_context(cafile=ca).wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                                      server_hostname="127.0.0.1")
c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
assert c.recv(100).startswith(b"HTTP/1.1 200"), "another address is served meanwhile"
PY
note "--per-ip 3: a fourth handshake from one address is closed at once, others are served"
note "ok"
