#!/usr/bin/env bash
# The store's password kept out of the process list (issue #21):
#   1. --store with a password in the URL (user:PASSWORD@ or ?password=)
#      works, and warns that `ps` shows it, naming $TACTUS_STORE, the
#      password file and $PGPASSWORD; the password itself is never printed;
#   2. the same URL in $TACTUS_STORE: no warning;
#   3. a URL without a password gets it the libpq way: $PGPASSWORD, a file
#      named by $PGPASSFILE, ~/.pgpass; without any, the connection is
#      refused (exit 1) and the message says where a password can come from;
#   4. `tactus worker --store URL-with-password` warns too; a SQLite path never.
#   password.sh TACTUS
set -u
tactus=${1:?usage: password.sh TACTUS}
case "$tactus" in /*) ;; *) tactus=$PWD/$tactus ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"
pg_test_init pgpassword
fail() {
    echo "pg/password: FAIL: $*" >&2
    for f in "$work/out" "$work/err"; do [ -s "$f" ] && { echo "--- ${f##*/}:" >&2; tail -c 2000 "$f" >&2; echo >&2; }; done
    exit 1
}
note() { echo "pg/password: $*"; }
export HOME=$work/home XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/data NO_COLOR=1
unset TACTUS_STORE TACTUS_TENANT PGPASSWORD PGPASSFILE PGSERVICE
mkdir -p "$HOME"
t() { "$tactus" "$@" >"$work/out" 2>"$work/err" </dev/null; rc=$?; }
contains() { grep -qF -- "$1" "$2" || fail "$3: '$1' not in ${2##*/}"; }
lacks() { grep -qF -- "$1" "$work/out" "$work/err" && fail "$2: '$1' was printed"; true; }
warned() { grep -q "warning: the --store URL carries a password" "$work/err"; }
pw=$TACTUS_PG_PASSWORD
db=$(pg_new_db password) || fail "createdb"
dbs+=("$db")
name=${db#*@/}
name=${name%%\?*}
bare="postgresql://tactus@127.0.0.1:$TACTUS_PG_PORT/$name" # TCP: the server asks for a SCRAM password
with="postgresql://tactus:$pw@127.0.0.1:$TACTUS_PG_PORT/$name"

# 1. --store with a password: works, warns, never prints it.
t store migrate --store "$with"
[ "$rc" -eq 0 ] || fail "migrate with the password in --store: exit $rc"
warned || fail "no warning for a password in --store"
contains "tactus store: warning:" "$work/err" "the warning names the command"
contains "process list (ps)" "$work/err" "the warning says why"
contains '$TACTUS_STORE' "$work/err" "the warning suggests TACTUS_STORE"
contains "~/.pgpass" "$work/err" "the warning suggests a password file"
contains '$PGPASSWORD' "$work/err" "the warning suggests PGPASSWORD"
lacks "$pw" "--store with a password"
t runs --store "$bare?password=$pw"
[ "$rc" -eq 0 ] || fail "runs with ?password= in --store: exit $rc"
warned || fail "no warning for a password= parameter in --store"
lacks "$pw" "--store with ?password="
note "1. --store with a password works, warns (ps; \$TACTUS_STORE, ~/.pgpass, \$PGPASSWORD), never prints it"

# 2. The same URL in $TACTUS_STORE: not on the command line, no warning.
TACTUS_STORE=$with t runs
[ "$rc" -eq 0 ] || fail "runs with the URL in \$TACTUS_STORE: exit $rc"
warned && fail "a warning for \$TACTUS_STORE, which ps does not show"
note "2. \$TACTUS_STORE with a password: works, no warning"

# 3. libpq's own means.
PGPASSWORD=$pw t runs --store "$bare"
[ "$rc" -eq 0 ] || fail "PGPASSWORD: exit $rc"
warned && fail "a warning for a URL without a password"
printf '127.0.0.1:%s:%s:tactus:%s\n' "$TACTUS_PG_PORT" "$name" "$pw" >"$work/passfile"
chmod 600 "$work/passfile"
PGPASSFILE=$work/passfile t runs --store "$bare"
[ "$rc" -eq 0 ] || fail "PGPASSFILE: exit $rc"
cp "$work/passfile" "$HOME/.pgpass"
t runs --store "$bare"
[ "$rc" -eq 0 ] || fail "~/.pgpass: exit $rc"
rm "$HOME/.pgpass"
t runs --store "$bare"
[ "$rc" -eq 1 ] || fail "no password anywhere: exit $rc, expected 1"
contains "cannot connect to the store" "$work/err" "no password anywhere"
contains "~/.pgpass" "$work/err" "no password anywhere: where one can come from"
note "3. a URL without a password: \$PGPASSWORD, \$PGPASSFILE and ~/.pgpass each work; none: exit 1 naming them"

# 4. The worker warns as every command does; a SQLite path never.
"$tactus" worker --no-sandbox --exit-when-idle --store "$with" >"$work/out" 2>"$work/err" </dev/null ||
    fail "worker with a password in --store: exit $?"
warned || fail "the worker did not warn about the password in --store"
contains "tactus worker: warning:" "$work/err" "the worker's warning names it"
lacks "$pw" "worker"
t runs --store "$work/journal.db"
[ "$rc" -eq 0 ] || fail "runs on a SQLite file: exit $rc"
warned && fail "a warning for a SQLite path"
note "4. tactus worker warns too; a SQLite path never"
note "ok"
