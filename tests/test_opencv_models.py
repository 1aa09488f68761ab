"""Differential test on whole networks: the generated TF-slim / Keras graphs of
tests/graphgen/models.py (random weights, real structure, including the full
Inception v3 of inception_v3_2016_08_28_frozen.pb) and the real models in
../shared/models, run by `frost run` (reference kernels and the default
backend) and by OpenCV DNN on the same random input in [-1, 1].
Softmax outputs must agree within 1e-4 (absolute), logits within 1e-4 relative
to their scale; also with folding and fusion off (--no-optimize).

    /usr/bin/python3 tests/test_opencv_models.py [MODEL ...]
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "graphgen"))
import models  # noqa: E402
from difftest import TOL, Report, Skip, compare, run_frost, run_opencv  # noqa: E402

REAL = {
    "mobilenet_v1_0.25_128_quant_float": ("input", [1, 128, 128, 3], "MobilenetV1/Predictions/Reshape_1",
                                          "MobilenetV1/Logits/SpatialSqueeze1"),
    "mobilenet_v2_1.0_224_quant_float": ("input", [1, 224, 224, 3], "MobilenetV2/Predictions/Softmax",
                                         "MobilenetV2/Logits/Squeeze1"),
}


# (label, backend, no_optimize[, extra flags, tolerance]): the default
# backend, the reference kernels, and the reference kernels on the graph as
# written (no folding or fusion)
VARIANTS = (("reference", "reference", False), ("auto", "auto", False), ("reference,no-optimize", "reference", True))
# --winograd (frost's F(4x4, 3x3) on the 3x3 stride-1 layers where it pays):
# rounding differs from direct convolution by ~1e-5 relative per layer
WINOGRAD = ("auto,winograd", "auto", False, ("--winograd",), 1e-3)
# --no-winograd: every convolution direct (the default runs 1-D Winograd on
# the 1x7 / 7x1 layers, within the same 1e-4 as "auto")
NO_WINOGRAD = ("auto,no-winograd", "auto", False, ("--no-winograd",), TOL)


def check(rep, name, pb, inp, shape, out, logits=None, variants=VARIANTS):
    """Compares the softmax output and, where OpenCV can give it, the logits
    (relative to their scale): near-uniform probabilities alone would hide
    errors in the logits."""
    x = np.random.default_rng(7).uniform(-1, 1, shape).astype(np.float32)
    inputs = [(inp, x)]
    t0 = time.time()
    outs = [out, logits] if logits else [out]
    # OpenCV fuses a BiasAdd into the MatMul before it: the layer keeps the
    # MatMul's name
    cv_names = [outs]
    if logits and logits.endswith("/BiasAdd"):
        cv_names.append([out, logits[:-len("BiasAdd")] + "MatMul"])
    wants = None
    for names in cv_names:
        try:
            wants = run_opencv(pb, inputs, names)
            break
        except Skip as e:
            err = e
    if wants is None:
        if not logits:
            rep.skip(name, str(err))
            return
        print("NOTE  %-44s logits %s not compared: %s" % (name, logits, err))
        outs = [out]
        try:
            wants = run_opencv(pb, inputs, outs)
        except Skip as e2:
            rep.skip(name, str(e2))
            return
    want = wants[0]
    t_cv = time.time() - t0
    top = float(np.max(want))
    if not 0.0 < top < 0.999:  # the generated weights must give a usable softmax
        rep.fail(name, "OpenCV's output is degenerate (max %.4f): the generator's weights need rescaling" % top)
    for v in variants:
        variant, backend, no_opt = v[:3]
        extra, tol = (v[3], v[4]) if len(v) > 3 else ((), TOL)
        label = "%s [%s]" % (name, variant)
        t0 = time.time()
        try:
            gots = run_frost(pb, inputs, outs, backend=backend, no_optimize=no_opt, extra=extra)
        except RuntimeError as e:
            rep.fail(label, str(e))
            continue
        got = gots[0]
        ok, diff, allowed = compare(got, want, tol)
        if len(outs) > 1:
            lok, ldiff, lallowed = compare(gots[1], wants[1], tol)
            lmsg = "logits max|diff| %.3g (allowed %.3g)" % (ldiff, lallowed)
            (rep.ok if lok else rep.fail)(label + " logits", lmsg)
        same_top = got.size == want.size and int(np.argmax(got)) == int(np.argmax(want))
        msg = "max|diff| %.3g (allowed %.3g), top-1 %s, max prob %.4f, frost %.1fs, opencv %.1fs" % (
            diff, allowed, "same" if same_top else "DIFFERENT", top, time.time() - t0, t_cv)
        (rep.ok if ok else rep.fail)(label, msg)


def main():
    try:
        import cv2  # noqa: F401
    except ImportError:
        print("no OpenCV (python3-opencv) for /usr/bin/python3: skipped")
        return 77
    tmp = os.environ.get("FROST_TMP") or "/tmp"
    only = sys.argv[1:]
    rep = Report()
    for name in models.MODELS:
        if only and name not in only:
            continue
        pb = os.path.join(tmp, "gen_%s.pb" % name)
        info = models.generate(name, pb, seed=1)
        extra = (NO_WINOGRAD,) if name == "inception_v3" else ()  # its 1x7 / 7x1 layers
        check(rep, name, pb, info["input"], info["shape"], info["output"], info["logits"],
              VARIANTS + (WINOGRAD,) + extra)
        os.remove(pb)  # up to 96 MB each
    # batch 3 (the TF-slim graphs with their final Reshape made batch-agnostic)
    for name in ("mobilenet_v2", "inception_v1"):
        if only and name + "_batch3" not in only:
            continue
        pb = os.path.join(tmp, "gen_%s_b3.pb" % name)
        info = models.generate(name, pb, seed=4, batch_agnostic=True)
        check(rep, name + "_batch3", pb, info["input"], [3] + info["shape"][1:], info["output"], info["logits"],
              VARIANTS[:2] + (WINOGRAD,))
        os.remove(pb)
    shared = os.environ.get("FROST_SHARED") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                            "..", "..", "shared")
    for name, (inp, shape, out, logits) in REAL.items():
        if only and name not in only:
            continue
        pb = os.path.join(shared, "models", name + ".pb")
        if not os.path.exists(pb):
            rep.skip(name, "%s not found (no ../shared)" % pb)
            continue
        check(rep, name, pb, inp, shape, out, logits)
    return rep.done()


if __name__ == "__main__":
    sys.exit(main())
