#!/usr/bin/env bash
# Costs, end to end through the broker against the loopback OpenAI-format
# server: a configured price and a built-in one (a dated snapshot of
# gpt-4o-mini) give the cost the token counts say; a model with no price
# has an unknown cost, said so in `tactus run --json`, `tactus show` and
# `tactus audit`, never $0; with budgets.cost set, a call to such a model is
# refused before anything is sent; a project's own (untrusted) prices are
# not obeyed.
#   cost.sh TACTUS FAKE_OPENAI_PY
set -u
tactus=$1 fake=$2
work=$(mktemp -d)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "cost: FAIL: $*" >&2; exit 1; }

mkfifo "$work/srv.in"
python3 "$fake" --log "$work/requests.jsonl" <"$work/srv.in" >"$work/srv.out" 2>&1 &
srv_pid=$!
exec 9>"$work/srv.in"
for _ in $(seq 1 50); do grep -q '^PORT ' "$work/srv.out" && break; sleep 0.1; done
port=$(awk '/^PORT /{print $2; exit}' "$work/srv.out")
[ -n "$port" ] || fail "the loopback server did not start: $(cat "$work/srv.out")"

export XDG_CONFIG_HOME=$work/xdg OPENAI_API_KEY=test-key TACTUS_STORE=$work/store/journal.db
mkdir -p "$work/xdg/tactus" "$work/p"
provider="providers:
  openai:
    base_url: http://127.0.0.1:$port/v1
    max_retries: 0"
cat >"$work/p/a.tac" <<'TAC'
helper = Agent { model = "openai/echo", system_prompt = "Say it back." }
other = Agent { model = "openai/gpt-4o-mini-2024-07-18", system_prompt = "Say it back." }
Procedure { function()
  local r = helper({message = "one two three"})
  local s = other({message = "four five"})
  return {a = r.output, b = s.output}
end }
TAC
latest_run() { "$tactus" runs --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['run_id'])"; }

# 1. Priced: openai/echo by the host's configuration, the snapshot by the built-in table.
printf '%s\nprices:\n  "openai/echo": {input: 1.0, output: 2.0}\n' "$provider" >"$work/xdg/tactus/config.yml"
"$tactus" run --no-sandbox --json "$work/p/a.tac" >"$work/priced.json" 2>"$work/err" || fail "priced run: $(cat "$work/err")"
python3 - "$work/priced.json" "$work/requests.jsonl" <<'PY' || fail "wrong priced usage: $(cat "$work/priced.json")"
import json, sys
u = json.load(open(sys.argv[1]))["usage"]
# The fake server counts prompt words and answers one token per word.
reqs = [json.loads(l) for l in open(sys.argv[2])]
assert u["model_calls"] == 2 and u["prompt_tokens"] == 11 and u["completion_tokens"] == 5, u
want = (6 * 1.0 + 3 * 2.0) / 1e6 + (5 * 0.15 + 2 * 0.60) / 1e6
assert abs(u["cost_usd"] - want) < 1e-15, (u, want)
PY
run=$(latest_run)
"$tactus" show "$run" >"$work/show.txt" || fail "tactus show"
grep -q '^usage: 2 model calls, 16 tokens (11 in, 5 out), \$0.000014; 0 tool calls$' "$work/show.txt" || fail "show: $(cat "$work/show.txt")"
"$tactus" show "$run" --json | python3 -c "import json,sys; u=json.load(sys.stdin)['usage']; assert abs(u['cost_usd']-1.395e-05)<1e-15, u" \
    || fail "show --json has no cost"
"$tactus" audit "$run" >"$work/audit.txt" || fail "tactus audit"
grep -q 'openai/echo .* 9 tokens \$0.000012' "$work/audit.txt" || fail "audit: $(cat "$work/audit.txt")"
grep -q '^total: \$0.000014$' "$work/audit.txt" || fail "audit total: $(cat "$work/audit.txt")"

# 2. No price for openai/echo: its cost is unknown, and said so everywhere.
printf '%s\n' "$provider" >"$work/xdg/tactus/config.yml"
"$tactus" run --no-sandbox --json "$work/p/a.tac" >"$work/unpriced.json" 2>"$work/err" || fail "unpriced run: $(cat "$work/err")"
python3 -c "
import json, sys
u = json.load(open('$work/unpriced.json'))['usage']
assert u['cost_usd'] is None and 'openai/echo' in u['cost_unknown'], u
" || fail "an unpriced call was not said to be of unknown cost: $(cat "$work/unpriced.json")"
"$tactus" run --no-sandbox "$work/p/a.tac" >/dev/null 2>"$work/err" || fail "unpriced run (text): $(cat "$work/err")"
tail -n 1 "$work/err" | grep -Eq '^completed in [0-9.]+ m?s \(run run-[0-9a-f]+\): 2 model calls, 16 tokens \(11 in, 5 out\), cost unknown \(1 call to openai/echo, which has no price\); 0 tool calls$' \
    || fail "the closing line of an unpriced run: $(tail -n 1 "$work/err")"
run=$(latest_run)
"$tactus" show "$run" | grep -q '^usage: 2 model calls, 16 tokens (11 in, 5 out), cost unknown (1 call to openai/echo, which has no price); 0 tool calls$' \
    || fail "show: $("$tactus" show "$run" | tail -2)"
"$tactus" audit "$run" >"$work/audit.txt"
grep -q 'openai/echo .* 9 tokens cost unknown' "$work/audit.txt" || fail "audit: $(cat "$work/audit.txt")"
grep -q '1 call of unknown cost' "$work/audit.txt" || fail "audit total: $(cat "$work/audit.txt")"
"$tactus" audit "$run" --json | python3 -c "
import json, sys
recs = json.load(sys.stdin)
echo = [r for r in recs if r.get('model') == 'openai/echo'][0]
assert echo['cost_usd'] is None and echo['unpriced'] is True, echo
" || fail "the audit record of an unpriced call is not null and marked"

# 3. budgets.cost cannot hold a call of unknown cost: refused, nothing sent.
before=$(wc -l <"$work/requests.jsonl")
printf '%s\nbudgets:\n  cost: 1.0\n' "$provider" >"$work/xdg/tactus/config.yml"
"$tactus" run --no-sandbox --json "$work/p/a.tac" >"$work/budget.json" 2>/dev/null
[ $? = 1 ] || fail "the run with an unpriced model under budgets.cost did not fail"
grep -q 'BudgetExceeded: budgets.cost is set, but model \\"openai/echo\\" has no price' "$work/budget.json" \
    || fail "no refusal: $(cat "$work/budget.json")"
[ "$(wc -l <"$work/requests.jsonl")" = "$before" ] || fail "the refused call reached the provider"

# 4. A project cannot price its own calls: `prices` in its (untrusted) files
# is refused before anything runs (privileged key), not obeyed.
printf '%s\n' "$provider" >"$work/xdg/tactus/config.yml"
mkdir -p "$work/p/.tactus"
printf 'prices:\n  "openai/echo": {input: 0, output: 0}\n' >"$work/p/.tactus/config.yml"
before=$(wc -l <"$work/requests.jsonl")
"$tactus" run --no-sandbox --json "$work/p/a.tac" >"$work/project.json" 2>"$work/err"
[ $? = 2 ] || fail "a project's own prices did not stop the run: $(cat "$work/project.json")"
grep -q "'prices' is a privileged key" "$work/err" || fail "no reason given: $(cat "$work/err")"
[ "$(wc -l <"$work/requests.jsonl")" = "$before" ] || fail "the run went ahead"
echo "cost: configured, built-in and snapshot prices; unknown cost said so in run, show and audit; budgets.cost refuses unpriced calls; project prices refused"
