"""frost serve on a real model (../shared MobileNet v1 0.25 128): the answers of
:classify and :predict (raw JPEG/BMP bodies, b64 JSON, float tensors) equal
those of `frost classify` on the same images, and the stored TF.js reference
outputs; parallel clients get identical answers and share batches.
Exit 77 (skipped) without ../shared."""
import base64
import os
import re
import subprocess
import sys
import threading

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FROST_BIN, FROST_SHARED, Server, b64, check, done, metric_values

NAME = "mobilenet_v1_0.25_128_quant_float"
MODEL = os.path.join(FROST_SHARED, "models", NAME + ".pb")
LABELS = os.path.join(FROST_SHARED, "models", "imagenet_labels.txt")
IMAGES = ["grace_hopper.jpg", "grace_hopper.bmp", "cat.bmp", "bird.bmp", "dragonfly.bmp"]
if not os.path.exists(MODEL):
    print("no %s: skipped" % MODEL)
    sys.exit(77)
labels = open(LABELS).read().splitlines()


def cli_top5(image):
    """`frost classify` (label_image format) on one image: [(label, index, score)]."""
    out = subprocess.run([FROST_BIN, "classify", "--graph", MODEL, "--labels", LABELS, "--input_mean", "128",
                          "--input_std", "128", "--image", os.path.join(FROST_SHARED, "images", image)],
                         capture_output=True, text=True, timeout=120)
    rows = []
    for line in out.stdout.splitlines():
        m = re.match(r"^\s*(.*) \((\d+)\): ([0-9.eE+-]+)\s*$", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), float(m.group(3))))
    check(out.returncode == 0 and len(rows) == 5, "frost classify %s: rc %d, %d rows\n%s" % (image, out.returncode, len(rows), out.stderr[-500:]))
    return rows


def same_ranking(got, want, what):
    """got: [[label, score]]; want: [(label, index, score)].  Equal labels rank by rank
    (a swap is allowed only between scores within 1e-4), scores within 1e-5 (+ print rounding)."""
    ok = len(got) == len(want)
    for (gl, gs), (wl, wi, ws) in zip(got, want):
        if gl == wl:
            ok = ok and abs(gs - ws) <= 1e-5 + 5e-6 * abs(ws)
        else:
            other = [w for w in want if w[0] == gl]
            ok = ok and bool(other) and abs(other[0][2] - ws) <= 1e-4
    check(ok, "%s: serve %s vs frost classify %s" % (what, got, want))


srv = Server(["--model", "mobilenet=%s,labels=%s,input_mean=128,input_std=128" % (MODEL, LABELS),
              "--max_batch_size", "8"])
st, meta = srv.get("/v1/models/mobilenet/metadata")
sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"] if st == 200 else {}
check(st == 200 and [int(d["size"]) for d in sig["inputs"]["input"]["tensor_shape"]["dim"]] == [-1, 128, 128, 3],
      "metadata input shape [-1,128,128,3]")
check(st == 200 and [int(d["size"]) for d in list(sig["outputs"].values())[0]["tensor_shape"]["dim"]] == [-1, 1001],
      "metadata output shape [-1,1001]")

answers = {}
for image in IMAGES:
    data = open(os.path.join(FROST_SHARED, "images", image), "rb").read()
    ctype = "image/jpeg" if image.endswith(".jpg") else "image/bmp"
    want = cli_top5(image)
    st, body = srv.post_image("/v1/models/mobilenet:classify", data, ctype)
    check(st == 200, "classify raw %s: %s %s" % (image, st, body))
    if st == 200:
        same_ranking(body["result"][0], want, "classify raw " + image)
        answers[image] = body["result"][0]
    st, body = srv.post_json("/v1/models/mobilenet:classify", {"instances": [b64(data)]})
    if check(st == 200, "classify b64 %s" % image):
        same_ranking(body["result"][0], want, "classify b64 " + image)
    st, body = srv.post_json("/v1/models/mobilenet:predict", {"instances": [b64(data)]})
    if check(st == 200 and len(body["predictions"][0]) == 1001, "predict b64 %s" % image):
        p = np.array(body["predictions"][0])
        order = list(np.argsort(-p, kind="stable")[:5])
        same_ranking([[labels[i], p[i]] for i in order], want, "predict b64 " + image)

# the stored reference tensors (independent implementation, same preprocessing)
for stem in ["cat", "grace_hopper"]:
    base = os.path.join(FROST_SHARED, "expected", "tensors", "%s__%s" % (NAME, stem))
    if not os.path.exists(base + ".input.f32"):
        continue
    x = np.fromfile(base + ".input.f32", "<f4").reshape(1, 128, 128, 3)
    y = np.fromfile(base + ".output.f32", "<f4").reshape(1, 1001)
    st, body = srv.post_json("/v1/models/mobilenet:predict", {"inputs": x.tolist()})
    check(st == 200 and np.max(np.abs(np.array(body["outputs"]) - y)) <= 1e-4,
          "predict columnar float tensor %s within 1e-4 of the reference" % stem)
    bmp = open(os.path.join(FROST_SHARED, "images", stem + ".bmp"), "rb").read()
    st, body = srv.post_image("/v1/models/mobilenet:predict", bmp, "image/bmp")
    check(st == 200 and np.max(np.abs(np.array(body["predictions"]) - y)) <= 1e-4,
          "predict raw %s.bmp within 1e-4 of the reference (decode + preprocess + run)" % stem)

# parallel clients on the real model: identical answers, shared batches
jpeg = open(os.path.join(FROST_SHARED, "images", "grace_hopper.jpg"), "rb").read()
cat = open(os.path.join(FROST_SHARED, "images", "cat.bmp"), "rb").read()
errors = []


def client(cid):
    for r in range(4):
        data, ctype, key = (jpeg, "image/jpeg", "grace_hopper.jpg") if (cid + r) % 2 else (cat, "image/bmp", "cat.bmp")
        try:
            st, body = srv.post_image("/v1/models/mobilenet:classify", data, ctype)
            if st != 200 or [g[0] for g in body["result"][0]] != [a[0] for a in answers.get(key, [])] or \
                    max(abs(g[1] - a[1]) for g, a in zip(body["result"][0], answers[key])) > 1e-4:
                errors.append("client %d: %s %s" % (cid, st, str(body)[:200]))
        except Exception as e:  # noqa: BLE001
            errors.append("client %d: %r" % (cid, e))


threads = [threading.Thread(target=client, args=(c,)) for c in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join(300)
check(not errors, "parallel clients: %d wrong answers, e.g. %s" % (len(errors), errors[:2]))
m = srv.metrics()
count = metric_values(m, "frost_serve_batch_size_count").get('{model="mobilenet"}', 0)
ones = metric_values(m, "frost_serve_batch_size_bucket").get('{model="mobilenet",le="1"}', 0)
check(count > 0 and ones < count, "batches larger than 1 formed (%d of %d batches had size 1)" % (ones, count))
check(srv.stop() == 0, "clean exit")
done()
