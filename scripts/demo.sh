#!/usr/bin/env bash
# The main demo, from a fresh Debian 12 machine: install, build, then check
# the example procedures and show what a mistake looks like.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release

echo "== tactus check examples/ (clean: no output, exit 0)"
./build/tactus check examples && echo "exit 0: no problems"

echo
echo "== tactus check on a procedure with mistakes"
./build/tactus check --color=always tests/cli/cases/demo-mistakes.tac || echo "exit $?: errors found"
