"""Generators of well-known image classifiers as frozen TensorFlow GraphDefs
with random weights and the node structure of the real exports.

    python3 tests/graphgen/models.py inception_v3 OUT.pb [--seed N]
    python3 tests/graphgen/models.py --list

Every model is written as TensorFlow's freeze_graph writes TF-slim / Keras
graphs: weights as Const + Identity ".../read", batch norm either decomposed
(Add eps, Rsqrt, Mul, Mul, Sub, Add; as in inception_v3_2016_08_28_frozen.pb)
or FusedBatchNorm / FusedBatchNormV3, TF-slim node names.  Weights are
He-scaled and batch-norm statistics near (0, 1) so activations stay O(1) and
the softmax is neither saturated nor flat.
"""
import argparse
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
from tfgraph import A, GraphDef, tensor_proto  # noqa: E402


class Builder:
    """GraphDef plus a random generator and TF-slim layer helpers."""

    def __init__(self, seed, bn="decomposed", bn_scale=False, bn_version=1):
        self.g = GraphDef()
        self.rng = np.random.default_rng(seed)
        self.bn = bn  # "decomposed" or "fused"
        self.bn_scale = bn_scale  # decomposed form: gamma present
        self.bn_version = bn_version  # fused form: 1 (FusedBatchNorm) or 3 (V3)
        self.channels = {}  # node name -> channel count

    def var(self, name, value):
        return self.g.variable(name, np.asarray(value, np.float32))

    def const(self, name, value, dtype=np.int32):
        return self.g.const(name, np.asarray(value, dtype))

    def weights(self, name, kh, kw, cin, cout, gain=1.0):
        std = gain * np.sqrt(2.0 / (kh * kw * cin))
        return self.var(name, self.rng.normal(0, std, (kh, kw, cin, cout)))

    def batch_norm(self, vs, ops, x, c, var_scale=1.0):
        """Inference batch norm of x ([.., c]); vs/ops: variable and op scopes."""
        r = self.rng
        mean = r.normal(0, 0.1, c)
        variance = r.uniform(0.6, 1.4, c) * var_scale
        beta = r.normal(0, 0.1, c)
        gamma = r.uniform(0.8, 1.2, c)
        g = self.g
        if self.bn == "fused":
            if self.bn_scale:
                gm = self.var(vs + "/BatchNorm/gamma", gamma)
            else:  # slim with scale=False feeds a splat Const of ones
                gm = g.const(ops + "/BatchNorm/Const", np.float32(1.0), shape=[c])
            b = self.var(vs + "/BatchNorm/beta", beta)
            m = self.var(vs + "/BatchNorm/moving_mean", mean)
            v = self.var(vs + "/BatchNorm/moving_variance", variance)
            name = ops + "/BatchNorm/FusedBatchNorm" + ("V3" if self.bn_version == 3 else "")
            return g.fused_batch_norm(name, x, gm, b, m, v, 0.001, self.bn_version)
        b = self.var(vs + "/BatchNorm/beta", beta)
        m = self.var(vs + "/BatchNorm/moving_mean", mean)
        v = self.var(vs + "/BatchNorm/moving_variance", variance)
        p = ops + "/BatchNorm/batchnorm/"
        eps = g.const(p + "add/y", np.float32(0.001))
        add = g.add(p + "add", v, eps)
        rs = g.rsqrt(p + "Rsqrt", add)
        if self.bn_scale:
            gm = self.var(vs + "/BatchNorm/gamma", gamma)
            inv = g.mul(p + "mul", rs, gm)
            xm = g.mul(p + "mul_1", x, inv)
            mm = g.mul(p + "mul_2", m, inv)
        else:
            inv = rs
            xm = g.mul(p + "mul", x, inv)
            mm = g.mul(p + "mul_1", m, inv)
        sub = g.sub(p + "sub", b, mm)
        return g.add(p + "add_1", xm, sub)

    def conv(self, vs, ops, x, cout, k, stride=1, padding="SAME", bn=True, act="Relu", biases=False,
             gain=1.0, var_scale=1.0, depthwise=False, rate=1):
        """slim.conv2d / slim.separable_conv2d(num_outputs=None) with
        normalizer_fn=batch_norm (bn=True) or biases (biases=True)."""
        g = self.g
        cin = self.channels[x]
        kh, kw = (k, k) if isinstance(k, int) else k
        if depthwise:
            std = gain * np.sqrt(2.0 / (kh * kw))
            w = self.var(vs + "/depthwise_weights", self.rng.normal(0, std, (kh, kw, cin, 1)))
            y = g.depthwise(ops + "/depthwise", x, w, strides=stride, padding=padding, dilations=rate)
            cout = cin
        else:
            w = self.weights(vs + "/weights", kh, kw, cin, cout, gain)
            y = g.conv2d(ops + "/Conv2D", x, w, strides=stride, padding=padding, dilations=rate)
        if bn:
            y = self.batch_norm(vs, ops, y, cout, var_scale)
        if biases:
            b = self.var(vs + "/biases", self.rng.normal(0, 0.1, cout))
            y = g.bias_add(ops + "/BiasAdd", y, b)
        if act:
            y = g.unary(act, ops + "/" + act, y)
        self.channels[y] = cout
        return y

    def pool(self, kind, name, x, k, stride, padding):
        f = self.g.max_pool if kind == "max" else self.g.avg_pool
        y = f(name, x, k, stride, padding)
        self.channels[y] = self.channels[x]
        return y

    def concat(self, name, xs, axis_name=None):
        axis = self.const((axis_name or name) + "/axis", np.int32(3))
        y = self.g.concat(name, xs, axis)
        self.channels[y] = sum(self.channels[x] for x in xs)
        return y

    def placeholder(self, name, shape):
        x = self.g.placeholder(name, shape)
        self.channels[x] = shape[-1]
        return x

    def slim_head(self, scope, x, classes, pool_k, pool_name="AvgPool_1a", logits_name="Conv2d_1c_1x1",
                  dropout="Dropout_1b", pool_stride=2, squeeze="SpatialSqueeze", preds="Predictions",
                  logits_gain=1.0):
        """AvgPool -> Dropout (Identity) -> 1x1 conv with biases -> squeeze -> softmax."""
        g = self.g
        if pool_k is None:  # global mean (ResNet)
            y = g.mean(scope + "/pool5", x, self.const(scope + "/pool5/reduction_indices", [1, 2]), keep_dims=True)
            self.channels[y] = self.channels[x]
            ls = scope + "/logits"
        else:
            y = self.pool("avg", "%s/Logits/%s/AvgPool" % (scope, pool_name), x, pool_k, pool_stride, "VALID")
            if dropout:
                y = g.identity("%s/Logits/%s/Identity" % (scope, dropout), y)
                self.channels[y] = self.channels[x]
            ls = "%s/Logits/%s" % (scope, logits_name)
        cin = self.channels[y]
        w = self.var(ls + "/weights", self.rng.normal(0, logits_gain / np.sqrt(cin), (1, 1, cin, classes)))
        y = g.conv2d(ls + "/Conv2D", y, w, padding="SAME")
        y = g.bias_add(ls + "/BiasAdd", y, self.var(ls + "/biases", self.rng.normal(0, 0.1, classes)))
        sq = "%s/%s" % (scope, squeeze) if pool_k is None else "%s/Logits/%s" % (scope, squeeze)
        y = g.squeeze(sq, y, [1, 2])
        g.logits = y  # the pre-softmax tensor, for tests
        return self.slim_softmax("%s/%s" % (scope, preds), y, classes)

    def slim_softmax(self, scope, logits, classes, batch=1):
        """slim.softmax: Reshape to 2-D, Softmax, Reshape back (shape folded)."""
        g = self.g
        g.classes = classes
        r = g.reshape(scope + "/Reshape", logits, self.const(scope + "/Reshape/shape", [-1, classes]))
        s = g.softmax(scope + "/Softmax", r)
        return g.reshape(scope + "/Reshape_1", s, self.const(scope + "/Shape", [batch, classes]))


# --------------------------------------------------------------------------
# Inception v3 (TF-slim, inception_v3_2016_08_28_frozen.pb)
# --------------------------------------------------------------------------


def inception_v3(seed=0, bn="decomposed"):
    b = Builder(seed, bn=bn)
    S, V = "InceptionV3/InceptionV3", "InceptionV3"
    x = b.placeholder("input", [1, 299, 299, 3])

    def conv(scope, x, c, k, stride=1, padding="SAME", gain=1.0):
        return b.conv(V + "/" + scope, S + "/" + scope, x, c, k, stride, padding, gain=gain)

    x = conv("Conv2d_1a_3x3", x, 32, 3, 2, "VALID")
    x = conv("Conv2d_2a_3x3", x, 32, 3, 1, "VALID")
    x = conv("Conv2d_2b_3x3", x, 64, 3, 1, "SAME")
    x = b.pool("max", S + "/MaxPool_3a_3x3/MaxPool", x, 3, 2, "VALID")
    x = conv("Conv2d_3b_1x1", x, 80, 1, 1, "VALID")
    x = conv("Conv2d_4a_3x3", x, 192, 3, 1, "VALID")
    x = b.pool("max", S + "/MaxPool_5a_3x3/MaxPool", x, 3, 2, "VALID")

    def avg_branch(m, x, c):
        p = b.pool("avg", "%s/%s/Branch_3/AvgPool_0a_3x3/AvgPool" % (S, m), x, 3, 1, "SAME")
        return conv(m + "/Branch_3/Conv2d_0b_1x1", p, c, 1)

    # 35 x 35
    for m, pool_c, b1_first in (("Mixed_5b", 32, "Conv2d_0a_1x1"), ("Mixed_5c", 64, "Conv2d_0b_1x1"),
                                ("Mixed_5d", 64, "Conv2d_0a_1x1")):
        b0 = conv(m + "/Branch_0/Conv2d_0a_1x1", x, 64, 1)
        b1 = conv(m + "/Branch_1/" + b1_first, x, 48, 1)
        b1 = conv(m + "/Branch_1/" + ("Conv_1_0c_5x5" if m == "Mixed_5c" else "Conv2d_0b_5x5"), b1, 64, 5)
        b2 = conv(m + "/Branch_2/Conv2d_0a_1x1", x, 64, 1)
        b2 = conv(m + "/Branch_2/Conv2d_0b_3x3", b2, 96, 3)
        b2 = conv(m + "/Branch_2/Conv2d_0c_3x3", b2, 96, 3)
        b3 = avg_branch(m, x, pool_c)
        x = b.concat("%s/%s/concat" % (S, m), [b0, b1, b2, b3])
    # 17 x 17
    m = "Mixed_6a"
    b0 = conv(m + "/Branch_0/Conv2d_1a_1x1", x, 384, 3, 2, "VALID")
    b1 = conv(m + "/Branch_1/Conv2d_0a_1x1", x, 64, 1)
    b1 = conv(m + "/Branch_1/Conv2d_0b_3x3", b1, 96, 3)
    b1 = conv(m + "/Branch_1/Conv2d_1a_1x1", b1, 96, 3, 2, "VALID")
    b2 = b.pool("max", "%s/%s/Branch_2/MaxPool_1a_3x3/MaxPool" % (S, m), x, 3, 2, "VALID")
    x = b.concat("%s/%s/concat" % (S, m), [b0, b1, b2])
    for m, c in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        b0 = conv(m + "/Branch_0/Conv2d_0a_1x1", x, 192, 1)
        b1 = conv(m + "/Branch_1/Conv2d_0a_1x1", x, c, 1)
        b1 = conv(m + "/Branch_1/Conv2d_0b_1x7", b1, c, (1, 7))
        b1 = conv(m + "/Branch_1/Conv2d_0c_7x1", b1, 192, (7, 1))
        b2 = conv(m + "/Branch_2/Conv2d_0a_1x1", x, c, 1)
        b2 = conv(m + "/Branch_2/Conv2d_0b_7x1", b2, c, (7, 1))
        b2 = conv(m + "/Branch_2/Conv2d_0c_1x7", b2, c, (1, 7))
        b2 = conv(m + "/Branch_2/Conv2d_0d_7x1", b2, c, (7, 1))
        b2 = conv(m + "/Branch_2/Conv2d_0e_1x7", b2, 192, (1, 7))
        b3 = avg_branch(m, x, 192)
        x = b.concat("%s/%s/concat" % (S, m), [b0, b1, b2, b3])
    # 8 x 8
    m = "Mixed_7a"
    b0 = conv(m + "/Branch_0/Conv2d_0a_1x1", x, 192, 1)
    b0 = conv(m + "/Branch_0/Conv2d_1a_3x3", b0, 320, 3, 2, "VALID")
    b1 = conv(m + "/Branch_1/Conv2d_0a_1x1", x, 192, 1)
    b1 = conv(m + "/Branch_1/Conv2d_0b_1x7", b1, 192, (1, 7))
    b1 = conv(m + "/Branch_1/Conv2d_0c_7x1", b1, 192, (7, 1))
    b1 = conv(m + "/Branch_1/Conv2d_1a_3x3", b1, 192, 3, 2, "VALID")
    b2 = b.pool("max", "%s/%s/Branch_2/MaxPool_1a_3x3/MaxPool" % (S, m), x, 3, 2, "VALID")
    x = b.concat("%s/%s/concat" % (S, m), [b0, b1, b2])
    for m in ("Mixed_7b", "Mixed_7c"):
        second = "Conv2d_0b_3x1" if m == "Mixed_7b" else "Conv2d_0c_3x1"
        b0 = conv(m + "/Branch_0/Conv2d_0a_1x1", x, 320, 1)
        b1 = conv(m + "/Branch_1/Conv2d_0a_1x1", x, 384, 1)
        b1 = b.concat("%s/%s/Branch_1/concat" % (S, m), [conv(m + "/Branch_1/Conv2d_0b_1x3", b1, 384, (1, 3)),
                                                         conv(m + "/Branch_1/" + second, b1, 384, (3, 1))])
        b2 = conv(m + "/Branch_2/Conv2d_0a_1x1", x, 448, 1)
        b2 = conv(m + "/Branch_2/Conv2d_0b_3x3", b2, 384, 3)
        b2 = b.concat("%s/%s/Branch_2/concat" % (S, m), [conv(m + "/Branch_2/Conv2d_0c_1x3", b2, 384, (1, 3)),
                                                         conv(m + "/Branch_2/Conv2d_0d_3x1", b2, 384, (3, 1))])
        b3 = avg_branch(m, x, 192)
        x = b.concat("%s/%s/concat" % (S, m), [b0, b1, b2, b3])
    out = b.slim_head("InceptionV3", x, 1001, 8, pool_name="AvgPool_1a_8x8", logits_gain=1.1)
    return b.g, {"input": "input", "shape": [1, 299, 299, 3], "output": out}


# --------------------------------------------------------------------------
# Inception v1 (TF-slim GoogLeNet; FusedBatchNorm with scale=False: splat ones)
# --------------------------------------------------------------------------


def inception_v1(seed=0, bn="fused"):
    b = Builder(seed, bn=bn)
    S, V = "InceptionV1/InceptionV1", "InceptionV1"
    x = b.placeholder("input", [1, 224, 224, 3])

    def conv(scope, x, c, k, stride=1):
        return b.conv(V + "/" + scope, S + "/" + scope, x, c, k, stride, "SAME")

    x = conv("Conv2d_1a_7x7", x, 64, 7, 2)
    x = b.pool("max", S + "/MaxPool_2a_3x3/MaxPool", x, 3, 2, "SAME")
    x = conv("Conv2d_2b_1x1", x, 64, 1)
    x = conv("Conv2d_2c_3x3", x, 192, 3)
    x = b.pool("max", S + "/MaxPool_3a_3x3/MaxPool", x, 3, 2, "SAME")
    spec = [("Mixed_3b", 64, 96, 128, 16, 32, 32), ("Mixed_3c", 128, 128, 192, 32, 96, 64), "MaxPool_4a_3x3",
            ("Mixed_4b", 192, 96, 208, 16, 48, 64), ("Mixed_4c", 160, 112, 224, 24, 64, 64),
            ("Mixed_4d", 128, 128, 256, 24, 64, 64), ("Mixed_4e", 112, 144, 288, 32, 64, 64),
            ("Mixed_4f", 256, 160, 320, 32, 128, 128), "MaxPool_5a_2x2",
            ("Mixed_5b", 256, 160, 320, 32, 128, 128), ("Mixed_5c", 384, 192, 384, 48, 128, 128)]
    for s in spec:
        if isinstance(s, str):
            k = 2 if s.endswith("2x2") else 3
            x = b.pool("max", "%s/%s/MaxPool" % (S, s), x, k, 2, "SAME")
            continue
        m, c0, c1a, c1b, c2a, c2b, c3 = s
        b0 = conv(m + "/Branch_0/Conv2d_0a_1x1", x, c0, 1)
        b1 = conv(m + "/Branch_1/Conv2d_0b_3x3", conv(m + "/Branch_1/Conv2d_0a_1x1", x, c1a, 1), c1b, 3)
        b2 = conv(m + "/Branch_2/Conv2d_0b_3x3", conv(m + "/Branch_2/Conv2d_0a_1x1", x, c2a, 1), c2b, 3)
        p = b.pool("max", "%s/%s/Branch_3/MaxPool_0a_3x3/MaxPool" % (S, m), x, 3, 1, "SAME")
        b3 = conv(m + "/Branch_3/Conv2d_0b_1x1", p, c3, 1)
        x = b.concat("%s/%s/concat" % (S, m), [b0, b1, b2, b3])
    out = b.slim_head("InceptionV1", x, 1001, 7, pool_name="AvgPool_0a_7x7", logits_name="Conv2d_0c_1x1",
                      dropout="Dropout_0b", pool_stride=1, logits_gain=0.7)
    return b.g, {"input": "input", "shape": [1, 224, 224, 3], "output": out}


# --------------------------------------------------------------------------
# MobileNet v1 (TF-slim, mobilenet_v1_<dm>_<size>_frozen.pb: FusedBatchNorm)
# --------------------------------------------------------------------------


def mobilenet_v1(seed=0, depth_multiplier=1.0, size=224, bn="fused"):
    b = Builder(seed, bn=bn, bn_scale=True)
    S, V = "MobilenetV1/MobilenetV1", "MobilenetV1"
    x = b.placeholder("input", [1, size, size, 3])

    def d(c):
        return max(int(c * depth_multiplier), 8)

    x = b.conv(V + "/Conv2d_0", S + "/Conv2d_0", x, d(32), 3, 2, act="Relu6")
    spec = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (c, s) in enumerate(spec, 1):
        n = "Conv2d_%d_depthwise" % i
        x = b.conv(V + "/" + n, S + "/" + n, x, None, 3, s, act="Relu6", depthwise=True)
        n = "Conv2d_%d_pointwise" % i
        x = b.conv(V + "/" + n, S + "/" + n, x, d(c), 1, act="Relu6")
    k = (size + 31) // 32
    out = b.slim_head("MobilenetV1", x, 1001, k, pool_name="AvgPool_1a", logits_gain=4.5)
    return b.g, {"input": "input", "shape": [1, size, size, 3], "output": out}


# --------------------------------------------------------------------------
# MobileNet v2 (TF-slim, expanded_conv blocks, Relu6, residual Add)
# --------------------------------------------------------------------------


def mobilenet_v2(seed=0, size=224, bn="fused"):
    b = Builder(seed, bn=bn, bn_scale=True)
    S = "MobilenetV2"
    x = b.placeholder("input", [1, size, size, 3])
    x = b.conv(S + "/Conv", S + "/Conv", x, 32, 3, 2, act="Relu6")
    spec = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
            (6, 320, 1, 1)]
    i = 0
    for t, c, n, s in spec:
        for j in range(n):
            stride = s if j == 0 else 1
            sc = S + "/expanded_conv" + ("_%d" % i if i else "")
            inp, cin = x, b.channels[x]
            if t != 1:
                x = b.conv(sc + "/expand", sc + "/expand", x, cin * t, 1, act="Relu6")
            x = b.conv(sc + "/depthwise", sc + "/depthwise", x, None, 3, stride, act="Relu6", depthwise=True)
            # the projection's batch norm gets a larger variance: the residual
            # sum then keeps activations O(1) down the stack
            x = b.conv(sc + "/project", sc + "/project", x, c, 1, act=None, var_scale=4.0 if stride == 1 and
                       cin == c else 1.0)
            if stride == 1 and cin == c:
                y = b.g.add(sc + "/add", x, inp)
                b.channels[y] = c
                x = y
            i += 1
    x = b.conv(S + "/Conv_1", S + "/Conv_1", x, 1280, 1, act="Relu6")
    k = (size + 31) // 32
    out = b.slim_head(S, x, 1001, k, pool_name="AvgPool", logits_name="Conv2d_1c_1x1", dropout=None,
                      pool_stride=1, squeeze="Squeeze", logits_gain=1.1)
    # the pool of slim's MobileNet v2 head is named MobilenetV2/Logits/AvgPool
    return b.g, {"input": "input", "shape": [1, size, size, 3], "output": out}


# --------------------------------------------------------------------------
# ResNet v1 50 / v2 50 (TF-slim: conv2d_same = Pad + VALID conv for stride 2)
# --------------------------------------------------------------------------


def _conv2d_same(b, vs, x, c, k, stride, **kw):
    if stride == 1:
        return b.conv(vs, vs, x, c, k, 1, "SAME", **kw)
    total = k - 1
    beg, end = total // 2, total - total // 2
    scope = vs.rsplit("/", 1)[0]
    pads = b.const(scope + "/Pad/paddings", [[0, 0], [beg, end], [beg, end], [0, 0]])
    p = b.g.pad(scope + "/Pad", x, pads)
    b.channels[p] = b.channels[x]
    return b.conv(vs, vs, p, c, k, stride, "VALID", **kw)


_RESNET50_BLOCKS = [("block1", 64, 3, 2), ("block2", 128, 4, 2), ("block3", 256, 6, 2), ("block4", 512, 3, 1)]


def resnet_v1_50(seed=0, bn="decomposed"):
    b = Builder(seed, bn=bn, bn_scale=True)
    S = "resnet_v1_50"
    x = b.placeholder("input", [1, 224, 224, 3])
    x = _conv2d_same(b, S + "/conv1", x, 64, 7, 2)
    x = b.pool("max", S + "/pool1/MaxPool", x, 3, 2, "SAME")
    for blk, depth, units, stride in _RESNET50_BLOCKS:
        for u in range(1, units + 1):
            s = stride if u == units else 1
            sc = "%s/%s/unit_%d/bottleneck_v1" % (S, blk, u)
            cin = b.channels[x]
            if cin == depth * 4:
                short = x if s == 1 else b.pool("max", sc + "/shortcut/MaxPool", x, 1, s, "VALID")
            else:
                short = b.conv(sc + "/shortcut", sc + "/shortcut", x, depth * 4, 1, s, act=None)
            r = b.conv(sc + "/conv1", sc + "/conv1", x, depth, 1)
            r = _conv2d_same(b, sc + "/conv2", r, depth, 3, s)
            r = b.conv(sc + "/conv3", sc + "/conv3", r, depth * 4, 1, act=None, var_scale=16.0)
            y = b.g.add(sc + "/add", short, r)
            x = b.g.relu(sc + "/Relu", y)
            b.channels[x] = depth * 4
    out = b.slim_head(S, x, 1000, None, squeeze="SpatialSqueeze", preds="predictions", logits_gain=0.5)
    return b.g, {"input": "input", "shape": [1, 224, 224, 3], "output": out}


def resnet_v2_50(seed=0, bn="fused"):
    b = Builder(seed, bn=bn, bn_scale=True)
    S = "resnet_v2_50"
    x = b.placeholder("input", [1, 224, 224, 3])
    x = _conv2d_same(b, S + "/conv1", x, 64, 7, 2, bn=False, act=None, biases=True)
    x = b.pool("max", S + "/pool1/MaxPool", x, 3, 2, "SAME")
    for blk, depth, units, stride in _RESNET50_BLOCKS:
        for u in range(1, units + 1):
            s = stride if u == units else 1
            sc = "%s/%s/unit_%d/bottleneck_v2" % (S, blk, u)
            cin = b.channels[x]
            pre = b.g.relu(sc + "/preact/Relu", b.batch_norm(sc + "/preact", sc + "/preact", x, cin))
            b.channels[pre] = cin
            if cin == depth * 4:
                short = x if s == 1 else b.pool("max", sc + "/shortcut/MaxPool", x, 1, s, "VALID")
            else:
                short = b.conv(sc + "/shortcut", sc + "/shortcut", pre, depth * 4, 1, s, bn=False, act=None,
                               biases=True)
            r = b.conv(sc + "/conv1", sc + "/conv1", pre, depth, 1)
            r = _conv2d_same(b, sc + "/conv2", r, depth, 3, s)
            r = b.conv(sc + "/conv3", sc + "/conv3", r, depth * 4, 1, bn=False, act=None, biases=True, gain=0.3)
            x = b.g.add(sc + "/add", short, r)
            b.channels[x] = depth * 4
    x = b.g.relu(S + "/postnorm/Relu", b.batch_norm(S + "/postnorm", S + "/postnorm", x, b.channels[x],
                                                     var_scale=4.0))
    b.channels[x] = 2048
    out = b.slim_head(S, x, 1001, None, squeeze="SpatialSqueeze", preds="predictions", logits_gain=1.75)
    return b.g, {"input": "input", "shape": [1, 224, 224, 3], "output": out}


# --------------------------------------------------------------------------
# Keras-style frozen graphs (tf.keras Sequential, frozen with
# convert_variables_to_constants_v2: ReadVariableOp became Identity)
# --------------------------------------------------------------------------


def _keras_dense(b, scope, x, cin, cout, act):
    g = b.g
    w = g.identity(scope + "/MatMul/ReadVariableOp", b.g.const(scope + "/kernel",
                   b.rng.normal(0, np.sqrt(2.0 / cin), (cin, cout)).astype(np.float32)))
    bias = g.identity(scope + "/BiasAdd/ReadVariableOp", b.g.const(scope + "/bias",
                      b.rng.normal(0, 0.1, cout).astype(np.float32)))
    y = g.bias_add(scope + "/BiasAdd", g.matmul(scope + "/MatMul", x, w), bias)
    if act:
        y = g.unary(act, scope + "/" + act, y)
    return y


def _keras_conv(b, scope, bn_scope, x, cout, k, stride=1, act="Relu", act_scope=None):
    g = b.g
    cin = b.channels[x]
    w = g.identity(scope + "/Conv2D/ReadVariableOp", g.const(scope + "/kernel", b.rng.normal(
        0, np.sqrt(2.0 / (k * k * cin)), (k, k, cin, cout)).astype(np.float32)))
    y = g.conv2d(scope + "/Conv2D", x, w, strides=stride, padding="SAME")
    bias = g.identity(scope + "/BiasAdd/ReadVariableOp", g.const(scope + "/bias",
                      b.rng.normal(0, 0.1, cout).astype(np.float32)))
    y = g.bias_add(scope + "/BiasAdd", y, bias)
    r = b.rng
    parts = []
    for nm, v in (("gamma", r.uniform(0.8, 1.2, cout)), ("beta", r.normal(0, 0.1, cout)),
                  ("moving_mean", r.normal(0, 0.1, cout)), ("moving_variance", r.uniform(0.6, 1.4, cout))):
        c = g.const(bn_scope + "/" + nm, v.astype(np.float32))
        parts.append(g.identity(bn_scope + "/ReadVariableOp" + ("_%d" % len(parts) if parts else ""), c))
    y = g.fused_batch_norm(bn_scope + "/FusedBatchNormV3", x=y, scale=parts[0], offset=parts[1], mean=parts[2],
                           var=parts[3], epsilon=0.001, version=3)
    y = g.unary(act, (act_scope or scope) + "/" + act, y)
    b.channels[y] = cout
    return y


def keras_cnn(seed=0, flatten="pack"):
    """Conv/BN/ReLU blocks, MaxPool, Flatten (Shape/StridedSlice/Pack/Reshape,
    or the Keras 2.2 form with Prod), Dense/ReLU, Dense/Softmax."""
    b = Builder(seed)
    g = b.g
    S = "sequential"
    x = b.placeholder("input_1", [-1, 32, 32, 3])
    x = _keras_conv(b, S + "/conv2d", S + "/batch_normalization", x, 16, 3, act_scope=S + "/re_lu")
    x = _keras_conv(b, S + "/conv2d_1", S + "/batch_normalization_1", x, 32, 3, 2, act_scope=S + "/re_lu_1")
    x = b.pool("max", S + "/max_pooling2d/MaxPool", x, 2, 2, "VALID")
    f = S + "/flatten/"
    shp = g.shape(f + "Shape", x)
    if flatten == "pack":
        ss = g.strided_slice(f + "strided_slice", shp, b.const(f + "strided_slice/stack", [0]),
                             b.const(f + "strided_slice/stack_1", [1]), b.const(f + "strided_slice/stack_2", [1]),
                             shrink_axis_mask=1)
        pk = g.pack(f + "Reshape/shape", [ss, b.const(f + "Reshape/shape/1", np.int32(-1))])
    else:
        ss = g.strided_slice(f + "strided_slice", shp, b.const(f + "strided_slice/stack", [1]),
                             b.const(f + "strided_slice/stack_1", [0]), b.const(f + "strided_slice/stack_2", [1]),
                             end_mask=1)
        pr = g.prod(f + "Prod", ss, b.const(f + "Const", [0]))
        pk = g.pack(f + "stack", [b.const(f + "stack/0", np.int32(-1)), pr])
    x = g.reshape(f + "Reshape", x, pk)
    x = _keras_dense(b, S + "/dense", x, 8 * 8 * 32, 64, "Relu")
    x = g.logits = _keras_dense(b, S + "/dense_1", x, 64, 10, None)
    out = g.softmax(S + "/dense_1/Softmax", x)
    return g, {"input": "input_1", "shape": [1, 32, 32, 3], "output": out}


def keras_gap(seed=0):
    """Conv/BN/ReLU6 blocks, GlobalAveragePooling2D (Mean over [1, 2]), Dense, Softmax."""
    b = Builder(seed)
    g = b.g
    S = "model"
    x = b.placeholder("input_1", [-1, 48, 48, 3])
    x = _keras_conv(b, S + "/conv1", S + "/bn1", x, 16, 3, 2, act="Relu6", act_scope=S + "/relu1")
    x = _keras_conv(b, S + "/conv2", S + "/bn2", x, 32, 3, 1, act="Relu6", act_scope=S + "/relu2")
    x = _keras_conv(b, S + "/conv3", S + "/bn3", x, 64, 3, 2, act="Relu", act_scope=S + "/relu3")
    x = g.mean(S + "/global_average_pooling2d/Mean", x,
               b.const(S + "/global_average_pooling2d/Mean/reduction_indices", [1, 2]), keep_dims=False)
    x = g.logits = _keras_dense(b, S + "/predictions", x, 64, 20, None)
    out = g.softmax(S + "/predictions/Softmax", x)
    return g, {"input": "input_1", "shape": [1, 48, 48, 3], "output": out}


MODELS = {
    "inception_v3": inception_v3,
    "inception_v3_fused": lambda seed=0: inception_v3(seed, bn="fused"),
    "inception_v1": inception_v1,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v1_025_128": lambda seed=0: mobilenet_v1(seed, 0.25, 128),
    "mobilenet_v1_decomposed": lambda seed=0: mobilenet_v1(seed, bn="decomposed"),
    "mobilenet_v2": mobilenet_v2,
    "resnet_v1_50": resnet_v1_50,
    "resnet_v2_50": resnet_v2_50,
    "resnet_v2_50_decomposed": lambda seed=0: resnet_v2_50(seed, bn="decomposed"),
    "keras_cnn": keras_cnn,
    "keras_cnn_prod": lambda seed=0: keras_cnn(seed, flatten="prod"),
    "keras_gap": keras_gap,
}


def dynamic_batch(g):
    """TF-slim's softmax reshapes its result back to the logits' static shape,
    a Const [1, classes] in graphs frozen at batch 1 (as the real Inception v3);
    frost treats that leading 1 as the batch.  This writes [-1, classes]
    instead, as a graph frozen with a dynamic batch has it."""
    for k, (name, op, inputs, attrs, device) in enumerate(g.nodes):
        if op == "Const" and name.endswith(("Predictions/Shape", "predictions/Shape")):
            attrs["value"] = A.tensor(tensor_proto(np.array([-1, g.classes], np.int32)))


def generate(name, path, seed=0, batch_agnostic=False):
    """Write model `name` to `path`; returns its info dict (input, shape,
    output, logits: the tensor before the softmax)."""
    g, info = MODELS[name](seed=seed)
    if batch_agnostic:
        dynamic_batch(g)
    info["logits"] = getattr(g, "logits", None)
    info["bytes"] = g.save(path)
    info["params"] = g.const_elems
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", nargs="?", choices=sorted(MODELS))
    ap.add_argument("out", nargs="?")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-agnostic", action="store_true",
                    help="TF-slim models: final Reshape to [-1, classes] instead of the [1, classes] of graphs "
                         "frozen at batch 1, so that the graph runs at any batch size")
    ap.add_argument("--list", action="store_true", help="list the models")
    a = ap.parse_args(argv)
    if a.list or not a.model:
        for n in sorted(MODELS):
            print(n)
        return 0
    if not a.out:
        ap.error("OUT.pb is required")
    info = generate(a.model, a.out, a.seed, a.batch_agnostic)
    print("%s: %s  input %s %s  output %s  %d params  %d bytes" % (
        a.model, a.out, info["input"], info["shape"], info["output"], info["params"], info["bytes"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
