#!/usr/bin/env bash
# Every code in the checker's catalogue has a section in docs/diagnostics.md,
# and each section's examples behave as documented: the bad one gets the
# code, the fixed one checks clean.
#   docs-diagnostics.sh DOC CATALOGUE_SOURCE TACTUS
set -u
doc=$1 catalogue=$2 tactus=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for code in $(grep -o '{"TAC[0-9]*"' "$catalogue" | tr -d '{"'); do
    if ! grep -q "^## $code\$" "$doc"; then
        echo "docs: $code is not documented in $doc" >&2; status=1; continue
    fi
    # The section: from its heading to the next.
    awk -v c="## $code" '$0 == c {on = 1; next} /^## / {on = 0} on' "$doc" > "$work/section"
    grep -q "not runnable" "$work/section" && continue
    awk '/^Bad:/ {w = "bad"} /^Fixed:/ {w = "fixed"} /^```lua/ {on = 1; next} /^```/ {on = 0; next}
         on {print > (dir "/" w ".tac")}' dir="$work" "$work/section"
    [ -f "$work/bad.tac" ] || : > "$work/bad.tac"
    if ! "$tactus" check --format json "$work/bad.tac" 2>/dev/null | grep -q "\"code\": \"$code\""; then
        echo "docs: the bad example of $code does not produce $code" >&2; status=1
    fi
    out=$("$tactus" check --format json "$work/fixed.tac" 2>&1)
    if [ "$out" != '{"files": 1, "diagnostics": []}' ]; then
        echo "docs: the fixed example of $code is not clean: $out" >&2; status=1
    fi
    rm -f "$work/bad.tac" "$work/fixed.tac"
done
[ $status -eq 0 ] && echo "docs: every diagnostic code is documented and its examples behave"
exit $status
