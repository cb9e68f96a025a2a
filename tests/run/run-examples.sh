#!/usr/bin/env bash
# Every example runs: `tactus run --no-sandbox --mock` of each file in
# examples.txt ends with the expected status (and the matching exit code),
# and, where a line has a fourth field, an output for which that Python
# expression on `o` holds (what scripts/demo.sh shows must mean something).
# Mocked model turns keep it offline and deterministic.
#   run-examples.sh TACTUS [EXAMPLE]
set -u
tactus=$1 only=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/../../examples" "$work/ex"
status=0 n=0
while IFS='|' read -r file args expect check; do
    case "$file" in ''|'#'*) continue ;; esac
    [ -n "$only" ] && [ "$only" != "$file" ] && continue
    out=$(eval "\"$tactus\" run --json --mock --no-sandbox $args \"$work/ex/$file\"" 2>"$work/err")
    code=$?
    got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["status"])' "$out" 2>/dev/null)
    want_code=0
    [ "$expect" = waiting ] && want_code=3
    [ "$expect" = failed ] && want_code=1
    if [ "$got" != "$expect" ] || [ $code -ne $want_code ]; then
        echo "run-examples: $file: status '$got' exit $code, expected '$expect' exit $want_code" >&2
        echo "  stdout: ${out:0:400}" >&2
        echo "  stderr: $(head -c 400 "$work/err")" >&2
        status=1
    elif [ -n "$check" ] && ! python3 -c 'import json,sys; o = json.loads(sys.argv[1])["output"]; sys.exit(0 if eval(sys.argv[2]) else 1)' "$out" "$check"; then
        echo "run-examples: $file: the output does not satisfy: $check" >&2
        echo "  stdout: ${out:0:400}" >&2
        status=1
    fi
    n=$((n + 1))
done < "$here/examples.txt"
[ $n -gt 0 ] || { echo "run-examples: no example ran" >&2; exit 1; }
[ $status -eq 0 ] && echo "run-examples: $n examples ran with the expected status"
exit $status
