#!/usr/bin/env bash
# frost serve under load: wrk posting one raw JPEG per request (Content-Type:
# image/jpeg, so every request is decoded + preprocessed + run) at 1, 4 and 16
# connections, with dynamic batching and with --max_batch_size 1, next to the
# model's pure-inference rate measured in the same run by `frost bench`
# (compiled model, one context, no HTTP, no decoding).
#
# usage: bench/serve_bench.sh [--model PATH] [--image JPEG] [--mean M] [--std S]
#                             [--duration SECONDS] [--max_batch_size N] [--conns "1 4 16"]
#                             [--batch_timeout_micros U] [--serve_arg ARG]... [--pure_iterations N]
# env:   FROST_BIN (default build/frost)
# Needs wrk (Debian package wrk).  Not a test: it prints numbers, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${FROST_BIN:-build/frost}"
MODEL=../shared/models/mobilenet_v1_0.25_128_quant_float.pb
IMAGE=../shared/images/grace_hopper.jpg
MEAN=128 STD=128 DURATION=10 MAXB=16 CONNS="1 4 16" TIMEOUT_US=1000
EXTRA=() PURE_ITERS=100
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="$2"; shift 2 ;;
    --image) IMAGE="$2"; shift 2 ;;
    --mean) MEAN="$2"; shift 2 ;;
    --std) STD="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --max_batch_size) MAXB="$2"; shift 2 ;;
    --batch_timeout_micros) TIMEOUT_US="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    --serve_arg) EXTRA+=("$2"); shift 2 ;;   # passed to both servers, e.g. --serve_arg --threads=1
    --pure_iterations) PURE_ITERS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "serve_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "serve_bench: wrk not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "serve_bench: $BIN not built (scripts/build.sh)" >&2; exit 1; }
[ -f "$MODEL" ] && [ -f "$IMAGE" ] || { echo "serve_bench: need $MODEL and $IMAGE" >&2; exit 1; }

TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID"; wait "$SERVER_PID" || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

cat > "$TMP/post.lua" <<'EOF'
local f = assert(io.open(os.getenv("FROST_BENCH_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "image/jpeg"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.2f %.3f %.3f %d\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout + e.status))
end
EOF
export FROST_BENCH_IMAGE="$IMAGE"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "model:   $MODEL   image: $IMAGE ($(stat -c %s "$IMAGE") bytes)"
echo

# 1. pure inference, same machine, same run: per-iteration times of `frost bench`.
"$BIN" bench "$MODEL" --pattern cached,batched --batch "$MAXB" --iterations "$PURE_ITERS" --warmup 5 --image "$IMAGE" \
  --input_mean "$MEAN" --input_std "$STD" --csv "$TMP/pure.csv" > "$TMP/pure.txt"
read -r PURE1 PUREB < <(/usr/bin/python3 - "$TMP/pure.csv" <<'EOF'
import csv, statistics, sys
lat = {}
for r in csv.DictReader(open(sys.argv[1])):
    lat.setdefault(r["pattern"], []).append((float(r["latency_ms"]), int(r["images"])))
rate = lambda p: 1000.0 * lat[p][0][1] / statistics.median(x for x, _ in lat[p])
print("%.1f %.1f" % (rate("cached"), rate("batched")))
EOF
)
echo "pure inference (frost bench, p50): batch 1: $PURE1 img/s   batch $MAXB: $PUREB img/s"
echo

start_server() {
  "$BIN" serve --model "m=$MODEL,input_mean=$MEAN,input_std=$STD" --port 0 "$@" > "$TMP/port" 2> "$TMP/serve.log" &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    grep -q "^listening on" "$TMP/port" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/serve.log" >&2; exit 1; }
    sleep 0.1
  done
  PORT="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/port")"
  [ -n "$PORT" ] || { echo "serve_bench: server did not start" >&2; cat "$TMP/serve.log" >&2; exit 1; }
  curl -sf --data-binary @"$IMAGE" -H 'Content-Type: image/jpeg' "http://127.0.0.1:$PORT/v1/models/m:classify" >/dev/null
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || { echo "serve_bench: server exited with $?" >&2; }
  SERVER_PID=""
}

# "batch_sum batch_count decode_seconds decoded_images" from /metrics
counters() {
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk '
    /^frost_serve_batch_size_sum/ {s=$2} /^frost_serve_batch_size_count/ {c=$2}
    /^frost_serve_decode_seconds_total/ {d=$2} /^frost_serve_decoded_images_total/ {n=$2}
    END {print s + 0, c + 0, d + 0, n + 0}'
}

printf "%-22s %5s %9s %8s %8s %8s %9s %9s %6s %10s\n" "server" "conns" "req/s" "p50 ms" "p99 ms" "p99/p50" \
  "vs pure1" "vs pure$MAXB" "batch" "decode ms"
for mode in batching nobatch; do
  if [ "$mode" = batching ]; then
    label="max_batch_size $MAXB"; start_server --max_batch_size "$MAXB" --batch_timeout_micros "$TIMEOUT_US" "${EXTRA[@]}"
  else
    label="max_batch_size 1"; start_server --max_batch_size 1 "${EXTRA[@]}"
  fi
  for c in $CONNS; do
    t=$(( c < 2 ? 1 : 2 ))
    read -r s0 c0 d0 n0 < <(counters)
    out="$(wrk -t "$t" -c "$c" -d "${DURATION}s" --timeout 10s -s "$TMP/post.lua" "http://127.0.0.1:$PORT/v1/models/m:predict")"
    read -r _ n rps p50 p99 errs < <(echo "$out" | grep '^RESULT')
    read -r s1 c1 d1 n1 < <(counters)
    awk -v l="$label" -v c="$c" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v p1="$PURE1" -v pb="$PUREB" \
        -v ds="$((s1 - s0))" -v dc="$((c1 - c0))" -v dd="$d0 $d1" -v dn="$((n1 - n0))" -v errs="$errs" 'BEGIN {
      split(dd, d, " ")
      printf "%-22s %5d %9.1f %8.2f %8.2f %8.2f %8.2fx %8.2fx %6.2f %10.3f%s\n", l, c, rps, p50, p99,
        (p50 > 0 ? p99 / p50 : 0), rps / p1, rps / pb, (dc > 0 ? ds / dc : 0),
        (dn > 0 ? 1000 * (d[2] - d[1]) / dn : 0), (errs > 0 ? sprintf("   (%d errors)", errs) : "") }'
  done
  stop_server
done
echo
echo "req/s: answered requests per second (one JPEG each: decode + preprocess + inference + JSON);"
echo "vs pure1 / vs pure$MAXB: req/s over frost bench's images/s at batch 1 / batch $MAXB;"
echo "batch: mean instances per inference run during that load; decode ms: mean JPEG decode + resize +"
echo "normalise time per request on the connection threads (both from the server's /metrics)."
