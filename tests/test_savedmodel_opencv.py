"""An independent numeric oracle for the SavedModel import: the Keras
classifiers of ../shared/savedmodels/keras are frozen by frost's SavedModel
converter (`test_savedmodel --freeze`, the GraphDef that frost loads), the
frozen graph is run by OpenCV DNN, and the SavedModel directory itself by
`frost run` (reference kernels and the default backend) on the same random
batch of 2.  Probabilities must agree within 1e-4, the logits (the Softmax's
input) within 1e-4 of their scale.

OpenCV's TensorFlow importer cannot take a Reshape or Squeeze of a constant
(Keras 3 reshapes each convolution's bias so): those are folded into
constants here, in the graph handed to OpenCV only.

    /usr/bin/python3 tests/test_savedmodel_opencv.py
"""
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "graphgen"))
from difftest import Report, Skip, compare, run_frost, run_opencv, tmp_dir  # noqa: E402
from tfgraph import _f_bytes, _f_varint, tensor_proto  # noqa: E402

# (folder under savedmodels/keras, input range)
MODELS = (("intel6-cnn", 255.0), ("rice5-cnn", 1.0), ("mnist-cnn-k2", 1.0))
VARIANTS = ("auto", "reference")


# ---- a small GraphDef reader, enough to fold Reshape / Squeeze of constants ----

def _varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b):
    i, out = 0, []
    while i < len(b):
        t, i = _varint(b, i)
        fn, w = t >> 3, t & 7
        if w == 0:
            v, i = _varint(b, i)
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        elif w == 2:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % w)
        out.append((fn, w, v))
    return out


def parse_graph(data):
    nodes, rest = [], b""
    for fn, w, v in _fields(data):
        if fn != 1:
            rest += _f_bytes(fn, v) if w == 2 else b""
            continue
        nd = {"name": "", "op": "", "in": [], "attr": {}}
        for f, _, x in _fields(v):
            if f == 1:
                nd["name"] = x.decode()
            elif f == 2:
                nd["op"] = x.decode()
            elif f == 3:
                nd["in"].append(x.decode())
            elif f == 5:
                kv = {a: c for a, _, c in _fields(x)}
                nd["attr"][kv[1].decode()] = kv.get(2, b"")
        nodes.append(nd)
    return nodes, rest


def serialize(nodes, rest):
    out = bytearray()
    for nd in nodes:
        b = _f_bytes(1, nd["name"]) + _f_bytes(2, nd["op"])
        for i in nd["in"]:
            b += _f_bytes(3, i)
        for k in sorted(nd["attr"]):
            b += _f_bytes(5, _f_bytes(1, k) + _f_bytes(2, nd["attr"][k]))
        out += _f_bytes(1, b)
    return bytes(out) + rest


def tensor_value(attr):
    tp = [c for a, _, c in _fields(attr) if a == 8][0]
    f = _fields(tp)
    dt = [c for a, _, c in f if a == 1][0]
    dims = [{x: y for x, _, y in _fields(d)}.get(1, 0)
            for a, _, c in f if a == 2 for a2, _, d in _fields(c) if a2 == 2]
    npdt = {1: np.float32, 3: np.int32, 9: np.int64}[dt]
    content = [c for a, _, c in f if a == 4]
    n = int(np.prod(dims)) if dims else 1
    if content:
        return np.frombuffer(content[0], npdt).reshape(dims), dt
    vals = []
    for a, w, c in f:
        if a == 5:
            vals += list(np.frombuffer(c, "<f4"))
        elif a in (7, 10):
            j = 0
            while j < len(c):
                v, j = _varint(c, j)
                vals.append(v - (1 << 64) if v >= 1 << 63 else v)
    vals += [vals[-1] if vals else 0] * (n - len(vals))
    return np.array(vals, npdt).reshape(dims), dt


def fold_for_opencv(data):
    """Reshape(Const, Const) and Squeeze(Const) become Consts."""
    nodes, rest = parse_graph(data)
    by = {n["name"]: n for n in nodes}

    def const(ref):
        name, _, idx = ref.partition(":")
        n = by.get(name)
        return n if n is not None and n["op"] == "Const" and idx in ("", "0") else None

    folded, changed = 0, True
    while changed:
        changed = False
        for n in nodes:
            if n["op"] not in ("Reshape", "Squeeze") or not const(n["in"][0]):
                continue
            arr, dt = tensor_value(const(n["in"][0])["attr"]["value"])
            if n["op"] == "Reshape":
                if len(n["in"]) < 2 or not const(n["in"][1]):
                    continue
                arr = arr.reshape(tensor_value(const(n["in"][1])["attr"]["value"])[0].astype(np.int64))
            else:
                arr = np.squeeze(arr)
            n["op"], n["in"] = "Const", []
            n["attr"] = {"dtype": _f_varint(6, dt), "value": _f_bytes(8, tensor_proto(arr, splat=arr.size <= 1))}
            folded += 1
            changed = True
    return serialize(nodes, rest), nodes, folded


def main():
    shared = os.environ.get("FROST_SHARED") or os.path.join(HERE, "..", "..", "shared")
    build = os.environ.get("FROST_BUILD") or os.path.join(HERE, "..", "build")
    freezer = os.path.join(build, "tests", "test_savedmodel")
    if not os.path.isdir(os.path.join(shared, "savedmodels", "keras")) or not os.path.exists(freezer):
        print("../shared/savedmodels/keras or the test_savedmodel tool is missing: skipped")
        return 77
    try:
        import cv2  # noqa: F401
    except ImportError:
        print("OpenCV (python3-opencv) is missing: skipped")
        return 77
    rep = Report()
    d = tmp_dir()
    for name, scale in MODELS:
        sm = os.path.join(shared, "savedmodels", "keras", name, "saved_model")
        pb = os.path.join(d, name + ".frozen.pb")
        r = subprocess.run([freezer, "--freeze", sm, pb], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode:
            rep.fail(name, "freezing failed: " + r.stderr.strip())
            continue
        io = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        inp, out = io["input"], io["output"]
        data, nodes, folded = fold_for_opencv(open(pb, "rb").read())
        cvpb = os.path.join(d, name + ".opencv.pb")
        with open(cvpb, "wb") as f:
            f.write(data)
        by = {n["name"]: n for n in nodes}
        soft = [n for n in nodes if n["op"] == "Softmax"]
        logits = soft[0]["in"][0] if soft else None
        ph = by[inp]
        dims = [{x: y for x, _, y in _fields(dd)}.get(1, 0)
                for a, _, c in _fields(ph["attr"]["shape"]) if a == 7 for a2, _, dd in _fields(c) if a2 == 2]
        x = np.random.default_rng(11).uniform(0, scale, [2] + dims[1:]).astype(np.float32)
        try:
            want = run_opencv(cvpb, [(inp, x)], [out])[0]
            want_logits = None
            for cand in ([logits, logits[:-len("BiasAdd")] + "MatMul"] if logits.endswith("/BiasAdd") else [logits]):
                try:  # OpenCV drops Identity nodes: name the Softmax itself
                    want_logits = run_opencv(cvpb, [(inp, x)], [soft[0]["name"], cand])[1]
                    break
                except Skip:
                    pass
        except Skip as e:
            rep.skip(name, str(e))
            continue
        for backend in VARIANTS:
            label = "%s [%s]" % (name, backend)
            got, got_logits = run_frost(sm, [(inp, x)], [out, logits], backend=backend)
            ok, diff, tol = compare(got, want)
            msgs = ["probabilities max |diff| %.2g (tol %.2g)" % (diff, tol)]
            if want_logits is not None:
                ok2, diff2, tol2 = compare(got_logits, want_logits)
                ok = ok and ok2
                msgs.append("logits %.2g (tol %.2g, scale %.3g)" % (diff2, tol2, float(np.max(np.abs(want_logits)))))
            else:
                msgs.append("logits not compared (OpenCV does not expose them)")
            msgs.append("%d constants folded for OpenCV" % folded)
            (rep.ok if ok else rep.fail)(label, "; ".join(msgs))
    digits(rep, shared)
    return rep.done()


def digits(rep, shared):
    """The Keras 2 MNIST model reads digits drawn by OpenCV: its weights are the
    right checkpoint tensors (layer_with_weights-K/..., optimizer slots left out)."""
    import cv2
    imgs = []
    for k in range(10):
        im = np.zeros((28, 28), np.uint8)
        cv2.putText(im, str(k), (6, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.85, 255, 2, cv2.LINE_AA)
        imgs.append(im)
    x = (np.stack(imgs)[..., None] / 255.0).astype(np.float32)
    sm = os.path.join(shared, "savedmodels", "keras", "mnist-cnn-k2", "saved_model")
    y = run_frost(sm, [("serving_default_conv2d_input", x)], ["StatefulPartitionedCall"])[0].reshape(10, 10)
    right = int(np.sum(y.argmax(1) == np.arange(10)))
    msg = "%d of 10 drawn digits read right (%s)" % (right, " ".join(str(v) for v in y.argmax(1)))
    (rep.ok if right >= 8 else rep.fail)("mnist-cnn-k2 digits", msg)


if __name__ == "__main__":
    sys.exit(main())
