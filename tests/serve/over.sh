#!/usr/bin/env bash
# Requests that are over (over_test.py): a cancelled run's request is no
# longer listed nor answerable, by the API or `tactus approve`; a request
# past its deadline refuses a late answer, and the run resumes with the
# default the procedure declared, not with the late answer.
#   over.sh TACTUS
source "$(dirname "$0")/lib.sh"
start_server
python3 - "$work/cfg.json" "$(token acme submitter ci)" "$(token acme approver alice)" <<'PY'
import json, sys
out, submitter, approver = sys.argv[1:]
json.dump({"tokens": {"submitter": submitter, "approver": approver}}, open(out, "w"))
PY
# The test runs its own workers (--exit-when-idle): none may apply the
# timeout while it answers late.
python3 "$here/over_test.py" "$url" "$here/../../service/assets/openapi.json" "$work/cfg.json" "$tactus" ||
    fail "over_test.py"
