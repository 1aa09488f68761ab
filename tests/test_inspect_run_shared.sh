# `frost inspect` and `frost run` on the real models of ../shared/models:
# inspect reports their inputs, outputs, ops and parameters (checked with the
# independent reader tests/graphgen/tfgraph.py); run reproduces every stored
# output of ../shared/expected/tensors within 1e-4, on both backends.
# Exit 77 (skipped) without ../shared.
set -u
BIN="${FROST_BIN:?}"
SRC="${FROST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
SHARED="${FROST_SHARED:-$SRC/../shared}"
TMP="${FROST_TMP:-$(mktemp -d)}"
PY=/usr/bin/python3
[ -d "$SHARED/models" ] || { echo "no $SHARED/models: skipped"; exit 77; }
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

declare -A OUT=([mobilenet_v1_0.25_128_quant_float]=MobilenetV1/Predictions/Reshape_1
                [mobilenet_v2_1.0_224_quant_float]=MobilenetV2/Predictions/Softmax)
declare -A SIZE=([mobilenet_v1_0.25_128_quant_float]=128 [mobilenet_v2_1.0_224_quant_float]=224)

for m in "${!OUT[@]}"; do
  pb="$SHARED/models/$m.pb"
  [ -f "$pb" ] || { bad "$pb missing"; continue; }
  s=${SIZE[$m]}
  out=$("$BIN" inspect "$pb" 2>&1)
  [ $? = 0 ] && ok || bad "inspect $m: $out"
  echo "$out" | grep -qx "  input \[-1,$s,$s,3\]" && ok || bad "$m: placeholder shape: $out"
  echo "$out" | grep -qx "  ${OUT[$m]}" && ok || bad "$m: sink ${OUT[$m]}"
  echo "$out" | grep -qx "  output ${OUT[$m]} \[-1,1001\]" && ok || bad "$m: compiled output shape"
  "$BIN" inspect --json "$pb" >"$TMP/$m.json"
  GEN="$SRC/tests/graphgen" $PY - "$TMP/$m.json" "$pb" <<'EOF' && ok || bad "$m: inspect --json vs tfgraph.py"
import json, os, sys
sys.path.insert(0, os.environ["GEN"])
from tfgraph import parse_graphdef, census
j = json.load(open(sys.argv[1]))
h, p = census(parse_graphdef(open(sys.argv[2], "rb").read()))
assert j["ops"] == h, (j["ops"], h)
assert j["const_parameters"] == p, (j["const_parameters"], p)
EOF
done

# every stored input -> output pair, within 1e-4, on each backend
n=0
for in in "$SHARED"/expected/tensors/*.input.f32; do
  [ -f "$in" ] || continue
  base=${in%.input.f32}
  m=$(basename "$base"); m=${m%%__*}
  [ -n "${OUT[$m]:-}" ] || { bad "no output name known for $m"; continue; }
  s=${SIZE[$m]}
  for backend in reference auto; do
    res="$TMP/$(basename "$base").$backend.out"
    "$BIN" run "$SHARED/models/$m.pb" --input "input=$in" --output "${OUT[$m]}" --out "$res" \
      --shape "1,$s,$s,3" --backend $backend --quiet
    [ $? = 0 ] || { bad "run $m $backend"; continue; }
    msg=$($PY - "$res" "$base.output.f32" <<'EOF'
import sys, numpy as np
got, want = np.fromfile(sys.argv[1], "<f4"), np.fromfile(sys.argv[2], "<f4")
d = np.abs(got.astype(np.float64) - want).max() if got.size == want.size else float("inf")
print("max|diff| %.3g, top-1 %d vs %d" % (d, got.argmax(), want.argmax()))
sys.exit(0 if d <= 1e-4 else 1)
EOF
)
    if [ $? = 0 ]; then ok; echo "ok   $(basename "$base") [$backend]: $msg"; else bad "$(basename "$base") [$backend]: $msg"; fi
    n=$((n + 1))
  done
done
[ "$n" -gt 0 ] && ok || bad "no expected tensors found"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
