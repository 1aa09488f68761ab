"""Helpers for the frost serve tests: start/stop a server on an ephemeral
loopback port, HTTP calls, and a tiny generated GraphDef with a numpy oracle.

Not a test itself (tests are tests/test_*.py)."""
import atexit
import base64
import http.client
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

import numpy as np

FROST_BIN = os.environ.get("FROST_BIN", "frost")
FROST_TMP = os.environ.get("FROST_TMP", "/tmp")
FROST_SHARED = os.environ.get("FROST_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))

def die_with_parent():
    """In a child before exec: get SIGKILL when the test process dies (even if killed)."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


_failures = []
_checks = [0]


def check(cond, what):
    _checks[0] += 1
    if not cond:
        _failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def done():
    print("%d passed, %d failed" % (_checks[0] - len(_failures), len(_failures)), flush=True)
    sys.exit(1 if _failures else 0)


# ---------------------------------------------------------------- server --

class Client:
    """HTTP calls to 127.0.0.1:port."""

    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None, timeout=60):
        """One request on a fresh connection: (status, parsed JSON or text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            ctype = r.getheader("Content-Type", "")
        finally:
            conn.close()
        if "json" in ctype:
            try:
                return r.status, json.loads(data)
            except ValueError:
                return r.status, data
        return r.status, data.decode("utf-8", "replace")

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_json(self, path, obj, **kw):
        return self.request("POST", path, json.dumps(obj).encode(), {"Content-Type": "application/json"}, **kw)

    def post_image(self, path, data, ctype="image/jpeg", **kw):
        return self.request("POST", path, data, {"Content-Type": ctype}, **kw)

    def raw(self, data, shut_write=False, timeout=10, keep_open=0.0):
        """Send raw bytes on a socket; return what comes back before close/timeout."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        out = b""
        try:
            try:
                s.sendall(data)
            except OSError:
                pass
            if keep_open:
                time.sleep(keep_open)
            if shut_write:
                s.shutdown(socket.SHUT_WR)
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
        except OSError:
            pass
        finally:
            s.close()
        return out

    def metrics(self):
        st, text = self.get("/metrics")
        return text if st == 200 else ""


class Server(Client):
    """frost serve started with --port 0 on 127.0.0.1; killed at exit in any case."""

    def __init__(self, args, startup_timeout=60):
        self.log_path = os.path.join(FROST_TMP, "serve-%d-%d.log" % (os.getpid(), int(time.time() * 1e6)))
        self.log = open(self.log_path, "w")
        cmd = [FROST_BIN, "serve", "--port", "0", "--host", "127.0.0.1"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, preexec_fn=die_with_parent)
        atexit.register(self.kill)
        deadline = time.time() + startup_timeout
        line = b""
        while time.time() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                ch = os.read(self.proc.stdout.fileno(), 1)
                if not ch:
                    break
                line += ch
            elif self.proc.poll() is not None:
                break
        if not line.startswith(b"listening on "):
            self.kill()
            raise RuntimeError("frost serve did not start: %r\n%s" % (line, open(self.log_path).read()))
        self.port = int(line.strip().rsplit(b":", 1)[1])

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Send sig; return the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr(self):
        self.log.flush()
        return open(self.log_path).read()


def metric_values(text, name):
    """{labels string: value} for one metric name in Prometheus text."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, val = line.rpartition(" ")
            out[key[len(name):]] = float(val)
    return out


def b64(data):
    return {"b64": base64.b64encode(data).decode()}


# ------------------------------------------------------- GraphDef writer --

def _varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(num, wire, payload):
    key = _varint((num << 3) | wire)
    if wire == 0:
        return key + _varint(payload)
    if wire == 2:
        return key + _varint(len(payload)) + payload
    raise ValueError(wire)


def _shape(dims):
    return b"".join(_field(2, 2, _field(1, 0, d)) for d in dims)


DT_FLOAT, DT_INT32, DT_UINT8, DT_STRING = 1, 3, 4, 7


def _tensor(arr):
    arr = np.ascontiguousarray(arr)
    dtype = DT_FLOAT if arr.dtype == np.float32 else DT_INT32
    return _field(1, 0, dtype) + _field(2, 2, _shape(arr.shape)) + _field(4, 2, arr.astype("<f4" if dtype == DT_FLOAT else "<i4").tobytes())


def _attr(key, value):
    kind, v = value
    if kind == "type":
        av = _field(6, 0, v)
    elif kind == "shape":
        av = _field(7, 2, _shape(v))
    elif kind == "tensor":
        av = _field(8, 2, _tensor(v))
    elif kind == "b":
        av = _field(5, 0, 1 if v else 0)
    elif kind == "i":
        av = _field(3, 0, v)
    elif kind == "s":
        av = _field(2, 2, v.encode())
    elif kind == "ilist":
        av = _field(1, 2, _field(3, 2, b"".join(_varint(x) for x in v)))
    else:
        raise ValueError(kind)
    return _field(5, 2, _field(1, 2, key.encode()) + _field(2, 2, av))


def _node(name, op, inputs=(), **attrs):
    b = _field(1, 2, name.encode()) + _field(2, 2, op.encode())
    for i in inputs:
        b += _field(3, 2, i.encode())
    for k in sorted(attrs):
        b += _attr(k, attrs[k])
    return _field(1, 2, b)


TINY_H, TINY_W, TINY_CLASSES = 6, 5, 7
_TINY_C = 4


def tiny_model(path, seed=1):
    """A small image classifier, written here as a GraphDef:
    input [-1,6,5,3] -> Conv2D 3x3 VALID (4 filters) -> BiasAdd -> Relu -> Reshape [-1,48]
    -> MatMul [48,7] -> BiasAdd -> Softmax "probs".
    Returns its weights for the numpy oracle tiny_reference()."""
    rng = np.random.RandomState(seed)
    k = (rng.standard_normal((3, 3, 3, _TINY_C)) * 0.3).astype(np.float32)  # HWIO
    kb = (rng.standard_normal(_TINY_C) * 0.1).astype(np.float32)
    n = (TINY_H - 2) * (TINY_W - 2) * _TINY_C
    w = (rng.standard_normal((n, TINY_CLASSES)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(TINY_CLASSES) * 0.1).astype(np.float32)
    g = _node("input", "Placeholder", dtype=("type", DT_FLOAT), shape=("shape", [-1, TINY_H, TINY_W, 3]))
    with open(path, "wb") as f:
        f.write(g + classifier_nodes("input", k, kb, w, b))
    return k, kb, w, b


def classifier_nodes(x, k, kb, w, b, stride=1):
    """The GraphDef nodes of a small classifier on top of the NHWC float
    tensor `x`: Conv2D (HWIO kernel k, VALID, `stride`) -> BiasAdd kb -> Relu
    -> Reshape [-1, rows of w] -> MatMul w -> BiasAdd b -> Softmax "probs"."""
    return b"".join([
        _node("k", "Const", dtype=("type", DT_FLOAT), value=("tensor", k)),
        _node("conv", "Conv2D", [x, "k"], T=("type", DT_FLOAT), strides=("ilist", [1, stride, stride, 1]),
              padding=("s", "VALID"), data_format=("s", "NHWC")),
        _node("kb", "Const", dtype=("type", DT_FLOAT), value=("tensor", kb)),
        _node("conv_bias", "BiasAdd", ["conv", "kb"], T=("type", DT_FLOAT), data_format=("s", "NHWC")),
        _node("relu", "Relu", ["conv_bias"], T=("type", DT_FLOAT)),
        _node("flat_shape", "Const", dtype=("type", DT_INT32), value=("tensor", np.array([-1, w.shape[0]], np.int32))),
        _node("flat", "Reshape", ["relu", "flat_shape"], T=("type", DT_FLOAT), Tshape=("type", DT_INT32)),
        _node("w", "Const", dtype=("type", DT_FLOAT), value=("tensor", w)),
        _node("mm", "MatMul", ["flat", "w"], T=("type", DT_FLOAT), transpose_a=("b", False), transpose_b=("b", False)),
        _node("bias", "Const", dtype=("type", DT_FLOAT), value=("tensor", b)),
        _node("logits", "BiasAdd", ["mm", "bias"], T=("type", DT_FLOAT), data_format=("s", "NHWC")),
        _node("probs", "Softmax", ["logits"], T=("type", DT_FLOAT)),
    ])


def tiny_reference(weights, x):
    """The graph of tiny_model() in float64 numpy."""
    k, kb, w, b = (np.asarray(a, np.float64) for a in weights)
    x = np.asarray(x, np.float64)
    n, h, wd = x.shape[0], TINY_H - 2, TINY_W - 2
    conv = np.zeros((n, h, wd, _TINY_C))
    for dy in range(3):
        for dx in range(3):
            conv += np.einsum("nhwi,io->nhwo", x[:, dy:dy + h, dx:dx + wd, :], k[dy, dx])
    z = np.maximum(conv + kb, 0).reshape(n, -1) @ w + b
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def two_input_model(path):
    """a [-1,3], b [-1,3] -> AddV2 "sum" [-1,3] (no image input)."""
    g = b"".join([
        _node("a", "Placeholder", dtype=("type", DT_FLOAT), shape=("shape", [-1, 3])),
        _node("b", "Placeholder", dtype=("type", DT_FLOAT), shape=("shape", [-1, 3])),
        _node("sum", "AddV2", ["a", "b"], T=("type", DT_FLOAT)),
    ])
    with open(path, "wb") as f:
        f.write(g)


def encode_image(rgb, ext):
    """Encode an HxWx3 RGB uint8 array losslessly (.png / .bmp) with OpenCV."""
    import cv2
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(rgb[:, :, ::-1]))
    assert ok
    return buf.tobytes()
