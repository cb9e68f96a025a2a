#!/usr/bin/env bash
# The approvals inbox in headless Chromium (browser.cjs, puppeteer-core),
# against the real server and a real worker. Screenshots: $TACTUS_SERVE_ARTIFACTS
# (default ./serve-artifacts/browser[-pg]).
#   browser.sh TACTUS
source "$(dirname "$0")/lib.sh"
modules=${TACTUS_SERVE_NODE_MODULES:-$here/npm/node_modules}
[ -f "$modules/puppeteer-core/package.json" ] || fail "puppeteer-core is not installed in $modules (scripts/install-deps.sh)"
chromium=$(command -v chromium) || fail "chromium not found (scripts/install-deps.sh)"
artifacts=${TACTUS_SERVE_ARTIFACTS:-$PWD/serve-artifacts}/browser-${TACTUS_TEST_BACKEND:-sqlite}
start_server
start_worker acme other
python3 - "$work/cfg.json" "$url" "$modules" "$chromium" "$artifacts" \
    "$(token acme approver alice)" "$(token acme submitter ci)" "$(token other approver mallory)" <<'PY'
import json, sys
out, url, modules, chromium, artifacts, approver, submitter, other = sys.argv[1:]
json.dump({"url": url, "node_modules": modules, "chromium": chromium, "artifacts": artifacts,
           "tokens": {"approver": approver, "submitter": submitter, "other": other}}, open(out, "w"))
PY
node "$here/browser.cjs" "$work/cfg.json" || fail "browser.cjs"
