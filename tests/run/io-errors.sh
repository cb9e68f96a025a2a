#!/usr/bin/env bash
# Bad input to the stdlib file modules, through the real binary: a CSV with
# a ragged row, a JSON file that is not JSON, a path outside the workspace,
# a module that does not exist, a foreign format. Each fails the run with a
# message saying what is wrong, at the file and line of the call.
#   io-errors.sh TACTUS
set -u
tactus=$1
tac=$(cd "$(dirname "$0")" && pwd)/io/io.tac
fail=0 n=0
# shellcheck source=expect-error.sh
. "$(dirname "$0")/expect-error.sh"
check() { n=$((n + 1)); expect_error "$tactus" "$tac" "$@"; }
check ragged 9 "tactus.io.csv.read: ragged.csv line 3 has 3 fields, but the header has 2" || fail=1
check json 10 "tactus.io.json.read: broken.json is not JSON" || fail=1
check outside 11 "the path leaves the workspace: ../../../etc/passwd" || fail=1
check module 12 "tactus.io.yaml" || fail=1
check excel 13 "tactus.io.excel.read is not available in this runtime" || fail=1
[ $fail = 0 ] && echo "io-errors: 5 bad inputs, each an error at io.tac:LINE naming what is wrong"
exit $fail
