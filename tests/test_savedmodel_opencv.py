"""An independent numeric oracle for the SavedModel import: the Keras
classifiers of ../shared/savedmodels/keras are frozen by `frost convert DIR
-o OUT.pb` (the GraphDef that frost loads), the frozen graph is run by OpenCV
DNN, and the SavedModel directory itself by `frost run` (reference kernels
and the default backend) on the same random batch of 2.  Probabilities must
agree within 1e-4, the logits (the Softmax's input) within 1e-4 of their
scale.  TF Serving's half_plus_two models (TF1, TF2, half_plus_three, and a
second signature) go the same way, OpenCV giving 0.5 x + 2 (or + 3).

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
from difftest import Report, Skip, compare, frost_bin, run_frost, run_opencv, tmp_dir  # noqa: E402
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
    if not os.path.isdir(os.path.join(shared, "savedmodels", "keras")) or not os.path.exists(frost_bin()):
        print("../shared/savedmodels/keras or the frost binary is missing: skipped")
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
        try:
            inp, out = convert(sm, pb)
        except RuntimeError as e:
            rep.fail(name, str(e))
            continue
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
    half_plus(rep, shared, d)
    return rep.done()


def convert(sm, pb, *args):
    """`frost convert SM -o PB [args]` -> (input, output) names of the frozen
    graph (its only Placeholder and sink), from what it prints."""
    r = subprocess.run([frost_bin(), "convert", sm, "-o", pb] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise RuntimeError("frost convert failed: " + r.stderr.strip())
    names = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith(("  input ", "  output "))]
    if len(names) != 2:
        raise RuntimeError("frost convert printed %r" % r.stdout)
    return names[0], names[1]


def half_plus(rep, shared, d):
    """TF Serving's half_plus_two / half_plus_three, frozen by frost convert,
    run by OpenCV DNN: y = 0.5 x + 2 (+ 3), the SavedModel's answer in frost."""
    x = np.array([[1.0], [2.0], [5.0]], np.float32)
    for folder, sig, offset in (("saved_model_half_plus_two_cpu", None, 2), ("saved_model_half_plus_two_cpu",
                                                                            "regress_x2_to_y3", 3),
                                ("saved_model_half_plus_three", None, 3),
                                ("saved_model_half_plus_two_tf2_cpu", None, 2)):
        sm = os.path.join(shared, "savedmodels", folder, "00000123")
        label = folder + (" " + sig if sig else "")
        pb = os.path.join(d, label.replace(" ", "_") + ".pb")
        extra = ["--signature", sig] if sig else []
        try:
            inp, out = convert(sm, pb, *extra)
            xin = x.ravel() if folder.endswith("tf2_cpu") else x  # TF2's x is [1]: items of one value
            got_cv = run_opencv(pb, [(inp, xin)], [out])[0].ravel()
            got = run_frost(sm, [(inp, xin)], [out], extra=extra)[0]
        except (RuntimeError, Skip) as e:
            rep.fail(label, str(e))
            continue
        want = 0.5 * x.ravel() + offset
        ok = np.array_equal(got_cv, want) and np.array_equal(got, want)
        (rep.ok if ok else rep.fail)(label, "OpenCV on the frozen graph %s, frost on the SavedModel %s (0.5x+%d)" % (
            got_cv.tolist(), got.tolist(), offset))


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
