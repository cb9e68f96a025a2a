#!/usr/bin/env bash
# Bad input the checker must survive: a diagnostic or a clear error, the
# right exit code, never a crash, a hang or a leak (the ASan build runs this
# too). Inputs too large to commit are generated here.
#   bad-input.sh TACTUS CASE
set -u
tactus=$1 case=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
f=$work/input.tac
expect_code=1 expect_diag=""
case "$case" in
    huge-file)
        # 10 MB of valid procedures: checked fully; over what a run takes,
        # so the one finding is TAC006.
        lua5.4 -e '
            local out = {}
            local i = 0
            local size = 0
            while size < 10 * 1024 * 1024 do
                i = i + 1
                local s = string.format("helper_%d = Procedure {\n    input = { x = field.number{required = true} },\n    function(input) return {y = input.x * %d} end,\n}\n", i, i)
                out[#out + 1] = s
                size = size + #s
            end
            io.write(table.concat(out))' > "$f"
        expect_code=0 expect_diag=TAC006 ;;
    nested-parens)
        lua5.4 -e 'io.write("local x = " .. string.rep("(", 100000) .. "1" .. string.rep(")", 100000) .. "\n")' > "$f"
        expect_diag=TAC001 ;;
    nested-tables)
        lua5.4 -e 'io.write("Procedure { input = " .. string.rep("{", 100000) .. string.rep("}", 100000) .. ", function() end }\n")' > "$f"
        expect_diag=TAC001 ;;
    unclosed-parens)
        # 100,000 brackets left open: Lua rejects it; libtree-sitter 0.20.7
        # would crash on it, so the frontend must not hand it over.
        lua5.4 -e 'io.write("x = " .. string.rep("(", 100000) .. "\n")' > "$f"
        expect_diag=TAC001 ;;
    unclosed-calls)
        lua5.4 -e 'io.write("x = " .. string.rep("f({", 70000) .. "\n")' > "$f"
        expect_diag=TAC001 ;;
    random-bytes)
        head -c 65536 /dev/urandom | tr -d '\000' > "$f"
        expect_diag=TAC00 ;;
    too-large)
        # Over the 64 MiB read cap: refused with a clear error, exit 2.
        truncate -s 65M "$f"
        expect_code=2 ;;
    directory-as-file)
        mkdir -p "$work/dir.tac"
        f=$work/dir.tac
        expect_code=0 ;;
    *) echo "bad-input.sh: unknown case $case" >&2; exit 2 ;;
esac
out=$("$tactus" check --format json "$f" 2>"$work/err")
code=$?
if [ $code -ne $expect_code ]; then
    echo "bad-input $case: exit $code, expected $expect_code" >&2
    cat "$work/err" >&2
    exit 1
fi
if [ $code -ge 128 ]; then echo "bad-input $case: crashed (exit $code)" >&2; exit 1; fi
if [ -n "$expect_diag" ] && ! grep -q "\"code\": \"$expect_diag" <<<"$out"; then
    echo "bad-input $case: no $expect_diag diagnostic in: ${out:0:500}" >&2
    exit 1
fi
if [ $code -eq 2 ] && ! grep -q "tactus check:" "$work/err"; then
    echo "bad-input $case: exit 2 without an error message" >&2
    exit 1
fi
echo "bad-input $case: ok (exit $code)"
