#!/usr/bin/env bash
# Installs everything Tactus in C needs on a fresh Debian 12 machine (as root):
# compilers and libraries to build (clang and libFuzzer's runtime for the fuzz
# build), tools to test, Docker for the sandbox.
# Idempotent; safe to run again.
set -euo pipefail

# neovim: the real LSP client of tests/lsp/neovim.sh; chromium: the headless
# browser that opens tactus eval's HTML report (tests/evals/html.sh).
packages=(
    build-essential cmake pkg-config clang libclang-rt-dev
    liblua5.4-dev lua5.4 libtree-sitter-dev libyaml-dev libcjson-dev
    libcurl4-openssl-dev libssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql libpcre2-dev
    libcmocka-dev valgrind lua-check hyperfine python3 git openssl libmicrohttpd-dev
    neovim chromium faketime wrk python3-jsonschema
    docker.io runsc
)
# node runs the tree-sitter grammar generator, the MCP test peers and the
# browser tests of tactus serve; keep a machine's own node (and its npm) if
# present.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for tests, at the versions DIR/package.json pins, into that
# project-local folder; installed again only when one differs.
npm_pinned() { # DIR WHAT
    local dir
    dir="$(cd "$(dirname "$0")/../$1" && pwd)"
    node -e '
        const fs = require("fs"), path = require("path"), dir = process.argv[1];
        const deps = JSON.parse(fs.readFileSync(path.join(dir, "package.json"))).dependencies;
        for (const [name, want] of Object.entries(deps)) {
            const f = path.join(dir, "node_modules", name, "package.json");
            if (!fs.existsSync(f) || JSON.parse(fs.readFileSync(f)).version !== want) process.exit(1);
        }' "$dir" && return 0
    echo "install-deps: installing $2 ($1/package.json)" >&2
    (cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
}
# The real MCP peers of tests/mcp (the reference servers and the official
# TypeScript SDK).
npm_pinned tests/mcp/npm "the MCP test peers"
# The browser driver of tests/serve (puppeteer-core, which drives Debian's
# chromium and downloads no browser).
npm_pinned tests/serve/npm "the browser driver"

# The tree-sitter CLI (Debian 13's build, see scripts/tree-sitter-cli.sh).
"$(dirname "$0")/tree-sitter-cli.sh" --version >/dev/null
echo "install-deps: ok" >&2
