#!/usr/bin/env bash
# Replays language server sessions with `tactus lsp` under valgrind: any
# memory error or leak makes valgrind exit 99, which the session's golden
# transcript ("--- exit 0") does not expect, so the session fails.
#   valgrind.sh LSP_CLIENT TACTUS SESSION...
set -u
client=$1 tactus=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/tactus" <<SH
#!/bin/sh
exec valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
    --log-file="$work/valgrind.%p.log" "$tactus" "\$@"
SH
chmod +x "$work/tactus"
rc=0
for session in "$@"; do
    if ! "$client" session "$work/tactus" "$session" "${session%.session}.out"; then
        rc=1
    fi
done
for log in "$work"/valgrind.*.log; do
    [ -s "$log" ] && { echo "--- $log"; cat "$log"; rc=1; }
done
[ $rc -eq 0 ] && echo "valgrind: the language server is clean over $# sessions"
exit $rc
