#!/usr/bin/env bash
# Runs a tactus command under valgrind; fails only on a memory error or leak
# (valgrind's exit 99), not on the command's own exit status.
set -u
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$@" >/dev/null
rc=$?
if [ $rc -eq 99 ]; then echo "valgrind: memory errors or leaks (see above)" >&2; exit 1; fi
if [ $rc -ge 128 ]; then echo "valgrind: the command crashed ($rc)" >&2; exit 1; fi
echo "valgrind: clean (command exit $rc)"
