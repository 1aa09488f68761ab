"""The real nsfwjs models (npm nsfwjs@4.4.0), converted by `frost convert`,
reproduce the probabilities that TensorFlow.js computes
(tests/data/nsfwjs_reference.json, made by tests/reference/nsfwjs_reference.sh)
within 1e-4, from the same preprocessed photos (Debian's darknet package
ships them; tests/reference/nsfwjs_inputs.py preprocesses them
deterministically and the reference stores the SHA-256 of every tensor).
OpenCV DNN, reading the same converted .pb files, must agree too, and so
must frost with --winograd.

Needs models/ from scripts/fetch-models.sh (run here when missing; it uses
npm once and caches).
"""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

SRC = os.environ.get("FROST_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FROST = os.environ.get("FROST_BIN", os.path.join(SRC, "build", "frost"))
TMP = os.environ.get("FROST_TMP", "/tmp/frost_test_convert_nsfwjs")
SHARED = os.environ.get("FROST_SHARED", os.path.join(SRC, "..", "shared"))
TOL = 1e-4


def main():
    if not os.path.isdir("/usr/share/darknet/data"):
        print("skipped: the Debian package darknet (test photos) is not installed")
        return 77
    ref = json.load(open(os.path.join(SRC, "tests", "data", "nsfwjs_reference.json")))
    r = subprocess.run(["bash", os.path.join(SRC, "scripts", "fetch-models.sh"), FROST], capture_output=True, text=True)
    print(r.stdout.strip())
    if r.returncode != 0:
        print(r.stderr)
        check(False, "scripts/fetch-models.sh failed")
        return 1

    inputs = os.path.join(TMP, "inputs")
    r = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tests", "reference", "nsfwjs_inputs.py"), inputs,
                        SHARED], capture_output=True, text=True, check=True)
    made = dict(line.split() for line in r.stdout.splitlines())
    for fn, digest in made.items():
        check(ref["inputs"].get(fn) == digest,
              "%s differs from the tensor the reference was computed from (regenerate with "
              "tests/reference/nsfwjs_reference.sh)" % fn)

    models = os.path.join(SRC, "models")
    for name, info in ref["models"].items():
        size = info["size"]
        images = [i for i in sorted(info["outputs"]) if "%s_%d.f32" % (i, size) in made]
        check(len(images) >= 5, "%s: only %d photos" % (name, len(images)))
        x = np.concatenate([np.fromfile(os.path.join(inputs, "%s_%d.f32" % (i, size)), "<f4") for i in images])
        x = x.reshape(len(images), size, size, 3)
        want = np.array([info["outputs"][i] for i in images])
        pb = os.path.join(models, "nsfw_%s.pb" % name)
        xf, yf = os.path.join(TMP, "x.f32"), os.path.join(TMP, "y.f32")
        x.tofile(xf)
        # the default kernels, and --winograd (real weights: its rounding
        # must stay far inside the same bound)
        for extra in ([], ["--winograd"], ["--no-winograd"]):
            what = " ".join([name] + extra)
            r = subprocess.run([FROST, "run", pb, "--input", xf, "--out", yf, "--quiet"] + extra, capture_output=True,
                               text=True)
            check(r.returncode == 0, "%s: frost run failed: %s" % (what, r.stderr.strip()))
            if r.returncode != 0:
                continue
            got = np.fromfile(yf, "<f4").reshape(want.shape)
            err = float(np.abs(got - want).max())
            check(err <= TOL, "%s: frost vs TensorFlow.js: max abs error %.3g" % (what, err))
            print("%-28s frost  vs tfjs on %d photos: max abs error %.2e" % (what, len(images), err))
            for i, img in enumerate(images):
                check(np.argmax(got[i]) == np.argmax(want[i]), "%s %s: top class differs" % (what, img))

        code = ("import cv2, numpy as np, sys\n"
                "net = cv2.dnn.readNetFromTensorflow(sys.argv[1])\n"
                "x = np.fromfile(sys.argv[2], '<f4').reshape(-1, %d, %d, 3)\n"
                "net.setInput(x.transpose(0, 3, 1, 2).copy())\n"
                "net.forward().astype('<f4').tofile(sys.argv[3])\n" % (size, size))
        cf = os.path.join(TMP, "cv.f32")
        r = subprocess.run(["/usr/bin/python3", "-c", code, pb, xf, cf], capture_output=True, text=True)
        check(r.returncode == 0, "%s: OpenCV DNN cannot run the converted graph: %s" % (name, r.stderr[-300:]))
        if r.returncode == 0:
            err = float(np.abs(np.fromfile(cf, "<f4").reshape(want.shape) - want).max())
            check(err <= TOL, "%s: OpenCV DNN vs TensorFlow.js: max abs error %.3g" % (name, err))
            print("%-28s opencv vs tfjs on %d photos: max abs error %.2e" % (name, len(images), err))

        # The whole pipeline: frost's JPEG decoding, align_corners resize and
        # normalisation, as the README's first command runs it.
        photos = [os.path.join("/usr/share/darknet/data", i + ".jpg") for i in images
                  if os.path.exists(os.path.join("/usr/share/darknet/data", i + ".jpg"))]
        r = subprocess.run([FROST, "classify", "--graph", pb, "--labels", os.path.join(models, "nsfw_labels.txt"),
                            "--resize", "align_corners", "--input_mean", "0", "--input_std", "255",
                            "--format", "jsonl", "--top_k", "5", *photos], capture_output=True, text=True)
        check(r.returncode == 0, "%s: frost classify failed: %s" % (name, r.stderr.strip()))
        err = 0.0
        for line in r.stdout.splitlines():
            rec = json.loads(line)
            img = os.path.splitext(os.path.basename(rec["image"]))[0]
            got = {t["index"]: t["score"] for t in rec["top"]}
            ref_p = info["outputs"][img]
            check(len(got) == 5, "%s %s: classify printed %d classes" % (name, img, len(got)))
            check(rec["top"][0]["index"] == int(np.argmax(ref_p)), "%s %s: classify top class" % (name, img))
            err = max(err, max(abs(got.get(k, -1) - ref_p[k]) for k in range(5)))
        check(len(r.stdout.splitlines()) == len(photos), "%s: classify printed %d of %d photos"
              % (name, len(r.stdout.splitlines()), len(photos)))
        check(err <= TOL, "%s: frost classify (JPEG -> probabilities) vs TensorFlow.js: max abs error %.3g"
              % (name, err))
        print("%-28s frost classify on %d JPEGs vs tfjs: max abs error %.2e" % (name, len(photos), err))

    return summary()


if __name__ == "__main__":
    sys.exit(main())
