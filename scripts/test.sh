#!/usr/bin/env bash
# The test command: install dependencies, build, run every test, then the
# sanitizer build (ASan + UBSan, build-asan/) over the tests labelled for it
# (a "frost-test-labels: asan" comment in a test's first lines; the fuzz
# targets' seed + regression replays are labelled too).
#   FROST_TEST_SANITIZE=0  skip the sanitizer stage
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
status=0
(cd build && ctest --output-on-failure -j2) || status=1

if [ "${FROST_TEST_SANITIZE:-1}" != 0 ]; then
  echo "== sanitizer stage: ASan + UBSan (build-asan, ctest -L asan)"
  bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFROST_SANITIZE=ON
  (cd build-asan && ctest --output-on-failure -j2 -L asan) || status=1
fi
exit $status
