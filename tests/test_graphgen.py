"""The GraphDef writer and the model generators of tests/graphgen, checked with
the independent reader in tfgraph.py (no frost involved):
- the generated Inception v3 has exactly the op census, parameter count,
  input, output and node names of inception_v3_2016_08_28_frozen.pb
  (../shared/TF-SEMANTICS.md);
- every generated model is a well-formed DAG whose inputs all exist;
- TensorProto encodings (tensor_content, splat *_val, negative ints) round-trip.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "graphgen"))
import models  # noqa: E402
from tfgraph import GraphDef, census, parse_graphdef, parse_tensor  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402


INCEPTION_V3_CENSUS = {
    "Const": 489, "Identity": 379, "Mul": 188, "Add": 188, "Conv2D": 95, "Sub": 94, "Rsqrt": 94, "Relu": 94,
    "ConcatV2": 15, "AvgPool": 10, "MaxPool": 4, "Reshape": 2, "BiasAdd": 1, "Softmax": 1, "Squeeze": 1,
    "Placeholder": 1,
}


def well_formed(name, nodes, output):
    by = {n.name: n for n in nodes}
    check(len(by) == len(nodes), "%s: node names are unique" % name)
    missing = [(n.name, i) for n in nodes for i in n.inputs if i.lstrip("^").split(":")[0] not in by]
    check(not missing, "%s: every input names a node (%s)" % (name, missing[:3]))
    check(output in by, "%s: output %s exists" % (name, output))
    # acyclic and everything reachable from the output (nothing dangling)
    seen, state = set(), {}
    stack = [(output, 0)]
    cyclic = False
    while stack:
        n, k = stack.pop()
        if k == 0:
            if state.get(n) == 2:
                continue
            if state.get(n) == 1:
                cyclic = True
                continue
            state[n] = 1
            stack.append((n, 1))
            for i in by[n].inputs:
                stack.append((i.lstrip("^").split(":")[0], 0))
        else:
            state[n] = 2
            seen.add(n)
    check(not cyclic, "%s: acyclic" % name)
    dangling = [n.name for n in nodes if n.name not in seen]
    check(not dangling, "%s: every node feeds the output (%s)" % (name, dangling[:3]))
    return by


def test_inception_v3(tmp):
    pb = os.path.join(tmp, "inception_v3.pb")
    info = models.generate("inception_v3", pb, seed=3)
    data = open(pb, "rb").read()
    nodes = parse_graphdef(data)
    hist, params = census(nodes)
    check(hist == INCEPTION_V3_CENSUS, "inception_v3 census %s" % sorted(hist.items()))
    check(params == 23853946, "inception_v3 const parameters %d == 23,853,946" % params)
    check(info["output"] == "InceptionV3/Predictions/Reshape_1", "output name " + info["output"])
    by = well_formed("inception_v3", nodes, info["output"])
    inp = by.get("input")
    check(inp is not None and inp.op == "Placeholder" and inp.attr["shape"][1] == [1, 299, 299, 3],
          "input Placeholder [1,299,299,3]")
    for n in ("InceptionV3/InceptionV3/Conv2d_1a_3x3/Conv2D", "InceptionV3/Conv2d_1a_3x3/weights/read",
              "InceptionV3/InceptionV3/Conv2d_1a_3x3/BatchNorm/batchnorm/Rsqrt",
              "InceptionV3/InceptionV3/Mixed_5c/Branch_1/Conv_1_0c_5x5/Conv2D",
              "InceptionV3/InceptionV3/Mixed_7c/Branch_2/concat", "InceptionV3/InceptionV3/Mixed_7c/concat",
              "InceptionV3/Logits/AvgPool_1a_8x8/AvgPool", "InceptionV3/Logits/Dropout_1b/Identity",
              "InceptionV3/Logits/Conv2d_1c_1x1/BiasAdd", "InceptionV3/Logits/SpatialSqueeze",
              "InceptionV3/Predictions/Softmax"):
        check(n in by, "node %s exists" % n)
    # decomposed batch norm wiring of one layer
    p = "InceptionV3/InceptionV3/Conv2d_2b_3x3/BatchNorm/batchnorm/"
    v = "InceptionV3/Conv2d_2b_3x3/BatchNorm/"
    check(by[p + "add"].inputs == [v + "moving_variance/read", p + "add/y"], "bn add inputs")
    check(abs(float(parse_tensor(by[p + "add/y"].attr["value"][1])) - 0.001) < 1e-9, "bn epsilon 0.001")
    check(by[p + "mul"].inputs == ["InceptionV3/InceptionV3/Conv2d_2b_3x3/Conv2D", p + "Rsqrt"], "bn mul inputs")
    check(by[p + "mul_1"].inputs == [v + "moving_mean/read", p + "Rsqrt"], "bn mul_1 inputs")
    check(by[p + "sub"].inputs == [v + "beta/read", p + "mul_1"], "bn sub inputs")
    check(by[p + "add_1"].inputs == [p + "mul", p + "sub"], "bn add_1 inputs")
    check(by["InceptionV3/InceptionV3/Conv2d_2b_3x3/Relu"].inputs == [p + "add_1"], "relu after add_1")
    # shapes and attributes of a few layers
    c = by["InceptionV3/InceptionV3/Conv2d_1a_3x3/Conv2D"]
    check(c.attr["padding"] == ("s", "VALID") and c.attr["strides"][1]["i"] == [1, 2, 2, 1]
          and c.attr["data_format"] == ("s", "NHWC"), "Conv2d_1a_3x3 VALID stride 2 NHWC")
    w = parse_tensor(by["InceptionV3/Mixed_6b/Branch_1/Conv2d_0b_1x7/weights"].attr["value"][1])
    check(w.shape == (1, 7, 128, 128), "Mixed_6b 1x7 weights shape %s" % (w.shape,))
    ap = by["InceptionV3/Logits/AvgPool_1a_8x8/AvgPool"]
    check(ap.attr["ksize"][1]["i"] == [1, 8, 8, 1] and ap.attr["padding"] == ("s", "VALID"), "head pool 8x8")
    cc = by["InceptionV3/InceptionV3/Mixed_7c/concat"]
    check(cc.attr["N"] == ("i", 4) and len(cc.inputs) == 5, "Mixed_7c concat of 4")
    # as in the real file: Reshape_1's shape is the Const "Predictions/Shape"
    # = [1, 1001] (the logits' static shape at batch 1)
    r1 = by["InceptionV3/Predictions/Reshape_1"]
    check(r1.inputs == ["InceptionV3/Predictions/Softmax", "InceptionV3/Predictions/Shape"], "Reshape_1 inputs")
    check(list(parse_tensor(by["InceptionV3/Predictions/Shape"].attr["value"][1])) == [1, 1001],
          "Predictions/Shape = [1, 1001]")
    check(list(parse_tensor(by["InceptionV3/Predictions/Reshape/shape"].attr["value"][1])) == [-1, 1001],
          "Predictions/Reshape/shape = [-1, 1001]")
    sq = by["InceptionV3/Logits/SpatialSqueeze"]
    check(sq.attr["squeeze_dims"][1]["i"] == [1, 2], "squeeze dims [1, 2]")
    os.remove(pb)


def test_all_models(tmp):
    for name in models.MODELS:
        pb = os.path.join(tmp, name + ".pb")
        info = models.generate(name, pb)
        nodes = parse_graphdef(open(pb, "rb").read())
        well_formed(name, nodes, info["output"])
        hist, params = census(nodes)
        check(params == info["params"], "%s: parameter count %d == %d" % (name, params, info["params"]))
        ops = set(hist)
        if "fused" in name or name.startswith(("mobilenet_v1", "mobilenet_v2", "resnet_v2", "inception_v1")):
            if "decomposed" not in name:
                check(any(o.startswith("FusedBatchNorm") for o in ops), "%s uses FusedBatchNorm" % name)
        if name.startswith("keras"):
            check("FusedBatchNormV3" in ops and "MatMul" in ops, "%s: Keras ops" % name)
        if name == "keras_cnn":
            check({"Shape", "StridedSlice", "Pack"} <= ops, "keras_cnn: Flatten as Shape/StridedSlice/Pack")
        if name == "keras_cnn_prod":
            check("Prod" in ops, "keras_cnn_prod: Flatten with Prod")
        if name.startswith("resnet"):
            check("Pad" in ops and "Mean" in ops, "%s: Pad and Mean" % name)
        if name == "mobilenet_v2":
            check("Relu6" in ops and "Add" in ops and "DepthwiseConv2dNative" in ops, "mobilenet_v2 ops")
        os.remove(pb)
    # MobileNet v1 1.0 224 has 4,253,864 parameters with 1000 classes (Keras'
    # count: weights, biases and the 4 batch-norm vectors of 10,944 channels);
    # the slim graph has 1001 classes: 1024 + 1 more.
    g, info = models.mobilenet_v1(seed=0)
    nodes = parse_graphdef(g.serialize())
    n = sum(parse_tensor(nd.attr["value"][1]).size for nd in nodes
            if nd.op == "Const" and nd.name.endswith(("weights", "biases", "gamma", "beta", "moving_mean",
                                                      "moving_variance")))
    check(n == 4253864 + 1025, "mobilenet_v1 parameters %d == 4,254,889" % n)


def test_tensor_roundtrip():
    g = GraphDef()
    vals = {
        "f32": np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5,
        "i32": np.array([-1, 0, 7, -2147483648], np.int32),
        "i64": np.array([-3, 1 << 40], np.int64),
        "u8": np.array([0, 255, 7], np.uint8),
        "f16": np.array([1.5, -2.0, 65504], np.float16),
    }
    for k, v in vals.items():
        g.const(k, v, dtype=v.dtype)
    g.const("splat", np.float32(0.5), shape=[2, 3])
    g.const("splat_tail", np.array([1, 2, 3, 3, 3], np.float32), splat=True)
    g.const("scalar", np.int32(-4))
    g.const("zeros", np.zeros(4, np.float32), splat=True)
    nodes = {n.name: n for n in parse_graphdef(g.serialize())}
    for k, v in vals.items():
        got = parse_tensor(nodes[k].attr["value"][1])
        check(got.dtype == v.dtype and np.array_equal(got, v), "round trip %s: %s" % (k, got))
    check(np.array_equal(parse_tensor(nodes["splat"].attr["value"][1]), np.full((2, 3), 0.5, np.float32)),
          "splat fills the shape")
    check(np.array_equal(parse_tensor(nodes["splat_tail"].attr["value"][1]), [1, 2, 3, 3, 3]),
          "trailing repeats dropped and restored")
    check(int(parse_tensor(nodes["scalar"].attr["value"][1])) == -4, "negative int32 scalar")
    check(np.array_equal(parse_tensor(nodes["zeros"].attr["value"][1]), np.zeros(4)), "all-zero splat")
    # the splat form really is compact: one float_val for a million elements
    g2 = GraphDef()
    g2.const("big", np.float32(1.0), shape=[1000, 1000])
    check(len(g2.serialize()) < 100, "splat tensors are compact")


def main():
    tmp = os.environ.get("FROST_TMP") or "/tmp"
    test_tensor_roundtrip()
    test_inception_v3(tmp)
    test_all_models(tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
