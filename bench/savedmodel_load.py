#!/usr/bin/env python3
"""Load time of a SavedModel next to the same network as a frozen graph.

    /usr/bin/python3 bench/savedmodel_load.py [--rounds 15] [--inception] [DIR ...]

For each SavedModel (default: the Keras image classifiers in
../shared/savedmodels/keras), `frost convert` freezes its serving signature
into a .pb; then, in one process and interleaved round by round, the time
from path to a model ready to run (`frost.Model(path)`: read, for a
SavedModel the bundle's variables and the function inlining, then compile)
is measured for both.  Prints the medians and their ratio (target: the
SavedModel within 1.10x of the frozen graph).  Each load also runs one
batch, so that both are checked to give the same outputs.

--inception adds a large image network: a TF1-style SavedModel made from
models/nsfw_inception_v3.pb by build/sm_from_pb (its float Consts as
VariableV2 + a tensor bundle, 89 MB), measured the same way after the Keras
classifiers (which stay the primary figures).
"""
import argparse
import atexit
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SHARED = os.path.join(SRC, "..", "shared")
BUILD = os.path.join(SRC, "build")
os.environ.setdefault("FROST_LIBRARY", os.path.join(BUILD, "libfrost.so"))
sys.path.insert(0, os.path.join(SRC, "python"))
import frost  # noqa: E402
import numpy as np  # noqa: E402


def load_once(path):
    t0 = time.perf_counter()
    m = frost.Model(path)
    dt = time.perf_counter() - t0
    return m, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="*")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--frost", default=os.path.join(BUILD, "frost"))
    ap.add_argument("--inception", action="store_true", help="also a TF1 SavedModel of models/nsfw_inception_v3.pb")
    args = ap.parse_args()
    dirs = args.dirs or sorted(glob.glob(os.path.join(SHARED, "savedmodels", "keras", "*", "saved_model")))
    if not dirs:
        sys.exit("no SavedModels (../shared/savedmodels/keras) and none given")
    tmp = tempfile.mkdtemp(prefix="frost-smload-")
    atexit.register(shutil.rmtree, tmp, True)
    if args.inception:
        sm = os.path.join(tmp, "inception_v3_tf1")
        subprocess.run([os.path.join(BUILD, "sm_from_pb"), os.path.join(SRC, "models", "nsfw_inception_v3.pb"), sm,
                        "input_1:0", "dense_3/Softmax:0"], check=True, stdout=subprocess.DEVNULL)
        dirs.append(sm)
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    print("frost %s, %s, %d rounds, median ms (path -> compiled model)" % (frost.version(), cpu, args.rounds))
    print("%-28s %9s %10s %10s %7s" % ("model", "MB", "frozen .pb", "SavedModel", "ratio"))
    worst = 0.0
    for d in dirs:
        name = os.path.relpath(d, os.path.join(SHARED, "savedmodels")) if d.startswith(SHARED) else d
        name = os.path.basename(name) if name.startswith(tmp) else name
        pb = os.path.join(tmp, name.replace("/", "_") + ".pb")
        subprocess.run([args.frost, "convert", d, "-o", pb], check=True, stdout=subprocess.DEVNULL)
        size = sum(os.path.getsize(f) for f in glob.glob(os.path.join(d, "**"), recursive=True) if os.path.isfile(f))
        times = {"pb": [], "sm": []}
        for r in range(args.rounds + 1):  # round 0 warms the page cache and the library
            for kind, path in (("pb", pb), ("sm", d)) if r % 2 else (("sm", d), ("pb", pb)):
                m, dt = load_once(path)
                if r == 0 and kind == "sm":
                    shape = [2] + [x if x > 0 else 1 for x in m.input_shapes[0][1:]]
                    x = np.random.default_rng(1).uniform(0, 1, shape).astype(np.float32)
                    want = m.run(x)
                    with frost.Model(pb) as mp:
                        got = mp.run(x)
                    if len(m.outputs) == 1:
                        got, want = [got], [want]
                    same = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(got, want))
                    if not same:
                        sys.exit("%s: the frozen graph's outputs differ from the SavedModel's" % name)
                m.close()
                if r:
                    times[kind].append(dt * 1e3)
        pbm, smm = statistics.median(times["pb"]), statistics.median(times["sm"])
        worst = max(worst, smm / pbm)
        print("%-28s %9.1f %10.2f %10.2f %6.2fx" % (name, size / 1e6, pbm, smm, smm / pbm))
    print("worst SavedModel / frozen ratio: %.2fx (target <= 1.10x)" % worst)


if __name__ == "__main__":
    main()
