#!/usr/bin/env bash
# Soak: N classifications (default 100,000) in ONE `frost classify` process,
# image paths streamed on its stdin ('-', batch 1, one compute thread), with
# the process's resident set sampled every 1,000 answers.  Every answer is
# checked: each image's top-1 class and score against the independent
# reference in ../shared/expected/ (TensorFlow.js outputs; the PNG copies are
# lossless copies of the BMPs, so the same reference applies), and the JPEG,
# which has no reference there, against its own first answer (bit-identical
# scores).  Prints the RSS table, the growth from sample 1 (after 1,000
# answers, when every buffer exists) to the end, and PASS / FAIL:
# PASS = all N answered, 0 wrong answers, RSS growth <= 1 MB (the
# allocator's noise; a leak of one byte per image would be 100 kB here).
#
# usage: bench/soak_classify.sh [N [OUTDIR]]
# env: FROST (default build/frost), FROST_SHARED (default ../shared),
#      MODEL (default $FROST_SHARED/models/mobilenet_v1_0.25_128_quant_float.pb)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
frost="${FROST:-$root/build/frost}"
shared="${FROST_SHARED:-$root/../shared}"
n="${1:-100000}"
out="${2:-$(mktemp -d)}"
model="${MODEL:-$shared/models/mobilenet_v1_0.25_128_quant_float.pb}"
[ -x "$frost" ] || { echo "soak_classify: no frost binary at $frost" >&2; exit 2; }
[ -f "$model" ] || { echo "soak_classify: no model $model (needs ../shared)" >&2; exit 2; }
mkdir -p "$out"

exec /usr/bin/python3 - "$frost" "$model" "$shared" "$n" "$out" <<'EOF'
import json, os, subprocess, sys, threading, time
import cv2

frost, model, shared, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
base = os.path.basename(model).rsplit(".", 1)[0]
expected = {}
with open(os.path.join(shared, "expected", base + ".top5.txt")) as f:
    for line in f:
        name, rest = line.split(" ", 1)
        first = rest.split(" | ")[0]  # "401:academic gown=0.1917"
        expected[name] = (int(first.split(":")[0]), float(first.rsplit("=", 1)[1]))
images = {}
for name in sorted(expected):
    src = os.path.join(shared, "images", name)
    images[src] = expected[name]
    png = os.path.join(out, name.replace(".bmp", ".png"))
    cv2.imwrite(png, cv2.imread(src))  # lossless: same pixels, same reference
    images[png] = expected[name]
jpg = os.path.join(shared, "images", "grace_hopper.jpg")
images[jpg] = None  # checked against its own first answer
paths = sorted(images)

proc = subprocess.Popen([frost, "classify", "--graph", model, "--labels",
                         os.path.join(shared, "models", "imagenet_labels.txt"), "--input_mean", "128",
                         "--input_std", "128", "--format", "jsonl", "--top_k", "1", "--threads", "1",
                         "--batch", "1", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)


def feed():
    try:
        for i in range(n):
            proc.stdin.write(paths[i % len(paths)] + "\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass


threading.Thread(target=feed, daemon=True).start()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


wrong, answered, first_jpg, samples = 0, 0, None, []
t0 = time.time()
for line in proc.stdout:
    r = json.loads(line)
    answered += 1
    want = images.get(r["image"])
    top = r.get("top") or [{}]
    got = (top[0].get("index"), top[0].get("score"))
    if r["image"] == jpg:
        first_jpg = first_jpg or got
        ok = got == first_jpg
    else:
        ok = want is not None and got[0] == want[0] and got[1] is not None and abs(got[1] - want[1]) <= 1e-3
    if not ok:
        wrong += 1
        if wrong <= 5:
            print("wrong answer #%d: %s -> %s, want %s" % (answered, r["image"], got, want or first_jpg))
    if answered % 1000 == 0:
        samples.append((answered, rss_kb(proc.pid), time.time() - t0))
rc = proc.wait()
elapsed = time.time() - t0

with open(os.path.join(out, "soak_classify.csv"), "w") as f:
    f.write("answers,rss_kb,seconds\n")
    for s in samples:
        f.write("%d,%d,%.1f\n" % s)
step = max(1, len(samples) // 10)
print("answers   RSS kB   growth since 1000   seconds")
for i, (k, rss, s) in enumerate(samples):
    if i % step == 0 or i == len(samples) - 1:
        print("%7d  %7d  %+8d kB          %7.1f" % (k, rss, rss - samples[0][1], s))
growth = samples[-1][1] - samples[0][1] if samples else 0
peak = max(s[1] for s in samples) if samples else 0
print("\n%d classifications of %d images (%s) in %.1f s (%.2f ms each), frost exit %d" %
      (answered, len(paths), ", ".join(sorted({os.path.splitext(p)[1] for p in paths})), elapsed,
       1000 * elapsed / max(answered, 1), rc))
print("wrong answers: %d" % wrong)
print("RSS: %d kB after 1000, %d kB after %d, growth %+d kB, peak %d kB" %
      (samples[0][1] if samples else 0, samples[-1][1] if samples else 0, answered, growth, peak))
ok = rc == 0 and answered == n and wrong == 0 and growth <= 1024
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
