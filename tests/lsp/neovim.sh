#!/usr/bin/env bash
# A real client: headless Neovim (Debian's neovim; scripts/install-deps.sh)
# starts `tactus lsp` through its built-in LSP client, opens a file with
# mistakes and one without, and the test asserts
#   - the diagnostics Neovim received are tactus check's (code, line, column);
#   - go-to-definition (vim.lsp.buf.definition) moves the cursor from an
#     agent's call to its declaration, and from a Gherkin step's agent name too.
#   neovim.sh TACTUS
set -u
tactus=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v nvim >/dev/null; then
    echo "neovim.sh: nvim is missing; run scripts/install-deps.sh (Debian package neovim)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/fixtures/errors.tac" "$here/fixtures/support.tac" "$work/"
cat >"$work/init.lua" <<LUA
local out = assert(io.open("$work/result.txt", "w"))
local function say(s) out:write(s, "\n") out:flush() end
vim.cmd("autocmd BufRead,BufNewFile *.tac setfiletype tactus")
local client = vim.lsp.start_client({
  name = "tactus",
  cmd = {"$tactus", "lsp", "--log", "$work/lsp.log"},
  root_dir = "$work",
  init_options = {debounceMs = 10},
})
if not client then say("no client") vim.cmd("qa!") end

-- 1. diagnostics pushed for a file with mistakes
vim.cmd("edit $work/errors.tac")
vim.lsp.buf_attach_client(0, client)
local ok = vim.wait(15000, function() return #vim.diagnostic.get(0) >= 7 end, 20)
if not ok then say("timeout waiting for diagnostics") end
local diags = vim.diagnostic.get(0)
table.sort(diags, function(a, b)
  if a.lnum ~= b.lnum then return a.lnum < b.lnum end
  return a.col < b.col
end)
for _, d in ipairs(diags) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or "?"
  say(string.format("diagnostic %s %d:%d", code, d.lnum + 1, d.col + 1))
end

-- 2. go-to-definition from an agent's call, then from a Gherkin step
vim.cmd("edit $work/support.tac")
vim.lsp.buf_attach_client(0, client)
vim.wait(15000, function() return vim.lsp.buf_is_attached(0, client) end, 20)
local function jump(line, col, label)
  vim.api.nvim_win_set_cursor(0, {line, col})
  vim.lsp.buf.definition()
  vim.wait(15000, function() return vim.api.nvim_win_get_cursor(0)[1] ~= line end, 20)
  local c = vim.api.nvim_win_get_cursor(0)
  say(string.format("definition %s -> %d:%d", label, c[1], c[2] + 1))
end
jump(39, 16, "support(...)")
jump(50, 21, "step 'the agent \"support\"'")
vim.lsp.stop_client(client)
vim.wait(5000, function() return vim.lsp.client_is_stopped(client) end, 20)
say("stopped")
out:close()
vim.cmd("qa!")
LUA
timeout 90 nvim --headless --clean -u "$work/init.lua" >"$work/nvim.out" 2>&1
rc=$?
if [ ! -f "$work/result.txt" ]; then
    echo "neovim.sh: Neovim wrote no result (exit $rc):" >&2
    cat "$work/nvim.out" >&2
    exit 1
fi
# What tactus check says about the same file: "CODE LINE:COLUMN".
(cd "$work" && "$tactus" check --color never errors.tac 2>/dev/null) |
    sed -n 's/^errors\.tac:\([0-9]*\):\([0-9]*\): [a-z]*\[\(TAC[0-9]*\)\].*/diagnostic \3 \1:\2/p' >"$work/expected.txt"
cat >>"$work/expected.txt" <<'TXT'
definition support(...) -> 12:1
definition step 'the agent "support"' -> 12:1
stopped
TXT
if ! diff -u "$work/expected.txt" "$work/result.txt"; then
    echo "neovim.sh: Neovim's view differs from tactus check's (expected first)" >&2
    echo "--- server log:" >&2
    tail -40 "$work/lsp.log" >&2
    exit 1
fi
echo "neovim: $(grep -c '^diagnostic' "$work/result.txt") diagnostics as tactus check's, 2 definitions, clean stop"
