# frost-test-labels: asan
"""frost serve as a drop-in for tensorflow_model_server: TF Serving's REST
tutorial on its own test SavedModels (../shared/savedmodels), every fixture
through the server, model status and metadata against TF Serving's own
expected JSON (parsed and compared as a whole), signature_name, row and
columnar bodies, TF Serving's errors and status codes, its flags (both
--flag=value and --flag value) and config files, and frost's extras on
SavedModels (image bodies, /metrics, limits).  The Keras classifiers'
answers are checked against `frost run` on the same SavedModel."""
import base64
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FROST_BIN, FROST_SHARED, FROST_TMP, Server, check, done, encode_image, metric_values

SM = os.path.join(FROST_SHARED, "savedmodels")
if not os.path.isdir(os.path.join(SM, "saved_model_half_plus_two_cpu")):
    print("no ../shared/savedmodels: skipped")
    sys.exit(77)
HP2 = os.path.join(SM, "saved_model_half_plus_two_cpu")
EXPECTED = os.path.join(SM, "tfserving_expected")


def expected(name):
    with open(os.path.join(EXPECTED, name)) as f:
        return json.load(f)


def wait_log(server, text, seconds=10):
    """Whether `text` shows in the server's log within `seconds` (stderr lines may follow the stdout one)."""
    deadline = time.time() + seconds
    while text not in server.stderr() and time.time() < deadline:
        time.sleep(0.05)
    return text in server.stderr()


def write(name, text):
    path = os.path.join(FROST_TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- TF Serving's REST tutorial, its command line as is (plus frost's test port)
srv = Server(["--rest_api_port=0", "--model_name=half_plus_two", "--model_base_path=%s" % HP2])
st, body = srv.post_json("/v1/models/half_plus_two:predict", {"instances": [1.0, 2.0, 5.0]})
check(st == 200 and body == {"predictions": [2.5, 3.0, 4.5]}, "the tutorial's answer: %s %s" % (st, body))
st, raw = srv.request("POST", "/v1/models/half_plus_two:predict", b'{"instances": [1.0, 2.0, 5.0]}')
check(st == 200 and raw == {"predictions": [2.5, 3.0, 4.5]}, "the tutorial without a Content-Type: %s" % raw)
check(wait_log(srv, "gRPC"), "--port next to --rest_api_port is TF Serving's gRPC port, said ignored")
st, body = srv.get("/v1/models/half_plus_two")
check(st == 200 and body == {"model_version_status": [{"version": "123", "state": "AVAILABLE",
                                                       "status": {"error_code": "OK", "error_message": ""}}]},
      "status: %s %s" % (st, body))
st, body = srv.get("/v1/models/half_plus_two/versions/123")
check(st == 200 and body["model_version_status"][0]["version"] == "123", "status of version 123")
# row and columnar, nested instances, a batch of one, signature_name
for req, want in (({"instances": [[1.0], [2.0]]}, {"predictions": [[2.5], [3.0]]}),
                  ({"instances": [{"x": [4.0]}]}, {"predictions": [[4.0]]}),
                  ({"inputs": [1.0, 3.0]}, {"outputs": [2.5, 3.5]}),
                  ({"inputs": {"x": [[1.0], [3.0]]}}, {"outputs": [[2.5], [3.5]]}),
                  ({"signature_name": "serving_default", "instances": [6.0]}, {"predictions": [5.0]}),
                  ({"signature_name": "regress_x2_to_y3", "instances": [1.0, 2.0]}, {"predictions": [3.5, 4.0]}),
                  ({"signature_name": "regress_x2_to_y3", "inputs": {"inputs": [[2.0]]}}, {"outputs": [[4.0]]})):
    st, body = srv.post_json("/v1/models/half_plus_two/versions/123:predict", req)
    check(st == 200 and body == want, "predict %s: %s %s" % (req, st, body))

# ---- errors, as TF Serving answers them
ERRORS = [
    ("POST", "/v1/models/nosuch:predict", {"instances": [1.0]}, 404, "Servable not found for request: Latest(nosuch)"),
    ("GET", "/v1/models/nosuch", None, 404, "Could not find any versions of model nosuch"),
    ("GET", "/v1/models/nosuch/metadata", None, 404, "Servable not found for request: Latest(nosuch)"),
    ("POST", "/v1/models/half_plus_two/versions/999:predict", {"instances": [1.0]}, 404,
     "Servable not found for request: Specific(half_plus_two, 999)"),
    ("GET", "/v1/models/half_plus_two/versions/999", None, 404, "Could not find version 999 of model half_plus_two"),
    ("POST", "/v1/models/half_plus_two:predict", {"signature_name": "nope", "instances": [1.0]}, 400,
     'Serving signature name: \\"nope\\" not found in signature def'.replace("\\", "")),
    ("POST", "/v1/models/half_plus_two:predict", {"signature_name": 7, "instances": [1.0]}, 400,
     "'signature_name' key must be a string value."),
    ("POST", "/v1/models/half_plus_two/labels/stable:predict", {"instances": [1.0]}, 400,
     "Unrecognized servable version label: stable"),
    ("POST", "/v1/models/half_plus_two/versions/abc:predict", {"instances": [1.0]}, 400, "Malformed request"),
    ("POST", "/v1/models/half_plus_two:predict", {"instances": [[1.0, 2.0]]}, 400, "expects a float tensor"),
    # every instance the same shape, as TF Serving requires: a number and a list mixed are refused
    ("POST", "/v1/models/half_plus_two:predict", {"instances": [1.0, [2.0]]}, 400, "the same shape"),
    ("POST", "/v1/models/half_plus_two:predict", {"inputs": [[1.0], 2.0]}, 400, "the same shape"),
    ("POST", "/v1/models/half_plus_two:predict", {"instances": []}, 400, "no instances"),
    # :classify / :regress "examples": TF Serving's checks, then the library's ParseExample
    ("POST", "/v1/models/half_plus_two:regress", {"examples": [{"x": 2.0}]}, 400, "not serialized tf.Example"),
    ("POST", "/v1/models/half_plus_two:classify", {"examples": [{"x": 2.0}]}, 400, "not serialized tf.Example"),
    ("POST", "/v1/models/half_plus_two:regress", {"signature_name": "nope", "examples": [{"x": 2.0}]}, 400,
     "No signature was found with the name: nope"),
    ("POST", "/v1/models/half_plus_two:regress", {"signature_name": "regress_x_to_y", "examples": [{"x": [1.0, 2]}]},
     400, "Unexpected element type in feature: x"),
    ("POST", "/v1/models/half_plus_two:regress", {"signature_name": "regress_x_to_y", "examples": []}, 400,
     "empty array"),
    ("POST", "/v1/models/half_plus_two:regress", {"signature_name": "regress_x_to_y", "examples": [{"x": None}]}, 400,
     "unexpected JSON type"),
    ("POST", "/v1/models/half_plus_two:regress", {"signature_name": "regress_x_to_y", "examples": [{"x": 2}]}, 400,
     "int64_list"),
    ("POST", "/v1/models/half_plus_two:classify", {"signature_name": "classify_x_to_y", "examples": [{"z": 2.0}]},
     400, "'x'"),
]
for method, path, obj, code, text in ERRORS:
    st, body = srv.post_json(path, obj) if method == "POST" else srv.get(path)
    msg = body.get("error", "") if isinstance(body, dict) else ""
    check(st == code and text in msg, "%s %s %s: want %d %r, got %s %s" % (method, path, obj, code, text, st, body))

# NaN, Infinity and -Infinity in requests, as TF Serving reads them (RapidJSON's kParseNanAndInfFlag: also Inf,
# -Inf, -NaN), in answers as it writes them; inside strings they are text, other words stay errors
PRED = "/v1/models/half_plus_two:predict"
st, raw = srv.request("POST", PRED, b'{"note": "NaN, Inf", "instances": [NaN, Infinity, -Inf, -NaN, 1.0]}')
p = raw.get("predictions") if isinstance(raw, dict) else None
check(st == 200 and p and len(p) == 5 and np.isnan(p[0]) and p[1] == float("inf") and p[2] == float("-inf") and
      np.isnan(p[3]) and p[4] == 2.5, "non-finite instances: %s %s" % (st, raw))
st, raw = srv.request("POST", PRED, b'{"inputs": {"x": [[-Infinity], [2.0]]}}')
check(st == 200 and raw == {"outputs": [[float("-inf")], [3.0]]}, "non-finite inputs: %s %s" % (st, raw))
st, raw = srv.request("POST", "/v1/models/half_plus_two:regress",
                      b'{"signature_name": "regress_x_to_y", "examples": [{"x": NaN}, {"x": Infinity}, {"x": 2.0}]}')
r = raw.get("results") if isinstance(raw, dict) else None
check(st == 200 and r and np.isnan(r[0]) and r[1] == float("inf") and r[2] == 3.0, "non-finite examples: %s %s" %
      (st, raw))
for bad in (b'{"instances": [NaNa]}', b'{"instances": [Infinit]}', b'{"instances": ["NaN"]}', b'{"instances": [nan]}'):
    st, raw = srv.request("POST", PRED, bad)
    check(st == 400 and "error" in raw, "%s: %s %s" % (bad, st, raw))
st, raw = srv.request("POST", "/v1/models/half_plus_two:predict",
                      b'{"signature_name": "classify_x_to_y", "instances": [NaN]}')
check(st == 400 and "takes a string" in raw.get("error", ""), "NaN for a string input: %s %s" % (st, raw))

# ---- :classify and :regress of tf.Example protos (written by frost, parsed by the graph's ParseExample)
EX = {"examples": [{"x": 2.0}, {"x": 4.0}]}
for verb, sig, want in (("classify", "classify_x_to_y", {"results": [[["", 3.0]], [["", 4.0]]]}),
                        ("regress", "regress_x_to_y", {"results": [3.0, 4.0]}),
                        ("regress", "regress_x_to_y2", {"results": [4.0, 5.0]})):
    st, body = srv.post_json("/v1/models/half_plus_two:" + verb, dict(EX, signature_name=sig))
    check(st == 200 and body == want, ":%s %s: %s %s" % (verb, sig, st, body))
for ex, ctx, want in (([{"y": 1.0}], {"x": 2.0}, [3.0]), ([{"x": 4.0}], {"x": 2.0}, [4.0]),
                      ([{"x": [6.0]}, {"x": 0.5e1}], {}, [5.0, 4.5])):
    st, body = srv.post_json("/v1/models/half_plus_two:regress", {"signature_name": "regress_x_to_y", "examples": ex,
                                                                  "context": ctx})
    check(st == 200 and body == {"results": want}, "context %s, examples %s: %s %s" % (ctx, ex, st, body))
# a serialized tf.Example as a string input of :predict ({"b64": ...}), bytes written here by hand
example = bytes.fromhex("0a0f0a0d0a0178120812060a0400000040")  # {x: float_list [2.0]}
st, body = srv.post_json("/v1/models/half_plus_two:predict", {"signature_name": "classify_x_to_y",
                                                              "instances": [{"b64": base64.b64encode(example).decode()}]})
check(st == 200 and body == {"predictions": [[3.0]]}, "a b64 tf.Example through :predict: %s %s" % (st, body))
srv.stop()

# a bad example among good ones batched together fails alone (rounds until a batch of several formed)
import threading
srv = Server(["--model_base_path", HP2, "--batch_timeout_micros", "500000", "--max_batch_size", "8"])
SERIES = '{model="default",version="123",signature="regress_x_to_y"}'
batched, isolated = False, True
for round in range(6):
    results, start = {}, threading.Barrier(6)

    def regress(k, x):
        start.wait()
        results[k] = srv.post_json("/v1/models/default:regress", {"signature_name": "regress_x_to_y", "examples": [x]})

    threads = [threading.Thread(target=regress, args=(k, {"x": 2} if k == 3 else {"x": float(k)})) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    isolated &= all(results.get(k) == (200, {"results": [0.5 * k + 2]}) for k in range(6) if k != 3) \
        and results.get(3, (0,))[0] == 400
    m = srv.metrics()
    runs = metric_values(m, "frost_serve_batch_size_count").get(SERIES, 0)
    items = metric_values(m, "frost_serve_batch_size_sum").get(SERIES, 0)
    if items > runs:
        batched = True
        break
check(isolated, "a malformed example fails only its own request: %s" % results)
check(batched, "... in a batch with the others (%d runs for %d items)" % (runs, items))
srv.stop()

# ---- metadata: TF Serving's expected answers, equal as parsed JSON
srv = Server(["--rest_api_port", "0", "--model_base_path", HP2])  # --model_name defaults to "default"
st, body = srv.get("/v1/models/default/metadata")
check(st == 200 and body == expected("half_plus_two_model_metadata.json"), "metadata of half_plus_two: %s %s" %
      (st, json.dumps(body)[:300]))
st, body = srv.get("/v1/models/default/versions/123/metadata")
check(st == 200 and body == expected("half_plus_two_model_metadata.json"), "metadata of version 123")
srv.stop()

config = write("two_versions.config", """
model_config_list {
  config {
    name: "saved_model_half_plus_two_2_versions"
    base_path: "%s"
    model_platform: "tensorflow"
    model_version_policy { all {} }
  }
  config { name: 'tf2', base_path: '%s' }
}
""" % (os.path.join(SM, "saved_model_half_plus_two_2_versions"), os.path.join(SM, "saved_model_half_plus_two_tf2_cpu")))
srv = Server(["--rest_api_port=0", "--model_config_file=" + config, "--file_system_poll_wait_seconds=0"])
st, body = srv.get("/v1/models/saved_model_half_plus_two_2_versions/versions/123/metadata")
check(st == 200 and body == expected("saved_model_half_plus_two_2_versions_metadata.json"),
      "metadata of 2_versions, version 123: %s %s" % (st, json.dumps(body)[:300]))
st, body = srv.get("/v1/models/saved_model_half_plus_two_2_versions")
check(st == 200 and [v["version"] for v in body["model_version_status"]] == ["124", "123"]
      and all(v["state"] == "AVAILABLE" for v in body["model_version_status"]), "policy all: both versions %s" % body)
want = expected("saved_model_half_plus_two_tf2_2_versions_metadata.json")
want["model_spec"]["name"] = "tf2"
st, body = srv.get("/v1/models/tf2/metadata")
check(st == 200 and body == want, "metadata of the TF2 model: %s %s" % (st, json.dumps(body)[:300]))
for sig, x, y in (("", [1.0, 2.0, 5.0], [2.5, 3.0, 4.5]), ("classify_x2_to_y3", [1.0, 2.0], [3.5, 4.0]),
                  ("regress_x2_to_y3", [4.0], [5.0])):
    st, body = srv.post_json("/v1/models/tf2:predict", {"signature_name": sig, "instances": x})
    check(st == 200 and body == {"predictions": y}, "TF2 %r: %s %s" % (sig, st, body))
for verb, sig, want in (("classify", "classify_x_to_y", {"results": [[["", 3.0]], [["", 4.0]]]}),
                        ("regress", "regress_x_to_y2", {"results": [4.0, 5.0]})):
    st, body = srv.post_json("/v1/models/tf2:" + verb, {"signature_name": sig, "examples": [{"x": 2.0}, {"x": 4.0}]})
    check(st == 200 and body == want, "TF2 :%s %s (ParseExampleV2): %s %s" % (verb, sig, st, body))
for v in ("123", "124"):
    st, body = srv.post_json("/v1/models/saved_model_half_plus_two_2_versions/versions/%s:predict" % v,
                             {"instances": [1.0, 2.0, 5.0]})
    check(st == 200 and body == {"predictions": [2.5, 3.0, 4.5]}, "2_versions version %s: %s %s" % (v, st, body))
    st, body = srv.post_json("/v1/models/saved_model_half_plus_two_2_versions/versions/%s:predict" % v,
                             {"signature_name": "classify_x2_to_y3", "instances": [1.0]})
    check(st == 200 and body == {"predictions": [3.5]}, "2_versions classify_x2_to_y3 by :predict: %s" % body)
m = srv.metrics()
count = metric_values(m, "frost_serve_batch_size_count")
check(count.get('{model="tf2",version="123",signature="classify_x2_to_y3"}', 0) >= 1
      and count.get('{model="saved_model_half_plus_two_2_versions",version="123",signature="serving_default"}', 0) >= 1,
      "/metrics: a series per version and signature: %s" % count)
srv.stop()

# ---- half_plus_three; the counter's clear refusal
srv = Server(["--model", "three=%s" % os.path.join(SM, "saved_model_half_plus_three")])
st, body = srv.post_json("/v1/models/three:predict", {"instances": [1.0, 2.0, 5.0]})
check(st == 200 and body == {"predictions": [3.5, 4.0, 5.5]}, "half_plus_three: %s %s" % (st, body))
srv.stop()
p = subprocess.run([FROST_BIN, "serve", "--rest_api_port=0", "--model_base_path=" + os.path.join(SM, "saved_model_counter")],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 1 and "AssignAdd" in p.stderr and "state" in p.stderr and "no signature frost can serve" in p.stderr,
      "the counter is refused, naming the state change: %d %s" % (p.returncode, p.stderr[-600:]))

# ---- config files: errors name the line; batching and monitoring files take effect
for name, text, flag in (
        ("bad_model.config", "model_config_list { config { name: 'a' base_path: '/x' colour: 3 } }",
         "--model_config_file"),
        ("bad_syntax.config", "model_config_list { config { name: 'a' base_path: '/x' }", "--model_config_file"),
        ("bad_policy.config", "model_config_list { config { name: 'a' base_path: '/x'\n"
                              " model_version_policy { latest {} all {} } } }", "--model_config_file"),
        ("bad_batching.config", "max_batch_size { value: 0 }", "--batching_parameters_file"),
        ("bad_monitoring.config", "prometheus_config { enable: maybe }", "--monitoring_config_file")):
    args = [FROST_BIN, "serve", "--rest_api_port=0", flag, write(name, text)]
    if flag != "--model_config_file":
        args += ["--model_base_path", HP2]
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "line" in p.stderr, "%s is refused naming the line: %d %s" % (name, p.returncode,
                                                                                            p.stderr[-300:]))
batching = write("batching.config", "max_batch_size { value: 4 }\nbatch_timeout_micros { value: 500 }\n"
                                    "num_batch_threads { value: 2 }\nmax_enqueued_batches { value: 100 }\n"
                                    "allowed_batch_sizes: 2\nallowed_batch_sizes: 4\n")
monitoring = write("monitoring.config", 'prometheus_config {\n  enable: true,\n  path: "/monitoring/prometheus/metrics"\n}\n')
srv = Server(["--rest_api_port", "0", "--model_name", "half_plus_two", "--model_base_path", HP2, "--enable_batching",
              "--batching_parameters_file", batching, "--monitoring_config_file", monitoring,
              "--rest_api_num_threads=4", "--rest_api_timeout_in_ms=30000", "--max_instances", "3"])
check(wait_log(srv, "max_batch_size 4, batch_timeout_micros 500, num_batch_threads 2"),
      "the batching parameters file applies: %s" % srv.stderr()[-400:])
st, text = srv.get("/monitoring/prometheus/metrics")
check(st == 200 and "frost_serve_requests_total" in text, "metrics at the monitoring config's path")
st, body = srv.post_json("/v1/models/half_plus_two:predict", {"instances": [1.0, 2.0, 3.0, 4.0]})
check(st == 413 and "max_instances" in body.get("error", ""), "limits hold for SavedModels: %s %s" % (st, body))
st, body = srv.post_json("/v1/models/half_plus_two:predict", {"instances": [1.0, 2.0, 3.0]})
check(st == 200 and body == {"predictions": [2.5, 3.0, 3.5]}, "3 instances run as allowed sizes 2 + 1: %s" % body)
srv.stop()

# ---- a Keras image classifier: image bodies, float instances and `frost run` agree
K = os.path.join(SM, "keras", "rice5-cnn", "saved_model")
if os.path.isdir(K):
    srv = Server(["--model", "rice=%s,input_mean=0,input_std=255" % K])
    st, meta = srv.get("/v1/models/rice/metadata")
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"] if st == 200 else {}
    inkey = list(sig.get("inputs", {"?": 0}))[0]
    check(st == 200 and [d["size"] for d in sig["inputs"][inkey]["tensor_shape"]["dim"]] == ["-1", "24", "24", "3"],
          "Keras metadata: %s" % json.dumps(sig)[:300])
    rng = np.random.RandomState(3)
    rgb = rng.randint(0, 256, (24, 24, 3)).astype(np.uint8)  # the input size: no resize, exact pixels
    png = encode_image(rgb, ".png")
    x = (rgb.astype(np.float32) / 255.0)
    st1, by_img = srv.post_image("/v1/models/rice:predict", png, "image/png")
    st2, by_b64 = srv.post_json("/v1/models/rice:predict", {"instances": [{"b64": base64.b64encode(png).decode()}]})
    st3, by_x = srv.post_json("/v1/models/rice:predict", {"signature_name": "serving_default",
                                                          "instances": [{inkey: x.tolist()}]})
    ok = st1 == st2 == st3 == 200
    if ok:
        a, b, c = (np.array(r["predictions"][0], np.float64) for r in (by_img, by_b64, by_x))
        ok = a.shape == (5,) and abs(a.sum() - 1) < 1e-4 and np.array_equal(a, b) and np.max(np.abs(a - c)) < 1e-6
    check(ok, "rice5: raw image, b64 and float instance agree: %s %s %s" % (st1, st2, st3))
    inp = os.path.join(FROST_TMP, "rice_x.f32")
    out = os.path.join(FROST_TMP, "rice_y.f32")
    x.astype("<f4").tofile(inp)
    name = sig["inputs"][inkey]["name"].split(":")[0]
    p = subprocess.run([FROST_BIN, "run", K, "--input", "%s=%s" % (name, inp), "--out", out, "--quiet"],
                       capture_output=True, text=True, timeout=120)
    if check(p.returncode == 0, "frost run on the SavedModel: %s" % p.stderr[-300:]) and ok:
        ref = np.fromfile(out, "<f4").astype(np.float64)
        check(np.max(np.abs(ref - c)) < 1e-6, "the server equals frost run: %s vs %s" % (c, ref))
    st, body = srv.post_image("/v1/models/rice:classify", png, "image/png")
    check(st == 200 and len(body["result"][0]) == 5, "frost's top-k :classify on a SavedModel: %s" % body)
    srv.stop()

# ---- --rest_api_timeout_in_ms: instances that waited past it in the queue answer 504, the others run
K = os.path.join(SM, "keras", "intel6-cnn", "saved_model")
if os.path.isdir(K):
    import threading
    srv = Server(["--model", "intel=%s,input_mean=0,input_std=1" % K, "--max_batch_size", "1",
                  "--rest_api_timeout_in_ms", "1", "--threads", "1"])
    img = encode_image(np.random.RandomState(5).randint(0, 256, (150, 150, 3)).astype(np.uint8), ".png")
    codes = []

    def one():
        st, body = srv.post_image("/v1/models/intel:predict", img, "image/png")
        codes.append((st, body.get("error", "") if st != 200 else ""))
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    late = [c for c in codes if c[0] == 504]
    check(len(codes) == 8 and late and all(c[0] in (200, 504) for c in codes) and "Deadline Exceeded" in late[0][1],
          "requests queued past --rest_api_timeout_in_ms answer 504: %s" % [c[0] for c in codes])
    srv.stop()

    # ---- --rest_api_num_threads 1: one request in progress at a time, so 8
    # concurrent requests all answer, each run alone (every batch of size 1)
    srv = Server(["--model", "intel=%s,input_mean=0,input_std=1" % K, "--max_batch_size", "8",
                  "--batch_timeout_micros", "200000", "--rest_api_num_threads", "1", "--threads", "1"])
    codes = []
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    st, text = srv.get("/metrics")
    sizes = {}
    for ln in text.splitlines() if st == 200 else []:
        if ln.startswith("frost_serve_batch_size_sum") or ln.startswith("frost_serve_batch_size_count"):
            sizes[ln.split("{")[0]] = float(ln.split()[-1])
    check([c[0] for c in codes] == [200] * 8 and sizes.get("frost_serve_batch_size_count") == 8 and
          sizes.get("frost_serve_batch_size_sum") == 8,
          "--rest_api_num_threads 1 handles one request at a time: %s %s" % ([c[0] for c in codes], sizes))
    srv.stop()
p = subprocess.run([FROST_BIN, "serve", "--rest_api_port=0", "--model_base_path=" + HP2, "--rest_api_num_threads=-1"],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 2 and "rest_api_num_threads" in p.stderr, "a bad --rest_api_num_threads: %s" % p.stderr[-200:])
done()
