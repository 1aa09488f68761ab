"""Shared pieces of the peer benchmark (bench/peers.py).

Worker protocol (every peer runs in its own process, frost included):
  * the worker loads its model, runs it a few times to warm up, and prints ONE
    JSON line: {"ready": true, "name": ..., "version": ..., "load_ms": ...,
    "first_ms": ..., "output": [first batch item's output, as a list]}
    or {"error": "why"} and exits;
  * then it reads commands on stdin, one per line:
      "run N"  -> runs N timed iterations and prints one JSON line
                  {"times_ms": [...], "wall_s": w, "self_cpu_s": c,
                   "sys_busy_s": b, "max_rss_kb": r}
      "quit"   -> exits.
  sys_busy_s - self_cpu_s is CPU time that OTHER processes used while the block
  ran (from /proc/stat); the orchestrator rejects blocks where that is large.

Inputs are deterministic: element i (row-major) is (i % 251) / 125 - 1.
"""
import json
import os
import resource
import sys
import time

import numpy as np

CLK_TCK = os.sysconf("SC_CLK_TCK")


def det_input(shape):
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.int64) % 251) / 125.0 - 1.0).astype(np.float32).reshape(shape)


def sys_busy_s():
    """CPU time (all cores, all processes) spent non-idle, in seconds."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    v = [int(x) for x in parts]
    # user nice system idle iowait irq softirq steal [guest guest_nice]
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    return busy / CLK_TCK


def self_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed_block(fn, n):
    b0, c0, w0 = sys_busy_s(), self_cpu_s(), time.perf_counter()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    w1 = time.perf_counter()
    return {
        "times_ms": times,
        "wall_s": w1 - w0,
        "self_cpu_s": self_cpu_s() - c0,
        "sys_busy_s": sys_busy_s() - b0,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def serve(load, warmup=2):
    """load() -> (run_fn, info dict, output ndarray of the first run).
    Prints the ready line and answers run commands until quit / EOF."""
    try:
        t0 = time.perf_counter()
        run, info, _ = load()
        load_ms = (time.perf_counter() - t0) * 1e3
        t1 = time.perf_counter()
        out = run()
        first_ms = (time.perf_counter() - t1) * 1e3
        for _ in range(warmup):
            out = run()
    except Exception as e:  # a peer that cannot run is reported, not fatal
        emit({"error": "%s: %s" % (type(e).__name__, e)})
        return 1
    out = np.asarray(out, dtype=np.float32)
    info = dict(info)
    info.update(ready=True, load_ms=load_ms, first_ms=first_ms,
                output=[float(v) for v in out.reshape(out.shape[0], -1)[0]])
    emit(info)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "run":
            emit(timed_block(run, int(cmd[1])))
    return 0
