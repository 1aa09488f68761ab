#!/usr/bin/env bash
# Install the Debian 12 packages frost needs to build, test and benchmark.
# Usage: scripts/install-deps.sh            (as root, or with sudo available)
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  # build
  build-essential cmake pkg-config clang
  # fuzzing (libFuzzer + sanitizer runtimes for clang)
  libclang-rt-14-dev
  # library dependencies
  libdnnl-dev libjpeg62-turbo-dev libspng-dev libgif-dev
  # tools: server + JSON
  libmicrohttpd-dev libjansson-dev
  # tests: oracles and checkers
  python3 python3-numpy python3-opencv libjpeg-turbo-progs valgrind curl
  # demo images, model conversion (npm), server scale-out and load tests
  darknet nginx-light wrk
  # past one machine: frost.dask (Dask bags on a distributed cluster, pandas for
  # to_dataframe), GNU parallel for the command-line recipe
  python3-dask python3-distributed python3-pandas parallel
)
# Node.js + npm (only to unpack the npm model package): use the machine's own
# if it has one (a non-Debian Node.js conflicts with Debian's nodejs package).
if ! command -v node >/dev/null 2>&1; then PKGS+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PKGS+=(npm); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
