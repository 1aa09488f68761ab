"""Runs a GraphDef with `frost run` and with OpenCV DNN and compares them.

OpenCV's TensorFlow importer takes 4-D inputs as NCHW blobs and gives 4-D
outputs as NCHW; frost is NHWC throughout.  The helpers below hide that.

Tolerance: |frost - opencv| <= tol * max(1, max|opencv|) — an absolute
1e-4 for outputs of magnitude <= 1 (probabilities), relative to the output's
scale for larger ones (float32 sums of thousands of products carry rounding
proportional to their magnitude).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

TOL = 1e-4


class Skip(Exception):
    """OpenCV cannot import or run a graph: the case is skipped, loudly."""


def frost_bin():
    b = os.environ.get("FROST_BIN")
    if b and os.path.exists(b):
        return b
    src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for d in ("build", "build-gen", "build-lead"):
        p = os.path.join(src, d, "frost")
        if os.path.exists(p):
            return p
    sys.exit("FROST_BIN is not set and no built frost was found")


def tmp_dir():
    d = os.environ.get("FROST_TMP")
    if not d:
        d = tempfile.mkdtemp(prefix="frost-diff-")
    os.makedirs(d, exist_ok=True)
    return d


def run_frost(pb, inputs, outputs, backend="auto", no_optimize=False, extra=()):
    """inputs: [(name, NHWC float32 array)], outputs: [name] -> [flat arrays]."""
    d = tmp_dir()
    tag = os.path.splitext(os.path.basename(pb))[0]
    cmd = [frost_bin(), "run", pb, "--quiet", "--backend", backend]
    for k, (name, arr) in enumerate(inputs):
        f = os.path.join(d, "%s.in%d.f32" % (tag, k))
        np.ascontiguousarray(arr, "<f4").tofile(f)
        cmd += ["--input", "%s=%s" % (name, f), "--shape", ",".join(str(s) for s in arr.shape)]
    outs = []
    for k, name in enumerate(outputs):
        f = os.path.join(d, "%s.out%d.f32" % (tag, k))
        if os.path.exists(f):
            os.remove(f)
        cmd += ["--output", name, "--out", f]
        outs.append(f)
    if no_optimize:
        cmd.append("--no-optimize")
    cmd += list(extra)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("frost run failed (exit %d): %s\n  command: %s" % (r.returncode, r.stderr.strip(),
                                                                            " ".join(cmd)))
    return [np.fromfile(f, "<f4") for f in outs]


def run_opencv(pb, inputs, outputs):
    """Same contract as run_frost; 4-D outputs come back NHWC (as arrays)."""
    import cv2

    try:
        net = cv2.dnn.readNetFromTensorflow(pb)
        net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        for name, arr in inputs:
            blob = arr.transpose(0, 3, 1, 2) if arr.ndim == 4 else arr
            if len(inputs) == 1:
                net.setInput(np.ascontiguousarray(blob, np.float32))
            else:
                net.setInput(np.ascontiguousarray(blob, np.float32), name)
        # one output: the last layer (OpenCV fuses e.g. BiasAdd into the
        # convolution, and the fused node's name is then no layer's name)
        res = [net.forward()] if len(outputs) == 1 else net.forward(list(outputs))
    except cv2.error as e:
        msg = str(e).strip().splitlines()
        raise Skip("OpenCV %s cannot run it: %s" % (cv2.__version__, msg[-1] if msg else e))
    return [r.transpose(0, 2, 3, 1) if r.ndim == 4 else r for r in res]


def compare(got, want, tol=TOL):
    """-> (ok, max abs diff, allowed)."""
    want = np.asarray(want, np.float64)
    got = np.asarray(got, np.float64)
    if got.size != want.size:
        return False, float("inf"), 0.0
    got = got.reshape(want.shape)
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    diff = float(np.max(np.abs(got - want))) if want.size else 0.0
    if not np.all(np.isfinite(got)):
        diff = float("inf")
    return diff <= tol * scale, diff, tol * scale


class Report:
    """Counts cases; prints one line each and "N passed, N failed, N skipped"."""

    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def ok(self, name, msg=""):
        self.passed += 1
        print("PASS  %-44s %s" % (name, msg), flush=True)

    def fail(self, name, msg):
        self.failed += 1
        print("FAIL  %-44s %s" % (name, msg), flush=True)

    def skip(self, name, msg):
        self.skipped += 1
        print("SKIP  %-44s %s" % (name, msg), flush=True)

    def done(self):
        print("%d passed, %d failed, %d skipped" % (self.passed, self.failed, self.skipped))
        if self.failed:
            return 1
        return 0 if self.passed else 77
