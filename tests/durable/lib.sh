# shellcheck shell=bash disable=SC2034
# Shared helpers of the durable-run tests (sourced, never run).
#   source lib.sh TACTUS
# Every test gets its own temporary folder and journal: TACTUS_STORE points
# into it (and every command is also given --store), so the user's default
# journal (~/.local/share/tactus/journal.db) is never touched.
set -u
tactus=${1:?usage: TEST.sh path/to/tactus}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tactus-durable.XXXXXX")
export XDG_CONFIG_HOME=$work/xdg # no user configuration leaks in
export XDG_DATA_HOME=$work/xdg-data
export NO_COLOR=1
unset TACTUS_TENANT
# The same suite runs on both backends (docs/durability.md, tests/durable/README.md):
# TACTUS_TEST_BACKEND=pg gives each test a fresh database of the shared
# PostgreSQL server (tests/pg/server.sh, the ctest fixture `pg`).
if [ "${TACTUS_TEST_BACKEND:-sqlite}" = pg ]; then
    # shellcheck source=../pg/lib.sh
    source "$here/../pg/lib.sh"
    store=$(pg_new_db "$(basename "$0" .sh)") || { echo "durable: cannot make a database" >&2; exit 1; }
    "$tactus" store migrate --store "$store" >/dev/null || { echo "durable: tactus store migrate failed" >&2; exit 1; }
else
    store=$work/journal.db
fi
export TACTUS_STORE=$store
cleanup() {
    [ "${TACTUS_TEST_BACKEND:-sqlite}" = pg ] && pg_drop_db "$store"
    rm -rf "$work"
}
trap cleanup EXIT
test_name=$(basename "$0" .sh)

fail() {
    echo "durable/$test_name: FAIL: $*" >&2
    for f in "$work/out" "$work/err"; do
        [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; head -c 3000 "$f" >&2; echo >&2; }
    done
    exit 1
}
note() { echo "durable/$test_name: $*"; }

# t ARGS...: runs tactus with --store; stdout in $work/out, stderr in
# $work/err, exit status in $rc.
t() {
    local cmd=$1
    shift
    # --store last: `tactus resume` wants RUN right after the command.
    "$tactus" "$cmd" "$@" --store "$store" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
}
# expect_rc N WHAT: the last command exited N.
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1"; }

# jv EXPR [FILE [OTHER]]: evaluates a Python expression on the JSON
# document `d` read from FILE (default: the last stdout), and `o` read from
# OTHER if given; strings are printed as they are, anything else as JSON.
jv() {
    python3 -c 'import json, sys
d = json.load(open(sys.argv[2]))
o = json.load(open(sys.argv[3])) if len(sys.argv) > 3 else None
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1" "${2:-$work/out}" ${3:+"$3"} ||
        fail "cannot evaluate $1 on ${2:-$work/out}"
}
# check EXPR WHAT [FILE [OTHER]]: the expression is true of the document(s).
check() {
    local v
    v=$(jv "bool($1)" "${3:-$work/out}" ${4:+"$4"})
    [ "$v" = true ] || fail "$2 (expected: $1)"
}
# contains TEXT FILE WHAT
contains() { grep -qF -- "$1" "$2" || fail "$3: '$1' not found in ${2##*/}"; }

# setup_proc NAME: copies procs/NAME.tac into the work folder, with a host
# configuration declaring the append_line tool (append.py, idempotent).
python_exe=$(python3 -c "import sys; print(sys.executable)")
setup_proc() {
    mkdir -p "$work/proc/.tactus" "$work/lines"
    cp "$here/procs/$1.tac" "$work/proc/$1.tac"
    cat >"$work/proc/.tactus/config.yml" <<YML
sandbox:
  enabled: false
host_tools:
  append_line:
    command: ["$python_exe", "$here/append.py", "$work/lines"]
    timeout: 20
YML
    trust_proc
    proc=$work/proc/$1.tac
}
# trust_proc: the test's project configuration is the user's own, so it is
# trusted (tactus trust, into $XDG_CONFIG_HOME); run again after editing it.
trust_proc() { "$tactus" trust "$work/proc" >/dev/null || fail "tactus trust $work/proc"; }
# lines_of RUN: the lines the append tool wrote for a run, without their keys.
lines_of() { [ -f "$work/lines/$1.txt" ] && cut -f1 "$work/lines/$1.txt"; }

# child_named PARENT NAME: prints the pid of PARENT's child process called
# NAME (read from /proc, so that procps is not needed); false if none.
child_named() {
    local f kids=() c=() comm line ppid
    for f in /proc/"$1"/task/*/children; do
        [ -r "$f" ] || continue
        c=()
        read -r -a c 2>/dev/null <"$f" # no newline at its end: read "fails"
        kids+=("${c[@]}")
    done
    if [ ! -e "/proc/$BASHPID/task/$BASHPID/children" ]; then # no CONFIG_PROC_CHILDREN: scan
        for f in /proc/[0-9]*/stat; do
            read -r line 2>/dev/null <"$f" || continue
            read -r -a c <<<"${line##*) }"
            ppid=${c[1]}
            [ "$ppid" = "$1" ] && { f=${f#/proc/}; kids+=("${f%/stat}"); }
        done
    fi
    for c in "${kids[@]}"; do
        read -r comm 2>/dev/null <"/proc/$c/comm" || continue
        [ "$comm" = "$2" ] && { echo "$c"; return 0; }
    done
    return 1
}
# running_with_arg TEXT: true if a process has TEXT as one of its arguments.
running_with_arg() {
    local d a x
    for d in /proc/[0-9]*; do
        mapfile -d '' -t a 2>/dev/null <"$d/cmdline" || continue
        for x in "${a[@]}"; do [ "$x" = "$1" ] && return 0; done
    done
    return 1
}
