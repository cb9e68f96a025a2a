#!/usr/bin/env bash
# Attacks on tactus serve (attacks_test.py: cross-tenant answers, forged
# forms and cookies, oversize and malformed bodies, procedures outside the
# folder, the rate limit), then the configuration it refuses to start with.
# Each asserts that nothing happened. TLS: tls.sh.
#   attacks.sh TACTUS
source "$(dirname "$0")/lib.sh"
echo 'Procedure { function() return {} end }' >"$work/outside.tac"
ln -s "$work/outside.tac" "$work/procs/link.tac"
cp "$work/outside.tac" "$work/procs/sub-outside.tac" # inside: fine, but not what the tests name
start_server --rate 20
start_worker acme
python3 - "$work/cfg.json" "$(token acme submitter ci)" "$(token acme approver alice)" "$(token acme viewer vic)" \
    "$(token other admin mallory)" <<'PY'
import json, sys
out, submitter, approver, viewer, other = sys.argv[1:]
json.dump({"tokens": {"submitter": submitter, "approver": approver, "viewer": viewer, "other_admin": other}},
          open(out, "w"))
PY
python3 "$here/attacks_test.py" "$url" "$here/../../service/assets/openapi.json" "$work/cfg.json" ||
    fail "attacks_test.py"

# ---- what the server refuses to start with ------------------------------------------------------
# A tokens file others can read (or write: mint themselves a token).
cp "$TACTUS_TOKENS" "$work/public-tokens.json"
chmod 644 "$work/public-tokens.json"
"$tactus" serve --listen 127.0.0.1:0 --tokens "$work/public-tokens.json" >"$work/out" 2>"$work/err" &
p=$!; sleep 1; kill "$p" 2>/dev/null; wait "$p"; rc=$?
[ "$rc" = 1 ] || fail "serve with a public tokens file: exit $rc, expected 1"
grep -q "must be the user's own and private" "$work/err" || fail "serve with a public tokens file: $(cat "$work/err")"
grep -q "listening" "$work/out" && fail "serve listened with a public tokens file"
# Plain HTTP on an address that is not loopback: tokens would cross the network in the clear.
"$tactus" serve --listen 0.0.0.0:0 >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 2 ] || fail "serve --listen 0.0.0.0 without TLS: exit $rc, expected 2"
grep -q "not a loopback address" "$work/err" || fail "the refusal says why: $(cat "$work/err")"
"$tactus" serve --listen 127.0.0.1:0 --tls-cert /nonexistent >"$work/out" 2>"$work/err"
[ $? = 2 ] || fail "--tls-cert without --tls-key"
# A project's own configuration (where procedures write) naming a webhook and an
# address: the server must not start on it, and the planted listener hears nothing.
python3 "$here/hook_receiver.py" "$work/evil.port" "$work/evil.log" 0 &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/evil.port" ] && break; sleep 0.1; done
mkdir -p "$work/project/.tactus"
printf 'serve:\n  listen: 0.0.0.0:0\n  webhooks: ["http://127.0.0.1:%s/steal"]\n' "$(cat "$work/evil.port")" \
    >"$work/project/.tactus/config.yml"
(cd "$work/project" && "$tactus" serve --store "$store" >"$work/out" 2>"$work/err")
rc=$?
[ "$rc" = 2 ] || fail "serve under an untrusted project file: exit $rc, expected 2"
grep -q "'serve' is a privileged key" "$work/err" || fail "the refusal names the key: $(cat "$work/err")"
grep -q "config.yml:1:1" "$work/err" || fail "the refusal names file:line:column: $(cat "$work/err")"
[ ! -s "$work/evil.log" ] || fail "the planted webhook was called"
note "refused: a public tokens file, plain HTTP off loopback, half a TLS configuration, serve.* from a project file"

note "ok"
