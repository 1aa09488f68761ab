# frost-test-labels: asan
# `frost inspect` and `frost run` on generated graphs (tests/graphgen): what
# inspect reports is checked against the independent GraphDef reader of
# tests/graphgen/tfgraph.py; run's batching, file handling and errors.
set -u
BIN="${FROST_BIN:?}"
SRC="${FROST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
TMP="${FROST_TMP:-$(mktemp -d)}"
PY=/usr/bin/python3
GEN="$SRC/tests/graphgen"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { if [ "$1" = "$2" ]; then ok; else bad "$3: expected '$2', got '$1'"; fi; }

$PY "$GEN/models.py" keras_cnn "$TMP/keras.pb" --seed 2 >/dev/null || { echo "cannot generate"; exit 1; }
$PY "$GEN/models.py" inception_v3 "$TMP/iv3.pb" --seed 2 >/dev/null || { echo "cannot generate"; exit 1; }

# --- inspect: text ---------------------------------------------------------
for m in keras iv3; do
  out=$("$BIN" inspect "$TMP/$m.pb" 2>"$TMP/err")
  expect "$?" 0 "inspect $m exit status"
  # the op histogram and parameter count, from frost and from tfgraph.py
  want=$(GEN="$GEN" $PY -c '
import os, sys; sys.path.insert(0, os.environ["GEN"])
from tfgraph import parse_graphdef, census
h, p = census(parse_graphdef(open(sys.argv[1], "rb").read()))
items = sorted(h.items(), key=lambda kv: (-kv[1], kv[0]))
print("Op types used (%d): %s" % (len(items), ", ".join("%d %s" % (c, o) for o, c in items)))
print("params %d" % p)' "$TMP/$m.pb")
  expect "$(echo "$out" | grep '^Op types used')" "$(echo "$want" | head -1)" "inspect $m op histogram"
  p=$(echo "$want" | sed -n 's/^params //p')
  echo "$out" | grep -q "const parameters" && echo "$out" | grep '^graph:' | tr -d ',' | grep -q " $p const parameters" \
    && ok || bad "inspect $m parameter count $p: $(echo "$out" | grep '^graph:')"
done
out=$("$BIN" inspect "$TMP/iv3.pb")
echo "$out" | grep -qx '  input \[1,299,299,3\]' && ok || bad "iv3 placeholder shape: $out"
echo "$out" | grep -qx '  InceptionV3/Predictions/Reshape_1' && ok || bad "iv3 sink"
echo "$out" | grep -qx '  output InceptionV3/Predictions/Reshape_1 \[-1,1001\]' && ok || bad "iv3 compiled output shape"
echo "$out" | grep -q 'batch norms folded into conv/matmul: *94$' && ok || bad "iv3: 94 batch norms folded: $(echo "$out" | grep 'batch norms')"
echo "$out" | grep -q 'Identity/NoOp/control edges dropped: *379$' && ok || bad "iv3: 379 Identity dropped: $(echo "$out" | grep Identity/)"
# 5.7 G multiply-adds = 11.4 GFLOP (x2) for Inception v3 at 299x299
flops=$(echo "$out" | sed -n 's/.*FLOPs per item: *\([0-9,]*\).*/\1/p' | tr -d ,)
$PY -c "import sys; f=int(sys.argv[1]); sys.exit(0 if 11.0e9 < f < 11.9e9 else 1)" "${flops:-0}" && ok \
  || bad "iv3 FLOPs $flops not ~11.4e9"
out=$("$BIN" inspect "$TMP/keras.pb")
echo "$out" | grep -qx '  input_1 \[-1,32,32,3\]' && ok || bad "keras placeholder shape: $out"
echo "$out" | grep -qx '  output sequential/dense_1/Softmax \[-1,10\]' && ok || bad "keras compiled output"

# --- inspect: JSON ----------------------------------------------------------
"$BIN" inspect --json "$TMP/iv3.pb" >"$TMP/iv3.json"
expect "$?" 0 "inspect --json exit status"
GEN="$GEN" $PY - "$TMP/iv3.json" "$TMP/iv3.pb" <<'EOF' && ok || bad "inspect --json contents"
import json, os, sys
sys.path.insert(0, os.environ["GEN"])
from tfgraph import parse_graphdef, census
j = json.load(open(sys.argv[1]))
h, p = census(parse_graphdef(open(sys.argv[2], "rb").read()))
assert j["ops"] == h, (j["ops"], h)
assert j["const_parameters"] == p == 23853946, j["const_parameters"]
assert j["inputs"] == [{"name": "input", "shape": [1, 299, 299, 3]}], j["inputs"]
assert j["outputs"] == ["InceptionV3/Predictions/Reshape_1"], j["outputs"]
c = j["compiled"]
assert c["outputs"] == [{"name": "InceptionV3/Predictions/Reshape_1", "shape": [-1, 1001]}], c["outputs"]
assert c["folded_batchnorms"] == 94 and c["steps"] > 0 and c["arena_bytes"] > 0, c
EOF

# --- inspect: errors --------------------------------------------------------
"$BIN" inspect "$TMP/missing.pb" >/dev/null 2>"$TMP/err"; expect "$?" 1 "inspect of a missing file"
grep -q "missing.pb" "$TMP/err" && ok || bad "the message names the file: $(cat "$TMP/err")"
head -c 1000 "$TMP/iv3.pb" >"$TMP/trunc.pb"
"$BIN" inspect "$TMP/trunc.pb" >/dev/null 2>"$TMP/err"; expect "$?" 1 "inspect of a truncated file"
"$BIN" inspect >/dev/null 2>&1; expect "$?" 2 "inspect without a model"
"$BIN" inspect "$TMP/iv3.pb" --output nosuchnode >/dev/null 2>"$TMP/err"; expect "$?" 1 "unknown output"
grep -q nosuchnode "$TMP/err" && ok || bad "the message names the output: $(cat "$TMP/err")"

# unsupported ops: every type named, with a node using it
GEN="$GEN" $PY - "$TMP/unsup.pb" <<'EOF'
import os, sys
sys.path.insert(0, os.environ["GEN"])
from tfgraph import GraphDef, A, DT_FLOAT
g = GraphDef()
x = g.placeholder("input", [1, 4, 4, 3])
y = g.node("Erf", "my/erf", [x], {"T": A.type(DT_FLOAT)})
y = g.node("Erf", "my/erf2", [y], {"T": A.type(DT_FLOAT)})
g.node("NoSuchOp", "my/nosuch", [y], {"T": A.type(DT_FLOAT)})
g.save(sys.argv[1])
EOF
"$BIN" inspect "$TMP/unsup.pb" >/dev/null 2>"$TMP/err"; expect "$?" 1 "inspect of a graph with unsupported ops"
grep -q "Erf" "$TMP/err" && grep -q "my/erf" "$TMP/err" && grep -q "NoSuchOp" "$TMP/err" && grep -q "my/nosuch" "$TMP/err" \
  && ok || bad "the message names every unsupported op and a node of each: $(cat "$TMP/err")"
"$BIN" inspect --json "$TMP/unsup.pb" 2>/dev/null | $PY -c 'import json,sys; j=json.load(sys.stdin); assert "Erf" in j["error"]' \
  && ok || bad "inspect --json gives the error as JSON"

# --- run: batch 1 and batch 2 agree; --batch, --shape, file-size batch ---------
$PY -c "
import numpy as np
r = np.random.default_rng(5)
a = r.uniform(-1, 1, (1, 32, 32, 3)).astype('<f4'); b = r.uniform(-1, 1, (1, 32, 32, 3)).astype('<f4')
a.tofile('$TMP/a.f32'); b.tofile('$TMP/b.f32'); np.concatenate([a, b]).tofile('$TMP/ab.f32')"
O=sequential/dense_1/Softmax
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/a.f32" --output $O --out "$TMP/a.out" >"$TMP/log" 2>&1
expect "$?" 0 "run batch 1"
grep -q "^$O \[1,10\]: min" "$TMP/log" && ok || bad "run summary: $(cat "$TMP/log")"
"$BIN" run "$TMP/keras.pb" --input "$TMP/b.f32" --out "$TMP/b.out" --quiet >"$TMP/log" 2>&1
expect "$?" 0 "run with FILE alone and the default output"
test ! -s "$TMP/log" && ok || bad "--quiet prints nothing: $(cat "$TMP/log")"
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/ab.f32" --output $O --out "$TMP/ab.out" --batch 2 --quiet
expect "$?" 0 "run --batch 2"
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/ab.f32" --output $O --out "$TMP/ab2.out" --quiet
expect "$?" 0 "run, batch from the file size"
$PY - "$TMP" <<'EOF' && ok || bad "batch 2 = batch 1 twice"
import numpy as np, sys
t = sys.argv[1]
a, b = np.fromfile(t + "/a.out", "<f4"), np.fromfile(t + "/b.out", "<f4")
for f in ("ab.out", "ab2.out"):
    ab = np.fromfile(t + "/" + f, "<f4")
    assert a.size == 10 and ab.size == 20, (a.size, ab.size)
    assert np.abs(ab - np.concatenate([a, b])).max() <= 1e-6, np.abs(ab - np.concatenate([a, b])).max()
assert abs(a.sum() - 1) < 1e-5 and abs(b.sum() - 1) < 1e-5
EOF
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/ab.f32" --output $O --out "$TMP/x.out" --batch 3 >/dev/null 2>"$TMP/err"
expect "$?" 1 "run with --batch not matching the file"
head -c 1001 "$TMP/a.f32" >"$TMP/odd.f32"
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/odd.f32" --out "$TMP/x.out" >/dev/null 2>"$TMP/err"
expect "$?" 1 "run with a file that is not float32"
grep -q odd.f32 "$TMP/err" && ok || bad "the message names the file: $(cat "$TMP/err")"
"$BIN" run "$TMP/keras.pb" --input "nosuch=$TMP/a.f32" --out "$TMP/x.out" >/dev/null 2>"$TMP/err"
expect "$?" 1 "run with an unknown input"
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/a.f32" --output $O --out "$TMP/x" --out "$TMP/y" >/dev/null 2>&1
expect "$?" 2 "two --out for one --output"
# two outputs, two files: the logits and the softmax
"$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/a.f32" --output sequential/dense_1/BiasAdd --output $O \
  --out "$TMP/l.out" --out "$TMP/s.out" --quiet
expect "$?" 0 "run with two outputs"
$PY - "$TMP" <<'EOF' && ok || bad "softmax(logits) == softmax output"
import numpy as np, sys
t = sys.argv[1]
l, s, a = (np.fromfile(t + f, "<f4").astype(np.float64) for f in ("/l.out", "/s.out", "/a.out"))
e = np.exp(l - l.max()); e /= e.sum()
assert np.abs(e - s).max() < 1e-6 and np.abs(s - a).max() < 1e-6, (np.abs(e - s).max(), np.abs(s - a).max())
EOF
# --no-optimize and the reference backend give the same outputs (within 1e-5)
for extra in "--no-optimize" "--backend reference" "--backend reference --no-optimize"; do
  # shellcheck disable=SC2086
  "$BIN" run "$TMP/keras.pb" --input "input_1=$TMP/a.f32" --output $O --out "$TMP/v.out" --quiet $extra
  $PY -c "import numpy as np; import sys; d=np.abs(np.fromfile('$TMP/v.out','<f4')-np.fromfile('$TMP/a.out','<f4')).max(); sys.exit(0 if d<=1e-5 else 1)" \
    && ok || bad "run $extra differs from the default by more than 1e-5"
done
rm -f "$TMP/iv3.pb"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
