#!/usr/bin/env python3
"""Per-layer benchmark of frost's convolution kernels: the 3x3, 5x5, 1x7,
7x1, 1x3, 3x1 and 1x1 layer shapes of Inception v3 (and a few more), each as
a one-layer model (Conv2D + BiasAdd + Relu, random weights), timed with
several variants of the FP32 kernels in interleaved blocks in one run:

    onednn    --onednn-only: oneDNN's direct convolution for every layer
    direct    --no-winograd: frost's default kernels without Winograd
    default   frost's default choice (F(2x2, 3x3) / 1-D Winograd, indirect GEMM or
              oneDNN: fr_wino_pays, fr_wino1_pays, fr_igemm_pays in src/kernels/select.c)
    winograd  --winograd (Winograd where fr_wino_pays says it pays)

    /usr/bin/python3 bench/conv_layers.py [--build build] [--threads 1,2]
        [--batches 1,16] [--rounds 5] [--block-s 0.4] [--layers NAME,...]
        [--variants onednn,default,winograd]

Prints per layer, thread count and batch: the median time per run of each
variant, the kernel each one used and the ratio of the first variant's time
to each other's (above 1: that variant is faster).  Models are cached in
.cache/bench/layers/.
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

# name: (input H=W, cin, cout, padding[, kh, kw[, stride]]) -- Inception
# v3's layer shapes (the Winograd candidates, stride-2 3x3, the RGB stem,
# two 1x1) and a few others
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
    "iv3_6a_3x3s2_288_384": (35, 288, 384, "VALID", 3, 3, 2),
    "iv3_1a_3x3s2_3_32": (299, 3, 32, "VALID", 3, 3, 2),
    "iv3_5x_1x1_288_64": (35, 288, 64, "SAME", 1, 1),
    "iv3_6x_1x1_768_192": (17, 768, 192, "SAME", 1, 1),
}
VARIANTS = {"onednn": ["--onednn-only"], "direct": ["--no-winograd"], "default": [], "winograd": ["--winograd"]}


def make_model(path, size, cin, cout, padding, kh=3, kw=3, stride=1):
    rng = np.random.default_rng(cin * 1000 + cout)
    g = GraphDef()
    x = g.placeholder("input", [-1, size, size, cin])
    w = g.const("w", (rng.standard_normal((kh, kw, cin, cout)) * (2.0 / (kh * kw * cin)) ** 0.5).astype(np.float32))
    b = g.const("b", (rng.standard_normal(cout) * 0.1).astype(np.float32))
    y = g.bias_add("bias", g.conv2d("conv", x, w, strides=stride, padding=padding), b)
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
    ap.add_argument("--variants", default="onednn,default,winograd")
    args = ap.parse_args()
    variants = args.variants.split(",")
    if len(variants) < 2 or any(v not in VARIANTS for v in variants):
        sys.exit("--variants: two or more of " + ",".join(VARIANTS))
    exe, err = build_frost_time(args.build)
    if not exe:
        sys.exit("frost_time: " + err)
    cache = os.path.join(ROOT, ".cache", "bench", "layers")
    os.makedirs(cache, exist_ok=True)
    env = dict(os.environ, ONEDNN_VERBOSE="0")
    env.pop("OMP_NUM_THREADS", None)
    rows = []
    for name in args.layers.split(","):
        spec = LAYERS[name]
        size, cin, cout, pad = spec[:4]
        kh, kw = spec[4:6] if len(spec) > 4 else (3, 3)
        stride = spec[6] if len(spec) > 6 else 1
        pb = os.path.join(cache, "%s.pb" % name)
        if not os.path.exists(pb):
            make_model(pb, size, cin, cout, pad, kh, kw, stride)
        for threads in [int(t) for t in args.threads.split(",")]:
            for batch in [int(b) for b in args.batches.split(",")]:
                base = [exe, pb, "--batch", str(batch), "--threads", str(threads), "--output", "out",
                        "--profiling"]
                ws = [Worker(v, base + VARIANTS[v], env) for v in variants]
                if any(w.error for w in ws):
                    sys.exit("frost_time: " + "; ".join(w.error for w in ws if w.error))
                ref = np.asarray(ws[0].info["output"])
                diff = max(float(np.max(np.abs(np.asarray(w.info["output"]) - ref))) for w in ws[1:])
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
                    conv = [st for st in steps if st.get("op", "").startswith("Conv2D")]
                    kernels[w.label] = conv[0].get("kernel", "?") if conv else "?"
                    w.close()
                med = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
                r = dict(layer=name, size=size, cin=cin, cout=cout, kh=kh, kw=kw, stride=stride, threads=threads,
                         batch=batch, ms=med, kernels=kernels, max_abs_diff=diff,
                         ratio={v: med[variants[0]] / med[v] for v in variants[1:]})
                rows.append(r)
                log("%-20s %3dx%-3d %4d->%-4d t%d b%-2d " % (name, size, size, cin, cout, threads, batch) +
                    "  ".join("%s %.3f ms (%s)" % (v, med[v], kernels[v]) for v in variants) +
                    "  diff %.1e" % diff)
    head = ["layer", "input", "kernel", "cin->cout", "threads", "batch"]
    head += ["%s ms" % v for v in variants] + ["%s/%s" % (variants[0], v) for v in variants[1:]]
    head += ["%s kernel" % v for v in variants[1:]]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["layer"], "%dx%d" % (r["size"], r["size"]),
                 "%dx%d%s" % (r["kh"], r["kw"], "/%d" % r["stride"] if r["stride"] > 1 else ""),
                 "%d->%d" % (r["cin"], r["cout"]), str(r["threads"]), str(r["batch"])]
        cells += ["%.3f" % r["ms"][v] for v in variants] + ["%.2f" % r["ratio"][v] for v in variants[1:]]
        cells += [r["kernels"][v] for v in variants[1:]]
        print("| " + " | ".join(cells) + " |")
    if os.environ.get("CONV_LAYERS_JSON"):
        with open(os.environ["CONV_LAYERS_JSON"], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
