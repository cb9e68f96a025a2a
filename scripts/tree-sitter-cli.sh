#!/usr/bin/env bash
# Runs Debian 13's tree-sitter CLI (0.22.6) on this Debian 12 machine.
#
# Why: Debian 12 ships only the tree-sitter runtime library, and the npm
# package of the CLI downloads its binary from elsewhere, which this network
# refuses. Debian 13's binary runs here under Debian 13's own C library, loaded
# through its own dynamic linker, without touching the system's libc.
#
# Usage: scripts/tree-sitter-cli.sh ARGS...   (e.g. generate, test, parse)
# The unpacked packages are cached in $TACTUS_TOOLS_DIR (default
# ~/.cache/tactus-tools/tree-sitter-0.22.6).
set -euo pipefail

version=0.22.6
cache=${TACTUS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tactus-tools}/tree-sitter-$version
bin=$cache/root/usr/bin/tree-sitter
libdir=$cache/root/usr/lib/x86_64-linux-gnu

debian_uri() {
    # The machine's own Debian mirror: deb822 first, then the one-line format.
    local uri=""
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
        uri=$(awk '/^deb / && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || { echo "tree-sitter-cli.sh: no Debian source found in /etc/apt" >&2; exit 2; }
    printf '%s\n' "$uri"
}

fetch() {
    local work lists debs
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    lists=$work/lists; debs=$work/debs
    mkdir -p "$lists/partial" "$debs"
    echo "deb $(debian_uri) trixie main" > "$work/sources.list"
    local opts=(-o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
                -o Dir::State::Lists="$lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
    echo "tree-sitter-cli.sh: fetching tree-sitter-cli $version from Debian 13 (once)" >&2
    apt-get "${opts[@]}" -qq update >&2
    (cd "$debs" && apt-get "${opts[@]}" -qq download "tree-sitter-cli=$version*" libc6 libgcc-s1 >&2)
    rm -rf "$cache.tmp"; mkdir -p "$cache.tmp/root"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$cache.tmp/root"; done
    rm -rf "$cache"; mv "$cache.tmp" "$cache"
}

[ -x "$bin" ] || fetch
exec "$libdir/ld-linux-x86-64.so.2" --library-path "$libdir" "$bin" "$@"
