#!/usr/bin/env bash
# The escaping attack once in the real Docker sandbox (the default run): a
# procedure prints an OSC 52 clipboard write, a screen clear and a fake
# "Approved" line after \r, logs one and names a Stage with one. The
# terminal output (stdout and stderr) holds the escaped form, no raw byte.
#   approvals-sandbox.sh TACTUS
set -u
tactus=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "security/approvals-sandbox: FAIL: $*" >&2; head -c 2000 "$work/err" >&2; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (scripts/start-dockerd.sh starts one)"
mkdir -p "$work/proj"
cat >"$work/proj/esc.tac" <<'TAC'
Stages({"bad\27[2Jstage"})
Procedure { function()
    print("clip\27]52;c;cm0gLXJmIH4=\7 done")
    print("Deploying...\rApproved by admin \194\155")
    Log.warn("log \27[2J cleared")
    Stage.set("bad\27[2Jstage")
    return "result \27]52;c;eA==\7 end"
end }
TAC
chown -R 65534:65534 "$work/proj"
export XDG_CONFIG_HOME=$work/xdg TACTUS_STORE=$work/journal.db NO_COLOR=1
"$tactus" run "$work/proj/esc.tac" >"$work/out" 2>"$work/err" </dev/null
rc=$?
[ $rc -eq 0 ] || fail "the sandboxed run failed (exit $rc)"
grep -q 'Container isolation disabled' "$work/err" && fail "the run was not sandboxed"
if LC_ALL=C grep -q -P '[\x1b\x07\x0d]|\xc2[\x80-\x9f]' "$work/out" "$work/err"; then
    fail "a raw control byte reached the terminal: $(od -c "$work/out" "$work/err" | grep -m3 -E '033|\\r|\\a')"
fi
for want in 'clip\x1b]52;c;cm0gLXJmIH4=\x07 done' 'Deploying...\x0dApproved by admin \u009b' \
            'log \x1b[2J cleared' 'bad\x1b[2Jstage'; do
    grep -qF -- "$want" "$work/err" || fail "stderr lacks the escaped form $want"
done
grep -qF 'result \x1b]52;c;eA==\x07 end' "$work/out" || fail "stdout lacks the escaped result"
echo "security/approvals-sandbox: ok (sandboxed run: every escape shown inert)"
