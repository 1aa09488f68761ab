# frost-test-labels: asan
# The engine flags (tools/common/engine_flags.c), one parser for classify,
# serve, bench, inspect and run: each command takes its engine flags in both
# spellings ('-' and label_image's '_'), with "--f=v", "--f v" and "-f v";
# the same flags give the same options everywhere (--no-winograd wins over
# --winograd; --no-optimize reaches the compiler); bad values exit 2; a
# command refuses the flags it never took (classify --onednn-only).
# --wait-policy auto|passive|active: the CLI restarts itself with the
# policy's OMP_WAIT_POLICY / GOMP_SPINCOUNT (auto: GOMP_SPINCOUNT=1000, or an
# environment that sets either kept), read from a running `frost serve`; the
# outputs are the same bits under every policy.
set -u
BIN="${FROST_BIN:?}"
SRC="${FROST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}"
TMP="${FROST_TMP:-$(mktemp -d)}"
PY=/usr/bin/python3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { if [ "$1" = "$2" ]; then ok; else bad "$3: expected '$2', got '$1'"; fi; }

$PY "$SRC/tests/graphgen/models.py" keras_cnn "$TMP/m.pb" --seed 3 >/dev/null || { echo "cannot generate"; exit 1; }
$PY -c '
import sys, numpy as np, cv2
rng = np.random.default_rng(5)
cv2.imwrite(sys.argv[1], rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))' "$TMP/img.png" \
  || { echo "cannot write an image"; exit 1; }
classify() { "$BIN" classify --graph="$TMP/m.pb" --format=jsonl --top_k=10 "$@" "$TMP/img.png" 2>"$TMP/err"; }

# --- classify: every spelling, the same answers -----------------------------
base=$(classify --threads=1)
expect "$?" 0 "classify"
for flags in "--threads 1" "-threads=1 --backend=auto" "--threads=1 --precision fp32" "--threads=1 --micro_batch=2" \
             "--threads=1 --micro-batch -1" "--threads=1 --no_winograd" "--threads=1 --no-winograd=true" \
             "--threads=1 --winograd=false" "-backend auto --threads=1"; do
  # shellcheck disable=SC2086
  out=$(classify $flags)
  expect "$?" 0 "classify $flags"
  [ "$out" = "$base" ] && ok || bad "classify $flags: $out vs $base"
done
ref=$(classify --threads=1 --backend=reference)
expect "$?" 0 "classify --backend=reference"
nowino=$(classify --threads=1 --no-winograd)
both=$(classify --threads=1 --winograd --no_winograd)
[ "$both" = "$nowino" ] && ok || bad "--winograd --no_winograd is --no-winograd: $both vs $nowino"
# classify's scores with the reference kernels equal run's (the same model,
# options and input: a 32x32 image is not resized, (pixel - 0) / 255)
$PY -c '
import sys, numpy as np, cv2
(cv2.imread(sys.argv[1])[:, :, ::-1].astype(np.float32) / np.float32(255)).tofile(sys.argv[2])' \
  "$TMP/img.png" "$TMP/in.f32" || bad "cannot write the input tensor"
"$BIN" run "$TMP/m.pb" --input "$TMP/in.f32" --out "$TMP/out.f32" --backend=reference --threads=1 --quiet
expect "$?" 0 "run --backend=reference"
$PY - "$ref" "$TMP/out.f32" <<'EOF' && ok || bad "classify vs run (reference kernels): $ref"
import json, sys, numpy as np
top = json.loads(sys.argv[1])["top"]
y = np.fromfile(sys.argv[2], np.float32)
assert all(abs(y[t["index"]] - t["score"]) <= 1e-5 for t in top), (top, y)
EOF

# --- bad values and flags a command never took ------------------------------
for flags in "--threads=x" "--threads=-1" "--backend=gpu" "--precision=fp64" "--micro-batch=q" "--micro_batch=-2" \
             "--winograd=maybe" "--onednn-only" "--no-optimize" "--threads"; do
  # shellcheck disable=SC2086
  classify $flags >/dev/null
  expect "$?" 2 "classify $flags"
done
for cmd in inspect run bench; do
  for flags in "--threads=x" "--backend=gpu" "--precision=fp64" "--micro-batch=q" "--no_winograd=2"; do
    # shellcheck disable=SC2086
    "$BIN" $cmd "$TMP/m.pb" $flags >/dev/null 2>&1
    expect "$?" 2 "$cmd $flags"
  done
done
"$BIN" bench "$TMP/m.pb" --onednn-only >/dev/null 2>&1
expect "$?" 2 "bench --onednn-only"
for flags in "--threads=x" "--precision=fp64" "--micro_batch=q" "--backend=reference" "--no-optimize"; do
  # shellcheck disable=SC2086
  "$BIN" serve --model=m="$TMP/m.pb" --port=0 $flags >/dev/null 2>&1
  expect "$?" 2 "serve $flags"
done

# --- inspect: the testing switches reach the compiler -----------------------
fused() {
  "$BIN" inspect --json "$TMP/m.pb" "$@" | $PY -c 'import json, sys; print(json.load(sys.stdin)["compiled"]["fused_ops"])'
}
expect "$(fused --no-optimize)" 0 "inspect --no-optimize: nothing fused"
expect "$(fused --no_optimize --onednn_only)" 0 "inspect --no_optimize --onednn_only"
[ "$(fused --onednn-only)" -gt 0 ] && ok || bad "inspect --onednn-only fuses"
expect "$("$BIN" inspect --json "$TMP/m.pb" --micro_batch=4 --batch=8 |
  $PY -c 'import json, sys; print(json.load(sys.stdin)["compiled"]["micro_batch"])')" 4 "inspect --micro_batch=4"

# --- bench and serve take theirs ----------------------------------------------
"$BIN" bench "$TMP/m.pb" --pattern=cached --iterations=2 --warmup=0 --threads 1 --no_winograd --micro_batch=-1 \
  --precision=fp32 --backend=reference --winograd >"$TMP/bench.out" 2>&1
expect "$?" 0 "bench with engine flags"
grep -q "backend reference; threads 1" "$TMP/bench.out" && ok || bad "bench: $(head -3 "$TMP/bench.out")"
rm -f "$TMP/serve.out" "$TMP/serve.err" # a file of an earlier run could hold "listening on" (see serve_env)
"$BIN" serve --model=m="$TMP/m.pb" --port=0 --threads=1 --no_winograd --micro_batch=2 --precision=fp32 --winograd \
  >"$TMP/serve.out" 2>"$TMP/serve.err" &
pid=$!
for _ in $(seq 100); do grep -q "^listening on" "$TMP/serve.out" && break; sleep 0.1; done
grep -q "^listening on" "$TMP/serve.out" && ok || bad "serve with engine flags: $(cat "$TMP/serve.err")"
kill -TERM "$pid" 2>/dev/null
wait "$pid"
expect "$?" 0 "serve exit after SIGTERM"

# --- --wait-policy (tools/common/wait_policy.c) ---------------------------------
unset OMP_WAIT_POLICY GOMP_SPINCOUNT
$PY "$SRC/tests/graphgen/models.py" mobilenet_v1_025_128 "$TMP/mb.pb" --seed 3 >/dev/null || bad "cannot generate"
$PY -c '
import sys, numpy as np
np.random.default_rng(7).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32).tofile(sys.argv[1])' "$TMP/in.f32" \
  || bad "cannot write the input"

# the same bits under every policy and spelling (2 threads)
wrun() { "$BIN" run "$TMP/mb.pb" --input "$TMP/in.f32" --threads 2 --quiet "$@"; }
wrun --out "$TMP/auto.out"
expect "$?" 0 "run (auto)"
i=0
for flags in "--wait-policy passive" "--wait_policy=active" "-wait-policy auto" "--wait-policy=active --wait-policy=passive"; do
  i=$((i + 1))
  # shellcheck disable=SC2086
  wrun $flags --out "$TMP/$i.out"
  expect "$?" 0 "run $flags"
  cmp -s "$TMP/auto.out" "$TMP/$i.out" && ok || bad "run $flags: outputs differ from the default's"
done
OMP_WAIT_POLICY=active wrun --out "$TMP/env.out"
cmp -s "$TMP/auto.out" "$TMP/env.out" && ok || bad "OMP_WAIT_POLICY=active: outputs differ"

# bad values, everywhere
for cmd in run inspect bench "classify --graph"; do
  for flags in "--wait-policy=spin" "--wait_policy=" "--wait-policy"; do
    # shellcheck disable=SC2086
    "$BIN" $cmd "$TMP/mb.pb" $flags >/dev/null 2>&1
    expect "$?" 2 "$cmd $flags"
  done
done
"$BIN" serve --model=m="$TMP/mb.pb" --port=0 --wait-policy=spin >/dev/null 2>&1
expect "$?" 2 "serve --wait-policy=spin"
"$BIN" convert "$TMP/mb.pb" "$TMP/c.pb" --wait-policy=passive >/dev/null 2>&1
expect "$?" 2 "convert takes no --wait-policy"

# the environment the server runs with (/proc/PID/environ of the restarted process)
# serve_env "ENV ASSIGNMENTS" "FLAGS" WANT_OMP_WAIT_POLICY WANT_GOMP_SPINCOUNT ("-": unset)
serve_env() {
  # a fresh file: the shell may look for "listening on" before the background
  # job has opened (and emptied) it, and find the previous server's line
  rm -f "$TMP/serve.out" "$TMP/serve.err"
  # shellcheck disable=SC2086
  env $1 "$BIN" serve --model=m="$TMP/mb.pb" --port=0 --threads=2 $2 >"$TMP/serve.out" 2>"$TMP/serve.err" &
  local pid=$! got
  for _ in $(seq 100); do grep -q "^listening on" "$TMP/serve.out" && break; sleep 0.1; done
  got=$(tr '\0' '\n' <"/proc/$pid/environ" | $PY -c '
import sys
env = dict(l.rstrip("\n").split("=", 1) for l in sys.stdin if "=" in l)
print(env.get("OMP_WAIT_POLICY", "-"), env.get("GOMP_SPINCOUNT", "-"))')
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  expect "$got" "$3 $4" "serve (env '$1', flags '$2'): OMP_WAIT_POLICY GOMP_SPINCOUNT"
}
serve_env "" "" - 1000
serve_env "" "--wait-policy passive" passive -
serve_env "GOMP_SPINCOUNT=7" "--wait-policy=active" active -
serve_env "OMP_WAIT_POLICY=active" "--wait_policy passive" passive -
serve_env "GOMP_SPINCOUNT=7" "" - 7
serve_env "OMP_WAIT_POLICY=active" "--wait-policy=auto" active -

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
