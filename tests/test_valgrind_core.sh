#!/usr/bin/env bash
# frost-test-labels: valgrind
# memcheck over the core C tests (the library API, its options and classifier
# rules, every op, the real models on both backends, limits, batching, the
# image decoders and preprocessing, frost's kernels and the oneDNN backend's
# steps, int8 ones on AVX2 among them): 0 errors (invalid reads/writes, uses of uninitialised values) and 0
# definite or indirect leaks in each.  "Possibly lost" blocks
# are not errors: libgomp's thread-pool TLS is never freed by design.
# JSIMD_FORCENONE=1: libjpeg-turbo decodes without its SIMD code here, whose
# vector instructions memcheck cannot track exactly (it reports the padding
# columns they read as uninitialised output; libjpeg-turbo/libjpeg-turbo#238);
# the same decoding with SIMD is checked by ASan in the sanitizer build.
# Skipped (77) without valgrind and in a sanitizer build (valgrind cannot run
# an ASan binary).
set -uo pipefail
command -v valgrind >/dev/null || exit 77
[ "${FROST_SANITIZE:-0}" = 1 ] && exit 77
export JSIMD_FORCENONE=1
# The tests to check: the arguments, else every core test but test_kernels,
# which test_valgrind_kernels.sh checks as a ctest of its own (the longest
# memcheck run: ctest -j2 runs the two side by side).
if [ $# -gt 0 ]; then
  tests=("$@")
else
  tests=(test_api test_options test_classify_rules test_ops test_models test_limits test_batch test_image_formats
         test_image_jpeg test_image_preprocess test_image_robust test_bench_stats test_int8)
fi
fail=0
for t in "${tests[@]}"; do
  exe="$FROST_BUILD/tests/$t"
  [ -x "$exe" ] || { echo "$t: missing $exe"; fail=1; continue; }
  log="$FROST_TMP/$t.memcheck"
  start=$SECONDS
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --log-file="$log" "$exe" >"$FROST_TMP/$t.out" 2>&1
  rc=$?
  printf '%-22s rc=%-3s %4ss  %s\n' "$t" "$rc" "$((SECONDS - start))" "$(tail -1 "$FROST_TMP/$t.out")"
  case $rc in
    0|77) ;;
    99) echo "  memcheck errors:"; head -40 "$log"; fail=1 ;;
    *) echo "  test failed under valgrind:"; tail -20 "$FROST_TMP/$t.out"; head -20 "$log"; fail=1 ;;
  esac
done
exit $fail
