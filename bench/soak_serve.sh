#!/usr/bin/env bash
# Soak: `frost serve` under wrk on loopback for MINUTES (default 10) with a
# mix of valid and hostile requests, cycled by a wrk Lua script:
#   valid    classify a raw BMP, classify a b64 PNG and a b64 BMP in JSON,
#            predict a float tensor in JSON, predict a raw BMP
#   hostile  malformed JSON, 100k-deep nesting, bad base64, a body over
#            --max_body_bytes, wrong shapes, a truncated BMP, a PNG declaring
#            10^10 pixels, garbage posing as a JPEG, an unknown model, strings
#            where numbers belong
# Every response is checked in the Lua script: valid ones against the
# independent references in ../shared/expected/ (top-1 label and score within
# 1e-3 of the TensorFlow.js top-5 lists; the 1001 predictions within 1e-4 of
# the .output.f32 tensors), hostile ones for their HTTP status (400, 404,
# 413).  The server's resident set is sampled every 10 s.
# PASS = the server is alive at the end and exits 0 on SIGTERM, 0 wrong
# answers, 0 wrong statuses, every request answered (no connection errors),
# and the largest RSS sample of the last minute at most 2 MB above that of the
# first minute (bodies of up to 1.5 MB come and go, so single samples swing).
#
# usage: bench/soak_serve.sh [MINUTES [OUTDIR]]
# env: FROST (default build/frost), FROST_SHARED (default ../shared),
#      SOAK_CONNECTIONS (default 2: wrk threads = connections),
#      SOAK_THREADS (server compute threads, default 1)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
frost="${FROST:-$root/build/frost}"
shared="${FROST_SHARED:-$root/../shared}"
minutes="${1:-10}"
out="${2:-$(mktemp -d)}"
conns="${SOAK_CONNECTIONS:-2}"
threads="${SOAK_THREADS:-1}"
command -v wrk >/dev/null || { echo "soak_serve: wrk not installed (apt-get install wrk)" >&2; exit 2; }
[ -x "$frost" ] || { echo "soak_serve: no frost binary at $frost" >&2; exit 2; }
[ -d "$shared/expected" ] || { echo "soak_serve: needs $shared (models, images, expected outputs)" >&2; exit 2; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"

exec /usr/bin/python3 - "$frost" "$shared" "$minutes" "$out" "$conns" "$threads" "$root" <<'EOF'
import base64, json, os, signal, struct, subprocess, sys, time, zlib
import cv2
import numpy as np

frost, shared, minutes, out, conns, threads, root = sys.argv[1:8]
minutes, conns = float(minutes), int(conns)
model = "mobilenet_v1_0.25_128_quant_float"
MAX_BODY = 1500000
exp = {}
with open(os.path.join(shared, "expected", model + ".top5.txt")) as f:
    for line in f:
        name, rest = line.split(" ", 1)
        first = rest.split(" | ")[0]  # "401:academic gown=0.1917"
        exp[name] = (first.split(":", 1)[1].rsplit("=", 1)[0], float(first.rsplit("=", 1)[1]))


def tensor(image, kind):
    return np.fromfile(os.path.join(shared, "expected", "tensors", "%s__%s.%s.f32" % (model, image, kind)), "<f4")


def img(name):
    with open(os.path.join(shared, "images", name), "rb") as f:
        return f.read()


reqs = []  # (name, method, path, content type, body bytes, status, check)


def add(name, path, ctype, body, status, check="status"):
    fn = os.path.join(out, "req_%02d_%s" % (len(reqs), name))
    with open(fn, "wb") as f:
        f.write(body if isinstance(body, bytes) else body.encode())
    reqs.append((name, "POST", path, ctype, fn, status, check))


P, C = "/v1/models/m:predict", "/v1/models/m:classify"
J = "application/json"
for kind, name in (("input", "grace_hopper"), ("output", "grace_hopper"), ("output", "cat")):
    with open(os.path.join(out, "%s.%s.txt" % (name, kind)), "w") as f:
        f.write("\n".join("%.9g" % v for v in tensor(name, kind)))
bird_png = cv2.imencode(".png", cv2.imread(os.path.join(shared, "images", "bird.bmp")))[1].tobytes()
add("classify_raw_bmp", C, "image/bmp", img("grace_hopper.bmp"), 200, "top1\t%s\t%s" % exp["grace_hopper.bmp"])
add("malformed_json", P, J, '{"instances": [1, 2', 400)
add("classify_b64_png", C, J, json.dumps({"instances": [{"b64": base64.b64encode(bird_png).decode()}]}), 200,
    "top1\t%s\t%s" % exp["bird.bmp"])
add("deep_nesting", P, J, '{"instances": ' + "[" * 100000 + "]" * 100000 + "}", 400)
add("predict_tensor_json", P, J, json.dumps({"instances": tensor("cat", "input").reshape(1, 128, 128, 3).tolist()}),
    200, "vector\t%s" % os.path.join(out, "cat.output.txt"))
add("bad_b64", C, J, '{"instances": [{"b64": "@@@@not base64@@@@"}]}', 400)
add("predict_raw_bmp", P, "image/bmp", img("grace_hopper.bmp"), 200,
    "vector\t%s" % os.path.join(out, "grace_hopper.output.txt"))
add("oversize_body", P, J, '{"instances": [' + "0," * (MAX_BODY // 2) + "0]}", 413)
add("wrong_shape", P, J, '{"instances": [[1, 2, 3]]}', 400)
add("classify_b64_bmp", C, J, json.dumps({"instances": [{"b64": base64.b64encode(img("cat.bmp")).decode()}]}), 200,
    "top1\t%s\t%s" % exp["cat.bmp"])
add("truncated_bmp", C, "image/bmp", img("grace_hopper.bmp")[:3000], 400)


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)


bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) + \
    chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
add("png_bomb", C, "image/png", bomb, 413)
add("garbage_jpeg", P, "image/jpeg", b"\xff\xd8\xff" + os.urandom(5000), 400)
add("unknown_model", "/v1/models/nope:predict", J, '{"instances": [[1]]}', 404)
add("strings_for_numbers", P, J, '{"instances": [[[["x", "y", "z"]]]]}', 400)

with open(os.path.join(out, "requests.tsv"), "w") as f:
    for r in reqs:
        f.write("\t".join(str(x) for x in r) + "\n")
with open(os.path.join(out, "soak.lua"), "w") as f:
    f.write(r'''
local dir = os.getenv("SOAK_DIR")
local reqs = {}
local function split(s) local t = {} for x in s:gmatch("[^\t]+") do t[#t + 1] = x end return t end
local function load_vector(fn) local v = {} for l in io.lines(fn) do v[#v + 1] = tonumber(l) end return v end
for line in io.lines(dir .. "/requests.tsv") do
  local t = split(line)
  local f = assert(io.open(t[5], "rb")); local body = f:read("*a"); f:close()
  local r = {name = t[1], req = wrk.format(t[2], t[3], {["Content-Type"] = t[4]}, body), status = tonumber(t[6]),
             check = t[7]}
  if t[7] == "top1" then r.label, r.score = t[8], tonumber(t[9]) end
  if t[7] == "vector" then r.vec = load_vector(t[8]) end
  reqs[#reqs + 1] = r
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
local i, current = 0, nil
answered, wrong, bad_status, valid, first_wrong = 0, 0, 0, 0, ""
function request()
  i = i % #reqs + 1
  current = reqs[i]
  return current.req
end
local function verdict(r, status, body)
  if status ~= r.status then return "status " .. status .. " (want " .. r.status .. ")", true end
  if r.check == "top1" then
    local label, score = body:match('%[%["([^"]*)",([-%d%.eE+]+)%]')
    if not label or label:sub(1, #r.label) ~= r.label or math.abs(tonumber(score) - r.score) > 1e-3 then
      return "top-1 " .. tostring(label) .. " " .. tostring(score) .. " (want " .. r.label .. " " .. r.score .. ")"
    end
  elseif r.check == "vector" then
    local n, maxd = 0, 0
    for x in body:gmatch("[-%d][-%d%.eE+]*") do
      n = n + 1
      local d = math.abs(tonumber(x) - (r.vec[n] or 1e9))
      if d > maxd then maxd = d end
    end
    if n ~= #r.vec or maxd > 1e-4 then return n .. " values, max difference " .. maxd end
  end
  return nil
end
function response(status, headers, body)
  local r = current
  answered = answered + 1
  if r.status == 200 then valid = valid + 1 end
  local why, is_status = verdict(r, status, body)
  if why then
    if is_status then bad_status = bad_status + 1 else wrong = wrong + 1 end
    if first_wrong == "" then first_wrong = r.name .. ": " .. why end
  end
end
function done(summary, latency, requests)
  local a, w, s, v, fw = 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    a = a + t:get("answered"); w = w + t:get("wrong"); s = s + t:get("bad_status"); v = v + t:get("valid")
    if fw == "" then fw = t:get("first_wrong") end
  end
  local e = summary.errors
  io.write(string.format("WRK requests=%d answered=%d valid=%d wrong=%d bad_status=%d errors=%d/%d/%d/%d/%d rps=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, a, v, w, s, e.connect, e.read, e.write, e.timeout, e.status,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  if fw ~= "" then io.write("FIRST_WRONG " .. fw .. "\n") end
end
''')

srv = subprocess.Popen([frost, "serve", "--model",
                        "m=%s,labels=%s,input_mean=128,input_std=128" % (
                            os.path.join(shared, "models", model + ".pb"),
                            os.path.join(shared, "models", "imagenet_labels.txt")),
                        "--port", "0", "--threads", threads, "--max_body_bytes", str(MAX_BODY),
                        "--max_batch_size", "4"],
                       stdout=subprocess.PIPE, stderr=open(os.path.join(out, "serve.log"), "w"), text=True)
line = srv.stdout.readline()
if not line.startswith("listening on"):
    print("soak_serve: server did not start: %r" % line)
    sys.exit(1)
url = "http://" + line.split()[-1]
print("server %s (pid %d); %d requests cycled; %s minutes, %d connections" % (url, srv.pid, len(reqs), minutes, conns))


def rss_kb():
    with open("/proc/%d/status" % srv.pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])


env = dict(os.environ, SOAK_DIR=out)
wrk = subprocess.Popen(["wrk", "-t", str(conns), "-c", str(conns), "-d", "%ds" % int(minutes * 60), "--timeout", "10s",
                        "-s", os.path.join(out, "soak.lua"), url], stdout=subprocess.PIPE, text=True, env=env)
samples, t0 = [], time.time()
while wrk.poll() is None:
    time.sleep(10 if minutes >= 1 else 2)
    if srv.poll() is not None:
        break
    samples.append((time.time() - t0, rss_kb()))
    with open(os.path.join(out, "rss.csv"), "w") as f:
        f.write("seconds,rss_kb\n" + "".join("%.0f,%d\n" % s for s in samples))
wrk_out = wrk.communicate()[0]
alive = srv.poll() is None
print(wrk_out.strip())
if alive:
    srv.send_signal(signal.SIGTERM)
    try:
        rc = srv.wait(60)
    except subprocess.TimeoutExpired:
        srv.kill()
        rc = "hung"
else:
    rc = srv.returncode
stats = dict(kv.split("=", 1) for kv in next((l for l in wrk_out.splitlines() if l.startswith("WRK ")), "WRK").split()[1:])
# Request bodies of up to 1.5 MB are allocated and freed all the time, so a
# single sample swings by several MB; the trend is judged on the largest
# sample of each minute: the last minute's against the first's.
print("\n minute   RSS kB min     max")
per_min = {}
for s, r in samples:
    per_min.setdefault(min(int(s // 60), max(int(minutes) - 1, 0)), []).append(r)  # a sample at the very end: last minute
for mnt in sorted(per_min):
    print("%7d  %9d %7d" % (mnt + 1, min(per_min[mnt]), max(per_min[mnt])))
mins = sorted(per_min)
first_max = max(per_min[mins[0]]) if mins else 0
last_max = max(per_min[mins[-1]]) if mins else 0
growth = last_max - first_max
errs = stats.get("errors", "?/?/?/?/?").split("/")[:4]
print("\nserver alive at the end: %s; exit status after SIGTERM: %s" % (alive, rc))
print("answered %s of %s requests, %s valid, %s wrong answers, %s wrong statuses, connection errors %s" %
      (stats.get("answered"), stats.get("requests"), stats.get("valid"), stats.get("wrong"), stats.get("bad_status"),
       "/".join(errs)))
print("RSS: largest sample %d kB in minute 1, %d kB in the last minute (growth %+d kB), peak %d kB" %
      (first_max, last_max, growth, max((r for s, r in samples), default=0)))
ok = (alive and rc == 0 and stats.get("wrong") == "0" and stats.get("bad_status") == "0" and
      int(stats.get("valid", "0")) > 0 and stats.get("answered") == stats.get("requests") and
      errs == ["0"] * 4 and growth <= 2048)
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
