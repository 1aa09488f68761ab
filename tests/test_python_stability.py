"""The Python package under repetition and threads: 1,000 classify calls (paths,
encoded bytes, decoded arrays) and 1,000 run() calls in a loop keep the
resident set flat after warm-up; models created and closed in a loop free
their memory; one Model shared by several threads gives every thread the
single-threaded results, with at most one context per concurrent call."""
import os
import sys
import threading

import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BUILD, SHARED, SRC, check, summary  # noqa: E402

if not os.path.isdir(os.path.join(SHARED, "models")):
    print("no ../shared: skipped")
    sys.exit(77)
if os.environ.get("FROST_SANITIZE", "0") == "1":
    print("sanitizer build: python cannot load an instrumented libfrost without preloading the runtime: skipped")
    sys.exit(77)
os.environ["FROST_LIBRARY"] = os.path.join(BUILD, "libfrost.so")
sys.path.insert(0, os.path.join(SRC, "python"))
import frost  # noqa: E402

M = os.path.join(SHARED, "models")
IMG = os.path.join(SHARED, "images")
V1 = os.path.join(M, "mobilenet_v1_0.25_128_quant_float.pb")
LABELS = os.path.join(M, "imagenet_labels.txt")
PATHS = [os.path.join(IMG, n) for n in ("grace_hopper.jpg", "cat.bmp", "bird.bmp", "dragonfly.bmp")]


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


m = frost.Model(V1, labels=LABELS, input_mean=128, input_std=128, threads=1)
blobs = [open(p, "rb").read() for p in PATHS]
ref = m.classify(PATHS)
arr = np.zeros((96, 128, 3), np.uint8)
arr[:, :64] = 200


def one(i):
    k = i % 3
    r = m.classify(PATHS[i % 4] if k == 0 else blobs[i % 4] if k == 1 else arr, top_k=5)
    return r if k == 2 else r[0] == ref[i % 4]


# 1. 1,000 classify calls: same results, flat RSS after 100 warm-up calls.
for i in range(100):
    one(i)
before = rss_kb()
same = sum(1 for i in range(1000) if one(i) is True)
grew = rss_kb() - before
check(same == 667, "1000 calls: %d path/bytes results equal the first" % same)
check(grew <= 1024, "classify x1000: RSS grew %d kB (limit 1024)" % grew)
print("classify x1000: RSS %d kB -> %d kB" % (before, before + grew))

# 2. 1,000 run() calls at batch 1 and 4.
x1 = np.random.default_rng(1).standard_normal((1, 128, 128, 3)).astype(np.float32)
x4 = np.concatenate([x1] * 4)
y1 = m.run(x1)
for i in range(100):
    m.run(x4 if i % 2 else x1)
before = rss_kb()
ok = 0
for i in range(1000):
    y = m.run(x4 if i % 2 else x1)
    ok += bool(np.array_equal(y[-1:], y1))
grew = rss_kb() - before
check(ok == 1000, "run x1000: %d equal outputs" % ok)
check(grew <= 1024, "run x1000: RSS grew %d kB (limit 1024)" % grew)
print("run x1000: RSS %d kB -> %d kB" % (before, before + grew))

# 3. Models created, used and closed in a loop (the context manager frees them).
for i in range(5):
    with frost.Model(V1, threads=1) as t:
        t.run(x1)
before = rss_kb()
for i in range(40):
    with frost.Model(V1, threads=1) as t:
        t.run(x1)
grew = rss_kb() - before
check(grew <= 2048, "40 load/close cycles: RSS grew %d kB (limit 2048)" % grew)
print("load/close x40: RSS %d kB -> %d kB" % (before, before + grew))

# 4. Several threads on one Model: every result equals the single-threaded one.
NT, N = 4, 30
errors, bad = [], [0]
start = threading.Barrier(NT)


def worker(t):
    try:
        start.wait()
        for i in range(N):
            if (i + t) % 2:
                got = m.classify(PATHS, batch=1 + (i + t) % 4)
                if got != ref:
                    bad[0] += 1
            else:
                y = m.run(x4)
                if not np.array_equal(y[:1], y1):
                    bad[0] += 1
    except Exception as e:  # recorded, checked below
        errors.append(repr(e))


threads = [threading.Thread(target=worker, args=(t,)) for t in range(NT)]
for th in threads:
    th.start()
for th in threads:
    th.join()
check(not errors, "thread errors: %s" % errors[:3])
check(bad[0] == 0, "%d thread results differ from the single-threaded ones" % bad[0])
check(1 <= len(m._idle) <= NT and m._busy == 0, "contexts pooled: %d idle, %d busy" % (len(m._idle), m._busy))

# 5. close() while other threads are running: their calls finish or raise
# InvalidArgumentError ("closed"), nothing else; the model is then freed.
results = {"done": 0, "closed": 0, "other": []}
go = threading.Barrier(NT + 1)


def late(t):
    go.wait()
    for i in range(20):
        try:
            m.classify(PATHS[t % 4])
            results["done"] += 1
        except frost.InvalidArgumentError as e:
            if "closed" in str(e):
                results["closed"] += 1
            else:
                results["other"].append(repr(e))
        except Exception as e:
            results["other"].append(repr(e))


threads = [threading.Thread(target=late, args=(t,)) for t in range(NT)]
for th in threads:
    th.start()
go.wait()
m.close()
for th in threads:
    th.join()
check(not results["other"], "close under load: %s" % results["other"][:3])
check(results["done"] + results["closed"] == NT * 20, "close under load: %s" % results)
check(m.closed and m._model is None and m._busy == 0, "model freed after the last call")

sys.exit(summary())
