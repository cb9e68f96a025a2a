#!/usr/bin/env bash
# The globals `tactus check` treats as defined (TAC403, TAC404) are exactly
# what tactus-runtime defines: its globals and the members of each of its
# tables, listed from inside a real run (fake_host), compared both ways with
# `tactus check --list-globals` (checker/ck_globals.c). A name the runtime
# gains or loses fails here until the checker's table follows.
#   globals-parity.sh FAKE_HOST RUNTIME TACTUS
set -u
fake_host=$1 runtime=$2 tactus=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-globals.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/dump.tac" <<'TAC'
Procedure {
  function()
    local out = {}
    for k, v in pairs(_G) do
      out[#out + 1] = k
      if type(v) == "table" and k ~= "_G" then
        local ok, it, t, first = pcall(pairs, v)
        if ok then
          for m in it, t, first do
            if type(m) == "string" then out[#out + 1] = k .. "." .. m end
          end
        end
      end
    end
    table.sort(out)
    return table.concat(out, "\n")
  end,
}
TAC
"$fake_host" "$runtime" "$work/dump.tac" >"$work/run.json" || { echo "globals-parity: the runtime did not run" >&2; exit 1; }
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["output"])' "$work/run.json" | sort >"$work/runtime.txt"
"$tactus" check --list-globals | sort >"$work/checker.txt"
[ -s "$work/runtime.txt" ] || { echo "globals-parity: the runtime listed nothing" >&2; exit 1; }
if ! diff -u "$work/runtime.txt" "$work/checker.txt" >"$work/diff"; then
    echo "globals-parity: the checker's globals (+) differ from the runtime's (-); update runtime_names in checker/ck_globals.c:" >&2
    cat "$work/diff" >&2
    exit 1
fi
echo "globals-parity: $(wc -l <"$work/runtime.txt") names agree"
