#!/usr/bin/env bash
# Regenerate tests/data/nsfwjs_reference.json: the probabilities that
# TensorFlow.js (@tensorflow/tfjs, pure JavaScript CPU backend) computes for the
# three nsfwjs models on the preprocessed photos of tests/reference/nsfwjs_inputs.py.
# An implementation independent of frost; the test test_convert_nsfwjs
# checks that frost reproduces these numbers within 1e-4.
# usage: tests/reference/nsfwjs_reference.sh   (needs build/frost or $FROST_BIN, npm, node; ~3 minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
tfjs_version=4.22.0
cache=.cache/tfjs-$tfjs_version
bash scripts/fetch-models.sh
if [ ! -d "$cache/node_modules/@tensorflow/tfjs" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm install --silent --no-audit --no-fund --no-save "@tensorflow/tfjs@$tfjs_version")
fi
inputs=$(mktemp -d)
trap 'rm -rf "$inputs"' EXIT
/usr/bin/python3 tests/reference/nsfwjs_inputs.py "$inputs" "${FROST_SHARED:-../shared}" >/dev/null
NODE_PATH="$PWD/$cache/node_modules" node tests/reference/nsfwjs_reference.js models/nsfwjs "$inputs" \
  > tests/data/nsfwjs_reference.json.tmp
mv tests/data/nsfwjs_reference.json.tmp tests/data/nsfwjs_reference.json
echo "wrote tests/data/nsfwjs_reference.json"
