#!/usr/bin/python3
"""Accuracy of `frost quantize` on real models: each model is quantized with a
calibration set and the quantized graph (run by frost in float, with
TensorFlow's FakeQuant semantics and the int8-stored weights dequantized) is
compared with the float model on held-out images that calibration never saw.

Two disjoint photo sets, two folds per model (calibrate on one set, test on
the other, then the other way round), so every photo is a test image once:
  darknet: Debian's darknet photos, /usr/share/darknet/data/*.jpg (7)
  shared:  ../shared/images (grace_hopper.jpg / .bmp, cat, bird, dragonfly)
Models and their preprocessing (`frost classify` flags):
  nsfw_inception_v3  models/nsfw_inception_v3.pb   --resize align_corners --input_mean 0 --input_std 255
  mobilenet_v1       ../shared/models/mobilenet_v1_0.25_128_quant_float.pb  --input_mean 128 --input_std 128
  mobilenet_v2       ../shared/models/mobilenet_v2_1.0_224_quant_float.pb   --input_mean 128 --input_std 128
Per model and fold: the test images, how many keep the float model's top-1
class (also among those whose float top-1 leads the second class by more
than TIE = 0.01: a near tie may swap under any small error), and the largest
difference of any class's probability.  `frost quantize` runs with its
defaults (per-channel weights, min/max ranges, the input layer float)
plus any --quantize-flag.  Targets
(issue 24): top-1 equal on every test image, max probability difference
<= 0.03; --check exits 1 when one is missed.

  bench/int8_accuracy.py [--models mobilenet_v1,...] [--per-tensor] [--method percentile]
                         [--quantize-flag=--augment ...] [--check] [--json FILE] [-v]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("FROST_SHARED") or os.path.join(SRC, "..", "shared")

MODELS = {
    "nsfw_inception_v3": (os.path.join(SRC, "models", "nsfw_inception_v3.pb"),
                          ["--resize", "align_corners", "--input_mean", "0", "--input_std", "255"]),
    "mobilenet_v1": (os.path.join(SHARED, "models", "mobilenet_v1_0.25_128_quant_float.pb"),
                     ["--input_mean", "128", "--input_std", "128"]),
    "mobilenet_v2": (os.path.join(SHARED, "models", "mobilenet_v2_1.0_224_quant_float.pb"),
                     ["--input_mean", "128", "--input_std", "128"]),
}
TOP1_TARGET, PROB_TARGET = 1.0, 0.03
# A float top-1 that leads the second class by less than this is a near tie:
# a quantization error well under the 0.03 target may swap the two.
TIE = 0.01


def image_sets():
    return {"darknet": sorted(glob.glob("/usr/share/darknet/data/*.jpg")),
            "shared": sorted(glob.glob(os.path.join(SHARED, "images", "*")))}


def flag_dict(flags):
    """classify flags -> frost.Model keyword arguments."""
    kw = {}
    for name, value in zip(flags[::2], flags[1::2]):
        key = name.lstrip("-")
        kw[key] = value if key == "resize" else float(value)
    return kw


def probabilities(frost, graph, flags, images, backend):
    with frost.Model(graph, backend=backend, **flag_dict(flags)) as m:
        n = m.output_size if hasattr(m, "output_size") else None
        res = m.classify(images, top_k=n or 100000)
    out = []
    for preds in res:
        p = [0.0] * len(preds)
        for pr in preds:
            p[pr.index] = pr.score
        out.append(p)
    return out


def quantize(frost_bin, graph, flags, calib, out, per_channel=True, method="minmax", extra=()):
    with tempfile.TemporaryDirectory() as d:
        for i, path in enumerate(calib):  # a directory of the calibration images only
            os.symlink(os.path.abspath(path), os.path.join(d, "%02d_%s" % (i, os.path.basename(path))))
        cmd = [frost_bin, "quantize", graph, "--calibrate", d, "-o", out, "--method", method] + flags
        cmd += list(extra) + ([] if per_channel else ["--per_tensor"])
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(cmd), r.stderr))
        return r.stderr.strip()


def evaluate(frost, frost_bin, name, calib_set, test_set, sets, tmp, per_channel=True, method="minmax",
             backend="auto", extra=()):
    """-> dict: model, fold, images, top1_equal, max_prob_diff, ..."""
    graph, flags = MODELS[name]
    qpb = os.path.join(tmp, "%s_%s_int8.pb" % (name, calib_set))
    summary = quantize(frost_bin, graph, flags, sets[calib_set], qpb, per_channel, method, extra)
    test = sets[test_set]
    fp = probabilities(frost, graph, flags, test, backend)
    q8 = probabilities(frost, qpb, flags, test, backend)
    rows = []
    for path, a, b in zip(test, fp, q8):
        ta, tb = max(range(len(a)), key=a.__getitem__), max(range(len(b)), key=b.__getitem__)
        rows.append({"image": os.path.basename(path), "top1_fp32": ta, "top1_int8": tb,
                     "p_fp32": a[ta], "p_int8": b[ta], "margin_fp32": a[ta] - sorted(a)[-2],
                     "max_prob_diff": max(abs(x - y) for x, y in zip(a, b))})
    return {"model": name, "calibrated_on": calib_set, "tested_on": test_set, "images": len(rows),
            "calibration_images": len(sets[calib_set]), "quantize": summary,
            "top1_equal": sum(r["top1_fp32"] == r["top1_int8"] for r in rows),
            # images whose float top-1 leads its second class by more than TIE
            "clear": sum(r["margin_fp32"] > TIE for r in rows),
            "top1_equal_clear": sum(r["top1_fp32"] == r["top1_int8"] for r in rows if r["margin_fp32"] > TIE),
            "max_prob_diff": max(r["max_prob_diff"] for r in rows) if rows else 0.0, "per_image": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor (default per channel)")
    ap.add_argument("--method", default="minmax", choices=["minmax", "percentile"])
    ap.add_argument("--backend", default="auto", choices=["auto", "reference", "onednn"],
                    help="backend that runs both graphs (FakeQuant steps run on the reference kernels anyway)")
    ap.add_argument("--quantize-flag", action="append", default=[], metavar="FLAG",
                    help="one more `frost quantize` flag (repeatable): --augment, --int8_input_layer")
    ap.add_argument("--check", action="store_true", help="exit 1 unless every target is met")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per test image")
    a = ap.parse_args()
    os.environ.setdefault("FROST_LIBRARY", os.path.join(a.build, "libfrost.so"))
    sys.path.insert(0, os.path.join(SRC, "python"))
    import frost
    frost_bin = os.path.join(a.build, "frost")
    sets = image_sets()
    results, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.models.split(","):
            if not os.path.exists(MODELS[name][0]):
                print("%s: %s is missing: skipped" % (name, MODELS[name][0]))
                continue
            for calib, test in (("shared", "darknet"), ("darknet", "shared")):
                r = evaluate(frost, frost_bin, name, calib, test, sets, tmp, not a.per_tensor, a.method, a.backend,
                             a.quantize_flag)
                results.append(r)
                met = r["top1_equal"] == r["images"] and r["max_prob_diff"] <= PROB_TARGET
                ok = ok and met
                print("%-18s calibrated on %-7s (%d images), tested on %-7s: %d images, top-1 equal %d/%d "
                      "(%d/%d without a near tie), max prob diff %.4f %s" % (
                          name, calib, r["calibration_images"], test, r["images"], r["top1_equal"], r["images"],
                          r["top1_equal_clear"], r["clear"], r["max_prob_diff"],
                          "" if met else "  (MISSES the target)"))
                if a.verbose:
                    for row in r["per_image"]:
                        print("    %-16s top-1 %4d / %4d  p %.4f / %.4f  float top-2 margin %.4f  max diff %.4f" % (
                            row["image"], row["top1_fp32"], row["top1_int8"], row["p_fp32"], row["p_int8"],
                            row["margin_fp32"], row["max_prob_diff"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if ok or not a.check else 1


if __name__ == "__main__":
    sys.exit(main())
