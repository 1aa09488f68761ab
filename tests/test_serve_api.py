# frost-test-labels: asan
"""frost serve: every endpoint, both JSON layouts, b64 and raw image bodies,
several models, graceful drain.  Uses a graph generated here (no ../shared
needed); every number is checked against a numpy oracle of that graph."""
import os
import signal
import socket
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (FROST_TMP, TINY_CLASSES, TINY_H, TINY_W, Server, b64, check, done, encode_image,
                        metric_values, tiny_model, tiny_reference, two_input_model)

MEAN, STD = 100.0, 50.0
model_path = os.path.join(FROST_TMP, "tiny.pb")
wb = tiny_model(model_path)
labels_path = os.path.join(FROST_TMP, "tiny_labels.txt")
labels = ["class %d \"q\"" % i for i in range(TINY_CLASSES)]
with open(labels_path, "w") as f:
    f.write("\n".join(labels) + "\n")

two_path = os.path.join(FROST_TMP, "two.pb")
two_input_model(two_path)
srv = Server(["--model", "tiny=%s,input_mean=%g,input_std=%g" % (model_path, MEAN, STD),
              "--model", "named=%s,labels=%s,top_k=3,input_mean=127.5,input_std=127.5" % (model_path, labels_path),
              "--model", "two=%s" % two_path])
rng = np.random.RandomState(7)


def close(a, b, tol=2e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.max(np.abs(a - b)) <= tol


# ---- status, metadata, health, routing
st, body = srv.get("/v1/models/tiny")
check(st == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"
      and body["model_version_status"][0]["status"]["error_code"] == "OK", "status: %s %s" % (st, body))
st, body = srv.get("/v1/models/tiny/versions/1")
check(st == 200 and body["model_version_status"][0]["version"] == "1", "status of version 1")
st, body = srv.get("/v1/models/tiny/versions/2")
check(st == 404 and "error" in body, "version 2 is 404: %s %s" % (st, body))
st, body = srv.get("/v1/models/nosuch")
check(st == 404 and "nosuch" in body.get("error", ""), "unknown model is 404 naming it: %s" % body)
st, body = srv.get("/v1/models/tiny/metadata")
ok = st == 200
if ok:
    sig = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    ins, outs = sig["inputs"], sig["outputs"]
    dims = [int(d["size"]) for d in ins["input"]["tensor_shape"]["dim"]]
    odims = [int(d["size"]) for d in outs["probs"]["tensor_shape"]["dim"]]
    ok = (body["model_spec"]["name"] == "tiny" and dims == [-1, TINY_H, TINY_W, 3] and odims == [-1, TINY_CLASSES]
          and ins["input"]["dtype"] == "DT_FLOAT" and ins["input"]["name"] == "input:0"
          and sig["method_name"] == "tensorflow/serving/predict")
check(ok, "metadata: %s %s" % (st, body))
st, body = srv.get("/healthz")
check(st == 200, "healthz")
st, body = srv.get("/v1/models/tiny:predict")
check(st == 405 and "error" in body, "GET on :predict is 405")
st, body = srv.post_json("/v1/models/tiny/metadata", {})
check(st == 405, "POST on metadata is 405")
st, body = srv.get("/nowhere")
check(st == 404 and "error" in body, "unknown path is 404")
st, body = srv.post_json("/v1/models/tiny:regress", {"examples": []})
check(st == 400 and "error" in body, "regress is refused with 400")

# ---- predict: float tensors, row and columnar
x = rng.uniform(-2, 2, (3, TINY_H, TINY_W, 3)).astype(np.float32)
ref = tiny_reference(wb, x)
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x.tolist()})
check(st == 200 and close(body.get("predictions"), ref), "predict row floats: %s" % st)
st, body = srv.post_json("/v1/models/tiny/versions/1:predict", {"signature_name": "serving_default",
                                                                 "instances": [{"input": v} for v in x.tolist()]})
check(st == 200 and close(body.get("predictions"), ref), "predict row, keyed instances")
st, body = srv.post_json("/v1/models/tiny:predict", {"inputs": x.tolist()})
check(st == 200 and close(body.get("outputs"), ref), "predict columnar floats: %s" % st)
st, body = srv.post_json("/v1/models/tiny:predict", {"inputs": {"input": x.tolist()}})
check(st == 200 and close(body.get("outputs"), ref), "predict columnar named")

# ---- predict: encoded images (model-sized, so the resize is the identity)
imgs = [rng.randint(0, 256, (TINY_H, TINY_W, 3)).astype(np.uint8) for _ in range(3)]
png, bmp = encode_image(imgs[0], ".png"), encode_image(imgs[1], ".bmp")
gif_like = encode_image(imgs[2], ".png")
img_ref = tiny_reference(wb, (np.stack(imgs[:2]).astype(np.float32) - MEAN) / STD)
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": [b64(png), b64(bmp)]})
check(st == 200 and close(body.get("predictions"), img_ref), "predict row b64 PNG+BMP: %s %s" % (st, body))
st, body = srv.post_json("/v1/models/tiny:predict", {"inputs": [b64(png), b64(bmp)]})
check(st == 200 and close(body.get("outputs"), img_ref), "predict columnar b64")
st, body = srv.post_json("/v1/models/tiny:predict", {"inputs": b64(png)})
check(st == 200 and close(body.get("outputs"), img_ref[:1]), "predict columnar single b64")
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": [b64(png), x[0].tolist()]})
check(st == 200 and close(body.get("predictions"), np.stack([img_ref[0], ref[0]])), "mixed b64 and tensor instances")
st, body = srv.post_image("/v1/models/tiny:predict", png, "image/png")
check(st == 200 and close(body.get("predictions"), img_ref[:1]), "predict raw PNG body: %s %s" % (st, body))
st, body = srv.post_image("/v1/models/tiny:predict", bmp, "image/bmp")
check(st == 200 and close(body.get("predictions"), img_ref[1:2]), "predict raw BMP body")

# ---- classify: labels, top-k, the three body forms
raw_ref = tiny_reference(wb, (np.stack(imgs[:2]).astype(np.float32) - 127.5) / 127.5)  # model "named"


def topk(p, k, names):
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))[:k]
    return [[names[i], p[i]] for i in order]


def same_topk(got, want):
    return (len(got) == len(want) and all(g[0] == w[0] for g, w in zip(got, want))
            and all(abs(g[1] - w[1]) <= 2e-5 for g, w in zip(got, want)))


st, body = srv.post_image("/v1/models/named:classify", png, "image/png")
check(st == 200 and same_topk(body["result"][0], topk(raw_ref[0], 3, labels)), "classify raw: %s" % body)
st, body = srv.post_json("/v1/models/named:classify", {"examples": [{"image": b64(png)}, {"image": b64(bmp)}]})
check(st == 200 and len(body["result"]) == 2 and same_topk(body["result"][1], topk(raw_ref[1], 3, labels)),
      "classify examples")
st, body = srv.post_json("/v1/models/named:classify?top_k=5", {"instances": [b64(bmp)]})
check(st == 200 and same_topk(body["result"][0], topk(raw_ref[1], 5, labels)), "classify ?top_k=5")
st, body = srv.post_image("/v1/models/tiny:classify", png, "image/png")
want = topk(img_ref[0], 5, [str(i) for i in range(TINY_CLASSES)])
check(st == 200 and same_topk(body["result"][0], want), "classify without labels answers the index")

# ---- a model with two inputs and no image input
a = rng.uniform(-5, 5, (4, 3)).astype(np.float32)
bb = rng.uniform(-5, 5, (4, 3)).astype(np.float32)
st, body = srv.get("/v1/models/two/metadata")
check(st == 200 and set(body["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]) == {"a", "b"},
      "metadata lists both inputs")
st, body = srv.post_json("/v1/models/two:predict", {"instances": [{"a": u, "b": v} for u, v in zip(a.tolist(), bb.tolist())]})
check(st == 200 and close(body.get("predictions"), a.astype(np.float64) + bb, 1e-5), "two inputs, row format: %s" % st)
st, body = srv.post_json("/v1/models/two:predict", {"inputs": {"a": a.tolist(), "b:0": bb.tolist()}})
check(st == 200 and close(body.get("outputs"), a.astype(np.float64) + bb, 1e-5), "two inputs, columnar format: %s" % st)
st, body = srv.post_json("/v1/models/two:predict", {"instances": [{"a": a[0].tolist()}]})
check(st == 400 and "'b'" in body.get("error", ""), "missing input named: %s" % body)
st, body = srv.post_json("/v1/models/two:predict", {"inputs": {"a": a.tolist(), "b": bb[:2].tolist()}})
check(st == 400 and "error" in body, "columnar inputs with different batch sizes: 400")
st, body = srv.post_json("/v1/models/two:predict", {"instances": a.tolist()})
check(st == 400 and "error" in body, "bare tensors for a two-input model: 400")
st, body = srv.post_image("/v1/models/two:predict", png, "image/png")
check(st == 415 and "error" in body, "image body for a model without image input: 415 (%s)" % st)
st, body = srv.post_json("/v1/models/two:predict", {"instances": [{"a": b64(png), "b": bb[0].tolist()}]})
check(st == 400 and "error" in body, "b64 for a float input: 400")

# ---- metrics
m = srv.metrics()
codes = metric_values(m, "frost_serve_requests_total")
check(codes.get('{code="200"}', 0) >= 15 and codes.get('{code="404"}', 0) >= 2, "metrics count by code: %s" % codes)
check("frost_serve_request_duration_seconds_bucket" in m and "frost_serve_batch_size_bucket" in m
      and 'frost_serve_queue_depth{model="tiny"} 0' in m, "metrics histograms and queue depth")

# ---- graceful drain: a request whose body is still arriving when SIGTERM comes is answered
body_bytes = ('{"instances": %s}' % (x[:1].tolist(),)).encode()
head = ("POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\n\r\n" % len(body_bytes)).encode()
s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
s.sendall(head + body_bytes[:10])
time.sleep(0.3)
srv.proc.send_signal(signal.SIGTERM)
time.sleep(0.5)
check(srv.alive(), "server still up while a request is in flight")
refused = False
try:
    socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
except OSError:
    refused = True
check(refused, "no new connections after SIGTERM")
s.sendall(body_bytes[10:])
resp = b""
try:
    while b"\r\n\r\n" not in resp or not resp.rstrip().endswith(b"}"):
        d = s.recv(65536)
        if not d:
            break
        resp += d
except OSError:
    pass
s.close()
check(resp.startswith(b"HTTP/1.1 200") and b"predictions" in resp, "in-flight request answered during drain: %r" % resp[:80])
rc = srv.stop(timeout=30)
check(rc == 0, "exit status 0 after drain (got %s)" % rc)
done()
