#!/usr/bin/env bash
# Attacks by another user of the machine on the places tactus keeps things
# in (docs/security.md, "Private places"), one case per invocation:
#   places.sh BUILD CASE
# The attacker is `nobody`, who may write /tmp and $TMPDIR but nothing of
# ours. Each case asserts that the run neither failed because of it nor
# used anything the attacker made.
# seccomp  nobody makes $TMPDIR/tactus-seccomp-UID (where profiles used to
#          go) first: a sandboxed run must still run, its profile in
#          ~/.cache/tactus/seccomp, nothing in the attacker's folder.
# warm     no $XDG_RUNTIME_DIR nor $HOME, sandbox.warm: 1, and nobody owns
#          /tmp/tactus (0777): no warm container is kept there (its socket
#          would sit in a folder the attacker can rename and replace).
# control  the same, and nobody listens on /tmp/tactus/broker.sock: a run
#          with a remote broker and `tactus broker serve` refuse the default
#          place, and the attacker's socket takes no connection.
set -u
build=$1 case=$2
tactus=$build/tactus
work=$(mktemp -d)
made_tmp_tactus=""
attacker=""
cleanup() {
    [ -n "$attacker" ] && kill "$attacker" 2>/dev/null
    [ -n "$made_tmp_tactus" ] && rm -rf /tmp/tactus
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "places $case: FAIL: $*" >&2; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir -p "$work/cfg/tactus" "$work/p" "$work/data" "$work/tmp"
chmod 1777 "$work/tmp"
chmod 755 "$work"
export XDG_CONFIG_HOME=$work/cfg XDG_DATA_HOME=$work/data TMPDIR=$work/tmp NO_COLOR=1
printf 'Procedure { output = { hi = field.string{} }, function() return {hi = "ran"} end }\n' >"$work/p/hello.tac"
chown -R 65534:65534 "$work/p"

# /tmp/tactus made by the attacker, open to everyone (a case's precondition).
squat_tmp_tactus() {
    [ -e /tmp/tactus ] && fail "/tmp/tactus exists already: this test needs it absent"
    as_nobody mkdir -m 0777 /tmp/tactus || fail "nobody cannot make /tmp/tactus"
    made_tmp_tactus=1
}

case "$case" in
seccomp)
    export HOME=$work/home
    mkdir -p "$HOME"
    squat=$TMPDIR/tactus-seccomp-$(id -u)
    as_nobody mkdir -m 0700 "$squat" || fail "nobody cannot make $squat"
    (cd "$work/p" && "$tactus" run --json hello.tac) >"$work/out" 2>"$work/err" ||
        fail "the run failed: $(cat "$work/err")"
    grep -q '"ran"' "$work/out" || fail "unexpected output: $(cat "$work/out")"
    ls "$HOME/.cache/tactus/seccomp/"profile-*.json >/dev/null 2>&1 ||
        fail "no profile in $HOME/.cache/tactus/seccomp"
    [ "$(stat -c %a "$HOME/.cache/tactus/seccomp")" = 700 ] || fail "the profile folder is not 0700"
    [ -z "$(ls -A "$squat")" ] || fail "something was written into the attacker's folder"
    echo "places seccomp: ok (the run ran; its profile is in a folder of its own)" ;;
warm)
    unset HOME XDG_RUNTIME_DIR
    squat_tmp_tactus
    printf 'sandbox:\n  warm: 1\n  warm_idle: 30\n' >"$work/cfg/tactus/config.yml"
    before=$(docker ps -q --filter name=tactus-warm- | sort)
    for i in 1 2; do
        (cd "$work/p" && "$tactus" run --json hello.tac) >"$work/out" 2>"$work/err" ||
            fail "run $i failed: $(cat "$work/err")"
        grep -q '"ran"' "$work/out" || fail "run $i: $(cat "$work/out")"
    done
    sleep 1
    [ -e /tmp/tactus/warm ] && fail "a warm folder was made in the attacker's /tmp/tactus: $(ls -la /tmp/tactus)"
    after=$(docker ps -q --filter name=tactus-warm- | sort)
    [ "$before" = "$after" ] || fail "a warm container was started: $after"
    echo "places warm: ok (no warm containers without a private runtime folder)" ;;
control)
    unset HOME XDG_RUNTIME_DIR
    squat_tmp_tactus
    # The attacker's broker: it records whoever connects.
    setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$work/tmp/attacker.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind("/tmp/tactus/broker.sock")
os.chmod("/tmp/tactus/broker.sock", 0o777)
s.listen(8)
while True:
    c, _ = s.accept()
    with open(sys.argv[1], "a") as f:
        f.write("connected\n")
    c.close()
PY
    attacker=$!
    for _ in $(seq 50); do [ -S /tmp/tactus/broker.sock ] && break; sleep 0.1; done
    [ -S /tmp/tactus/broker.sock ] || fail "the attacker's socket did not appear"
    printf 'sandbox:\n  enabled: false\n  broker_transport: tcp\n  broker_host: 127.0.0.1\n  broker_port: 1\n' \
        >"$work/cfg/tactus/config.yml"
    (cd "$work/p" && "$tactus" run --no-sandbox hello.tac) >"$work/out" 2>"$work/err" &&
        fail "the run went ahead: $(cat "$work/out")"
    grep -q "sandbox.broker_control" "$work/err" || fail "no word of the fix: $(cat "$work/err")"
    "$tactus" broker serve --listen tcp://127.0.0.1:0 >"$work/out" 2>"$work/err" &&
        fail "broker serve went ahead"
    grep -q -- "--control" "$work/err" || fail "no word of the fix: $(cat "$work/err")"
    [ -s "$work/tmp/attacker.log" ] && fail "the attacker's socket was connected to"
    echo "places control: ok (no default control socket under /tmp; the attacker's took no connection)" ;;
*) fail "unknown case" ;;
esac
