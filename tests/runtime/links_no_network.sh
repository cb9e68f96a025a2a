#!/bin/sh
# links_no_network.sh RUNTIME - tactus-runtime must contain no network or TLS
# code and read no environment (DESIGN.md: "NO HTTP/TLS code at all").
# Checks the shared libraries it loads and the symbols it imports.
set -u
bin=$1
fail=0
libs=$(ldd "$bin" 2>&1) || { echo "ldd failed: $libs"; exit 1; }
for lib in libcurl libssl libcrypto libgnutls libnss3 libresolv; do
  if printf '%s\n' "$libs" | grep -q "$lib"; then
    echo "FAIL: $bin links $lib"
    fail=1
  fi
done
syms=$(nm -D --undefined-only "$bin" | awk '{print $NF}' | sed 's/@.*//')
for sym in connect socket getaddrinfo gethostbyname getenv secure_getenv bind listen accept \
           sendto recvfrom execve execv execvp system popen fork dlopen; do
  if printf '%s\n' "$syms" | grep -qx "$sym"; then
    echo "FAIL: $bin imports $sym"
    fail=1
  fi
done
if grep -q "environ" "$bin" 2>/dev/null && nm -D --undefined-only "$bin" | grep -qw environ; then
  echo "FAIL: $bin imports environ"
  fail=1
fi
[ "$fail" -eq 0 ] && echo "ok   $bin: no network, TLS, process or environment imports"
exit $fail
