#!/usr/bin/env python3
"""Per-layer benchmark of frost's convolution kernels: the stride-1 3x3,
5x5, 1x7, 7x1, 1x3 and 3x1 layer shapes of Inception v3 (and a few more),
each as a one-layer model
(Conv2D + BiasAdd + Relu, random weights), timed with the default FP32
kernels and with --winograd, in interleaved blocks in one run.

    /usr/bin/python3 bench/conv_layers.py [--build build] [--threads 1,2]
        [--batches 1,16] [--rounds 5] [--block-s 0.4] [--layers NAME,...]

Prints per layer and thread count: the median time per run of each variant,
the kernel each one used (--winograd keeps direct convolution where frost's
rule says Winograd does not pay) and the ratio direct / winograd (above 1:
--winograd is faster).  Models are cached in .cache/bench/layers/.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "graphgen"))
import numpy as np  # noqa: E402

from peers import Worker, build_frost_time, foreign_cores, log  # noqa: E402
from tfgraph import GraphDef  # noqa: E402

# name: (input H=W, cin, cout, padding[, kh, kw]) -- Inception v3's
# stride-1 layers with Winograd candidates and a few others
LAYERS = {
    "iv3_conv2a": (149, 32, 32, "VALID"),
    "iv3_conv2b": (147, 32, 64, "SAME"),
    "iv3_conv4a": (73, 80, 192, "VALID"),
    "iv3_5x_64_96": (35, 64, 96, "SAME"),
    "iv3_5x_96_96": (35, 96, 96, "SAME"),
    "iv3_6a_64_96": (35, 64, 96, "SAME"),
    "iv3_7x_448_384": (8, 448, 384, "SAME"),
    "odd_13_24_40": (13, 24, 40, "SAME"),
    "small_56_16_24": (56, 16, 24, "SAME"),
    "c17_160_192": (17, 160, 192, "SAME"),
    "resnet_7x7_512": (7, 512, 512, "SAME"),
    "c10_128_128": (10, 128, 128, "SAME"),
    "iv3_5x_48_64_5x5": (35, 48, 64, "SAME", 5, 5),
    "c17_64_96_5x5": (17, 64, 96, "SAME", 5, 5),
    "iv3_6x_1x7_128": (17, 128, 128, "SAME", 1, 7),
    "iv3_6x_7x1_128": (17, 128, 128, "SAME", 7, 1),
    "iv3_6x_1x7_192": (17, 192, 192, "SAME", 1, 7),
    "iv3_6x_7x1_192": (17, 192, 192, "SAME", 7, 1),
    "iv3_7x_1x3_384": (8, 384, 384, "SAME", 1, 3),
    "iv3_7x_3x1_384": (8, 384, 384, "SAME", 3, 1),
}


def make_model(path, size, cin, cout, padding, kh=3, kw=3):
    rng = np.random.default_rng(cin * 1000 + cout)
    g = GraphDef()
    x = g.placeholder("input", [-1, size, size, cin])
    w = g.const("w", (rng.standard_normal((kh, kw, cin, cout)) * (2.0 / (kh * kw * cin)) ** 0.5).astype(np.float32))
    b = g.const("b", (rng.standard_normal(cout) * 0.1).astype(np.float32))
    y = g.bias_add("bias", g.conv2d("conv", x, w, padding=padding), b)
    g.relu("out", y)
    g.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="1")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--block-s", type=float, default=0.4)
    ap.add_argument("--max-foreign", type=float, default=0.15)
    ap.add_argument("--layers", default=",".join(LAYERS))
    args = ap.parse_args()
    exe, err = build_frost_time(args.build)
    if not exe:
        sys.exit("frost_time: " + err)
    cache = os.path.join(ROOT, ".cache", "bench", "layers")
    os.makedirs(cache, exist_ok=True)
    env = dict(os.environ, ONEDNN_VERBOSE="0")
    env.pop("OMP_NUM_THREADS", None)
    rows = []
    for name in args.layers.split(","):
        size, cin, cout, pad = LAYERS[name][:4]
        kh, kw = LAYERS[name][4:6] if len(LAYERS[name]) > 4 else (3, 3)
        pb = os.path.join(cache, "%s.pb" % name)
        if not os.path.exists(pb):
            make_model(pb, size, cin, cout, pad, kh, kw)
        for threads in [int(t) for t in args.threads.split(",")]:
            for batch in [int(b) for b in args.batches.split(",")]:
                base = [exe, pb, "--batch", str(batch), "--threads", str(threads), "--output", "out",
                        "--profiling"]
                ws = [Worker("direct", base, env), Worker("winograd", base + ["--winograd"], env)]
                if any(w.error for w in ws):
                    sys.exit("frost_time: " + "; ".join(w.error for w in ws if w.error))
                diff = float(np.max(np.abs(np.asarray(ws[0].info["output"]) - np.asarray(ws[1].info["output"]))))
                n = {}
                for w in ws:
                    t = statistics.median(w.run(3)["times_ms"])
                    n[w.label] = max(5, int(args.block_s * 1e3 / max(t, 1e-3)))
                times = {w.label: [] for w in ws}
                for _ in range(args.rounds * 3):
                    if all(len(v) >= args.rounds * n[k] for k, v in times.items()):
                        break
                    for w in ws:
                        time.sleep(0.2)
                        b = w.run(n[w.label])
                        if foreign_cores(b) <= args.max_foreign:
                            times[w.label].extend(b["times_ms"])
                kernels = {}
                for w in ws:
                    prof = w.command("profile")
                    steps = prof.get("profile", [])
                    conv = [s for s in steps if s.get("op", "").startswith("Conv2D")]
                    kernels[w.label] = conv[0].get("kernel", "?") if conv else "?"
                    w.close()
                med = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
                r = dict(layer=name, size=size, cin=cin, cout=cout, kh=kh, kw=kw, threads=threads, batch=batch,
                         direct_ms=med["direct"], winograd_ms=med["winograd"],
                         ratio=med["direct"] / med["winograd"], kernel=kernels["winograd"],
                         direct_kernel=kernels["direct"], max_abs_diff=diff)
                rows.append(r)
                log("%-16s %3dx%-3d %4d->%-4d t%d b%-2d direct %8.3f ms  winograd %8.3f ms  x%.2f  %s  diff %.1e"
                    % (name, size, size, cin, cout, threads, batch, r["direct_ms"], r["winograd_ms"], r["ratio"],
                       r["kernel"], diff))
    print("| layer | input | kernel | cin->cout | threads | batch | direct ms | --winograd ms | direct/winograd | "
          "--winograd kernel |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %dx%d | %dx%d | %d->%d | %d | %d | %.3f | %.3f | %.2f | %s |" % (
            r["layer"], r["size"], r["size"], r["kh"], r["kw"], r["cin"], r["cout"], r["threads"], r["batch"],
            r["direct_ms"],
            r["winograd_ms"], r["ratio"], r["kernel"]))
    if os.environ.get("CONV_LAYERS_JSON"):
        with open(os.environ["CONV_LAYERS_JSON"], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
