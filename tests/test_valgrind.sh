#!/usr/bin/env bash
# frost-test-labels: valgrind asan
# The CLI's bad-input paths under valgrind memcheck: corrupt and truncated
# GraphDefs, undecodable images, unknown tensor names, a hostile TF.js model,
# and one real run of a small model with the reference kernels.  Every run
# must give frost's own exit status (not 99): no invalid reads/writes, no use
# of uninitialised values, no definite or indirect leaks.  In a sanitizer
# build (FROST_SANITIZE=1) the same runs go without valgrind, ASan / UBSan /
# LSan exiting with 99 instead.  Skipped (77) when valgrind is absent (normal
# builds).  Uses the seeds in fuzz/seeds/ and, when present, ../shared's
# MobileNet v1 0.25 128.
set -u
BIN="${FROST_BIN:?}"
SRC="${FROST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
TMP="${FROST_TMP:-$(mktemp -d)}"
SHARED="${FROST_SHARED:-$SRC/../shared}"
SEEDS="$SRC/fuzz/seeds"
# The wait policy set here: with none in the environment the CLI restarts
# itself to set one (--wait-policy auto), and valgrind, which does not follow
# an exec, would check only the part before (passive threads also spare
# memcheck, which runs one thread at a time, their spinning).
export OMP_WAIT_POLICY=passive
if [ "${FROST_SANITIZE:-0}" = 1 ]; then
  VG=()
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
  export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=99"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=99"
else
  command -v valgrind >/dev/null || { echo "valgrind not installed: skipped"; exit 77; }
  VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
      --show-leak-kinds=definite,indirect --suppressions="$SRC/tests/sanitizer/valgrind.supp"
      --num-callers=30)
fi
pass=0 fail=0

# vg WANT_STATUS DESCRIPTION -- frost ARGS...: runs under memcheck, checks the status.
vg() {
  local want="$1" what="$2"
  shift 3
  ${VG[@]+"${VG[@]}"} "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  if [ "$rc" = "$want" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $what: exit status $rc, expected $want (99: memcheck / sanitizer errors): frost $*"
    tail -40 "$TMP/err"
  fi
}

# --- GraphDefs -------------------------------------------------------------
good="$SEEDS/fuzz_graph/conv_chain.pb"
head -c 700 "$good" >"$TMP/trunc.pb"
head -c 4096 /dev/urandom >"$TMP/random.pb"
printf '\x0a\xff\xff\xff\xff\x0f' >"$TMP/hugelen.pb"
: >"$TMP/empty.pb"
for f in trunc random hugelen; do
  vg 1 "inspect $f.pb" -- inspect "$TMP/$f.pb"
done
vg 1 "inspect cycle.pb (a cycle)" -- inspect "$SEEDS/fuzz_graph/cycle.pb" --output r1
vg 1 "inspect unknown_op.pb" -- inspect "$SEEDS/fuzz_graph/unknown_op.pb"
vg 1 "inspect a missing file" -- inspect "$TMP/does-not-exist.pb"
vg 0 "inspect conv_chain.pb" -- inspect "$good"

# --- run: unknown names, wrong sizes, a real run ----------------------------
/usr/bin/python3 -c 'import sys, struct; sys.stdout.buffer.write(struct.pack("<108f", *[(i % 7 - 3) * 0.25 for i in range(108)]))' >"$TMP/in.f32"
vg 0 "run conv_chain (reference)" -- run "$good" --input "input=$TMP/in.f32" --out "$TMP/o.f32" --backend reference --threads 1
[ "$(stat -c %s "$TMP/o.f32" 2>/dev/null)" = 12 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: run wrote no 3 floats"; }
vg 1 "run --output nope" -- run "$good" --input "input=$TMP/in.f32" --output nope --backend reference
vg 1 "run --input nope" -- run "$good" --input "nope=$TMP/in.f32" --backend reference
head -c 100 "$TMP/in.f32" >"$TMP/short.f32"
vg 1 "run with a short input file" -- run "$good" --input "input=$TMP/short.f32" --shape 1,6,6,3 --backend reference
vg 1 "run a truncated graph" -- run "$TMP/trunc.pb" --input "input=$TMP/in.f32" --backend reference

# --- images ------------------------------------------------------------------
img="$SEEDS/fuzz_image/rgb.jpg"
head -c 300 "$img" >"$TMP/trunc.jpg"
head -c 100 "$SEEDS/fuzz_image/rgb.png" >"$TMP/trunc.png"
head -c 40 "$SEEDS/fuzz_image/small.gif" >"$TMP/trunc.gif"
head -c 60 "$SEEDS/fuzz_image/rgb.bmp" >"$TMP/trunc.bmp"
printf 'not an image at all' >"$TMP/text.jpg"
cls=(classify --graph="$good" --input_width=6 --input_height=6 --backend reference --threads 1)
vg 0 "classify a good JPEG" -- "${cls[@]}" "$img"
for f in trunc.jpg trunc.png trunc.gif trunc.bmp text.jpg; do
  vg 1 "classify $f" -- "${cls[@]}" "$TMP/$f"
done
vg 1 "classify --input_layer nope" -- "${cls[@]}" --input_layer=nope "$img"
vg 1 "classify --output_layer nope" -- "${cls[@]}" --output_layer=nope "$img"

# --- convert: a hostile TF.js model ------------------------------------------
mkdir -p "$TMP/tfjs"
/usr/bin/python3 - "$SEEDS/fuzz_convert/layers_uint8.bin" "$TMP/tfjs" <<'EOF'
import json, sys
data = open(sys.argv[1], "rb").read()
i = data.index(b"\0")
m = json.loads(data[:i])
open(sys.argv[2] + "/w.bin", "wb").write(data[i + 1:i + 1 + 20])   # a short shard
json.dump(m, open(sys.argv[2] + "/short.json", "w"))
m["weightsManifest"][0]["weights"][0]["shape"] = [3, 3, 3, 1 << 40]  # an absurd shape
json.dump(m, open(sys.argv[2] + "/huge.json", "w"))
EOF
vg 1 "convert with a short weight shard" -- convert "$TMP/tfjs/short.json" -o "$TMP/tfjs/o.pb" --quiet
vg 1 "convert with an absurd weight shape" -- convert "$TMP/tfjs/huge.json" -o "$TMP/tfjs/o.pb" --quiet

# --- one real model, reference kernels ------------------------------------------
mb="$SHARED/models/mobilenet_v1_0.25_128_quant_float.pb"
if [ -f "$mb" ]; then
  /usr/bin/python3 -c 'import sys, struct; sys.stdout.buffer.write(struct.pack("<49152f", *[((i * 37) % 255) / 127.5 - 1 for i in range(49152)]))' >"$TMP/mb.f32"
  vg 0 "run MobileNet v1 0.25 128 (reference)" -- run "$mb" --input "input=$TMP/mb.f32" --shape 1,128,128,3 \
    --output MobilenetV1/Predictions/Reshape_1 --out "$TMP/mb.out" --backend reference --threads 1
  [ "$(stat -c %s "$TMP/mb.out" 2>/dev/null)" = 4004 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: MobileNet output is not 1001 floats"; }
  head -c 300000 "$mb" >"$TMP/mb_trunc.pb"
  vg 1 "inspect a truncated MobileNet" -- inspect "$TMP/mb_trunc.pb"
else
  echo "no $mb: the real-model run is skipped"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
