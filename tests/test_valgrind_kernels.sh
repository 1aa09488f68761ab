#!/usr/bin/env bash
# frost-test-labels: valgrind
# memcheck over tests/test_kernels.c (frost's kernels, their selection and the
# oneDNN backend's steps), with test_valgrind_core.sh's rules: 0 errors and 0
# definite or indirect leaks.  A ctest of its own so that it runs beside
# test_valgrind_core: each is the longest memcheck run of its half.
exec bash "$(dirname "$0")/test_valgrind_core.sh" test_kernels
