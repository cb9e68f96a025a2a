#!/usr/bin/env bash
# Regenerates grammar/*/src from grammar.js with the tree-sitter CLI.
#   scripts/regen-grammars.sh          regenerate in place
#   scripts/regen-grammars.sh --check  regenerate in a scratch copy and fail if
#                                      the committed src/ differs (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
ts=$PWD/scripts/tree-sitter-cli.sh
check=false
[ "${1:-}" = "--check" ] && check=true
status=0
for lang in tactus gherkin; do
    if $check; then
        work=$(mktemp -d)
        cp -r "grammar/$lang" "$work/"
        (cd "$work/$lang" && "$ts" generate --abi 14 --no-bindings >/dev/null)
        for f in parser.c grammar.json node-types.json; do
            if ! cmp -s "grammar/$lang/src/$f" "$work/$lang/src/$f"; then
                echo "regen-grammars: grammar/$lang/src/$f is stale; run scripts/regen-grammars.sh and commit" >&2
                status=1
            fi
        done
        rm -rf "$work"
    else
        (cd "grammar/$lang" && "$ts" generate --abi 14 --no-bindings)
        echo "regen-grammars: grammar/$lang regenerated" >&2
    fi
done
$check && [ $status -eq 0 ] && echo "regen-grammars: generated parsers are up to date" >&2
exit $status
