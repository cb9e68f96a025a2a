#!/usr/bin/env bash
# tactus serve's API, every endpoint and role (api_test.py), on the real
# server with a real worker. TACTUS_TEST_BACKEND=pg: on PostgreSQL.
#   api.sh TACTUS
source "$(dirname "$0")/lib.sh"
{
    printf '{'
    for r in viewer submitter approver admin; do
        name=$r; [ $r = approver ] && name=alice
        printf '"acme_%s": "%s", ' "$r" "$(token acme $r $name)"
    done
    printf '"other_admin": "%s", ' "$(token other admin mallory)"
    rv=$(token acme admin gone)
    "$tactus" tokens revoke "$("$tactus" tokens list --json | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin) if t["name"]=="gone"][0])')" >/dev/null ||
        fail "tactus tokens revoke"
    printf '"revoked": "%s", "deployed_file": "%s"}' "$rv" "$work/deployed.txt"
} >"$work/tokens.out"
start_server
start_worker acme
python3 "$here/api_test.py" "$url" "$here/../../service/assets/openapi.json" "$work/tokens.out" || fail "api_test.py"
