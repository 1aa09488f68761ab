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
from tfgraph import GraphDef, _f_bytes, _fields, parse_graphdef, parse_tensor  # noqa: E402

# (folder under savedmodels/keras, input range)
MODELS = (("intel6-cnn", 255.0), ("rice5-cnn", 1.0), ("mnist-cnn-k2", 1.0))
VARIANTS = ("auto", "reference")


def fold_for_opencv(data):
    """Reshape(Const, Const) and Squeeze(Const) become Consts; the other nodes
    stay as they are, byte for byte.  -> (GraphDef bytes, parsed nodes, count)."""
    nodes = parse_graphdef(data)
    by = {n.name: n for n in nodes}

    def const(ref):
        name, _, idx = ref.partition(":")
        n = by.get(name)
        return parse_tensor(n.attr["value"][1]) if n is not None and n.op == "Const" and idx in ("", "0") else None

    new, changed = {}, True
    while changed:
        changed = False
        for n in nodes:
            if n.op not in ("Reshape", "Squeeze") or const(n.inputs[0]) is None:
                continue
            arr = const(n.inputs[0])
            if n.op == "Reshape":
                if len(n.inputs) < 2 or const(n.inputs[1]) is None:
                    continue
                arr = arr.reshape(const(n.inputs[1]).astype(np.int64))
            else:
                arr = np.squeeze(arr)
            g = GraphDef()
            g.const(n.name, arr)
            node = next(v for f, _, v in _fields(g.serialize()) if f == 1)
            n.op, n.inputs, n.attr = "Const", [], parse_graphdef(_f_bytes(1, node))[0].attr
            new[n.name] = node
            changed = True
    out, k = bytearray(), 0
    for f, _, v in _fields(data):
        if f == 1:
            v = new.get(nodes[k].name, v)
            k += 1
        out += _f_bytes(f, bytes(v))
    return bytes(out), nodes, len(new)


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
        soft = [n for n in nodes if n.op == "Softmax"]
        logits = soft[0].inputs[0] if soft else None
        dims = next(n for n in nodes if n.name == inp).attr["shape"][1]
        x = np.random.default_rng(11).uniform(0, scale, [2] + dims[1:]).astype(np.float32)
        try:
            want = run_opencv(cvpb, [(inp, x)], [out])[0]
            want_logits = None
            for cand in ([logits, logits[:-len("BiasAdd")] + "MatMul"] if logits.endswith("/BiasAdd") else [logits]):
                try:  # OpenCV drops Identity nodes: name the Softmax itself
                    want_logits = run_opencv(cvpb, [(inp, x)], [soft[0].name, cand])[1]
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
