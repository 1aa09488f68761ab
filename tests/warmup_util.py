"""TensorFlow Serving's SavedModel warm-up files, written by hand.

A warm-up file (VERSION/assets.extra/tf_serving_warmup_requests) is a TFRecord
file of PredictionLog protos.  These helpers encode the few messages it holds
(field numbers as in tensorflow_serving/apis/*.proto and tensorflow's
tensor.proto, example.proto) so that tests and fuzz seeds need no protobuf
library:

    records = [predict_log({"x": tensor_float([1.0, 2.0], [2])}),
               regress_log([example({"x": [2.0]})], signature="regress_x_to_y")]
    open(path, "wb").write(tfrecord(records))
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import _field, _shape  # noqa: E402  (the protobuf wire encoding)


def field(num, data):
    """A length-delimited field."""
    return _field(num, 2, data.encode() if isinstance(data, str) else data)


def field_varint(num, n):
    return _field(num, 0, n)


def tensor_float(values, shape):
    """TensorProto: DT_FLOAT (1), tensor_shape, float_val packed (5)."""
    return field_varint(1, 1) + field(2, _shape(shape)) + field(5, struct.pack("<%df" % len(values), *values))


def tensor_string(values):
    """TensorProto: DT_STRING (7), shape [len(values)], string_val (8)."""
    return field_varint(1, 7) + field(2, _shape([len(values)])) + b"".join(field(8, v) for v in values)


def example(features):
    """tf.Example of float features: {name: [floats]}."""
    entries = b"".join(
        field(1, field(1, k) + field(2, field(2, field(1, struct.pack("<%df" % len(v), *v)))))
        for k, v in features.items())
    return field(1, entries)


def model_spec(name="m", signature=""):
    return field(1, field(1, name) + (field(3, signature) if signature else b""))


def predict_log(inputs, signature=""):
    """PredictionLog { predict_log (6) { request { model_spec, inputs map } } }."""
    req = model_spec(signature=signature) + b"".join(field(2, field(1, k) + field(2, t)) for k, t in inputs.items())
    return field(6, field(1, req))


def _input(examples, context=None):
    if context is None:
        return field(1, b"".join(field(1, e) for e in examples))
    return field(2, b"".join(field(1, e) for e in examples) + field(2, context))


def classify_log(examples, signature="", context=None):
    return field(2, field(1, model_spec(signature=signature) + field(2, _input(examples, context))))


def regress_log(examples, signature="", context=None):
    return field(3, field(1, model_spec(signature=signature) + field(2, _input(examples, context))))


def multi_inference_log(tasks, examples):
    """tasks: [(signature, method_name)]."""
    req = b"".join(field(1, model_spec(signature=s) + field(2, m)) for s, m in tasks) + field(2, _input(examples))
    return field(4, field(1, req))


def session_run_log():
    return field(5, b"")


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_T = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(records):
    out = bytearray()
    for r in records:
        n = struct.pack("<Q", len(r))
        out += n + struct.pack("<I", masked_crc(n)) + r + struct.pack("<I", masked_crc(r))
    return bytes(out)
