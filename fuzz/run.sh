#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan) and run each one briefly.
#   fuzz/run.sh [SECONDS] [TARGET...]     (default 60 s each, every fuzz/fuzz_*.c)
# Environment:
#   FUZZ_BUILD      build directory (default build-fuzz)
#   FUZZ_WORK       corpora, crash artifacts and logs (default $FUZZ_BUILD/fuzz-work)
#   FUZZ_PARALLEL   targets run at the same time (default 1; CI uses 2)
#   FUZZ_JOBS       parallel jobs per target (default 1)
#   FROST_SHARED    ../shared (adds truncated real models / images to the seeds)
#   FUZZ_EXTRA      more libFuzzer flags, e.g. "-fork=1 -ignore_timeouts=1 -ignore_ooms=1"
#                   to keep going past slow inputs (crashes still stop a job)
# Seeds: fuzz/seeds/<target> (checked in) + fuzz/make_seeds.py output + the
# crash inputs tests/crashers/<target>/.  The corpus a run grows is kept in
# $FUZZ_WORK/corpus/<target>/ and reused by the next run.  A crash leaves its
# input in $FUZZ_WORK/artifacts/<target>/ and its report in
# $FUZZ_WORK/logs/<target>.log; reproduce with  $FUZZ_BUILD/fuzz/<target> FILE
# (or the replay_<target> executable of any build).  Exit status: 0 when no
# target crashed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"; shift || true
build="${FUZZ_BUILD:-build-fuzz}"
work="${FUZZ_WORK:-$build/fuzz-work}"
shared="${FROST_SHARED:-../shared}"
parallel="${FUZZ_PARALLEL:-1}"
command -v clang >/dev/null || { echo "fuzz/run.sh: clang is needed" >&2; exit 2; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFROST_FUZZ=ON \
  -DFROST_BUILD_TESTS=OFF >/dev/null || exit 2
cmake --build "$build" -j2 --target "${targets[@]}" >/dev/null || { echo "fuzz/run.sh: build failed" >&2; exit 2; }

mkdir -p "$work/seeds" "$work/logs"
shared_arg=()
[ -d "$shared/models" ] && shared_arg=(--shared "$shared")
/usr/bin/python3 fuzz/make_seeds.py "$work/seeds" "${shared_arg[@]}" || echo "fuzz/run.sh: make_seeds.py failed; using the checked-in seeds"

# libFuzzer options per target.
opts_for() {
  case "$1" in
    fuzz_graph)   echo "-max_len=200000 -rss_limit_mb=3072 -timeout=30" ;;
    # The decoders themselves (Debian's libjpeg-turbo, libspng, giflib) are not
    # instrumented, so their branches give no coverage: keep the well-formed
    # seed images in the corpus and cross over with them all the same.
    fuzz_image|fuzz_jpeg|fuzz_png|fuzz_bmp|fuzz_gif)
                  echo "-max_len=65536 -rss_limit_mb=2048 -timeout=20 -keep_seed=1 -cross_over_uniform_dist=1" ;;
    fuzz_convert) echo "-max_len=65536 -rss_limit_mb=2048 -timeout=30" ;;
    fuzz_serve)   echo "-max_len=65536 -rss_limit_mb=2048 -timeout=20 -dict=fuzz/serve.dict" ;;
    fuzz_savedmodel) echo "-max_len=262144 -rss_limit_mb=2048 -timeout=30" ;;
    *)            echo "-rss_limit_mb=2048 -timeout=30" ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ONEDNN_VERBOSE=0

# Runs one target; its summary (and, on a crash, the report) goes to
# $work/logs/<target>.summary; exit status 1 when it crashed.
run_target() {
  local t=$1 exe="$build/fuzz/$1" sum="$work/logs/$1.summary"
  [ -x "$exe" ] || { echo "$t: not built" >"$sum"; return 1; }
  local corpus="$work/corpus/$t" art="$work/artifacts/$t/"
  mkdir -p "$corpus" "$art"
  local dirs=("$corpus") d
  for d in fuzz/seeds/$t "$work/seeds/$t" tests/crashers/$t; do [ -d "$d" ] && dirs+=("$d"); done
  local log="$work/logs/$t.log" jobs=()
  [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
  # (the converter's error messages, one per input, are left out of the log)
  # shellcheck disable=SC2046
  "$exe" $(opts_for "$t") -max_total_time="$secs" -print_final_stats=1 "${jobs[@]}" ${FUZZ_EXTRA:-} \
    -artifact_prefix="$art" "${dirs[@]}" 2>&1 | grep -av '^frost convert: ' >"$log"
  local rc=${PIPESTATUS[0]}
  local execs cov crashes
  execs=$(grep -a 'stat::number_of_executed_units' "$log" | tail -1 | awk '{print $2}')
  [ -n "$execs" ] || execs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')  # -fork mode
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1)
  crashes=$(find "$art" -type f | wc -l)
  printf '%-14s %4ss rc=%-3s execs=%-9s %-12s corpus=%-5s crashes=%s\n' "$t" "$secs" "$rc" "${execs:-?}" \
    "${cov:-cov: ?}" "$(find "$corpus" -type f | wc -l)" "$crashes" >"$sum"
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    grep -aE 'ERROR: |SUMMARY: |runtime error|#[0-9]+ 0x' "$log" | head -30 >>"$sum"
    echo "  log: $log   inputs: $art" >>"$sum"
    return 1
  fi
}

failed=0
pids=()
for t in "${targets[@]}"; do
  if [ "$parallel" -le 1 ]; then
    run_target "$t" || failed=1
    cat "$work/logs/$t.summary"
    continue
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  run_target "$t" &
  pids+=($!)
done
if [ "$parallel" -gt 1 ]; then
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  for t in "${targets[@]}"; do cat "$work/logs/$t.summary"; done
fi
exit $failed
