# bench/lib.sh - sourced by the benchmark scripts (run from the repository root).

# bench_need NAME TOOL...: exits 2, naming it, when a tool is missing.
bench_need() {
    local name=$1 tool
    shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo "bench/$name: $tool is missing (scripts/install-deps.sh)" >&2
            exit 2
        }
    done
}

# Builds tactus and tactus-runtime in build/ (configuring it if needed);
# exits 2, with the build's output, when that fails.
bench_build() {
    if [ ! -f build/CMakeCache.txt ]; then cmake -S . -B build >/dev/null; fi
    local log
    log=$(mktemp)
    if ! cmake --build build --target tactus tactus-runtime -j "$(nproc)" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 2
    fi
    rm -f "$log"
}

# When, how busy, and on what: the first lines of every result.
bench_header() {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -sr)"
}
