#!/usr/bin/env bash
# Sandboxed at unsandboxed speed (issue #19), measured side by side in one
# run on this machine:
#   1. `tactus test --mock -j 2` over the generated suite of bench/test
#      (FILES x SCENARIOS scenarios): in Docker (one pooled container per
#      worker), in Docker under gVisor (runsc), and --no-sandbox.
#      targets: Docker >= 150 scenarios/s, and within 3x of --no-sandbox.
#   2. `tactus run hello.tac`: cold (a container per run, as by default),
#      warm (sandbox.warm: 1: a spare container of the same plan, started by
#      the previous run; hyperfine's --prepare waits until it is up, as a
#      person's next run would find it), warm under runsc, and --no-sandbox.
#      target: warm median <= 100 ms.
#
#   bench/sandbox-speed/run.sh          RUNS=10 FILES=10 SCENARIOS=30
# Exit: 0 targets met, 1 missed, 2 broken setup (no Docker, no runsc...).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
RUNS=${RUNS:-10}
FILES=${FILES:-10}
SCENARIOS=${SCENARIOS:-30}
# shellcheck source=../lib.sh
. bench/lib.sh
bench_need sandbox-speed hyperfine docker awk
docker info >/dev/null 2>&1 || { echo "bench/sandbox-speed: no Docker daemon answers (scripts/start-dockerd.sh)" >&2; exit 2; }
runsc=0
docker info --format '{{json .Runtimes}}' | grep -q '"runsc"' && runsc=1
bench_build
cmake --build build --target tactus-pool -j 2 >/dev/null
tactus=$root/build/tactus
work=$(mktemp -d)
chmod 755 "$work"
# Ends this bench's warm containers only (dockerd is shared): their keepers
# are named in this bench's own XDG_RUNTIME_DIR ("HASH-PID.sock"), and a
# keeper that goes closes its container's input, which ends the container.
stop_our_warm() {
    local s pid
    for s in "$work"/rt/tactus/warm/*.sock; do
        [ -S "$s" ] || continue
        pid=${s##*-}; pid=${pid%.sock}
        kill "$pid" 2>/dev/null || true
        rm -f "$s"
    done
    sleep 0.5
}
cleanup() {
    stop_our_warm
    rm -rf "$work"
}
trap cleanup EXIT
export XDG_RUNTIME_DIR=$work/rt XDG_DATA_HOME=$work/data TACTUS_STORE=$work/data/journal.db
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
for cfg in docker runsc warm warm-runsc; do mkdir -p "$work/cfg-$cfg/tactus"; done
printf 'sandbox:\n  runtime: runsc\n' >"$work/cfg-runsc/tactus/config.yml"
printf 'sandbox:\n  warm: 1\n  warm_idle: 120\n' >"$work/cfg-warm/tactus/config.yml"
printf 'sandbox:\n  warm: 1\n  warm_idle: 120\n  runtime: runsc\n' >"$work/cfg-warm-runsc/tactus/config.yml"

# ---- 1. tactus test ---------------------------------------------------------------------------
suite=$work/suite
bash bench/test/gen-suite.sh "$suite" "$FILES" "$SCENARIOS"
chown -R 65534:65534 "$suite"
total=$((FILES * SCENARIOS))
XDG_CONFIG_HOME=$work/cfg-docker "$tactus" test --mock -j 2 "$suite" >/dev/null 2>"$work/check.err" ||
    { echo "bench/sandbox-speed: the suite does not pass in the sandbox" >&2; head -20 "$work/check.err" >&2; exit 2; }
bench_header
echo "suite: $FILES files, $total scenarios (every one passes)"
cmds=(-n docker "env XDG_CONFIG_HOME=$work/cfg-docker $tactus test --mock -j 2 $suite"
      -n process "env XDG_CONFIG_HOME=$work/cfg-docker $tactus test --mock -j 2 --no-sandbox $suite")
[ $runsc = 1 ] && cmds+=(-n runsc "env XDG_CONFIG_HOME=$work/cfg-runsc $tactus test --mock -j 2 $suite")
hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-csv "$work/test.csv" "${cmds[@]}" \
    >"$work/test.txt" 2>&1 || { cat "$work/test.txt" >&2; exit 2; }
# hyperfine's CSV: command,mean,stddev,median,...
median() { awk -F, -v c="$2" '$1 == c { print $4 }' "$1"; }
t_docker=$(median "$work/test.csv" docker)
t_process=$(median "$work/test.csv" process)
rate=$(awk -v t="$t_docker" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
rate_p=$(awk -v t="$t_process" -v n="$total" 'BEGIN { printf "%.0f", n / t }')
ratio=$(awk -v a="$t_docker" -v b="$t_process" 'BEGIN { printf "%.2f", a / b }')
printf 'tactus test --mock -j 2, Docker:        median %.3f s -> %s scenarios/s (target >= 150)\n' "$t_docker" "$rate"
printf 'tactus test --mock -j 2, --no-sandbox:  median %.3f s -> %s scenarios/s; Docker/--no-sandbox = %sx (target <= 3)\n' "$t_process" "$rate_p" "$ratio"
if [ $runsc = 1 ]; then
    t_runsc=$(median "$work/test.csv" runsc)
    printf 'tactus test --mock -j 2, runsc:         median %.3f s -> %s scenarios/s; runsc/--no-sandbox = %sx\n' "$t_runsc" \
        "$(awk -v t="$t_runsc" -v n="$total" 'BEGIN { printf "%.0f", n / t }')" \
        "$(awk -v a="$t_runsc" -v b="$t_process" 'BEGIN { printf "%.2f", a / b }')"
fi

# ---- 2. tactus run hello ---------------------------------------------------------------------
hello=$work/hello
mkdir -p "$hello"
printf 'Procedure { output = { hi = field.string{} }, function() return {hi = "hello"} end }\n' >"$hello/hello.tac"
chown -R 65534:65534 "$hello"
# --prepare for a warm run: a spare of the plan is up (the previous run started it).
cat >"$work/wait-spare.sh" <<EOF
#!/bin/sh
for i in \$(seq 1 300); do
  if ls "$XDG_RUNTIME_DIR/tactus/warm/" 2>/dev/null | grep -q 'sock\$' &&
     docker ps --filter name=tactus-warm- --filter status=running -q | grep -q .; then
    sleep 0.3; exit 0
  fi
  sleep 0.1
done
exit 1
EOF
chmod +x "$work/wait-spare.sh"
for cfg in warm warm-runsc; do # the first run of each starts the first spare
    [ $cfg = warm-runsc ] && [ $runsc = 0 ] && continue
    (cd "$hello" && XDG_CONFIG_HOME=$work/cfg-$cfg "$tactus" run hello.tac >/dev/null 2>&1)
done
cmds=(-n cold "env XDG_CONFIG_HOME=$work/cfg-docker $tactus run $hello/hello.tac"
      -n warm --prepare "$work/wait-spare.sh" "env XDG_CONFIG_HOME=$work/cfg-warm $tactus run $hello/hello.tac"
      -n process "env XDG_CONFIG_HOME=$work/cfg-docker $tactus run --no-sandbox $hello/hello.tac")
hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-csv "$work/run.csv" "${cmds[@]}" \
    >"$work/run.txt" 2>&1 || { cat "$work/run.txt" >&2; exit 2; }
if [ $runsc = 1 ]; then
    stop_our_warm
    (cd "$hello" && XDG_CONFIG_HOME=$work/cfg-warm-runsc "$tactus" run hello.tac >/dev/null 2>&1)
    hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-csv "$work/runsc.csv" \
        -n runsc-cold "env XDG_CONFIG_HOME=$work/cfg-runsc $tactus run $hello/hello.tac" \
        -n runsc-warm --prepare "$work/wait-spare.sh" "env XDG_CONFIG_HOME=$work/cfg-warm-runsc $tactus run $hello/hello.tac" \
        >"$work/runsc.txt" 2>&1 || { cat "$work/runsc.txt" >&2; exit 2; }
fi
ms() { awk -v t="$1" 'BEGIN { printf "%.1f", t * 1000 }'; }
cold=$(median "$work/run.csv" cold) warm=$(median "$work/run.csv" warm) proc=$(median "$work/run.csv" process)
printf 'tactus run hello, Docker cold:  median %s ms\n' "$(ms "$cold")"
printf 'tactus run hello, Docker warm:  median %s ms (target <= 100); cold/warm = %sx\n' "$(ms "$warm")" \
    "$(awk -v a="$cold" -v b="$warm" 'BEGIN { printf "%.1f", a / b }')"
printf 'tactus run hello, --no-sandbox: median %s ms\n' "$(ms "$proc")"
if [ $runsc = 1 ]; then
    printf 'tactus run hello, runsc cold:   median %s ms\n' "$(ms "$(median "$work/runsc.csv" runsc-cold)")"
    printf 'tactus run hello, runsc warm:   median %s ms\n' "$(ms "$(median "$work/runsc.csv" runsc-warm)")"
fi
missed=0
[ "$rate" -ge 150 ] || { echo "bench/sandbox-speed: tactus test in Docker: $rate scenarios/s, target 150: MISSED" >&2; missed=1; }
awk -v r="$ratio" 'BEGIN { exit !(r <= 3) }' || { echo "bench/sandbox-speed: Docker is ${ratio}x --no-sandbox, target 3: MISSED" >&2; missed=1; }
awk -v t="$warm" 'BEGIN { exit !(t <= 0.100) }' || { echo "bench/sandbox-speed: warm run $(ms "$warm") ms, target 100: MISSED" >&2; missed=1; }
exit $missed
