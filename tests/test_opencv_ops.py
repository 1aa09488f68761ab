"""Differential test, op by op: small GraphDefs written by tests/graphgen/tfgraph.py,
run by `frost run` (reference kernels and the default backend) and by OpenCV
DNN's TensorFlow importer on the same random input; outputs must agree within
1e-4 (relative to the output's scale when it exceeds 1; see difftest.py).

4-D inputs go through a 1x1 identity convolution first ("lead"): it is exact
(x * 1 + 0) and tells OpenCV's importer that the tensor is NHWC, which it
otherwise only guesses.  Cases OpenCV 4.6 cannot import are skipped with the
reason printed; frost's own per-op C tests cover those against hand-computed
values.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "graphgen"))
from difftest import Report, Skip, compare, run_frost, run_opencv  # noqa: E402
from tfgraph import DT_FLOAT, A, GraphDef  # noqa: E402
import npref  # noqa: E402

rng = np.random.default_rng(1234)


def rand(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def lead(g, x, c, name="lead"):
    """1x1 identity convolution (exact) marking x as NHWC for OpenCV."""
    w = g.const(name + "/w", np.eye(c, dtype=np.float32).reshape(1, 1, c, c))
    return g.conv2d(name, x, w)


def single(shape, build, lo=-1.0, hi=1.0, use_lead=True, oracle=None):
    """Graph: Placeholder `input` [shape] (-> lead) -> build(g, x) -> output.
    oracle(x) -> the expected output computed with numpy (optional)."""
    g = GraphDef()
    x = g.placeholder("input", shape)
    if use_lead and len(shape) == 4:
        x = lead(g, x, shape[3])
    out = build(g, x)
    data = rand(*shape, lo=lo, hi=hi)
    return g, [("input", data)], [out], (lambda: oracle(data)) if oracle else None


def conv_case(shape, k, cout, **kw):
    def make():
        w = rand(k[0], k[1], shape[3], cout)
        return single(shape, lambda g, x: g.conv2d("conv", x, g.const("w", w), **kw),
                      oracle=lambda x: npref.conv2d(x, w, **kw))
    return make


def depthwise_case(shape, k, mult, **kw):
    def make():
        w = rand(k, k, shape[3], mult)
        return single(shape, lambda g, x: g.depthwise("dw", x, g.const("w", w), **kw),
                      oracle=lambda x: npref.depthwise(x, w, **kw))
    return make


def pool_case(kind, shape, k, s, pad):
    def b(g, x):
        f = g.max_pool if kind == "max" else g.avg_pool
        return f("pool", x, k, s, pad)
    return lambda: single(shape, b, oracle=lambda x: npref.pool(kind, x, k, s, pad))


def binary_case(op, form, shape=(1, 5, 6, 4)):
    """form: 'tensor' (two inputs), 'vector' (const [C]), 'scalar' (const []),
    'splat' (const [C] stored as one float_val)."""
    def make():
        g = GraphDef()
        c = shape[3]
        a = lead(g, g.placeholder("a", list(shape)), c, "lead_a")
        lo = 0.5 if op == "RealDiv" else -1.0
        if form == "tensor":
            b = lead(g, g.placeholder("b", list(shape)), c, "lead_b")
            ins = [("a", rand(*shape)), ("b", rand(*shape, lo=lo, hi=1.5 if op == "RealDiv" else 1.0))]
            kval = ins[1][1]
        else:
            if form == "vector":
                kval = rand(c, lo=lo, hi=1.5)
                v = g.const("k", kval)
            elif form == "scalar":
                kval = np.float32(0.75)
                v = g.const("k", kval)
            else:
                kval = np.full(c, 0.75, np.float32)
                v = g.const("k", np.float32(0.75), shape=[c])
            b = v
            ins = [("a", rand(*shape))]
        f = {"Add": np.add, "AddV2": np.add, "Sub": np.subtract, "Mul": np.multiply, "RealDiv": np.divide,
             "Maximum": np.maximum, "Minimum": np.minimum}[op]
        return g, ins, [g.binary(op, "out", a, b)], lambda: f(ins[0][1].astype(np.float64), kval)
    return make


UNARY = {"Relu": lambda x: np.maximum(x, 0), "Relu6": lambda x: np.clip(x, 0, 6),
         "Sigmoid": lambda x: 1 / (1 + np.exp(-x)), "Tanh": np.tanh, "Sqrt": np.sqrt,
         "Rsqrt": lambda x: 1 / np.sqrt(x)}


def unary_case(op, lo=-3.0, hi=3.0, shape=(1, 4, 5, 3)):
    return lambda: single(list(shape), lambda g, x: g.unary(op, "out", x), lo=lo, hi=hi,
                          oracle=lambda x: UNARY[op](x.astype(np.float64)))


def bias_act_case(act):
    def b(g, x):
        y = g.conv2d("conv", x, g.const("w", rand(3, 3, 4, 6)))
        y = g.bias_add("bias", y, g.const("b", rand(6)))
        return g.unary(act, "act", y) if act else y
    return lambda: single([1, 7, 7, 4], b, lo=-3, hi=3)


def fused_bn_case(version):
    def b(g, x):
        c = 5
        return g.fused_batch_norm("bn", x, g.const("gamma", rand(c, lo=0.5, hi=1.5)), g.const("beta", rand(c)),
                                  g.const("mean", rand(c)), g.const("var", rand(c, lo=0.5, hi=2.0)), 0.001, version)
    return lambda: single([1, 6, 6, 5], b)


def decomposed_bn_case():
    def b(g, x):
        c = 5
        y = g.conv2d("conv", x, g.const("w", rand(3, 3, c, c)))
        v = g.identity("var/read", g.const("var", rand(c, lo=0.5, hi=2.0)))
        m = g.identity("mean/read", g.const("mean", rand(c)))
        be = g.identity("beta/read", g.const("beta", rand(c)))
        r = g.rsqrt("bn/Rsqrt", g.add("bn/add", v, g.const("bn/add/y", np.float32(0.001))))
        y = g.add("bn/add_1", g.mul("bn/mul", y, r), g.sub("bn/sub", be, g.mul("bn/mul_1", m, r)))
        return g.relu("relu", y)
    return lambda: single([1, 6, 6, 5], b)


def concat_case():
    def b(g, x):
        y1 = g.conv2d("c1", x, g.const("w1", rand(1, 1, 3, 4)))
        y2 = g.conv2d("c2", x, g.const("w2", rand(3, 3, 3, 2)))
        y3 = g.max_pool("p", x, 3, 1, "SAME")
        return g.concat("concat", [y1, y2, y3], g.const("axis", np.int32(3)))
    return lambda: single([1, 5, 7, 3], b)


def mean_case(keep):
    def b(g, x):
        return g.mean("mean", x, g.const("axes", np.array([1, 2], np.int32)), keep_dims=keep)
    return lambda: single([1, 6, 5, 7], b)


def matmul_case(transpose_b):
    def make():
        g = GraphDef()
        x = g.placeholder("input", [1, 12])
        w = rand(7, 12) if transpose_b else rand(12, 7)
        y = g.matmul("mm", x, g.const("w", w), transpose_b=transpose_b)
        b = rand(7)
        y = g.bias_add("bias", y, g.const("b", b))
        x = rand(1, 12)
        z = x.astype(np.float64) @ (w.T if transpose_b else w) + b
        return g, [("input", x)], [g.softmax("softmax", y)], lambda: np.exp(z) / np.exp(z).sum()
    return make


def softmax_2d_case():
    def make():
        g = GraphDef()
        x = g.placeholder("input", [1, 1001])
        return g, [("input", rand(1, 1001, lo=-5, hi=5))], [g.softmax("softmax", x)], None
    return make


def reshape_case():
    def b(g, x):
        y = g.conv2d("conv", x, g.const("w", rand(3, 3, 3, 4)))
        return g.reshape("flat", y, g.const("shape", np.array([-1, 5 * 6 * 4], np.int32)))
    return lambda: single([1, 5, 6, 3], b)


def squeeze_case():
    def b(g, x):
        y = g.avg_pool("pool", x, 4, 1, "VALID")
        return g.squeeze("squeeze", y, [1, 2])
    return lambda: single([1, 4, 4, 6], b)


def slim_head_case():
    """AvgPool -> 1x1 conv + BiasAdd -> Squeeze -> Reshape -> Softmax -> Reshape."""
    def b(g, x):
        y = g.avg_pool("pool", x, 5, 2, "VALID")
        y = g.bias_add("logits", g.conv2d("conv", y, g.const("w", rand(1, 1, 8, 11))), g.const("b", rand(11)))
        y = g.squeeze("squeeze", y, [1, 2])
        y = g.reshape("r", y, g.const("r/shape", np.array([-1, 11], np.int32)))
        y = g.softmax("softmax", y)
        return g.reshape("r1", y, g.const("r1/shape", np.array([1, 11], np.int32)))
    return lambda: single([1, 5, 5, 8], b, lo=-3, hi=3)


def expand_dims_case():
    def make():
        g = GraphDef()
        x = g.placeholder("input", [1, 10])
        y = g.expand_dims("expand", x, g.const("dim", np.int32(1)))
        x = rand(1, 10)
        return g, [("input", x)], [y], lambda: x[:, None, :]
    return make


def pad_case(then_conv):
    def b(g, x):
        y = g.pad("pad", x, g.const("paddings", np.array([[0, 0], [1, 2], [2, 1], [0, 0]], np.int32)))
        if then_conv:
            y = g.conv2d("conv", y, g.const("w", rand(3, 3, 3, 4)), strides=2, padding="VALID")
        return y
    return lambda: single([1, 6, 7, 3], b)


def flatten_case(form):
    """Keras Flatten: Shape/StridedSlice/Pack/Reshape, or with Prod (Keras 2.2)."""
    def b(g, x):
        y = g.relu("relu", g.conv2d("conv", x, g.const("w", rand(3, 3, 3, 4)), strides=2))
        shp = g.shape("flatten/Shape", y)
        i32 = lambda n, v: g.const(n, np.array(v, np.int32))  # noqa: E731
        if form == "pack":
            ss = g.strided_slice("flatten/strided_slice", shp, i32("s0", [0]), i32("s1", [1]), i32("s2", [1]),
                                 shrink_axis_mask=1)
            shape = g.pack("flatten/Reshape/shape", [ss, g.const("m1", np.int32(-1))])
        else:
            ss = g.strided_slice("flatten/strided_slice", shp, i32("s0", [1]), i32("s1", [0]), i32("s2", [1]),
                                 end_mask=1)
            pr = g.prod("flatten/Prod", ss, i32("flatten/Const", [0]))
            shape = g.pack("flatten/stack", [g.const("m1", np.int32(-1)), pr])
        y = g.reshape("flatten/Reshape", y, shape)
        return g.matmul("dense", y, g.const("dw", rand(4 * 4 * 4, 5)))
    return lambda: single([1, 8, 8, 3], b)


def cast_case():
    def b(g, x):
        y = g.cast("cast", x, DT_FLOAT, DT_FLOAT)
        return g.relu("relu", y)
    return lambda: single([1, 4, 4, 3], b, oracle=UNARY["Relu"])


def control_case():
    """Identity with a control input on a NoOp: the edge is ignored."""
    def b(g, x):
        g.noop("init")
        y = g.node("Identity", "ident", [x, "^init"], {"T": A.type(DT_FLOAT)})
        return g.relu("relu", y)
    return lambda: single([1, 4, 4, 3], b, oracle=UNARY["Relu"])


CASES = {
    "conv_same_s1_3x3": conv_case([1, 7, 9, 3], (3, 3), 5, padding="SAME"),
    "conv_same_s2_odd": conv_case([1, 7, 7, 3], (3, 3), 4, strides=2, padding="SAME"),
    "conv_same_s2_even": conv_case([1, 8, 8, 3], (3, 3), 4, strides=2, padding="SAME"),
    "conv_same_s2_5x5_odd": conv_case([1, 9, 11, 2], (5, 5), 3, strides=2, padding="SAME"),
    "conv_valid_s2": conv_case([1, 9, 8, 3], (3, 3), 4, strides=2, padding="VALID"),
    "conv_valid_1x7": conv_case([1, 9, 9, 4], (1, 7), 3, padding="VALID"),
    "conv_same_7x1": conv_case([1, 9, 9, 4], (7, 1), 3, padding="SAME"),
    "conv_same_dilation2": conv_case([1, 9, 9, 3], (3, 3), 4, padding="SAME", dilations=2),
    "conv_valid_dilation2": conv_case([1, 9, 9, 3], (3, 3), 4, padding="VALID", dilations=2),
    "conv_explicit_pad": conv_case([1, 6, 7, 3], (3, 3), 4, padding="EXPLICIT", explicit_paddings=(1, 2, 0, 1)),
    "conv_1x1_s2": conv_case([1, 7, 7, 8], (1, 1), 6, strides=2, padding="SAME"),
    "depthwise_m1_same_s1": depthwise_case([1, 7, 7, 4], 3, 1, padding="SAME"),
    "depthwise_m1_same_s2_odd": depthwise_case([1, 7, 7, 4], 3, 1, strides=2, padding="SAME"),
    "depthwise_m2_same": depthwise_case([1, 6, 6, 3], 3, 2, padding="SAME"),
    "depthwise_m2_valid_s2": depthwise_case([1, 9, 9, 3], 3, 2, strides=2, padding="VALID"),
    "maxpool_3x3_s2_valid": pool_case("max", [1, 9, 9, 3], 3, 2, "VALID"),
    "maxpool_3x3_s2_same_odd": pool_case("max", [1, 7, 7, 3], 3, 2, "SAME"),
    "maxpool_3x3_s1_same": pool_case("max", [1, 5, 6, 3], 3, 1, "SAME"),
    "avgpool_3x3_s1_same_border": pool_case("avg", [1, 5, 6, 3], 3, 1, "SAME"),
    "avgpool_3x3_s2_same_odd": pool_case("avg", [1, 7, 7, 3], 3, 2, "SAME"),
    "avgpool_2x2_s2_same_odd": pool_case("avg", [1, 7, 7, 3], 2, 2, "SAME"),
    "avgpool_8x8_valid": pool_case("avg", [1, 8, 8, 5], 8, 2, "VALID"),
    "biasadd": bias_act_case(None),
    "biasadd_relu": bias_act_case("Relu"),
    "biasadd_relu6": bias_act_case("Relu6"),
    "relu": unary_case("Relu"),
    "relu6": unary_case("Relu6", -8, 8),
    "sigmoid": unary_case("Sigmoid"),
    "tanh": unary_case("Tanh"),
    "sqrt": unary_case("Sqrt", 0.1, 4.0),
    "rsqrt": unary_case("Rsqrt", 0.1, 4.0),
    "fused_batch_norm": fused_bn_case(1),
    "fused_batch_norm_v3": fused_bn_case(3),
    "decomposed_batch_norm": decomposed_bn_case(),
    "concat_axis3": concat_case(),
    "mean_keep_dims": mean_case(True),
    "mean_no_keep_dims": mean_case(False),
    "matmul_bias_softmax": matmul_case(False),
    "matmul_transpose_b": matmul_case(True),
    "softmax_1001": softmax_2d_case(),
    "reshape_flatten_nhwc": reshape_case(),
    "squeeze_spatial": squeeze_case(),
    "slim_head": slim_head_case(),
    "expand_dims": expand_dims_case(),
    "pad": pad_case(False),
    "pad_then_conv_valid_s2": pad_case(True),
    "flatten_shape_pack": flatten_case("pack"),
    "flatten_shape_prod": flatten_case("prod"),
    "cast_float": cast_case(),
    "identity_control_edge": control_case(),
}
for _op in ("Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum"):
    for _form in ("tensor", "vector", "scalar", "splat"):
        CASES["%s_%s" % (_op.lower(), _form)] = binary_case(_op, _form)


def main():
    try:
        import cv2  # noqa: F401
    except ImportError:
        print("no OpenCV (python3-opencv) for /usr/bin/python3: skipped")
        return 77
    tmp = os.environ.get("FROST_TMP") or "/tmp"
    only = sys.argv[1:]
    rep = Report()
    for name, make in CASES.items():
        if only and name not in only:
            continue
        g, inputs, outputs, oracle = make()
        pb = os.path.join(tmp, "op_%s.pb" % name)
        g.save(pb)
        try:
            want = run_opencv(pb, inputs, outputs)
        except Skip as e:
            if not oracle:
                rep.skip(name, str(e))
                continue
            print("NOTE  %-44s %s; comparing with the numpy reference" % (name, e))
            want = [oracle()]
        if oracle:
            ok, diff, allowed = compare(want[0], oracle())
            if not ok:
                print("NOTE  %-44s OpenCV differs from the numpy reference of TensorFlow's semantics by %.3g;"
                      " comparing frost with the numpy reference" % (name, diff))
                want = [oracle()]
        for backend in ("reference", "auto"):
            label = "%s [%s]" % (name, backend)
            try:
                got = run_frost(pb, inputs, outputs, backend=backend)
            except RuntimeError as e:
                rep.fail(label, str(e))
                continue
            ok, diff, allowed = compare(got[0], want[0])
            msg = "max|diff| %.3g (allowed %.3g), shape %s" % (diff, allowed, list(np.shape(want[0])))
            (rep.ok if ok else rep.fail)(label, msg)
    return rep.done()


if __name__ == "__main__":
    sys.exit(main())
