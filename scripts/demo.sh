#!/usr/bin/env bash
# The main demo, from a fresh Debian 12 machine (as root): install, build,
# then show check, a sandboxed run, and a durable approval.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
bash scripts/start-dockerd.sh || echo "(no Docker: the sandboxed steps below will fail closed)"
T=$PWD/build/tactus
export TACTUS_STORE=$(mktemp -d)/journal.db   # the demo's own journal

echo
echo "== 1. tactus check examples/  (clean: no output, exit 0)"
$T check examples && echo "exit 0: no problems"

echo
echo "== 2. tactus check on a procedure with mistakes"
$T check --color=always tests/cli/cases/demo-mistakes.tac || echo "exit $?: errors found"

echo
echo "== 3. a run in the Docker sandbox (model turns mocked: no key, no network)"
$T run --mock examples/04-agent-headline.tac --input topic='tide pools' || echo "exit $?"

echo
echo "== 4. a durable approval: the run suspends with no process alive"
set +e
out=$($T run --json --mock --no-sandbox examples/12-function-main.tac)
echo "exit $? (3 = waiting for a person)"
set -e
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
$T approvals
$T approve "$run" "$($T approvals --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["request_id"])')"
$T resume "$run" --mock --no-sandbox
$T show "$run"

echo
echo "== 5. tactus test: every example's Specifications, model turns mocked, in the sandbox"
demo_copy=$(mktemp -d)
cp -r examples "$demo_copy/"
chown -R 65534:65534 "$demo_copy" 2>/dev/null || true   # the container's user writes the reports
$T test --mock "$demo_copy/examples" || echo "exit $?"

echo
echo "== 6. tactus eval: how often is it right, over the evaluation datasets"
$T eval --mock "$demo_copy/examples" || echo "exit $?"
rm -rf "$demo_copy"
