#!/usr/bin/env bash
# OS-level escape tests in the REAL container configuration (dockerd), one
# case per invocation:  sandbox-test.sh BUILD_DIR CASE [runc|runsc]
# (runsc: the same attacks with sandbox.runtime: runsc, gVisor.)
# The probe runs through `tactus sandbox doctor --probe`, so it gets exactly
# the flags a run gets; runs go through `tactus run` itself.
set -u
build=$1 case=$2 rt=${3:-runc}
tactus=$build/tactus
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "sandbox-test $case $rt: FAIL: $*" >&2; exit 1; }
ok() { echo "sandbox-test $case $rt: ok${1:+ ($1)}"; exit 0; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"

proj=$work/proj
mkdir -p "$proj/data"
echo "hello" > "$proj/data/note.txt"
cat > "$proj/hello.tac" <<'TAC'
Procedure { output = { text = field.string{} }, function() return {text = "hi"} end }
TAC
# The container runs as the folder's owner (nobody when that is root).
chown -R 65534:65534 "$proj"
export XDG_CONFIG_HOME=$work/xdg # trusted.json of this test only
if [ "$rt" = runsc ]; then
    mkdir -p "$work/xdg/tactus"
    printf 'sandbox:\n  runtime: runsc\n' >"$work/xdg/tactus/config.yml"
fi
config() { mkdir -p "$proj/.tactus"; printf '%s\n' "$1" > "$proj/.tactus/config.yml"; "$tactus" trust "$proj" >/dev/null; }
probe() { "$tactus" sandbox doctor "$proj" --probe "$@" 2>"$work/err"; }
field() { python3 -c "import json,sys; d=[json.loads(l) for l in sys.stdin if l.strip().startswith('{')]; print(json.dumps(d[$1].get('$2')))"; }

case "$case" in
doctor)
    out=$("$tactus" sandbox doctor --json "$proj") || fail "doctor reported a failed check: $out"
    for c in network secrets root_filesystem scratch_space capabilities user no_new_privileges seccomp pids memory; do
        python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['$c']['ok'] else 1)" "$out" || fail "check $c: $out"
    done
    ok "all checks" ;;
network)
    out=$(probe report) || fail "probe failed"
    grep -q '"network": {"ok": true, "detail": "interfaces: lo; routes: 0' <<<"$out" || fail "$out"
    ok "only lo, no route" ;;
no-secrets)
    config 'sandbox: {env: {GREETING: hello, MY_API_KEY: leaked, DB_PASSWORD: leaked}}'
    out=$(OPENAI_API_KEY=sk-tactus-test-secret ANTHROPIC_API_KEY=sk-test probe report) || fail "probe failed"
    grep -q '"secrets": {"ok": true' <<<"$out" || fail "$out"
    grep -q "Refusing to pass secret env var into container: MY_API_KEY" "$work/err" || fail "no refusal warning: $(cat "$work/err")"
    grep -q "DB_PASSWORD" "$work/err" || fail "DB_PASSWORD not refused"
    ok "host keys and secret-named sandbox.env refused" ;;
write-outside)
    for p in /etc/passwd-x /usr/x /x /proc/x; do
        out=$(probe write "$p")
        grep -q '"written": false' <<<"$out" || fail "write to $p allowed: $out"
    done
    out=$(probe write /tmp/ok); grep -q '"written": true' <<<"$out" || fail "/tmp not writable: $out"
    out=$(probe write /workspace/ok); grep -q '"written": true' <<<"$out" || fail "/workspace not writable: $out"
    ok "/, /etc, /usr, /proc refused; /tmp and /workspace writable" ;;
deep-protected)
    # A sidecar 20 folders down is mounted read-only like one at the top; a
    # tree deeper than tactus walks (32) fails the run rather than leave
    # files the host reads writable.
    deep=$(printf 'd/%.0s' $(seq 1 20))
    mkdir -p "$proj/$deep" && echo "x: 1" >"$proj/${deep}hello.tac.yml" && chown -R 65534:65534 "$proj"
    out=$(probe write "/workspace/${deep}hello.tac.yml")
    grep -q '"written": false' <<<"$out" || fail "a sidecar 20 folders down is writable: $out"
    deeper=$(printf 'e/%.0s' $(seq 1 40))
    mkdir -p "$proj/$deeper" && chown -R 65534:65534 "$proj"
    (cd "$proj" && "$tactus" run hello.tac) >"$work/out" 2>&1 && fail "a run went ahead with a tree 40 deep"
    grep -q "nested more than 32 deep" "$work/out" || fail "no word of why: $(cat "$work/out")"
    ok "a sidecar 20 deep is read-only; a tree 40 deep fails closed" ;;
readonly-volume)
    config 'sandbox: {volumes: ["./data:/data:ro"]}'
    out=$(probe write /data/x); grep -q '"written": false, "error": "Read-only file system"' <<<"$out" || fail "$out"
    ok "a :ro volume refuses writes" ;;
non-root)
    out=$(probe report); grep -q '"user": {"ok": true, "detail": "uid 65534' <<<"$out" || fail "$out"
    ok ;;
fork-bomb)
    config 'sandbox: {limits: {pids: 32}}'
    out=$(probe fork-bomb) || true
    grep -q '"refused": true' <<<"$out" || fail "the pids limit did not stop the fork bomb: $out"
    ok "$(head -1 <<<"$out")" ;;
memory-bomb)
    # Under gVisor the limit holds its kernel too: room for it.
    mem=64m
    [ "$rt" = runsc ] && mem=256m
    config "sandbox: {limits: {memory: $mem}}"
    cat > "$proj/bomb.tac" <<'TAC'
Procedure { function()
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end
end }
TAC
    chown 65534:65534 "$proj/bomb.tac"
    out=$("$tactus" run --json --max-memory 4g "$proj/bomb.tac" 2>"$work/err"); code=$?
    [ $code -eq 1 ] || fail "exit $code (expected 1): $out $(cat "$work/err")"
    grep -q "killed: out of memory (limit: $mem)" <<<"$out" || fail "$out"
    ok "killed: out of memory (limit: $mem)" ;;
cpu-loop)
    cat > "$proj/spin.tac" <<'TAC'
Procedure { function() while true do end end }
TAC
    chown 65534:65534 "$proj/spin.tac"
    start=$(date +%s)
    out=$("$tactus" run --json --timeout 3 --max-instructions 1000000000000000 "$proj/spin.tac" 2>"$work/err"); code=$?
    [ $code -eq 1 ] || fail "exit $code: $out"
    grep -qF 'timed out after 3 s' <<<"$out" || fail "no limit in the message: $out"
    [ $(( $(date +%s) - start )) -lt 20 ] || fail "took too long"
    [ -z "$(docker ps -q --filter name=tactus-run-)" ] || fail "a container was left running"
    ok "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["error"]["message"])' "$out")" ;;
interrupt)
    cat > "$proj/spin.tac" <<'TAC'
Procedure { function() while true do end end }
TAC
    chown 65534:65534 "$proj/spin.tac"
    "$tactus" run --json --timeout 60 --max-instructions 1000000000000000 "$proj/spin.tac" >"$work/out" 2>"$work/err" &
    pid=$!
    for _ in $(seq 1 50); do
        [ -n "$(docker ps -q --filter name=tactus-run-)" ] && break
        sleep 0.2
    done
    [ -n "$(docker ps -q --filter name=tactus-run-)" ] || fail "the container never started: $(cat "$work/err")"
    kill -INT $pid
    wait $pid
    code=$?
    [ $code -eq 1 ] || fail "exit $code after Ctrl-C: $(cat "$work/out")"
    grep -q 'interrupted' "$work/out" || fail "no interruption message: $(cat "$work/out")"
    for _ in $(seq 1 25); do
        [ -z "$(docker ps -aq --filter name=tactus-run-)" ] && break
        sleep 0.2
    done
    [ -z "$(docker ps -aq --filter name=tactus-run-)" ] || fail "the container is still there after Ctrl-C"
    ok "Ctrl-C stopped and removed the container" ;;
hidden-project)
    config 'sandbox: {mount_current_dir: false}'
    out=$(probe stat /workspace/hello.tac) || true
    grep -q '"error": "No such file or directory"' <<<"$out" || fail "the project is visible: $out"
    ok "mount_current_dir: false hides the project" ;;
examples-parity)
    cp -r "$here/../../examples" "$work/ex"
    chown -R 65534:65534 "$work/ex"
    # norm DOC WHAT EXPECT: the document without what differs between two runs;
    # not JSON, or a status other than EXPECT, fails (two broken outputs must
    # never compare equal as nothing).
    norm() {
        python3 -c 'import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    sys.exit("%s: not a JSON document: %r" % (sys.argv[2], sys.argv[1][:300]))
if not isinstance(d, dict) or d.get("status") != sys.argv[3]:
    sys.exit("%s: status %r, expected %r" % (sys.argv[2], d.get("status") if isinstance(d, dict) else d, sys.argv[3]))
d.pop("run_id")
d.get("usage", {}).pop("duration_ms", None)
[(p.pop("request_id", None), p.pop("run_id", None), p.pop("deadline_ms", None), p.pop("created_ms", None))
 for p in d.get("pending", [])]
print(json.dumps(d, sort_keys=True))' "$1" "$2" "$3"
    }
    n=0
    while IFS='|' read -r file args expect _check; do
        case "$file" in ''|'#'*) continue ;; esac
        # examples.txt: the expected status and its exit code (as run-examples.sh).
        want=0
        [ "$expect" = waiting ] && want=3
        [ "$expect" = failed ] && want=1
        # In the container first: files the procedure writes then belong to the
        # container's user (nobody), and the run without it (root) may overwrite them.
        b=$(eval "\"$tactus\" run --json --mock $args \"$work/ex/$file\"" 2>/dev/null)
        bcode=$?
        a=$(eval "\"$tactus\" run --json --mock --no-sandbox $args \"$work/ex/$file\"" 2>/dev/null)
        acode=$?
        chown -R 65534:65534 "$work/ex"
        [ $bcode -eq $want ] || fail "$file in the sandbox: exit $bcode, expected $want ($expect)"
        [ $acode -eq $want ] || fail "$file with --no-sandbox: exit $acode, expected $want ($expect)"
        nb=$(norm "$b" "$file in the sandbox" "$expect") || fail "$file in the sandbox: see above"
        na=$(norm "$a" "$file with --no-sandbox" "$expect") || fail "$file with --no-sandbox: see above"
        [ "$na" = "$nb" ] || fail "$file differs: no-sandbox $a / sandbox $b"
        n=$((n + 1))
    done < "$here/../run/examples.txt"
    ok "$n examples, identical results" ;;
*) fail "unknown case" ;;
esac
