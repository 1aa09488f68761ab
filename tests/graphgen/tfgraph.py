"""A dependency-free (numpy only) writer and reader of TensorFlow GraphDefs.

Binary protobuf is written by hand with the field numbers of TensorFlow's
graph.proto / node_def.proto / attr_value.proto / tensor.proto /
tensor_shape.proto (see ../shared/TF-SEMANTICS.md).  The graphs use the
attributes TensorFlow itself writes (T, data_format, padding, strides, ksize,
dilations, keep_dims, ...) so that other importers (OpenCV DNN) read them too.

    g = GraphDef()
    x = g.placeholder("input", [1, 8, 8, 3])
    w = g.const("w", np.ones((3, 3, 3, 4), np.float32))
    y = g.relu("out", g.conv2d("conv", x, w, strides=2, padding="SAME"))
    g.save("model.pb")

parse_graphdef(bytes) reads a GraphDef back (names, ops, inputs, attrs,
tensors), independently of frost, for censuses and checks.
"""
import struct

import numpy as np

# DataType enum
DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_STRING = 1, 2, 3, 4, 5, 6, 7
DT_INT64, DT_BOOL, DT_HALF = 9, 10, 19

_NP_TO_DT = {
    np.dtype(np.float32): DT_FLOAT,
    np.dtype(np.float64): DT_DOUBLE,
    np.dtype(np.int32): DT_INT32,
    np.dtype(np.uint8): DT_UINT8,
    np.dtype(np.int64): DT_INT64,
    np.dtype(np.float16): DT_HALF,
}
_DT_TO_NP = {v: k for k, v in _NP_TO_DT.items()}

# --------------------------------------------------------------------------
# protobuf encoding
# --------------------------------------------------------------------------


def _varint(n):
    n = int(n)
    if n < 0:
        n += 1 << 64  # int64 negative: ten bytes, two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def _f_varint(field, n):
    return _key(field, 0) + _varint(n)


def _f_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return _key(field, 2) + _varint(len(data)) + bytes(data)


def _f_float(field, x):
    return _key(field, 5) + struct.pack("<f", x)


def _f_packed_varints(field, values):
    return _f_bytes(field, b"".join(_varint(v) for v in values))


def _f_packed_floats(field, values):
    return _f_bytes(field, np.asarray(values, "<f4").tobytes())


def shape_proto(dims):
    """TensorShapeProto; dims None = unknown rank, -1 = unknown dimension."""
    if dims is None:
        return _f_varint(3, 1)
    return b"".join(_f_bytes(2, _f_varint(1, d) if d != 0 else b"") for d in dims)


def tensor_proto(value, dtype=None, shape=None, splat=False):
    """TensorProto for a numpy array / scalar.

    splat=False: tensor_content (raw little-endian bytes).
    splat=True:  typed *_val fields with trailing repeats dropped (TensorFlow's
                 compact form: the last value fills the rest of the shape).
    """
    arr = np.asarray(value, dtype=dtype)
    if arr.dtype == np.float64 and dtype is None:
        arr = arr.astype(np.float32)
    if arr.dtype == np.int64 and dtype is None:
        arr = arr.astype(np.int32)
    dt = _NP_TO_DT[arr.dtype]
    dims = list(arr.shape) if shape is None else list(shape)
    out = _f_varint(1, dt) + _f_bytes(2, shape_proto(dims))
    flat = arr.reshape(-1)
    if not splat:
        return out + _f_bytes(4, flat.astype(arr.dtype.newbyteorder("<")).tobytes())
    n = len(flat)
    while n > 1 and flat[n - 1] == flat[n - 2]:
        n -= 1
    vals = flat[:n]
    if n == 0:
        return out
    if dt == DT_FLOAT:
        return out + _f_packed_floats(5, vals)
    if dt in (DT_INT32, DT_UINT8, DT_INT16, DT_INT8):
        return out + _f_packed_varints(7, [int(v) for v in vals])
    if dt == DT_INT64:
        return out + _f_packed_varints(10, [int(v) for v in vals])
    if dt == DT_HALF:
        return out + _f_packed_varints(13, [int(v) for v in vals.view(np.uint16)])
    if dt == DT_DOUBLE:
        return out + _f_bytes(6, vals.astype("<f8").tobytes())
    raise ValueError("splat of %s" % arr.dtype)


class A:
    """AttrValue encoders (each returns the encoded AttrValue message)."""

    @staticmethod
    def s(v):
        return _f_bytes(2, v)

    @staticmethod
    def i(v):
        return _f_varint(3, v)

    @staticmethod
    def f(v):
        return _f_float(4, v)

    @staticmethod
    def b(v):
        return _f_varint(5, 1 if v else 0)

    @staticmethod
    def type(dt):
        return _f_varint(6, dt)

    @staticmethod
    def shape(dims):
        return _f_bytes(7, shape_proto(dims))

    @staticmethod
    def tensor(tp):
        return _f_bytes(8, tp)

    @staticmethod
    def list_i(vals):
        return _f_bytes(1, _f_packed_varints(3, vals) if len(vals) else b"")

    @staticmethod
    def list_f(vals):
        return _f_bytes(1, _f_packed_floats(4, vals) if len(vals) else b"")

    @staticmethod
    def list_s(vals):
        return _f_bytes(1, b"".join(_f_bytes(2, v) for v in vals))

    @staticmethod
    def list_type(vals):
        return _f_bytes(1, _f_packed_varints(6, vals) if len(vals) else b"")


def _pair(v, n=2):
    if isinstance(v, int):
        return [v] * n
    return list(v)


# --------------------------------------------------------------------------
# graph builder
# --------------------------------------------------------------------------


class GraphDef:
    """Builds a GraphDef node by node.  Every op method returns the node name
    (usable as an input of later nodes; "name:1" for other outputs)."""

    def __init__(self, producer=27):
        self.nodes = []  # (name, op, inputs, {attr: encoded AttrValue})
        self.names = set()
        self.producer = producer
        self.const_elems = 0

    # -- generic ---------------------------------------------------------
    def node(self, op, name, inputs=(), attrs=None, device=""):
        if name in self.names:
            raise ValueError("duplicate node name " + name)
        self.names.add(name)
        self.nodes.append((name, op, list(inputs), dict(attrs or {}), device))
        return name

    def serialize(self):
        out = bytearray()
        for name, op, inputs, attrs, device in self.nodes:
            nd = _f_bytes(1, name) + _f_bytes(2, op)
            for i in inputs:
                nd += _f_bytes(3, i)
            if device:
                nd += _f_bytes(4, device)
            for k in sorted(attrs):
                nd += _f_bytes(5, _f_bytes(1, k) + _f_bytes(2, attrs[k]))
            out += _f_bytes(1, nd)
        out += _f_bytes(4, _f_varint(1, self.producer))
        return bytes(out)

    def save(self, path):
        data = self.serialize()
        with open(path, "wb") as f:
            f.write(data)
        return len(data)

    # -- sources ---------------------------------------------------------
    def placeholder(self, name, shape, dtype=DT_FLOAT):
        return self.node("Placeholder", name, [], {"dtype": A.type(dtype), "shape": A.shape(shape)})

    def const(self, name, value, dtype=None, splat=None, shape=None):
        """splat None: as TensorFlow's make_tensor_proto, tensor_content for
        more than one element, typed *_val fields for one element (importers
        such as OpenCV read scalars from *_val only)."""
        arr = np.asarray(value, dtype=dtype)
        if arr.dtype == np.float64 and dtype is None:
            arr = arr.astype(np.float32)
        if arr.dtype == np.int64 and dtype is None:
            arr = arr.astype(np.int32)
        if splat is None:
            splat = arr.size <= 1
        if shape is not None and arr.size == 1 and int(np.prod(shape)) != 1:
            splat = True
        tp = tensor_proto(arr, dtype=arr.dtype, shape=shape, splat=splat)
        self.const_elems += int(np.prod(shape)) if shape is not None else arr.size
        return self.node("Const", name, [], {"dtype": A.type(_NP_TO_DT[arr.dtype]), "value": A.tensor(tp)})

    def variable(self, name, value, splat=None):
        """Const + Identity "/read", as TensorFlow's freeze_graph writes variables."""
        c = self.const(name, value, splat=splat)
        return self.identity(name + "/read", c)

    def identity(self, name, x, dt=DT_FLOAT):
        return self.node("Identity", name, [x], {"T": A.type(dt)})

    def noop(self, name, control=()):
        return self.node("NoOp", name, ["^" + c for c in control])

    # -- convolution and pooling ----------------------------------------
    def conv2d(self, name, x, w, strides=1, padding="SAME", dilations=1, explicit_paddings=None):
        s = _pair(strides)
        d = _pair(dilations)
        attrs = {
            "T": A.type(DT_FLOAT),
            "data_format": A.s("NHWC"),
            "padding": A.s(padding),
            "strides": A.list_i([1, s[0], s[1], 1]),
            "dilations": A.list_i([1, d[0], d[1], 1]),
            "use_cudnn_on_gpu": A.b(True),
        }
        if padding == "EXPLICIT":
            # [[0,0],[top,bottom],[left,right],[0,0]] flattened
            t, b_, l, r = explicit_paddings
            attrs["explicit_paddings"] = A.list_i([0, 0, t, b_, l, r, 0, 0])
        else:
            attrs["explicit_paddings"] = A.list_i([])
        return self.node("Conv2D", name, [x, w], attrs)

    def depthwise(self, name, x, w, strides=1, padding="SAME", dilations=1):
        s = _pair(strides)
        d = _pair(dilations)
        return self.node(
            "DepthwiseConv2dNative",
            name,
            [x, w],
            {
                "T": A.type(DT_FLOAT),
                "data_format": A.s("NHWC"),
                "padding": A.s(padding),
                "strides": A.list_i([1, s[0], s[1], 1]),
                "dilations": A.list_i([1, d[0], d[1], 1]),
            },
        )

    def _pool(self, op, name, x, ksize, strides, padding):
        k = _pair(ksize)
        s = _pair(strides)
        return self.node(
            op,
            name,
            [x],
            {
                "T": A.type(DT_FLOAT),
                "data_format": A.s("NHWC"),
                "padding": A.s(padding),
                "ksize": A.list_i([1, k[0], k[1], 1]),
                "strides": A.list_i([1, s[0], s[1], 1]),
            },
        )

    def max_pool(self, name, x, ksize, strides, padding="VALID"):
        return self._pool("MaxPool", name, x, ksize, strides, padding)

    def avg_pool(self, name, x, ksize, strides, padding="VALID"):
        return self._pool("AvgPool", name, x, ksize, strides, padding)

    def bias_add(self, name, x, b):
        return self.node("BiasAdd", name, [x, b], {"T": A.type(DT_FLOAT), "data_format": A.s("NHWC")})

    def matmul(self, name, a, b, transpose_a=False, transpose_b=False):
        return self.node(
            "MatMul",
            name,
            [a, b],
            {"T": A.type(DT_FLOAT), "transpose_a": A.b(transpose_a), "transpose_b": A.b(transpose_b)},
        )

    # -- element-wise ----------------------------------------------------
    def binary(self, op, name, a, b, dt=DT_FLOAT):
        assert op in ("Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum")
        return self.node(op, name, [a, b], {"T": A.type(dt)})

    def add(self, name, a, b):
        return self.binary("Add", name, a, b)

    def add_v2(self, name, a, b):
        return self.binary("AddV2", name, a, b)

    def sub(self, name, a, b):
        return self.binary("Sub", name, a, b)

    def mul(self, name, a, b):
        return self.binary("Mul", name, a, b)

    def unary(self, op, name, x):
        assert op in ("Rsqrt", "Sqrt", "Relu", "Relu6", "Sigmoid", "Tanh", "Softmax", "Identity")
        return self.node(op, name, [x], {"T": A.type(DT_FLOAT)})

    def relu(self, name, x):
        return self.unary("Relu", name, x)

    def relu6(self, name, x):
        return self.unary("Relu6", name, x)

    def rsqrt(self, name, x):
        return self.unary("Rsqrt", name, x)

    def softmax(self, name, x):
        return self.unary("Softmax", name, x)

    # -- batch norm ------------------------------------------------------
    def fused_batch_norm(self, name, x, scale, offset, mean, var, epsilon=0.001, version=1):
        op = {1: "FusedBatchNorm", 2: "FusedBatchNormV2", 3: "FusedBatchNormV3"}[version]
        attrs = {
            "T": A.type(DT_FLOAT),
            "data_format": A.s("NHWC"),
            "epsilon": A.f(epsilon),
            "is_training": A.b(False),
        }
        if version >= 2:
            attrs["U"] = A.type(DT_FLOAT)
        if version >= 3:
            attrs["exponential_avg_factor"] = A.f(1.0)
        return self.node(op, name, [x, scale, offset, mean, var], attrs)

    # -- shapes and structure --------------------------------------------
    def concat(self, name, values, axis_node):
        return self.node(
            "ConcatV2",
            name,
            list(values) + [axis_node],
            {"T": A.type(DT_FLOAT), "N": A.i(len(values)), "Tidx": A.type(DT_INT32)},
        )

    def mean(self, name, x, axes_node, keep_dims=False):
        return self.node(
            "Mean", name, [x, axes_node], {"T": A.type(DT_FLOAT), "Tidx": A.type(DT_INT32), "keep_dims": A.b(keep_dims)}
        )

    def prod(self, name, x, axes_node, keep_dims=False, dt=DT_INT32):
        return self.node(
            "Prod", name, [x, axes_node], {"T": A.type(dt), "Tidx": A.type(DT_INT32), "keep_dims": A.b(keep_dims)}
        )

    def reshape(self, name, x, shape_node, dt=DT_FLOAT):
        return self.node("Reshape", name, [x, shape_node], {"T": A.type(dt), "Tshape": A.type(DT_INT32)})

    def squeeze(self, name, x, dims):
        return self.node("Squeeze", name, [x], {"T": A.type(DT_FLOAT), "squeeze_dims": A.list_i(dims)})

    def expand_dims(self, name, x, dim_node):
        return self.node("ExpandDims", name, [x, dim_node], {"T": A.type(DT_FLOAT), "Tdim": A.type(DT_INT32)})

    def pad(self, name, x, paddings_node):
        return self.node("Pad", name, [x, paddings_node], {"T": A.type(DT_FLOAT), "Tpaddings": A.type(DT_INT32)})

    def cast(self, name, x, src, dst):
        return self.node("Cast", name, [x], {"SrcT": A.type(src), "DstT": A.type(dst), "Truncate": A.b(False)})

    def shape(self, name, x, out_type=DT_INT32):
        return self.node("Shape", name, [x], {"T": A.type(DT_FLOAT), "out_type": A.type(out_type)})

    def strided_slice(self, name, x, begin, end, strides, begin_mask=0, end_mask=0, ellipsis_mask=0,
                      new_axis_mask=0, shrink_axis_mask=0, dt=DT_INT32):
        return self.node(
            "StridedSlice",
            name,
            [x, begin, end, strides],
            {
                "T": A.type(dt),
                "Index": A.type(DT_INT32),
                "begin_mask": A.i(begin_mask),
                "end_mask": A.i(end_mask),
                "ellipsis_mask": A.i(ellipsis_mask),
                "new_axis_mask": A.i(new_axis_mask),
                "shrink_axis_mask": A.i(shrink_axis_mask),
            },
        )

    def pack(self, name, values, axis=0, dt=DT_INT32):
        return self.node("Pack", name, list(values), {"T": A.type(dt), "N": A.i(len(values)), "axis": A.i(axis)})


# --------------------------------------------------------------------------
# protobuf decoding (a reader independent of frost)
# --------------------------------------------------------------------------


def _read_varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field, wire, value) of one message; value is int or bytes."""
    pos, n = 0, len(buf)
    while pos < n:
        k, pos = _read_varint(buf, pos)
        field, wire = k >> 3, k & 7
        if wire == 0:
            v, pos = _read_varint(buf, pos)
        elif wire == 1:
            v = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            ln, pos = _read_varint(buf, pos)
            v = buf[pos:pos + ln]
            pos += ln
        elif wire == 5:
            v = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("bad wire type %d" % wire)
        yield field, wire, v


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _packed_varints(wire, v):
    if wire == 0:
        return [_signed(v)]
    out, pos = [], 0
    while pos < len(v):
        x, pos = _read_varint(v, pos)
        out.append(_signed(x))
    return out


def parse_shape(buf):
    dims, unknown = [], False
    for f, w, v in _fields(buf):
        if f == 2:
            size = 0
            for f2, w2, v2 in _fields(v):
                if f2 == 1:
                    size = _signed(v2)
            dims.append(size)
        elif f == 3 and v:
            unknown = True
    return None if unknown else dims


def parse_tensor(buf):
    """TensorProto -> numpy array (splat expanded)."""
    dt, dims, content = DT_FLOAT, [], None
    vals = []
    for f, w, v in _fields(buf):
        if f == 1:
            dt = v
        elif f == 2:
            dims = parse_shape(v)
        elif f == 4:
            content = bytes(v)
        elif f == 5:
            vals += list(np.frombuffer(bytes(v), "<f4")) if w == 2 else [struct.unpack("<f", v)[0]]
        elif f in (7, 10, 13):
            vals += _packed_varints(w, v)
    npdt = _DT_TO_NP[dt]
    count = int(np.prod(dims)) if dims else 1
    if content is not None:
        return np.frombuffer(content, npdt.newbyteorder("<")).reshape(dims).astype(npdt)
    if dt == DT_HALF:
        arr = np.array(vals, np.uint16).view(np.float16)
    else:
        arr = np.array(vals, npdt)
    if len(arr) < count:
        fill = arr[-1] if len(arr) else 0
        arr = np.concatenate([arr, np.full(count - len(arr), fill, npdt)])
    return arr.reshape(dims)


def parse_attr(buf):
    for f, w, v in _fields(buf):
        if f == 1:
            lst = {"s": [], "i": [], "f": [], "type": []}
            for f2, w2, v2 in _fields(v):
                if f2 == 2:
                    lst["s"].append(bytes(v2).decode())
                elif f2 == 3:
                    lst["i"] += _packed_varints(w2, v2)
                elif f2 == 4:
                    lst["f"] += list(np.frombuffer(bytes(v2), "<f4")) if w2 == 2 else [struct.unpack("<f", v2)[0]]
                elif f2 == 6:
                    lst["type"] += _packed_varints(w2, v2)
            return ("list", lst)
        if f == 2:
            return ("s", bytes(v).decode())
        if f == 3:
            return ("i", _signed(v))
        if f == 4:
            return ("f", struct.unpack("<f", v)[0])
        if f == 5:
            return ("b", bool(v))
        if f == 6:
            return ("type", v)
        if f == 7:
            return ("shape", parse_shape(v))
        if f == 8:
            return ("tensor", v)
    return ("none", None)


class Node:
    __slots__ = ("name", "op", "inputs", "attr")

    def __repr__(self):
        return "Node(%s %s %s)" % (self.op, self.name, self.inputs)


def parse_graphdef(data):
    """GraphDef bytes -> list of Node (attr: name -> (kind, value); tensors stay
    encoded: use parse_tensor on them)."""
    nodes = []
    for f, w, v in _fields(memoryview(data)):
        if f != 1:
            continue
        nd = Node()
        nd.name, nd.op, nd.inputs, nd.attr = "", "", [], {}
        for f2, w2, v2 in _fields(v):
            if f2 == 1:
                nd.name = bytes(v2).decode()
            elif f2 == 2:
                nd.op = bytes(v2).decode()
            elif f2 == 3:
                nd.inputs.append(bytes(v2).decode())
            elif f2 == 5:
                key, val = "", b""
                for f3, w3, v3 in _fields(v2):
                    if f3 == 1:
                        key = bytes(v3).decode()
                    elif f3 == 2:
                        val = v3
                nd.attr[key] = parse_attr(val)
        nodes.append(nd)
    return nodes


def census(nodes):
    """(op histogram dict, const element count) of parsed nodes."""
    hist, params = {}, 0
    for nd in nodes:
        hist[nd.op] = hist.get(nd.op, 0) + 1
        if nd.op == "Const":
            kind, tp = nd.attr["value"]
            dims = []
            for f, w, v in _fields(tp):
                if f == 2:
                    dims = parse_shape(v)
            params += int(np.prod(dims)) if dims else 1
    return hist, params
