#!/usr/bin/env bash
# Live deltas on a run's event stream (deltas_test.py): a run through the
# loopback OpenAI-format provider (tests/integration/fake_openai.py, model
# slow-key: the provider's key streamed back in pieces spaced in time) on a
# real worker; a client of GET /v1/runs/{id}/events sees the text while the
# run goes on, redacted, in order, and resumes with Last-Event-ID without
# repeats. Then the finished run's deltas are pruned from the store.
#   deltas.sh TACTUS
source "$(dirname "$0")/lib.sh"
source "$here/../integration/fake_openai.sh"
start_fake_openai "$here/../integration/fake_openai.py" "$work" --slow-delay 0.15 ||
    fail "the loopback provider did not start: $(cat "$work/srv.out")"
pids+=("$srv_pid")
provider_port=$port
# The worker's provider key: a secret the provider streams back (slow-key).
secret="sk-tactus-live-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export OPENAI_API_KEY=$secret
printf 'providers:\n  openai:\n    base_url: http://127.0.0.1:%s/v1\n    max_retries: 0\n' "$provider_port" \
    >>"$work/procs/.tactus/config.yml"
cat >"$work/procs/stream.tac" <<'TAC'
speaker = Agent { model = "openai/slow-key", system_prompt = "Talk." }
Procedure { function()
    local r = speaker({message = "go"})
    return {text = r.output}
end }
TAC
echo 'Procedure { function() return {done = true} end }' >"$work/procs/quick.tac"
"$tactus" trust "$work/procs" >/dev/null || fail "tactus trust"
start_server
start_worker acme
python3 - "$work/cfg.json" "$(token acme viewer vic)" "$(token acme submitter ci)" "$secret" <<'PY'
import json, sys
json.dump({"viewer": sys.argv[2], "submitter": sys.argv[3], "secret": sys.argv[4]}, open(sys.argv[1], "w"))
PY
python3 "$here/deltas_test.py" "$url" "$here/../../service/assets/openapi.json" "$work/cfg.json" "$work/run_id" ||
    fail "deltas_test.py"
run=$(cat "$work/run_id")

# ---- the deltas are not the journal, and go once the run has finished -------------------------
sql() {
    if [ "${TACTUS_TEST_BACKEND:-sqlite}" = pg ]; then pg_sql "$store" "$1"; else sqlite3 "$store" "$1"; fi
}
n=$(sql "SELECT COUNT(*) FROM run_deltas WHERE run_id = '$run'")
[ "$n" -gt 2 ] 2>/dev/null || fail "the finished run's deltas are kept for its followers a while: $n"
sql "SELECT text FROM run_deltas" | grep -q -- "$secret" && fail "the secret is in the store's deltas"
"$tactus" show --tenant acme --store "$store" --json "$run" >"$work/show.json" || fail "tactus show"
grep -q '"method":"llm.chat"' "$work/show.json" || grep -q '"llm.chat"' "$work/show.json" || fail "the model call is journaled: $(head -c 300 "$work/show.json")"
# Another run finishing after the grace period (0 here) takes the old run's deltas away.
TACTUS_DELTA_GRACE_MS=0 "$tactus" run --no-sandbox --tenant acme --store "$store" "$work/procs/quick.tac" \
    >"$work/quick.out" 2>&1 || fail "tactus run quick.tac: $(cat "$work/quick.out")"
n=$(sql "SELECT COUNT(*) FROM run_deltas")
[ "$n" = 0 ] || fail "a finished run's deltas are pruned after the grace period: $n left"
note "the deltas stay a while after the run finished, then are pruned; the secret never reached the store"
note "ok"
