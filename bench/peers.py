#!/usr/bin/env python3
"""Peer benchmark: frost vs OpenCV DNN, PyTorch (TorchScript) and ONNX Runtime
on Inception v3 (299) and MobileNet v1 1.0 (224), batch 1 and 16, measured in
one run on this machine.  Prints medians and the ratios frost / peer
(time ratios: below 1 means frost is faster).

    /usr/bin/python3 bench/peers.py [--build build] [--models inception_v3,mobilenet_v1]
        [--batches 1,16] [--threads 2] [--rounds 5] [--block-s 1.5] [--max-foreign 0.15]
        [--frost-variants fp32,direct,winograd,bf16,avx2,int8,avx2-int8,untuned,onednn-only] [--base-build DIR]
        [--json out.json] [--install]

How it measures
  * Models: the .pb files come from tests/graphgen/models.py (TF-slim
    structure, random weights); OpenCV reads the same .pb as frost; PyTorch
    runs the same architecture (torchvision / bench/torch_models.py) with
    random weights, TorchScript-frozen; ONNX Runtime runs an ONNX export of
    that PyTorch model.  All files are cached in .cache/bench/.
  * Every peer runs in its own process (bench/peer_worker.py, or
    bench/frost_time.c for frost), loads once, warms up, then runs timed
    blocks of ~block-s seconds when asked.  Blocks of all peers are
    interleaved round by round, so a slow phase of the machine hits all.
  * A block is rejected when other processes used more than --max-foreign
    cores on average while it ran (/proc/stat busy time minus the worker's
    own CPU time); rejected blocks are repeated (up to 3x the rounds).
  * Reported: the median over all runs of the accepted blocks (ms per batch;
    images/s for batch > 1), the load time (frost: load + compile), the
    worker's peak RSS, and frost/peer ratios.  frost's output is compared
    with OpenCV's on the same .pb (top-1 and max abs difference).

  * --base-build DIR adds, for every frost variant, the same variant of
    another build of frost (DIR/frost_time: e.g. an earlier revision built
    with `cmake --build DIR --target frost_time`), labelled frost@base, so a
    change is measured before / after in the same run (frost/peer of the
    frost@base row: the head's time over the base's).
  * Variant avx2 runs frost with ONEDNN_MAX_CPU_ISA=AVX2: oneDNN's AVX2
    kernels, which frost's own kernels replace where they pay, as on an AVX2
    CPU (on an AVX-512 machine, the only way to time those here).
  * frost compiles as frost does by default: with the tuning record of
    `frost tune` for the model, CPU and thread count when the per-user cache
    has one (the "tuned default").  Variant untuned runs the built-in rules
    (--no-tune), onednn-only oneDNN's primitives alone.
  * Variant int8 runs the model as `frost quantize --per_channel` writes it
    (calibrated on ../shared/images, generated once into .cache/bench/
    MODEL_int8.pb) with --precision int8 (docs/int8.md); avx2-int8 the same
    with ONEDNN_MAX_CPU_ISA=AVX2 (no VNNI: oneDNN's AVX2 int8 kernels on
    weights split so that their 16-bit pair sums cannot saturate, docs/int8.md).

Peers that cannot be installed or loaded are reported as missing.  --install
installs the missing ones: apt (python3-torch python3-torchvision) and npm
(onnxruntime-node, with --ignore-scripts, into .cache/ort).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".cache", "bench")
ORT_ROOT = os.path.join(ROOT, ".cache", "ort")
PY = "/usr/bin/python3"
SIZES = {"inception_v3": 299, "mobilenet_v1": 224}
# The TF-slim graphs end in Reshape(softmax, Const [1, 1001]) (a Shape op folded
# at batch 1 by freeze_graph); frost reads the Softmax itself, which holds the
# same numbers at every batch size.
OUTPUTS = {"inception_v3": "InceptionV3/Predictions/Softmax", "mobilenet_v1": "MobilenetV1/Predictions/Softmax"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def have_module(mod):
    return subprocess.run([PY, "-c", "import " + mod], capture_output=True).returncode == 0


def install(args):
    if not (have_module("torch") and have_module("torchvision")):
        log("installing python3-torch python3-torchvision (apt)")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends", "python3-torch",
                               "python3-torchvision"], check=False)
    sys.path.insert(0, HERE)
    import ort_capi
    if not ort_capi.find_library(ORT_ROOT) and shutil.which("npm"):
        log("installing onnxruntime-node (npm --ignore-scripts) into", ORT_ROOT)
        os.makedirs(ORT_ROOT, exist_ok=True)
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "onnxruntime-node"],
                       cwd=ORT_ROOT, check=False)


def prepare_models(models):
    """Generates the .pb files (and ONNX exports when PyTorch is present)."""
    os.makedirs(CACHE, exist_ok=True)
    files = {}
    torch_ok = have_module("torch") and have_module("torchvision")
    for m in models:
        pb = os.path.join(CACHE, m + ".pb")
        if not os.path.exists(pb):
            log("generating", pb)
            subprocess.run([PY, os.path.join(ROOT, "tests", "graphgen", "models.py"), m, pb], check=True,
                           stdout=subprocess.DEVNULL)
        onnx = os.path.join(CACHE, m + ".onnx")
        if torch_ok and not os.path.exists(onnx):
            log("exporting", onnx)
            code = "import sys; sys.path.insert(0, %r); import torch_models; torch_models.export_onnx(%r, %r)" % (
                HERE, m, onnx)
            r = subprocess.run([PY, "-c", code], capture_output=True, text=True)
            if r.returncode != 0:
                log("ONNX export failed:", r.stderr.strip().splitlines()[-1:])
        files[m] = (pb, onnx if os.path.exists(onnx) else None)
    return files, torch_ok


def quantized_model(m, pb, build):
    """CACHE/M_int8.pb: `frost quantize` of pb, per-channel weights, ranges
    calibrated on ../shared/images (None and a reason when it cannot be made)."""
    out = os.path.join(CACHE, m + "_int8.pb")
    if os.path.exists(out):
        return out, None
    shared = os.environ.get("FROST_SHARED") or os.path.join(ROOT, "..", "shared")
    calib = os.path.join(shared, "images")
    cli = os.path.join(build, "frost")
    if not os.path.isdir(calib) or not os.access(cli, os.X_OK):
        return None, "needs %s and %s" % (calib, cli)
    log("quantizing", pb, "->", out)
    r = subprocess.run([cli, "quantize", pb, "--calibrate", calib, "--per_channel", "-o", out + ".tmp",
                        "--input_mean", "128", "--input_std", "128"], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "frost quantize failed: " + r.stderr.strip()
    os.replace(out + ".tmp", out)
    return out, None


def build_frost_time(build):
    """BUILD/frost_time (CMake builds it), or bench/frost_time.c compiled here
    against the build's libfrost.so."""
    built = os.path.join(build, "frost_time")
    if os.access(built, os.X_OK):
        return built, None
    lib = os.path.join(build, "libfrost.so")
    if not os.path.exists(lib):
        return None, "no %s (build frost first: scripts/build.sh %s)" % (lib, build)
    exe = os.path.join(CACHE, "frost_time")
    src = os.path.join(HERE, "frost_time.c")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-I",
                        os.path.join(ROOT, "include"), src, "-o", exe, "-L", build, "-lfrost",
                        "-Wl,-rpath," + os.path.abspath(build)], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "cannot compile frost_time.c: " + r.stderr.strip()[:500]
    return exe, None


class Worker:
    def __init__(self, label, cmd, env):
        self.label, self.cmd = label, cmd
        self.info, self.error, self.blocks, self.rejected = None, None, [], []
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env, cwd=ROOT)
        line = self.proc.stdout.readline()
        try:
            msg = json.loads(line) if line else {"error": self.proc.stderr.read().strip()[-400:] or "no output"}
        except ValueError:
            msg = {"error": "bad output: " + line[:200]}
        if "error" in msg:
            self.error = msg["error"]
            self.close()
        else:
            self.info = msg

    def run(self, n):
        self.proc.stdin.write("run %d\n" % n)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("%s died: %s" % (self.label, self.proc.stderr.read()[-400:]))
        return json.loads(line)

    def command(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()
                self.proc.wait()


def foreign_cores(block):
    return max(0.0, block["sys_busy_s"] - block["self_cpu_s"]) / max(block["wall_s"], 1e-9)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def measure(workers, args):
    """Interleaved rounds of timed blocks; fills w.blocks / w.rejected."""
    live = [w for w in workers if w.info]
    n_runs = {}
    for w in live:  # size blocks from a short probe
        probe = w.run(2)
        t = median(probe["times_ms"])
        n_runs[w.label] = max(3, int(args.block_s * 1e3 / max(t, 1e-3)))
    for rnd in range(args.rounds * 3):
        todo = [w for w in live if len(w.blocks) < args.rounds]
        if not todo:
            break
        done = []
        for w in todo:
            # idle thread pools of the previous worker (spinning OpenMP / ONNX
            # Runtime threads) must park before the next block starts
            time.sleep(args.pause_s)
            b = w.run(n_runs[w.label])
            b["foreign"] = foreign_cores(b)
            (w.blocks if b["foreign"] <= args.max_foreign else w.rejected).append(b)
            done.append("%s %.2f ms (foreign %.2f%s)" % (w.label, median(b["times_ms"]), b["foreign"],
                                                         "" if b["foreign"] <= args.max_foreign else ", rejected"))
        log("  round %d: %s" % (rnd + 1, ", ".join(done)))


def summarize(w, batch):
    blocks = w.blocks if w.blocks else w.rejected  # nothing clean: report the noisy ones, flagged
    times = [t for b in blocks for t in b["times_ms"]]
    med = median(times)
    return {
        "peer": w.label,
        "name": w.info.get("name"),
        "version": w.info.get("version"),
        "median_ms": med,
        "min_ms": min(times) if times else float("nan"),
        "images_per_s": batch * 1e3 / med if times else float("nan"),
        "runs": len(times),
        "clean_blocks": len(w.blocks),
        "rejected_blocks": len(w.rejected),
        "foreign_cores": statistics.mean(b["foreign"] for b in blocks) if blocks else float("nan"),
        "load_ms": w.info.get("load_ms"),
        "first_ms": w.info.get("first_ms"),
        # MB of 10^6 bytes, as the file sizes (ru_maxrss: KiB)
        "max_rss_mb": max(b["max_rss_kb"] for b in blocks) * 1024 / 1e6 if blocks else float("nan"),
        "noisy": not w.blocks,
        "extra": {k: w.info[k] for k in ("backend", "steps", "flops", "weight_bytes", "arena_bytes",
                                         "rss_after_load_kb") if k in w.info},
    }


def table_row(r):
    return "| %s | %d | %s%s | %.2f | %.1f | %s | %.0f | %.0f | %d/%d | %.2f |" % (
        r["model"], r["batch"], r["peer"], " (noisy)" if r["noisy"] else "", r["median_ms"], r["images_per_s"],
        "%.3f" % r["frost_over_peer"] if "frost_over_peer" in r else "-", r["load_ms"] or 0, r["max_rss_mb"],
        r["clean_blocks"], r["rejected_blocks"], r["foreign_cores"])


def compare_outputs(a, b):
    import numpy as np
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.shape != y.shape:
        return None
    return {"max_abs_diff": float(np.max(np.abs(x - y))), "top1_same": int(np.argmax(x)) == int(np.argmax(y))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default="inception_v3,mobilenet_v1")
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--block-s", type=float, default=1.5)
    ap.add_argument("--max-foreign", type=float, default=0.15,
                    help="reject a block when other processes used more cores than this on average")
    ap.add_argument("--pause-s", type=float, default=0.5, help="idle time before each block")
    ap.add_argument("--peers", default="frost,ort,torch,opencv",
                    help="comma list of frost, ort (ONNX Runtime), torch (PyTorch), opencv")
    ap.add_argument("--frost-variants", default="fp32",
                    help="comma list of fp32 (the default), direct (--no-winograd), winograd, bf16, avx2 "
                         "(ONEDNN_MAX_CPU_ISA=AVX2), int8 (the `frost quantize`d model, --precision int8), "
                         "avx2-int8 (each is one more frost worker)")
    ap.add_argument("--base-build", help="another frost build (DIR/frost_time): its variants run too, "
                                         "labelled frost@base")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--install", action="store_true", help="install missing peers (apt, npm) first")
    args = ap.parse_args()
    if args.install:
        install(args)
    models = [m for m in args.models.split(",") if m]
    batches = [int(b) for b in args.batches.split(",") if b]
    peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in ("frost", "ort", "torch", "opencv")]
    if unknown or not peers:
        ap.error("--peers: unknown %s (choose from frost, ort, torch, opencv)" % ",".join(unknown or ["(empty)"]))
    files, torch_ok = prepare_models(models)
    sys.path.insert(0, HERE)
    import ort_capi
    ort_lib = ort_capi.find_library(ORT_ROOT)
    frost_exe, frost_err = build_frost_time(args.build) if "frost" in peers else (None, "not requested")
    builds = [("", frost_exe, frost_err)]
    if args.base_build:
        base = os.path.join(args.base_build, "frost_time")
        builds.append(("@base", base if os.access(base, os.X_OK) else None, "no %s (cmake --build %s --target "
                       "frost_time)" % (base, args.base_build)))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", ONEDNN_VERBOSE="0")
    env.pop("OMP_NUM_THREADS", None)
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    log("load average before: %s; %d threads; cpu count %d" % (" ".join(load_before), args.threads,
                                                                os.cpu_count()))
    results, missing = [], {}
    t_start = time.time()
    for m in models:
        pb, onnx = files[m]
        size = SIZES[m]
        for batch in batches:
            log("== %s batch %d" % (m, batch))
            specs = []
            if "frost" in peers:
                for suffix, exe, err in builds:
                    for v in args.frost_variants.split(","):
                        label = ("frost" if v == "fp32" else "frost-" + v) + suffix
                        model, why = pb, err
                        if exe and v.endswith("int8"):
                            model, why = quantized_model(m, pb, args.build)
                        if not exe or not model:
                            missing[label] = why
                            continue
                        extra = {"fp32": [], "direct": ["--no-winograd"], "winograd": ["--winograd"],
                                 "bf16": ["--precision", "bf16"], "avx2": [], "int8": ["--precision", "int8"],
                                 "avx2-int8": ["--precision", "int8"], "untuned": ["--no-tune"],
                                 "onednn-only": ["--onednn-only", "--no-tune"]}[v]
                        venv = dict(env, ONEDNN_MAX_CPU_ISA="AVX2") if v.startswith("avx2") else env
                        specs.append((label, [exe, model, "--batch", str(batch), "--threads", str(args.threads),
                                              "--output", OUTPUTS[m]] + extra, venv))
            common = ["--batch", str(batch), "--threads", str(args.threads)]
            wk = os.path.join(HERE, "peer_worker.py")
            if "ort" in peers:
                if ort_lib and onnx:
                    specs.append(("onnxruntime", [PY, wk, "ort", "--onnx", onnx, "--size", str(size),
                                                  "--ort-root", ORT_ROOT] + common, env))
                else:
                    missing["onnxruntime"] = "libonnxruntime.so not in %s (run with --install)" % ORT_ROOT \
                        if not ort_lib else "no ONNX export (needs PyTorch)"
            if "torch" in peers:
                if torch_ok:
                    specs.append(("pytorch", [PY, wk, "torch", "--model", m] + common, env))
                else:
                    missing["pytorch"] = "python3-torch / python3-torchvision not installed (run with --install)"
            if "opencv" in peers:
                if have_module("cv2"):
                    specs.append(("opencv", [PY, wk, "opencv", "--pb", pb, "--size", str(size)] + common, env))
                else:
                    missing["opencv"] = "python3-opencv not installed"
            workers = []
            for label, cmd, wenv in specs:  # loaded one at a time: load times are not disturbed by each other
                w = Worker(label, cmd, wenv)
                if w.error:
                    log("  %s: cannot run: %s" % (label, w.error))
                    missing[label] = w.error
                else:
                    log("  %s ready: load %.0f ms, first run %.0f ms" % (label, w.info["load_ms"],
                                                                        w.info["first_ms"]))
                workers.append(w)
            try:
                measure(workers, args)
            finally:
                for w in workers:
                    w.close()
            rows = [summarize(w, batch) for w in workers if w.info]
            by = {r["peer"]: r for r in rows}
            fro = by.get("frost")
            for r in rows:
                r.update(model=m, batch=batch)
                if fro:
                    r["frost_over_peer"] = fro["median_ms"] / r["median_ms"]
            wmap = {w.label: w for w in workers if w.info}
            if "frost" in wmap and "opencv" in wmap:
                fro["vs_opencv_output"] = compare_outputs(wmap["frost"].info["output"], wmap["opencv"].info["output"])
            results.extend(rows)
            for r in rows:  # as soon as measured (a long run may be cut short)
                log("  " + table_row(r))
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]

    # ---- report
    print("\nfrost peer benchmark: %d threads, %d-core machine, %s; load average before %s, after %s; %.0f s" % (
        args.threads, os.cpu_count(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), " ".join(load_before),
        " ".join(load_after), time.time() - t_start))
    print("median of all runs in accepted blocks (a block is rejected when other processes used > %.2f cores)\n" %
          args.max_foreign)
    print("| model | batch | peer | median ms | images/s | frost/peer time | load ms | peak RSS MB | blocks ok/rej "
          "| foreign cores |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(table_row(r))
    for r in results:
        if r.get("vs_opencv_output"):
            c = r["vs_opencv_output"]
            print("\n%s batch %d: frost vs OpenCV on the same .pb: max abs diff %.3g, top-1 %s" % (
                r["model"], r["batch"], c["max_abs_diff"], "same" if c["top1_same"] else "DIFFERENT"))
    for r in results:
        if r["peer"] == "frost" and r["extra"]:
            e = r["extra"]
            pb_bytes = os.path.getsize(files[r["model"]][0])
            # the peak RSS target: 1.2 x the file plus the arena (at this batch)
            bound = 1.2 * pb_bytes / 1e6 + e.get("arena_bytes", 0) / 1e6
            print("%s batch %d: frost backend %s, %s steps, %.2f GFLOP/image, %.1f GFLOP/s, weights %.1f MB, "
                  "arena %.1f MB, file %.1f MB, peak RSS %.1f MB = %.3f x (1.2 x file + arena)" % (
                      r["model"], r["batch"], e.get("backend"), e.get("steps"), e.get("flops", 0) / 1e9,
                      e.get("flops", 0) * r["batch"] / r["median_ms"] / 1e6, e.get("weight_bytes", 0) / 1e6,
                      e.get("arena_bytes", 0) / 1e6, pb_bytes / 1e6, r["max_rss_mb"], r["max_rss_mb"] / bound))
    for k, v in sorted(missing.items()):
        print("missing peer %s: %s" % (k, v))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "missing": missing, "load_before": load_before,
                       "load_after": load_after, "threads": args.threads}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
