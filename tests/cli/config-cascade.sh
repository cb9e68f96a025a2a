#!/usr/bin/env bash
# The configuration cascade (docs/run.md, "Configuration"): a folder's
# .tactus/config.yml applies at its place in the walk from / down to the
# procedure's folder, nearer winning, whatever the current folder is.
# Checked from every position of the current folder: the procedure's folder,
# a folder above it, a folder elsewhere (whose own file then comes first),
# and the procedure's folder reached through a symbolic link. Then a run:
# a limit lowered by the procedure's folder is obeyed when run from there
# (it used to be read first, then overridden by the parent's, which looked
# like raising it: a configuration error). And `tactus config` names the
# file of each key, shows secrets as [REDACTED], and refuses what `run` refuses.
#   config-cascade.sh TACTUS
set -u
tactus=$1
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-cascade.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
    echo "config-cascade: FAIL: $*" >&2
    for f in "$work/out" "$work/err"; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; head -c 3000 "$f" >&2; echo >&2; }; done
    exit 1
}
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg TACTUS_STORE=$work/store/journal.db NO_COLOR=1
mkdir -p "$HOME" "$XDG_CONFIG_HOME/tactus" "$work/store"
unset OPENAI_BASE_URL ANTHROPIC_BASE_URL OPENAI_API_KEY

# top/.tactus sets three keys, top/proj/.tactus overrides two, the sidecar one.
top=$work/top proj=$work/top/proj other=$work/other
mkdir -p "$top/.tactus" "$proj/.tactus" "$other/.tactus"
printf 'budgets:\n  llm_calls: 3\n  tokens: 9000\nproviders:\n  openai:\n    timeout: 500\n' >"$top/.tactus/config.yml"
printf 'budgets:\n  llm_calls: 1\nproviders:\n  openai:\n    timeout: 400\n' >"$proj/.tactus/config.yml"
printf 'providers:\n  openai:\n    timeout: 300\n' >"$proj/p.tac.yml"
printf 'budgets:\n  tokens: 20000\n  cost: 2\n' >"$other/.tactus/config.yml"
cat >"$proj/p.tac" <<'TAC'
helper = Agent { model = "mock/helper", system_prompt = "Hi." }
Procedure {
  output = { calls = field.integer{} },
  function()
    local n = 0
    for _ = 1, 2 do
      local ok = pcall(helper, {message = "hello"})
      if ok then n = n + 1 end
    end
    return {calls = n}
  end,
}
TAC
ln -s "$proj" "$work/link"

# value_and_origin DIR TARGET KEY: "VALUE FILE" as `tactus config --json` says.
value_and_origin() {
    (cd "$1" && "$tactus" config --json "$2") >"$work/out" 2>"$work/err" || fail "tactus config in $1: exit $?"
    python3 - "$3" "$work/out" <<'PY'
import json, sys
key, path = sys.argv[1], sys.argv[2]
doc = json.load(open(path))
v = doc["config"]
for part in key.split("."):
    v = v.get(part) if isinstance(v, dict) else None
print(json.dumps(v), doc["origins"].get(key))
PY
}
expect() { # expect WHERE TARGET KEY VALUE FILE
    got=$(value_and_origin "$1" "$2" "$3")
    [ "$got" = "$4 $5" ] || fail "from $1 with $2: $3 is '$got', expected '$4 $5'"
}
rtop=$(cd "$top" && pwd -P)
for where in "$proj" "$top" "$other" "$work/link" "$work"; do
    target=$proj/p.tac
    [ "$where" = "$proj" ] && target=p.tac
    [ "$where" = "$work/link" ] && target=p.tac
    expect "$where" "$target" budgets.llm_calls 1 "$rtop/proj/.tactus/config.yml"
    expect "$where" "$target" providers.openai.timeout 300 "$rtop/proj/p.tac.yml"
    if [ "$where" = "$other" ]; then
        # the current folder's own file is not on the walk: it comes first,
        # so top's value (nearer the procedure) wins over it
        expect "$where" "$target" budgets.tokens 9000 "$rtop/.tactus/config.yml"
        expect "$where" "$target" budgets.cost 2 "$(cd "$other" && pwd -P)/.tactus/config.yml"
    else
        expect "$where" "$target" budgets.tokens 9000 "$rtop/.tactus/config.yml"
    fi
done
# A folder as the target: its own file is the nearest.
expect "$work" "$top" budgets.llm_calls 3 "$rtop/.tactus/config.yml"

# The run obeys the nearest limit from the procedure's folder (1 call of 2).
for where in "$proj" "$work/link" "$top"; do
    target=p.tac
    [ "$where" = "$top" ] && target=proj/p.tac
    (cd "$where" && "$tactus" run --json --no-sandbox "$target") >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "run from $where: exit $rc"
    grep -q '"calls":1' "$work/out" || fail "run from $where: budgets.llm_calls 1 not obeyed: $(cat "$work/out")"
done

# Text output: each key with its file; the files in order, untrusted marked.
(cd "$proj" && "$tactus" config p.tac) >"$work/out" 2>"$work/err" || fail "tactus config (text): exit $?"
grep -qF "  budgets.llm_calls = 1  ($rtop/proj/.tactus/config.yml)" "$work/out" || fail "text: no origin line"
grep -qF "(untrusted: unprivileged keys only)" "$work/out" || fail "text: untrusted files are not marked"
[ "$(grep -n 'top/.tactus/config.yml' "$work/out" | cut -d: -f1 | head -1)" -lt \
  "$(grep -n 'proj/.tactus/config.yml' "$work/out" | cut -d: -f1 | head -1)" ] || fail "text: files not in merge order"

# Secrets: a key's value from the user's file and a variable of the environment.
printf 'models:\n  m:\n    endpoint: http://127.0.0.1:9/x\n    headers:\n      Authorization: Bearer sk-literal-in-config\n      Accept: text/plain\nhost_tools:\n  t:\n    url: http://127.0.0.1:9/?k=sk-from-the-env-123\n    api_key_env: T_API_KEY\n' \
    >"$XDG_CONFIG_HOME/tactus/config.yml"
T_API_KEY=sk-from-the-env-123 OPENAI_API_KEY=sk-openai-999999 "$tactus" config "$proj/p.tac" >"$work/out" 2>"$work/err" ||
    fail "tactus config with secrets: exit $?"
! grep -q "sk-" "$work/out" || fail "a secret is shown: $(grep sk- "$work/out")"
grep -qF 'models.m.headers.Authorization = "[REDACTED]"' "$work/out" || fail "the header is not redacted"
grep -qF 'models.m.headers.Accept = "text/plain"' "$work/out" || fail "a plain header is redacted"
grep -qF 'host_tools.t.api_key_env = "T_API_KEY"' "$work/out" || fail "a variable's name is redacted"
grep -qF 'OPENAI_API_KEY = [REDACTED]' "$work/out" || fail "the environment's key is not listed redacted"
rm -f "$XDG_CONFIG_HOME/tactus/config.yml"

# check.globals (any source, a list of names): globals `tactus check` takes
# as defined, for the files below that folder.
printf 'Procedure { function() return HARNESS_VALUE end }\n' >"$proj/g.tac"
"$tactus" check "$proj/g.tac" >"$work/out" 2>"$work/err" && fail "an undefined global is not reported"
grep -q "TAC403" "$work/out" || fail "no TAC403 for an undefined global"
printf 'check:\n  globals: [HARNESS_VALUE]\n' >>"$proj/.tactus/config.yml"
"$tactus" check "$proj/g.tac" >"$work/out" 2>"$work/err" || fail "check.globals not applied: $(cat "$work/out")"
printf 'check:\n  globals: {a: 1}\n' >"$other/.tactus/config.yml"
(cd "$other" && "$tactus" config "$proj/p.tac") >"$work/out" 2>"$work/err"
[ $? -eq 2 ] && grep -qF "'check.globals' takes a list of names" "$work/err" || fail "check.globals must be a list"

# An untrusted privileged key: refused as `tactus run` refuses it.
printf 'host_tools:\n  pwn:\n    command: ["true"]\n' >"$proj/p.tac.yml"
"$tactus" config "$proj/p.tac" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] || fail "an untrusted privileged key: exit $rc, expected 2"
grep -qF "'host_tools' is a privileged key" "$work/err" || fail "an untrusted privileged key: no reason"
# `tactus audit` in a folder whose project file names a store it may not:
# refused like `run`, not answered from the default store's log instead.
printf 'journal:\n  url: %s/elsewhere.db\n' "$work" >"$other/.tactus/config.yml"
(cd "$other" && env -u TACTUS_STORE "$tactus" audit some-run) >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 2 ] || fail "audit under a refused configuration: exit $rc, expected 2"
grep -qF "'journal' is a privileged key" "$work/err" || fail "audit under a refused configuration: no reason"
[ ! -s "$work/out" ] || fail "audit under a refused configuration printed records: $(cat "$work/out")"
echo "config-cascade: ok"
