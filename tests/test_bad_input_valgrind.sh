#!/usr/bin/env bash
# The bad-input test under valgrind (memcheck): no invalid reads/writes, no
# use of uninitialised memory, no leaks (OpenMP's thread-pool TLS excepted:
# it is allocated by libgomp and never freed by design).
set -euo pipefail
command -v valgrind >/dev/null || exit 77
# valgrind cannot run an ASan binary; the sanitizers check that build themselves.
[ "${FROST_SANITIZE:-0}" = 1 ] && exit 77
exe="$FROST_BUILD/tests/test_bad_input"
[ -x "$exe" ] || { echo "missing $exe"; exit 1; }
FROST_TEST_QUICK=1 valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
  "$exe"
