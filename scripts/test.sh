#!/usr/bin/env bash
# The test command: install dependencies, then three stages:
#   1. normal build (build/), every test (ctest -j2), among them the valgrind
#      memcheck passes (test_valgrind*, tests/test_valgrind_core.sh);
#   2. sanitizer build (build-asan/: ASan + UBSan, -fno-sanitize-recover) and
#      the WHOLE test suite again under it (a test that cannot run there exits
#      77 with its reason: valgrind and resident-memory tests);
#   3. a smoke run of every fuzz target (clang, libFuzzer + ASan + UBSan,
#      build-fuzz/), FROST_FUZZ_SECONDS each (default 60), two at a time.
#   FROST_TEST_SANITIZE=0  skip stage 2      FROST_TEST_FUZZ=0  skip stage 3
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
status=0
times=()
stage_start=$SECONDS
stage_end() { times+=("$(printf '%-34s %4d s' "$1" $((SECONDS - stage_start)))"); stage_start=$SECONDS; }

echo "== stage 1: build/ and every test"
bash scripts/build.sh build
(cd build && ctest --output-on-failure -j2) || status=1
stage_end "normal build + tests"

if [ "${FROST_TEST_SANITIZE:-1}" != 0 ]; then
  echo "== stage 2: ASan + UBSan (build-asan/), every test"
  bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFROST_SANITIZE=ON
  (cd build-asan && ctest --output-on-failure -j2) || status=1
  stage_end "sanitizer build + tests"
fi

if [ "${FROST_TEST_FUZZ:-1}" != 0 ]; then
  echo "== stage 3: fuzz smoke run (${FROST_FUZZ_SECONDS:-60} s per target, two at a time)"
  FUZZ_PARALLEL=2 bash fuzz/run.sh "${FROST_FUZZ_SECONDS:-60}" || status=1
  stage_end "fuzz smoke run"
fi
printf '%s\n' "${times[@]}"
exit $status
