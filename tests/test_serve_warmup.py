"""frost serve runs a SavedModel's warm-up requests as TensorFlow Serving does
(saved_model_warmup.cc): the TFRecord file of PredictionLogs in
VERSION/assets.extra/tf_serving_warmup_requests, written here by hand
(tests/warmup_util.py) next to a copy of ../shared's half_plus_two.  Every
kind of record runs through its signature before the version is available
(the batch metrics count its instances); a corrupt or truncated file, a
request that fails, a SessionRunLog or more than 1000 records fail the load
with TF Serving's message and code; a new version whose warm-up fails is
refused while the live one keeps answering; --enable_model_warmup=false
skips the file."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FROST_BIN, FROST_SHARED, FROST_TMP, Server, check, done, metric_values  # noqa: E402
import warmup_util as W  # noqa: E402

SRC = os.path.join(FROST_SHARED, "savedmodels", "saved_model_half_plus_two_cpu", "00000123")
if not os.path.isdir(SRC):
    print("no ../shared/savedmodels: skipped")
    sys.exit(77)


def base_with(records=None, raw=None, version=123, base=None):
    """A base path holding half_plus_two as `version`, with a warm-up file of these records (or bytes)."""
    if base is None:
        base = os.path.join(FROST_TMP, "warm-%d" % int(time.time() * 1e6))
        os.makedirs(base)
    tmp = os.path.join(base, ".incoming")
    shutil.copytree(SRC, tmp)
    if records is not None or raw is not None:
        os.makedirs(os.path.join(tmp, "assets.extra"))
        with open(os.path.join(tmp, "assets.extra", "tf_serving_warmup_requests"), "wb") as f:
            f.write(raw if raw is not None else W.tfrecord(records))
    os.rename(tmp, os.path.join(base, "%08d" % version))
    return base


def start_fails(base, *flags):
    """frost serve on base must not start: (exit status, stderr)."""
    p = subprocess.run([FROST_BIN, "serve", "--port", "0", "--model_name=hp", "--model_base_path=" + base] + list(flags),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stderr.decode(errors="replace")


def batch_counts(srv):
    """{signature: instances run} from the batch-size histograms' sums."""
    out = {}
    for labels, v in metric_values(srv.metrics(), "frost_serve_batch_size_sum").items():
        sig = labels.split('signature="', 1)[1].split('"', 1)[0] if 'signature="' in labels else labels
        out[sig] = out.get(sig, 0) + v
    return out


ex = [W.example({"x": [2.0]}), W.example({"x": [5.0]})]
good = [
    W.predict_log({"x": W.tensor_float([1.0, 2.0, 5.0], [3])}),                  # 3 instances, the default signature
    W.predict_log({"x": W.tensor_float([1.0, 2.0], [2, 1])}, signature="serving_default"),
    W.regress_log(ex, signature="regress_x_to_y"),                                # 2
    W.classify_log([W.example({})], signature="classify_x_to_y",                  # 1, x from the context
                   context=W.example({"x": [4.0]})),                              # (else: x missing, load fails)
    W.multi_inference_log([("classify_x_to_y", "tensorflow/serving/classify"),    # 2 + 2
                           ("regress_x_to_y", "tensorflow/serving/regress")], ex),
    b"",                                                                           # no log type: nothing to run
]

# ---- every kind of record runs, twice each, before the version is available
srv = Server(["--model_name=hp", "--model_base_path=" + base_with(good), "--num_request_iterations_for_warmup=2"])
log = srv.stderr()
check("6 warm-up records run" in log, "the warm-up is logged: %s" % log[-600:])
counts = batch_counts(srv)
check(counts.get("serving_default") == 2 * (3 + 2), "serving_default ran 10 warm-up instances: %s" % counts)
check(counts.get("regress_x_to_y") == 2 * (2 + 2), "regress_x_to_y ran 8: %s" % counts)
check(counts.get("classify_x_to_y") == 2 * (1 + 2), "classify_x_to_y ran 6: %s" % counts)
st, body = srv.post_json("/v1/models/hp:predict", {"instances": [1.0, 2.0, 5.0]})
check(st == 200 and body == {"predictions": [2.5, 3.0, 4.5]}, "then answers: %s %s" % (st, body))
st, body = srv.get("/v1/models/hp")
check(st == 200 and body["model_version_status"][0]["state"] == "AVAILABLE", "available: %s" % body)
srv.stop()

# ---- loads that fail, as TF Serving's: the message and the exit status
data = W.tfrecord(good[:2])
flipped = bytearray(data)
flipped[20] ^= 1                                 # a byte of the first record's data
bad_header = bytearray(data)
bad_header[0] ^= 1                               # its length
cases = [
    ("corrupt data", dict(raw=bytes(flipped)), "corrupted record at 0"),
    ("corrupt length", dict(raw=bytes(bad_header)), "corrupted record at 0"),
    ("truncated", dict(raw=data[:-3]), "truncated record at"),
    ("not a PredictionLog", dict(records=[b"\xff\xff"]), "Failed to parse warmup record 1"),
    ("unknown input", dict(records=[W.predict_log({"nope": W.tensor_float([1.0], [1])})]),
     "input tensor alias not found in signature: nope"),
    ("wrong dtype", dict(records=[W.predict_log({"x": W.tensor_string([b"a"])})]), "expects float"),
    ("unknown signature", dict(records=[W.predict_log({"x": W.tensor_float([1.0], [1])}, signature="nope")]),
     "Serving signature name: \"nope\" not found"),
    ("examples to a float signature", dict(records=[W.regress_log(ex, signature="serving_default")]),
     "does not take serialized tf.Example"),
    ("no examples", dict(records=[W.regress_log([], signature="regress_x_to_y")]), "Input is empty"),
    ("session run log", dict(records=[W.session_run_log()]), "Unsupported log_type for warmup: 5"),
    ("too many records", dict(records=[b""] * 1001), "Number of warmup records exceeds the maximum (1000)"),
]
for what, kw, message in cases:
    rc, err = start_fails(base_with(**kw))
    check(rc != 0 and message in err, "%s: exit %s, %r expected in: %s" % (what, rc, message, err[-500:]))

# ---- the same files with --enable_model_warmup=false: the version loads, nothing is replayed
srv = Server(["--model_name=hp", "--model_base_path=" + base_with(raw=bytes(flipped)), "--enable_model_warmup=false"])
check("warm-up record" not in srv.stderr(), "no warm-up without --enable_model_warmup")
st, body = srv.post_json("/v1/models/hp:predict", {"instances": [1.0]})
check(st == 200 and body == {"predictions": [2.5]}, "answers: %s %s" % (st, body))
srv.stop()

# ---- a new version whose warm-up fails is refused; the live one keeps answering
base = base_with(good[:1])
srv = Server(["--model_name=hp", "--model_base_path=" + base, "--file_system_poll_wait_seconds=1"])
base_with([W.predict_log({"nope": W.tensor_float([1.0], [1])})], version=124, base=base)
deadline = time.time() + 30
status = {}
while time.time() < deadline:
    st, body = srv.get("/v1/models/hp")
    status = {v["version"]: v for v in body.get("model_version_status", [])} if st == 200 else {}
    if status.get("124", {}).get("state") == "END":
        break
    time.sleep(0.2)
v124 = status.get("124", {})
check(v124.get("state") == "END" and v124.get("status", {}).get("error_code") == "INVALID_ARGUMENT"
      and "input tensor alias not found" in v124.get("status", {}).get("error_message", ""),
      "version 124 refused with its warm-up's error: %s" % status)
check(status.get("123", {}).get("state") == "AVAILABLE", "version 123 still available: %s" % status)
st, body = srv.post_json("/v1/models/hp:predict", {"instances": [2.0]})
check(st == 200 and body == {"predictions": [3.0]}, "123 answers: %s %s" % (st, body))
srv.stop()
done()
