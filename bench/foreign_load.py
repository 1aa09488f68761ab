#!/usr/bin/env python3
"""Foreign-load benchmark: batch-1 latency of frost and ONNX Runtime while the
machine is idle and while another process holds one core (a busy loop pinned
to it), on Inception v3 (299) and MobileNet v1 (224), 2 threads.

    /usr/bin/python3 bench/foreign_load.py [--build build] [--base-build DIR]
        [--models inception_v3,mobilenet_v1] [--threads 2] [--runs 40] [--rounds 5]
        [--burner-core N] [--peers frost,ort] [--frost-env LABEL:K=V,K=V ...]
        [--frost-args LABEL:ARGS ...] [--max-foreign 0.15] [--json out.json]

How it measures
  * The workers are bench/peers.py's (models from .cache/bench, frost through
    bench/frost_time.c, ONNX Runtime through bench/peer_worker.py), each in
    its own process, loaded once and warmed up.
  * A round runs one block of --runs timed inferences per worker with the
    machine idle, then starts the burner (`while True: pass` in a separate
    process, its affinity set to --burner-core, the last core by default) and
    runs one more block per worker, then stops the burner.  The workers'
    order rotates from round to round, so a noisy phase hits all runtimes.
  * The foreign-load check of peers.py: a block is rejected when other
    processes used more than --max-foreign cores (idle) or 1 + --max-foreign
    cores (burner: the burner itself is one) on average while it ran;
    rejected rounds are repeated (up to 3x --rounds).
  * Per block: p50, p99 (of --runs runs) and p99/p50; reported: the medians
    over the accepted blocks, and busy/idle = median busy p50 / median idle
    p50 (the target: <= 2.2; with fair scheduling of 3 busy threads on 2
    cores, 1.5).
  * frost_time links libfrost itself, so its threads wait as the
    environment says (libgomp's default when nothing is set); the CLI's
    default (--wait-policy auto) is GOMP_SPINCOUNT=1000: measure it with
    --frost-env auto:GOMP_SPINCOUNT=1000.
  * --base-build DIR adds the same frost of another build (frost@base, before
    / after in the same run); --frost-env adds frost workers run with extra
    environment variables (e.g. passive:OMP_WAIT_POLICY=passive), --frost-args
    frost workers with extra frost_time arguments.
"""
import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers  # noqa: E402  (models, frost_time, the worker processes, the foreign-load check)

BURNER = "while True:\n    pass\n"
PR_SET_PDEATHSIG = 1


def burner_setup(core):
    os.sched_setaffinity(0, {core})
    # ends with this script, however it ends
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def percentile(xs, q):
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class Burner:
    """A busy loop in its own process, on one core."""

    def __init__(self, core):
        self.core = core
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen([peers.PY, "-c", BURNER], preexec_fn=lambda: burner_setup(self.core))
        time.sleep(0.3)  # running, and the scheduler has seen it
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def block(w, runs, limit):
    b = w.run(runs)
    b["foreign"] = peers.foreign_cores(b)
    t = b["times_ms"]
    b.update(p50=percentile(t, 50), p99=percentile(t, 99), ok=b["foreign"] <= limit)
    return b


def measure(workers, args):
    """Rounds of (idle block, burner block) for every worker; returns
    {label: {"idle": [blocks], "busy": [blocks], "rejected": [(idle, busy)]}}."""
    res = {w.label: {"idle": [], "busy": [], "rejected": []} for w in workers}
    for rnd in range(args.rounds * 3):
        if all(min(len(r["idle"]), len(r["busy"])) >= args.rounds for r in res.values()):
            break
        order = workers[rnd % len(workers):] + workers[:rnd % len(workers)]
        got = {}
        for w in order:
            time.sleep(args.pause_s)  # the previous worker's spinning threads park
            got[w.label] = [block(w, args.runs, args.max_foreign)]
        with Burner(args.burner_core):
            for w in order:
                time.sleep(args.pause_s)
                got[w.label].append(block(w, args.runs, 1.0 + args.max_foreign))
        line = []
        for w in order:
            idle, busy = got[w.label]
            r = res[w.label]
            if idle["ok"] and busy["ok"]:
                r["idle"].append(idle)
                r["busy"].append(busy)
            else:
                r["rejected"].append((idle, busy))
            line.append("%s %.1f/%.1f ms (foreign %.2f/%.2f%s)" % (w.label, idle["p50"], busy["p50"], idle["foreign"],
                                                                    busy["foreign"], "" if idle["ok"] and busy["ok"]
                                                                    else ", rejected"))
        peers.log("  round %d: %s" % (rnd + 1, ", ".join(line)))
    return res


def summarize(label, r):
    noisy = not r["idle"]
    if noisy:  # nothing clean: the rejected rounds, flagged
        r = {"idle": [i for i, _ in r["rejected"]], "busy": [b for _, b in r["rejected"]], "rejected": []}
    def med(phase, key):
        return peers.median([b[key] for b in r[phase]])

    def ratio(phase):
        return peers.median([b["p99"] / b["p50"] for b in r[phase]])
    out = {"peer": label + (" (noisy)" if noisy else ""), "blocks": 0 if noisy else len(r["idle"]),
           "rejected": len(r["rejected"]) if not noisy else len(r["idle"])}
    for phase in ("idle", "busy"):
        out[phase] = {"p50": med(phase, "p50"), "p99": med(phase, "p99"), "p99_p50": ratio(phase),
                      "foreign": med(phase, "foreign")}
    out["busy_idle"] = out["busy"]["p50"] / out["idle"]["p50"]
    out["busy_p99_idle_p50"] = out["busy"]["p99"] / out["idle"]["p50"]
    return out


def table_row(model, s):
    i, b = s["idle"], s["busy"]
    return "| %s | %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.2f | %d/%d |" % (
        model, s["peer"], i["p50"], i["p99"], i["p99_p50"], b["p50"], b["p99"], b["p99_p50"], s["busy_idle"],
        s["blocks"], s["rejected"])


def labelled(spec, what):
    label, sep, rest = spec.partition(":")
    if not sep or not label:
        raise SystemExit("%s %r: expected LABEL:..." % (what, spec))
    return label, rest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(peers.ROOT, "build"))
    ap.add_argument("--base-build", help="another frost build (DIR/frost_time), labelled frost@base")
    ap.add_argument("--models", default="inception_v3,mobilenet_v1")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=40, help="timed inferences per block")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--burner-core", type=int, default=(os.cpu_count() or 1) - 1)
    ap.add_argument("--peers", default="frost,ort", help="comma list of frost, ort")
    ap.add_argument("--frost-env", action="append", default=[], metavar="LABEL:K=V,K=V",
                    help="one more frost worker, with these environment variables")
    ap.add_argument("--frost-args", action="append", default=[], metavar="LABEL:ARGS",
                    help="one more frost worker, with these frost_time arguments (space-separated)")
    ap.add_argument("--max-foreign", type=float, default=0.15)
    ap.add_argument("--pause-s", type=float, default=0.5)
    ap.add_argument("--json")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the workers and the burner are stopped
    models = [m for m in args.models.split(",") if m]
    want = [p for p in args.peers.split(",") if p]
    files, _ = peers.prepare_models(models)
    import ort_capi
    ort_lib = ort_capi.find_library(peers.ORT_ROOT)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", ONEDNN_VERBOSE="0")
    env.pop("OMP_NUM_THREADS", None)

    frost_runs = []  # (label, exe, extra args, env)
    if "frost" in want:
        exe, err = peers.build_frost_time(args.build)
        if not exe:
            raise SystemExit("frost: " + err)
        frost_runs.append(("frost", exe, [], env))
        for spec in args.frost_env:
            label, kv = labelled(spec, "--frost-env")
            frost_runs.append(("frost-" + label, exe, [], dict(env, **dict(p.split("=", 1) for p in kv.split(",") if p))))
        for spec in args.frost_args:
            label, extra = labelled(spec, "--frost-args")
            frost_runs.append(("frost-" + label, exe, extra.split(), env))
        if args.base_build:
            base = os.path.join(args.base_build, "frost_time")
            if not os.access(base, os.X_OK):
                raise SystemExit("no %s (cmake --build %s --target frost_time)" % (base, args.base_build))
            frost_runs.append(("frost@base", base, [], env))

    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    peers.log("load average before: %s; %d threads, burner on core %d of %d" % (
        " ".join(load_before), args.threads, args.burner_core, os.cpu_count()))
    t_start = time.time()
    results = []
    for m in models:
        pb, onnx = files[m]
        common = ["--batch", "1", "--threads", str(args.threads)]
        specs = [(label, [exe, pb, "--output", peers.OUTPUTS[m]] + common + extra, e)
                 for label, exe, extra, e in frost_runs]
        if "ort" in want:
            if ort_lib and onnx:
                specs.append(("onnxruntime", [peers.PY, os.path.join(HERE, "peer_worker.py"), "ort", "--onnx", onnx,
                                              "--size", str(peers.SIZES[m]), "--ort-root", peers.ORT_ROOT] + common,
                              env))
            else:
                peers.log("onnxruntime missing (bench/peers.py --install)")
        peers.log("== %s batch 1" % m)
        workers = []
        try:
            for label, cmd, e in specs:
                w = peers.Worker(label, cmd, e)
                if w.error:
                    peers.log("  %s: cannot run: %s" % (label, w.error))
                else:
                    workers.append(w)
            res = measure(workers, args)
        finally:
            for w in workers:
                w.close()
        for w in workers:
            s = summarize(w.label, res[w.label])
            s["model"] = m
            results.append(s)
            peers.log("  " + table_row(m, s))
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]

    print("\nfrost foreign-load benchmark: batch 1, %d threads, %d-core machine, burner on core %d; %s; "
          "load average before %s, after %s; %.0f s" % (
              args.threads, os.cpu_count(), args.burner_core, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              " ".join(load_before), " ".join(load_after), time.time() - t_start))
    print("medians over accepted rounds of per-block p50 / p99 (%d runs per block); busy/idle = busy p50 / idle p50\n"
          % args.runs)
    print("| model | runtime | idle p50 ms | idle p99 ms | idle p99/p50 | busy p50 ms | busy p99 ms | busy p99/p50 "
          "| busy/idle | rounds ok/rej |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s in results:
        print(table_row(s["model"], s))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "load_before": load_before, "load_after": load_after,
                       "threads": args.threads, "runs": args.runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
