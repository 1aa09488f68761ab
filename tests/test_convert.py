# frost-test-labels: asan
"""frost convert on small hand-made TensorFlow.js models.

Each model is written from numpy (tests/tfjs_models.py) as float32 and as
uint8 / uint16 / float16 quantized weights, converted with `frost convert`,
run with `frost run`, and compared with a numpy implementation of the layers
computed from the dequantized weights (TensorFlow's padding and pooling
rules).  OpenCV DNN, which reads TensorFlow frozen graphs, is a second
independent check of the converted graphs.  Bad models must fail with exit
status 1 and a message naming the problem.
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tfjs_models import LayersModel, Weights, b64, graph_model  # noqa: E402
from checks import check, summary  # noqa: E402

FROST = os.environ.get("FROST_BIN", "build/frost")
TMP = os.environ.get("FROST_TMP", "/tmp/frost_test_convert")
os.makedirs(TMP, exist_ok=True)
TOL = 1e-4


# ---- numpy reference (NHWC, TensorFlow semantics) ---------------------------

def pad_same(n, k, s, d=1):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return out, total // 2, total - total // 2


def windows(x, kh, kw, s, padding, d=1, fill=0.0):
    """Returns (patches [N,OH,OW,kh,kw,C], valid mask [OH,OW,kh,kw])."""
    n, h, w, c = x.shape
    if padding == "SAME":
        oh, pt, pb = pad_same(h, kh, s, d)
        ow, pl, pr = pad_same(w, kw, s, d)
    else:
        oh, ow = (h - (kh - 1) * d - 1) // s + 1, (w - (kw - 1) * d - 1) // s + 1
        pt = pb = pl = pr = 0
    xp = np.full((n, h + pt + pb, w + pl + pr, c), fill, np.float64)
    xp[:, pt:pt + h, pl:pl + w] = x
    mask = np.zeros((h + pt + pb, w + pl + pr))
    mask[pt:pt + h, pl:pl + w] = 1
    pat = np.zeros((n, oh, ow, kh, kw, c))
    m = np.zeros((oh, ow, kh, kw))
    for i in range(kh):
        for j in range(kw):
            ys, xs = i * d, j * d
            pat[:, :, :, i, j] = xp[:, ys:ys + s * oh:s, xs:xs + s * ow:s]
            m[:, :, i, j] = mask[ys:ys + s * oh:s, xs:xs + s * ow:s]
    return pat, m


def conv2d(x, k, s=1, padding="VALID", d=1):
    pat, _ = windows(x, k.shape[0], k.shape[1], s, padding, d)
    return np.einsum("nhwijc,ijco->nhwo", pat, k)


def depthwise(x, k, s=1, padding="VALID"):
    pat, _ = windows(x, k.shape[0], k.shape[1], s, padding)
    y = np.einsum("nhwijc,ijcm->nhwcm", pat, k)
    return y.reshape(y.shape[:3] + (-1,))  # channel c * multiplier + m


def maxpool(x, k, s, padding):
    pat, _ = windows(x, k, k, s, padding, fill=-np.inf)
    return pat.max(axis=(3, 4))


def avgpool(x, k, s, padding):
    pat, m = windows(x, k, k, s, padding)
    return pat.sum(axis=(3, 4)) / m.sum(axis=(2, 3))[None, :, :, None]


def batchnorm(x, mean, var, beta, gamma, eps):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


relu = lambda x: np.maximum(x, 0)  # noqa: E731
relu6 = lambda x: np.clip(x, 0, 6)  # noqa: E731


# ---- running ---------------------------------------------------------------

def convert(model_json, pb, *extra):
    r = subprocess.run([FROST, "convert", model_json, "-o", pb, "--quiet", *extra], capture_output=True, text=True)
    return r.returncode, r.stderr


def frost_run(pb, inp, x, n_out):
    xf, yf = os.path.join(TMP, "x.f32"), os.path.join(TMP, "y.f32")
    x.astype("<f4").tofile(xf)
    if os.path.exists(yf):
        os.remove(yf)
    r = subprocess.run([FROST, "run", pb, "--input", "%s=%s" % (inp, xf), "--out", yf, "--quiet"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        return None
    return np.fromfile(yf, "<f4").reshape(x.shape[0], n_out)


def opencv_run(pb, x):
    code = ("import cv2, numpy as np, sys\n"
            "x = np.load(sys.argv[2])\n"
            "net = cv2.dnn.readNetFromTensorflow(sys.argv[1])\n"
            "net.setInput(x.transpose(0, 3, 1, 2).copy())\n"
            "np.save(sys.argv[3], net.forward())\n")
    xn, yn = os.path.join(TMP, "cvx.npy"), os.path.join(TMP, "cvy.npy")
    np.save(xn, x.astype(np.float32))
    r = subprocess.run(["/usr/bin/python3", "-c", code, pb, xn, yn], capture_output=True, text=True)
    if r.returncode != 0:
        print("opencv:", r.stderr[-400:])
        return None
    return np.load(yn).reshape(x.shape[0], -1)


def compare(label, got, want):
    if got is None:
        check(False, "%s: no output" % label)
        return
    err = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
    tol = TOL * max(1.0, float(np.abs(want).max()))  # relative for large outputs
    check(err <= tol, "%s: max abs error %.3g > %.3g (shapes %s vs %s)" % (label, err, tol, got.shape, want.shape))
    print("%-44s max abs error %.2e" % (label, err))


# ---- models ----------------------------------------------------------------

def inception_like(quant, flatten):
    """Every layer type of Keras InceptionV3 / MobileNetV2 in one small model."""
    m = LayersModel(quant, seed=1)
    m.add("input_1", "InputLayer", {"batch_input_shape": [None, 9, 9, 3], "dtype": "float32", "sparse": False}, [])
    m.add("pad", "ZeroPadding2D", {"padding": [[0, 1], [0, 1]], "data_format": "channels_last"}, ["input_1"])
    c1 = m.add("conv1", "Conv2D", {"filters": 6, "kernel_size": [3, 3], "strides": [2, 2], "padding": "valid",
                                   "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu",
                                   "use_bias": True},
               ["pad"], [("kernel", m.rand(3, 3, 3, 6)), ("bias", m.rand(6))])
    b1 = m.add("bn1", "BatchNormalization", {"axis": 3, "epsilon": 0.001, "center": True, "scale": False},
               ["conv1"], [("beta", m.rand(6)), ("moving_mean", m.rand(6)),
                           ("moving_variance", m.rand(6, lo=0.2, hi=2.0))])
    dw = m.add("dw", "DepthwiseConv2D", {"kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
                                         "depth_multiplier": 2, "data_format": "channels_last",
                                         "dilation_rate": [1, 1], "activation": "linear", "use_bias": False},
               ["bn1"], [("depthwise_kernel", m.rand(3, 3, 6, 2))])
    b2 = m.add("bn2", "BatchNormalization", {"axis": -1, "epsilon": 0.001, "center": True, "scale": True},
               ["dw"], [("gamma", m.rand(12)), ("beta", m.rand(12)), ("moving_mean", m.rand(12)),
                        ("moving_variance", m.rand(12, lo=0.2, hi=2.0))])
    m.add("relu6", "ReLU", {"max_value": 6, "negative_slope": 0, "threshold": 0}, ["bn2"])
    p1 = m.add("br1", "Conv2D", {"filters": 4, "kernel_size": [1, 1], "strides": [1, 1], "padding": "valid",
                                 "activation": "linear", "use_bias": False}, ["relu6"], [("kernel", m.rand(1, 1, 12, 4))])
    m.add("br2", "MaxPooling2D", {"pool_size": [3, 3], "padding": "same", "strides": [1, 1]}, ["relu6"])
    m.add("br3", "AveragePooling2D", {"pool_size": [3, 3], "padding": "same", "strides": [1, 1]}, ["relu6"])
    m.add("mixed", "Concatenate", {"axis": -1}, ["br1", "br2", "br3"])
    p2 = m.add("proj", "Conv2D", {"filters": 4, "kernel_size": [1, 1], "strides": [1, 1], "padding": "same",
                                  "activation": "linear", "use_bias": True},
               ["mixed"], [("kernel", m.rand(1, 1, 28, 4)), ("bias", m.rand(4))])
    m.add("add", "Add", {}, ["br1", "proj"])
    m.add("act", "Activation", {"activation": "tanh"}, ["add"])
    m.add("pool", "AveragePooling2D", {"pool_size": [2, 2], "padding": "valid", "strides": None}, ["act"])
    m.add("flat", "Flatten", {"data_format": "channels_last"}, ["pool"])
    d1 = m.add("dense_1", "Dense", {"units": 16, "activation": "relu", "use_bias": True},
               ["flat"], [("kernel", m.rand(16, 16)), ("bias", m.rand(16))])
    m.add("drop", "Dropout", {"rate": 0.5}, ["dense_1"])
    d2 = m.add("dense_2", "Dense", {"units": 5, "activation": "softmax", "use_bias": True},
               ["drop"], [("kernel", m.rand(16, 5)), ("bias", m.rand(5))])

    def ref(x):
        x = np.pad(x, [(0, 0), (0, 1), (0, 1), (0, 0)])
        x = relu(conv2d(x, c1["kernel"], 2, "VALID") + c1["bias"])
        x = batchnorm(x, b1["moving_mean"], b1["moving_variance"], b1["beta"], 1.0, 1e-3)
        x = depthwise(x, dw["depthwise_kernel"], 1, "SAME")
        x = relu6(batchnorm(x, b2["moving_mean"], b2["moving_variance"], b2["beta"], b2["gamma"], 1e-3))
        a = conv2d(x, p1["kernel"])
        cat = np.concatenate([a, maxpool(x, 3, 1, "SAME"), avgpool(x, 3, 1, "SAME")], axis=-1)
        x = np.tanh(a + conv2d(cat, p2["kernel"]) + p2["bias"])
        x = avgpool(x, 2, 2, "VALID").reshape(x.shape[0], -1)
        x = relu(x @ d1["kernel"] + d1["bias"])
        return softmax(x @ d2["kernel"] + d2["bias"])

    return m, "input_1", (9, 9, 3), 5, ref


def head_model(quant):
    """GlobalAveragePooling2D, Reshape, SeparableConv2D, LeakyReLU, sigmoid, Dense without bias, BN on rank 2."""
    m = LayersModel(quant, seed=2)
    m.add("in", "InputLayer", {"batch_input_shape": [None, 6, 5, 2], "dtype": "float32"}, [])
    sc = m.add("sep", "SeparableConv2D", {"filters": 3, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                                          "depth_multiplier": 1, "activation": "sigmoid", "use_bias": True},
               ["in"], [("depthwise_kernel", m.rand(3, 3, 2, 1)), ("pointwise_kernel", m.rand(1, 1, 2, 3)),
                        ("bias", m.rand(3))])
    m.add("leaky", "LeakyReLU", {"alpha": 0.1}, ["sep"])
    m.add("gap", "GlobalAveragePooling2D", {}, ["leaky"])
    m.add("re", "Reshape", {"target_shape": [1, -1]}, ["gap"])
    m.add("flat", "Flatten", {}, ["re"])
    d = m.add("dense", "Dense", {"units": 4, "activation": "linear", "use_bias": False},
              ["flat"], [("kernel", m.rand(3, 4))])
    bn = m.add("bn", "BatchNormalization", {"axis": -1, "epsilon": 0.01, "center": True, "scale": True},
               ["dense"], [("gamma", m.rand(4)), ("beta", m.rand(4)), ("moving_mean", m.rand(4)),
                           ("moving_variance", m.rand(4, lo=0.5, hi=1.5))])

    def ref(x):
        y = conv2d(depthwise(x, sc["depthwise_kernel"], 2, "SAME"), sc["pointwise_kernel"]) + sc["bias"]
        y = 1 / (1 + np.exp(-y))
        y = np.maximum(y, 0.1 * y).mean(axis=(1, 2))
        y = y @ d["kernel"]
        return batchnorm(y, bn["moving_mean"], bn["moving_variance"], bn["beta"], bn["gamma"], 0.01)

    return m, "in", (6, 5, 2), 4, ref


def sequential_model(quant, outdir):
    m = LayersModel(quant, seed=3)
    k = m.w.add("conv/kernel", m.rand(2, 2, 1, 2))
    dk = m.w.add("dense/kernel", m.rand(18, 3))
    db = m.w.add("dense/bias", m.rand(3))
    layers = [
        {"class_name": "Conv2D", "config": {"name": "conv", "batch_input_shape": [None, 4, 4, 1], "dtype": "float32",
                                            "filters": 2, "kernel_size": 2, "strides": 1, "padding": "valid",
                                            "activation": "relu6", "use_bias": False}},
        {"class_name": "Flatten", "config": {"name": "flat"}},
        {"class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "sigmoid", "use_bias": True}},
    ]
    os.makedirs(outdir, exist_ok=True)
    model = {"modelTopology": {"class_name": "Sequential", "config": layers, "keras_version": "2.2.4"},
             "weightsManifest": m.w.manifest(m.w.write(outdir, nshards=2))}
    with open(os.path.join(outdir, "model.json"), "w") as f:
        json.dump(model, f)

    def ref(x):
        y = relu6(conv2d(x, k)).reshape(x.shape[0], -1)
        return 1 / (1 + np.exp(-(y @ dk + db)))

    return os.path.join(outdir, "model.json"), "conv_input", (4, 4, 1), 3, ref


def fused_graph_model(quant, outdir):
    """A graph model with the fused ops of TF's grappler and the TF.js converter."""
    w = Weights(quant)
    rng = np.random.default_rng(4)
    r = lambda *s: rng.uniform(-1, 1, s).astype(np.float32)  # noqa: E731
    P = "net/"
    vals = {n: w.add(P + n, a) for n, a in [
        ("mul_y", np.array(2.0, np.float32)), ("sub_y", np.array(1.0, np.float32)),
        ("conv_w", r(3, 3, 3, 4)), ("conv_b", r(4)),
        ("dw_w", r(3, 3, 4, 1)), ("dw_b", r(4)),
        ("pw_w", r(1, 1, 4, 4)), ("bn_s", r(4)), ("bn_o", r(4)), ("bn_m", r(4)), ("bn_v", rng.uniform(0.5, 2, 4)),
        ("fc_w", r(4, 3)), ("fc_b", r(3))]}

    def const(n):
        return {"name": P + n, "op": "Const", "attr": {
            "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": str(d)} for d in np.shape(vals[n])]}}},
            "dtype": {"type": "DT_FLOAT"}}}

    T = {"T": {"type": "DT_FLOAT"}}
    ints = lambda *v: {"list": {"i": [str(i) for i in v]}}  # noqa: E731
    conv_attr = dict(T, strides=ints(1, 2, 2, 1), padding={"s": b64("SAME")}, data_format={"s": b64("NHWC")},
                     dilations=ints(1, 1, 1, 1), use_cudnn_on_gpu={"b": True}, explicit_paddings={"list": {}})
    nodes = [{"name": "input", "op": "Placeholder", "attr": {
        "shape": {"shape": {"dim": [{"size": "-1"}, {"size": "7"}, {"size": "7"}, {"size": "3"}]}},
        "dtype": {"type": "DT_FLOAT"}}}]
    nodes += [const(n) for n in vals]
    nodes += [
        {"name": P + "mul", "op": "Mul", "input": [P + "mul_y", "input"], "attr": T},
        {"name": P + "sub", "op": "Sub", "input": [P + "mul", P + "sub_y"], "attr": T},
        {"name": P + "conv/Relu6", "op": "_FusedConv2D", "input": [P + "sub", P + "conv_w", P + "conv_b"],
         "device": "/device:CPU:0",
         "attr": dict(conv_attr, num_args={"i": "1"}, epsilon={"f": 0},
                      fused_ops={"list": {"s": [b64("BiasAdd"), b64("Relu6")]}})},
        {"name": P + "dw/Relu", "op": "FusedDepthwiseConv2dNative", "input": [P + "conv/Relu6", P + "dw_w", P + "dw_b"],
         "attr": dict(T, strides=ints(1, 1, 1, 1), padding={"s": b64("SAME")}, data_format={"s": b64("NHWC")},
                      dilations=ints(1, 1, 1, 1), num_args={"i": "1"},
                      fused_ops={"list": {"s": [b64("BiasAdd"), b64("Relu")]}})},
        {"name": P + "pw/bn", "op": "_FusedConv2D",
         "input": [P + "dw/Relu", P + "pw_w", P + "bn_s", P + "bn_o", P + "bn_m", P + "bn_v"],
         "attr": dict(conv_attr, strides=ints(1, 1, 1, 1), padding={"s": b64("VALID")}, num_args={"i": "4"},
                      epsilon={"f": 0.001}, fused_ops={"list": {"s": [b64("FusedBatchNorm")]}})},
        {"name": P + "add", "op": "AddV2", "input": [P + "pw/bn", P + "conv/Relu6"], "attr": T},
        {"name": P + "pool", "op": "AvgPool", "input": [P + "add"],
         "attr": dict(T, ksize=ints(1, 4, 4, 1), strides=ints(1, 1, 1, 1), padding={"s": b64("VALID")},
                      data_format={"s": b64("NHWC")})},
        {"name": P + "squeeze", "op": "Squeeze", "input": [P + "pool"], "attr": dict(T, squeeze_dims=ints(1, 2))},
        {"name": P + "fc/BiasAdd", "op": "_FusedMatMul", "input": [P + "squeeze", P + "fc_w", P + "fc_b"],
         "attr": dict(T, transpose_a={"b": False}, transpose_b={"b": False}, num_args={"i": "1"}, epsilon={"f": 0},
                      fused_ops={"list": {"s": [b64("BiasAdd")]}})},
        {"name": P + "softmax", "op": "Softmax", "input": [P + "fc/BiasAdd"], "attr": T},
        {"name": "Identity", "op": "Identity", "input": [P + "softmax"], "attr": T},
    ]
    sig = {"inputs": {"input:0": {"name": "input:0"}}, "outputs": {"Identity:0": {"name": "Identity:0"}}}
    path = graph_model(outdir, nodes, w, sig)
    v = vals

    def ref(x):
        y = x * v["mul_y"] - v["sub_y"]
        a = relu6(conv2d(y, v["conv_w"], 2, "SAME") + v["conv_b"])
        y = relu(depthwise(a, v["dw_w"], 1, "SAME") + v["dw_b"])
        y = batchnorm(conv2d(y, v["pw_w"]), v["bn_m"], v["bn_v"], v["bn_o"], v["bn_s"], 1e-3) + a
        y = y.mean(axis=(1, 2))
        return softmax(y @ v["fc_w"] + v["fc_b"])

    return path, "input", (7, 7, 3), 3, ref


# ---- tests -----------------------------------------------------------------

def run_case(label, path, inp, shape, n_out, ref, extra=(), opencv=True):
    pb = os.path.join(TMP, label + ".pb")
    rc, err = convert(path, pb, *extra)
    check(rc == 0, "%s: convert failed: %s" % (label, err.strip()))
    if rc:
        return
    x = np.random.default_rng(7).uniform(0, 1, (2,) + shape).astype(np.float32)
    want = ref(x.astype(np.float64))
    compare(label + " frost", frost_run(pb, inp, x, n_out), want)
    if opencv:
        compare(label + " opencv", opencv_run(pb, x), want)


def error_case(label, path, needle, *extra):
    rc, err = convert(path, os.path.join(TMP, "bad.pb"), *extra)
    ok = rc == 1 and needle in err
    check(ok, "%s: expected exit 1 with '%s', got %d: %s" % (label, needle, rc, err.strip()))
    if ok:
        print("%-44s error as expected: %s" % (label, err.strip().splitlines()[0][:110]))


def main():
    for quant in (None, "uint8", "uint16", "float16"):
        q = quant or "float32"
        for flatten in ("keras", "reshape"):
            m, inp, shape, n, ref = inception_like(quant, flatten)
            run_case("layers_%s_flatten_%s" % (q, flatten), m.save(os.path.join(TMP, "inc_" + q)), inp, shape, n, ref,
                     ("--flatten", flatten))
        m, inp, shape, n, ref = head_model(quant)
        run_case("head_" + q, m.save(os.path.join(TMP, "head_" + q)), inp, shape, n, ref)
        run_case("sequential_" + q, *sequential_model(quant, os.path.join(TMP, "seq_" + q)))
        run_case("graph_fused_" + q, *fused_graph_model(quant, os.path.join(TMP, "graph_" + q)))

    # float16 edge values: subnormals (columns 0 and 1 hold only those), the
    # largest half, negative zero; compared element-wise relative to the value
    m = LayersModel("float16")
    m.add("x", "InputLayer", {"batch_input_shape": [None, 4], "dtype": "float32"}, [])
    k = np.array([[6e-8, 1e-5, 65504, 1], [-0.0, 3e-6, 1 / 3, 2], [1e-7, -6e-8, -65504, 3], [0, 2e-7, 7.0, 4]],
                 np.float32)
    d = m.add("dense", "Dense", {"units": 4, "activation": "linear", "use_bias": False}, ["x"], [("kernel", k)])
    p = m.save(os.path.join(TMP, "f16"))
    pb = os.path.join(TMP, "f16.pb")
    rc, err = convert(p, pb)
    check(rc == 0, "float16 edges: convert failed: " + err)
    x = np.random.default_rng(8).uniform(0.5, 1, (3, 4)).astype(np.float32)
    want = x.astype(np.float64) @ d["kernel"].astype(np.float64)
    got = frost_run(pb, "x", x, 4)
    rel = float((np.abs(got - want) / np.abs(want)).max()) if got is not None else float("inf")
    check(rel <= 1e-4 and np.abs(want[:, :2]).max() < 1e-4, "float16 edges: max relative error %.3g" % rel)
    print("%-44s max relative error %.2e" % ("dense_float16_edges frost", rel))

    # labels
    path = os.path.join(TMP, "seq_float32", "model.json")
    lab = os.path.join(TMP, "labels.txt")
    rc, err = convert(path, os.path.join(TMP, "l.pb"), "--labels", lab, "--class-names", "cat,dog,bird")
    check(rc == 0 and open(lab).read() == "cat\ndog\nbird\n", "--labels --class-names: %d %s" % (rc, err))
    error_case("labels without class names", path, "--class-names", "--labels", lab)

    # errors name the problem
    m = LayersModel()
    m.add("input_1", "InputLayer", {"batch_input_shape": [None, 4, 4, 3]}, [])
    m.add("lstm_7", "LSTM", {"units": 3}, ["input_1"])
    m.add("up_1", "UpSampling2D", {"size": [2, 2]}, ["lstm_7"])
    p = m.save(os.path.join(TMP, "bad_layer"))
    error_case("unsupported layers", p, "LSTM (layer 'lstm_7')")
    error_case("unsupported layers (all named)", p, "UpSampling2D (layer 'up_1')")

    m = LayersModel()
    m.add("input_1", "InputLayer", {"batch_input_shape": [None, 4, 4, 3]}, [])
    m.add("c", "Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same", "use_bias": False}, ["input_1"],
          [("kernel", m.rand(3, 3, 3, 5))])
    error_case("kernel shape mismatch", m.save(os.path.join(TMP, "bad_shape")), "weight 'c/kernel' has shape [3,3,3,5]")

    m = LayersModel()
    m.add("input_1", "InputLayer", {"batch_input_shape": [None, 4, 4, 3]}, [])
    m.add("c", "Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same", "use_bias": True}, ["input_1"],
          [("kernel", m.rand(3, 3, 3, 2))])
    error_case("missing weight", m.save(os.path.join(TMP, "bad_missing")), "weight 'c/bias' not found")

    m = LayersModel()
    m.add("input_1", "InputLayer", {"batch_input_shape": [None, 4, 4, 3]}, [])
    m.add("a", "Activation", {"activation": "swish"}, ["input_1"])
    error_case("unsupported activation", m.save(os.path.join(TMP, "bad_act")), "activation 'swish'")

    d = os.path.join(TMP, "bad_short")
    m = LayersModel("uint8")
    m.add("input_1", "InputLayer", {"batch_input_shape": [None, 4, 4, 3]}, [])
    m.add("c", "Conv2D", {"filters": 2, "kernel_size": 3, "use_bias": False}, ["input_1"], [("kernel", m.rand(3, 3, 3, 2))])
    p = m.save(d)
    with open(os.path.join(d, "group1-shard1of1.bin"), "r+b") as f:
        f.truncate(20)
    error_case("truncated shard", p, "weight data ends inside 'c/kernel'")
    os.remove(os.path.join(d, "group1-shard1of1.bin"))
    error_case("missing shard", p, "group1-shard1of1.bin")

    w = Weights()
    w.add("alpha", np.ones(3, np.float32))
    nodes = [{"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "alpha", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "p", "op": "Prelu", "input": ["x", "alpha"]}]
    error_case("TF.js-only op", graph_model(os.path.join(TMP, "bad_prelu"), nodes, w), "Prelu (node 'p')")
    nodes = [{"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "f", "op": "_FusedConv2D", "input": ["x", "alpha", "alpha"],
              "attr": {"num_args": {"i": "1"}, "fused_ops": {"list": {"s": [b64("Swish")]}}}}]
    error_case("unsupported fused op", graph_model(os.path.join(TMP, "bad_fused"), nodes, w), "fused op 'Swish'")
    nodes = [{"name": "x", "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "alpha", "op": "Const", "attr": {"dtype": {"type": "DT_FLOAT"}}},
             {"name": "e", "op": "Erf", "input": ["x"], "attr": {"T": {"type": "DT_FLOAT"}}}]
    error_case("op frost cannot run", graph_model(os.path.join(TMP, "bad_erf"), nodes, w), "Erf")

    bad = os.path.join(TMP, "notjson.json")
    with open(bad, "w") as f:
        f.write("{ nope")
    error_case("malformed JSON", bad, "notjson.json")
    error_case("missing file", os.path.join(TMP, "nonexistent.json"), "nonexistent.json")

    return summary()


if __name__ == "__main__":
    sys.exit(main())
