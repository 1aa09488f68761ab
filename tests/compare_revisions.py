#!/usr/bin/env python3
"""Bit-for-bit comparison of frost's outputs between two revisions.

    /usr/bin/python3 tests/compare_revisions.py --base REV [--head-bin build/frost]
                     [--variants LIST] [--batches 1,3] [--models LIST] [--dump-dir DIR] [--quick]

Builds revision REV (git archive of it, into .cache/revs/SHA, the `frost` CLI
only; kept for the next call), then runs every model through both the base's
`frost run` and the head's (default: build/frost of this tree) on the same
random inputs, in every variant at every batch size, and compares the raw
output files byte for byte.

Models:
  - the generated classifiers of tests/graphgen/models.py (seed 1),
  - ../shared/models/*.pb (the real ImageNet MobileNets), where present,
  - models/nsfw_*.pb (the converted nsfwjs models, scripts/fetch-models.sh), where present,
  - the graphs the C tests build, when --dump-dir names a folder that a test
    run filled (FROST_TEST_DUMP_DIR=DIR ctest ...): NAME.pb with NAME.json
    {"batch": B, "inputs": [{"name", "shape", "file"}], "outputs": [...]}.

Variants (names for --variants):
  default       no flags
  winograd      --winograd (frost's larger Winograd tiles)
  no-winograd   --no-winograd
  onednn-only   --onednn-only
  no-optimize   --no-optimize
  reference     --backend reference
  bf16          --precision bf16 (only where the CPU has AVX512-BF16)
  avx2          ONEDNN_MAX_CPU_ISA=AVX2: oneDNN's AVX2 kernels, which frost's
                own kernels (indirect GEMM, default Winograd) replace; the
                way to run those on an AVX-512 CPU
  avx2-winograd the same with --winograd

Exit status 0 when every output is identical (a run that fails in both
revisions with the same status counts as identical), 1 otherwise.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = {
    "default": ([], {}),
    "winograd": (["--winograd"], {}),
    "no-winograd": (["--no-winograd"], {}),
    "onednn-only": (["--onednn-only"], {}),
    "no-optimize": (["--no-optimize"], {}),
    "reference": (["--backend", "reference"], {}),
    "bf16": (["--precision", "bf16"], {}),
    "avx2": ([], {"ONEDNN_MAX_CPU_ISA": "AVX2"}),
    "avx2-winograd": (["--winograd"], {"ONEDNN_MAX_CPU_ISA": "AVX2"}),
}
QUICK = ["default", "winograd", "reference", "bf16", "avx2"]


def log(*a):
    print(*a, flush=True)


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def build_rev(rev):
    sha = subprocess.check_output(["git", "-C", ROOT, "rev-parse", rev + "^{commit}"], text=True).strip()
    dest = os.path.join(ROOT, ".cache", "revs", sha)
    binary = os.path.join(dest, "build", "frost")
    if os.path.exists(binary):
        return sha, binary
    log(f"building {rev} ({sha[:10]}) in {dest}")
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    archive = subprocess.Popen(["git", "-C", ROOT, "archive", sha], stdout=subprocess.PIPE)
    subprocess.check_call(["tar", "-x", "-C", dest], stdin=archive.stdout)
    if archive.wait() != 0:
        sys.exit(f"git archive {sha} failed")
    subprocess.check_call(["cmake", "-S", dest, "-B", os.path.join(dest, "build"), "-DCMAKE_BUILD_TYPE=Release",
                           "-DFROST_BUILD_TESTS=OFF"], stdout=subprocess.DEVNULL)
    subprocess.check_call(["cmake", "--build", os.path.join(dest, "build"), "-j2", "--target", "frost_cli"],
                          stdout=subprocess.DEVNULL)
    return sha, binary


def inspect(binary, path, extra=()):
    r = subprocess.run([binary, "inspect", path, "--json", *extra], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout), None


class Case:
    """One graph: its inputs (name, per-item shape, data file per batch) and outputs."""

    def __init__(self, name, path, inputs, outputs, batches, extra=()):
        self.name, self.path, self.inputs, self.outputs, self.batches = name, path, inputs, outputs, batches
        self.extra = list(extra)


def random_inputs(work, name, inputs, batch):
    """inputs: [(tensor name, per-item shape)] -> ["name=file", ...] of seeded uniform(-1, 1) data."""
    args = []
    for k, (tname, shape) in enumerate(inputs):
        seed = int(hashlib.sha256(f"{name}/{tname}/{batch}".encode()).hexdigest()[:8], 16)
        data = np.random.default_rng(seed).uniform(-1, 1, [batch, *shape]).astype("<f4")
        f = os.path.join(work, f"{name}.b{batch}.in{k}.f32")
        data.tofile(f)
        args.append(f"{tname}={f}")
    return args


def model_cases(head_bin, work, names, batches):
    cases = []
    gen = os.path.join(ROOT, "tests", "graphgen", "models.py")
    listed = subprocess.check_output([sys.executable, gen, "--list"], text=True).split()
    paths = []
    for m in listed:
        p = os.path.join(work, f"gen_{m}.pb")
        if not os.path.exists(p):
            subprocess.check_call([sys.executable, gen, m, p, "--seed", "1"], stdout=subprocess.DEVNULL)
        paths.append((f"gen_{m}", p))
    shared = os.environ.get("FROST_SHARED", os.path.join(ROOT, "..", "shared"))
    sm = os.path.join(shared, "models")
    if os.path.isdir(sm):
        paths += [(os.path.splitext(f)[0], os.path.join(sm, f)) for f in sorted(os.listdir(sm)) if f.endswith(".pb")]
    md = os.environ.get("FROST_MODELS_DIR", os.path.join(ROOT, "models"))
    if os.path.isdir(md):
        paths += [(os.path.splitext(f)[0], os.path.join(md, f)) for f in sorted(os.listdir(md))
                  if f.startswith("nsfw_") and f.endswith(".pb")]
    for name, p in paths:
        if names and not any(n in name for n in names):
            continue
        info, err = inspect(head_bin, p)
        if not info or "compiled" not in info:
            log(f"  {name}: head cannot compile it ({err}); skipped")
            continue
        ins = [(i["name"], i["shape"][1:]) for i in info["compiled"]["inputs"]]
        if any(d < 0 for _, s in ins for d in s):
            log(f"  {name}: an input has unknown dimensions; skipped")
            continue
        outs = [o["name"] for o in info["compiled"]["outputs"]]
        batchable = all(o["shape"][:1] == [-1] for o in info["compiled"]["outputs"])
        cases.append(Case(name, p, ins, outs, batches if batchable else [1]))
    return cases


def dump_cases(dump_dir):
    cases = []
    for f in sorted(os.listdir(dump_dir)):
        if not f.endswith(".json"):
            continue
        with open(os.path.join(dump_dir, f)) as fh:
            spec = json.load(fh)
        name = f[:-5]
        c = Case("dump_" + name, os.path.join(dump_dir, name + ".pb"), None, spec["outputs"], [spec["batch"]])
        c.files = [f"{i['name']}={os.path.join(dump_dir, i['file'])}" for i in spec["inputs"]]
        c.extra = [a for i in spec["inputs"] for a in ("--shape", ",".join(str(d) for d in i["shape"]))]
        cases.append(c)
    return cases


def run(binary, case, in_args, batch, flags, env, outdir):
    os.makedirs(outdir, exist_ok=True)
    outs = [os.path.join(outdir, f"out{k}.f32") for k in range(len(case.outputs))]
    for o in outs:
        if os.path.exists(o):
            os.remove(o)
    cmd = [binary, "run", case.path, "--quiet", "--batch", str(batch), *case.extra, *flags]
    for a in in_args:
        cmd += ["--input", a]
    for name, o in zip(case.outputs, outs):
        cmd += ["--output", name, "--out", o]
    e = dict(os.environ, **env)
    r = subprocess.run(cmd, capture_output=True, text=True, env=e)
    if r.returncode != 0:
        return r.returncode, None, r.stderr.strip().splitlines()[-1:] if r.stderr else []
    return 0, [open(o, "rb").read() for o in outs], None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--head-bin", default=os.path.join(ROOT, "build", "frost"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--batches", default="1,3")
    ap.add_argument("--models", default="", help="comma list of substrings of model names (default: all)")
    ap.add_argument("--dump-dir", help="graphs written by the C tests under FROST_TEST_DUMP_DIR")
    ap.add_argument("--quick", action="store_true", help=f"variants {','.join(QUICK)}, batch 1")
    a = ap.parse_args()
    variants = QUICK if a.quick else a.variants.split(",")
    batches = [1] if a.quick else [int(b) for b in a.batches.split(",")]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variants: {unknown}")
    if "bf16" in variants and "avx512_bf16" not in cpu_flags():
        log("this CPU has no AVX512-BF16: variant bf16 left out")
        variants = [v for v in variants if v != "bf16"]
    if not os.path.exists(a.head_bin):
        sys.exit(f"{a.head_bin} not found: build the head first (scripts/build.sh)")
    sha, base_bin = build_rev(a.base)
    work = os.path.join(ROOT, ".cache", "compare")
    os.makedirs(work, exist_ok=True)
    cases = model_cases(a.head_bin, work, [n for n in a.models.split(",") if n], batches)
    if a.dump_dir:
        cases += dump_cases(a.dump_dir)
    log(f"base {a.base} ({sha[:10]}): {base_bin}\nhead: {a.head_bin}\n{len(cases)} graphs, variants "
        f"{','.join(variants)}, batches {','.join(map(str, batches))}")
    same = differ = both_fail = 0
    bad = []
    t0 = time.time()
    for c in cases:
        line = []
        for b in c.batches:
            in_args = c.files if c.inputs is None else random_inputs(work, c.name, c.inputs, b)
            for v in variants:
                flags, env = VARIANTS[v]
                rb, ob, eb = run(base_bin, c, in_args, b, flags, env, os.path.join(work, "base"))
                rh, oh, eh = run(a.head_bin, c, in_args, b, flags, env, os.path.join(work, "head"))
                tag = f"{v}@{b}"
                if rb and rh:
                    both_fail += 1
                    line.append(f"{tag}:both-fail")
                elif rb or rh:
                    differ += 1
                    bad.append(f"{c.name} {tag}: base rc {rb} {eb or ''}, head rc {rh} {eh or ''}")
                    line.append(f"{tag}:FAIL")
                elif ob == oh:
                    same += 1
                else:
                    differ += 1
                    worst = 0.0
                    for x, y in zip(ob, oh):
                        if len(x) != len(y):
                            worst = float("inf")
                            continue
                        xa, ya = np.frombuffer(x, "<f4"), np.frombuffer(y, "<f4")
                        worst = max(worst, float(np.nanmax(np.abs(xa.astype(np.float64) - ya))))
                    bad.append(f"{c.name} {tag}: outputs differ (max abs {worst:.3g})")
                    line.append(f"{tag}:DIFF")
        log(f"  {c.name}: " + (" ".join(line) if line else "identical"))
    log(f"{same} identical, {differ} different, {both_fail} failing in both ({time.time() - t0:.0f} s)")
    for b in bad:
        log("  " + b)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
