#!/usr/bin/env bash
# One-time setup on a fresh Debian 12 machine: Debian packages, build,
# and the real pretrained models (npm package nsfwjs, converted by
# `frost convert` into frozen GraphDefs under models/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
bash scripts/fetch-models.sh
