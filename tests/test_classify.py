"""End-to-end tests of `frost classify` (label_image compatibility, output
formats, directories, stdin streaming, failures) against the expected top-5
of ../shared (computed independently with TensorFlow.js)."""
import csv
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

import cv2
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

FROST = os.environ.get("FROST_BIN", "frost")
SHARED = os.environ.get("FROST_SHARED", "../shared")
TMP = os.environ.get("FROST_TMP", "/tmp")
if not os.path.isdir(os.path.join(SHARED, "models")):
    print("no ../shared: skipped")
    sys.exit(77)

M = os.path.join(SHARED, "models")
IMG = os.path.join(SHARED, "images")
V2 = ["--graph=" + os.path.join(M, "mobilenet_v2_1.0_224_quant_float.pb"),
      "--labels=" + os.path.join(M, "imagenet_labels.txt"), "--input_mean=128", "--input_std=128"]
V1 = ["--graph=" + os.path.join(M, "mobilenet_v1_0.25_128_quant_float.pb"),
      "--labels=" + os.path.join(M, "imagenet_labels.txt"), "--input_mean", "128", "--input_std", "128"]
BMPS = ["grace_hopper.bmp", "cat.bmp", "bird.bmp", "dragonfly.bmp"]
LINE = re.compile(r"^(.*) \((\d+)\): (\S+)$")


def run(args, stdin=None, timeout=300):
    p = subprocess.run([FROST] + args, input=stdin, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def parse_text(out):
    """{path: [(index, score, label)]} from text output with 'path:' headers."""
    res, cur = {}, None
    for line in out.splitlines():
        m = LINE.match(line)
        if m and cur is not None:
            res[cur].append((int(m.group(2)), float(m.group(3)), m.group(1)))
        elif line.endswith(":"):
            cur = line[:-1]
            res[cur] = []
        else:
            check(False, "unexpected output line %r" % line)
    return res


def expected_top5(model):
    exp = {}
    with open(os.path.join(SHARED, "expected", model + ".top5.txt")) as f:
        for line in f:
            name, rest = line.strip().split(" ", 1)
            items = []
            for part in rest.split(" | "):
                idx, lp = part.split(":", 1)
                items.append((int(idx), float(lp.rsplit("=", 1)[1])))
            exp[name] = items
    return exp


# 1. The four shared images with MobileNet v2 (224 detected from the graph).
exp = expected_top5("mobilenet_v2_1.0_224_quant_float")
paths = [os.path.join(IMG, b) for b in BMPS]
rc, out, err = run(["classify"] + V2 + paths)
check(rc == 0, "v2 run exit status %d: %s" % (rc, err))
res = parse_text(out)
check(list(res) == paths, "output order %s" % list(res))
for b in BMPS:
    got = res.get(os.path.join(IMG, b), [])
    check([g[0] for g in got] == [e[0] for e in exp[b]], "%s top-5 %s vs %s" % (b, got, exp[b]))
    for g, e in zip(got, exp[b]):
        check(abs(g[1] - e[1]) <= 2e-3, "%s class %d: %g vs %g" % (b, g[0], g[1], e[1]))
v2_scores = {p: r for p, r in res.items()}

# 2. label_image style: no subcommand, one --image, no header, 6 significant digits.
rc, out, err = run(V2 + ["--image", paths[0]])
lines = out.splitlines()
check(rc == 0 and len(lines) == 5, "label_image style: %d %r %s" % (rc, out, err))
m = LINE.match(lines[0]) if lines else None
check(m is not None and m.group(1) == "military uniform" and m.group(2) == "653", "first line %r" % lines[:1])
if m:
    score = float(m.group(3))
    check(m.group(3) == "%g" % score, "score printed as %%g: %r" % m.group(3))
    check(abs(score - v2_scores[paths[0]][0][1]) < 1e-6, "same score alone and in a list")

# 3. The other shared model: its expected top-5 too (128 detected), jsonl parse.
exp1 = expected_top5("mobilenet_v1_0.25_128_quant_float")
rc, out, err = run(["classify"] + V1 + ["--format=jsonl"] + paths)
check(rc == 0, "v1 jsonl exit %d %s" % (rc, err))
recs = [json.loads(l) for l in out.splitlines()]
check([r["image"] for r in recs] == paths, "jsonl order")
for r in recs:
    e = exp1[os.path.basename(r["image"])]
    check([t["index"] for t in r["top"]] == [x[0] for x in e], "v1 %s top-5" % r["image"])
    check(all(abs(t["score"] - x[1]) <= 2e-3 for t, x in zip(r["top"], e)), "v1 %s scores" % r["image"])
    check(all(isinstance(t["label"], str) for t in r["top"]), "labels present")

# 4. CSV parses; --top_k; no labels -> index only.
rc, out, err = run(["classify"] + V1 + ["--format", "csv", "--top_k", "3"] + paths[:2])
rows = list(csv.DictReader(io.StringIO(out)))
check(rc == 0 and len(rows) == 6, "csv rows %d" % len(rows))
check([r["rank"] for r in rows] == ["1", "2", "3"] * 2, "csv ranks")
check(rows and rows[0]["image"] == paths[0] and rows[0]["index"] == str(exp1["grace_hopper.bmp"][0][0]), "csv first row")
graph_only = [a for a in V1 if not a.startswith("--labels")]
rc, out, err = run(["classify"] + graph_only + ["--top_k=2", paths[1]])
check(rc == 0 and re.match(r"^\d+: \S+\n\d+: \S+\n$", out) is not None, "no labels: %r" % out)

# 5. Directories: recursive, sorted, non-images and hidden files skipped,
#    other formats decode to the same answers (PNG lossless = BMP).
d = os.path.join(TMP, "tree")
shutil.rmtree(d, ignore_errors=True)
os.makedirs(os.path.join(d, "b_sub", "deeper"))
os.makedirs(os.path.join(d, "a_sub"))
cat = cv2.imread(os.path.join(IMG, "cat.bmp"))
cv2.imwrite(os.path.join(d, "b_sub", "cat.png"), cat)
shutil.copy(os.path.join(IMG, "bird.bmp"), os.path.join(d, "b_sub", "deeper", "bird"))  # no extension
shutil.copy(os.path.join(IMG, "grace_hopper.jpg"), os.path.join(d, "z.jpg"))
shutil.copy(os.path.join(IMG, "dragonfly.bmp"), os.path.join(d, "a_sub", "dragonfly.bmp"))
shutil.copy(os.path.join(IMG, "cat.bmp"), os.path.join(d, ".hidden.bmp"))
with open(os.path.join(d, "notes.txt"), "w") as f:
    f.write("not an image\n")
want_order = [os.path.join(d, p) for p in
              ["a_sub/dragonfly.bmp", "b_sub/cat.png", "b_sub/deeper/bird", "z.jpg"]]
rc, out, err = run(["classify"] + V1 + ["--format=jsonl", "--top_k=5", d])
recs = [json.loads(l) for l in out.splitlines()]
check(rc == 0, "directory exit %d %s" % (rc, err))
check([r["image"] for r in recs] == want_order, "directory order %s" % [r["image"] for r in recs])
by_name = {os.path.basename(r["image"]): r for r in recs}
rc2, out2, _ = run(["classify"] + V1 + ["--format=jsonl", os.path.join(IMG, "cat.bmp")])
ref_cat = json.loads(out2.splitlines()[0]) if out2 else {"top": []}
check(by_name.get("cat.png", {}).get("top") == ref_cat["top"], "png of cat.bmp gives the same answer")

# 6. Many images through the pipeline: order kept, batching changes nothing.
many = os.path.join(TMP, "many")
shutil.rmtree(many, ignore_errors=True)
os.makedirs(many)
srcs = BMPS + ["grace_hopper.jpg"]
names = []
for i in range(23):
    n = "img%02d_%s" % (i, srcs[i % len(srcs)])
    os.symlink(os.path.join(os.path.abspath(IMG), srcs[i % len(srcs)]), os.path.join(many, n))
    names.append(os.path.join(many, n))
res_b = {}
for batch, threads in [(1, 1), (8, 2), (5, 3)]:
    rc, out, err = run(["classify"] + V1 + ["--format=jsonl", "--batch=%d" % batch,
                                          "--decode_threads=%d" % threads, many])
    recs = [json.loads(l) for l in out.splitlines()]
    check(rc == 0 and [r["image"] for r in recs] == sorted(names), "batch %d order" % batch)
    res_b[batch] = recs
for a, b in zip(res_b[1], res_b[8]):
    check([t["index"] for t in a["top"]] == [t["index"] for t in b["top"]], "batch 8 = batch 1 classes")
    check(max(abs(x["score"] - y["score"]) for x, y in zip(a["top"], b["top"])) < 1e-4, "batch 8 = batch 1 scores")

# 7. A bad image among good ones: reported, the others classified, exit 1.
bad = os.path.join(TMP, "truncated.jpg")
with open(os.path.join(IMG, "grace_hopper.jpg"), "rb") as f:
    data = f.read()
with open(bad, "wb") as f:
    f.write(data[: len(data) // 2])
rc, out, err = run(["classify"] + V1 + [paths[1], bad, "/no/such/file.png", paths[2]])
res = parse_text(out)
check(rc == 1, "exit status with a bad image: %d" % rc)
check(list(res) == [paths[1], paths[2]], "good images still classified: %s" % list(res))
check(bad in err and "/no/such/file.png" in err, "errors name the files: %r" % err)

# 8. Streaming: each path written to stdin is answered before the next is
#    written (stdin still open).
def stream_test(extra):
    p = subprocess.Popen([FROST, "classify"] + V1 + ["--top_k=2", "-"] + extra, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fd = p.stdout.fileno()
    pending = b""
    answered = []
    for path in [paths[0], paths[3], paths[1]]:
        p.stdin.write((path + "\n").encode())
        p.stdin.flush()
        t0 = time.time()
        deadline = t0 + 60
        while pending.count(b"\n") < 3 and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            pending += chunk
        lines = pending.decode().split("\n")
        got, pending = lines[:3], "\n".join(lines[3:]).encode()
        check(len(got) == 3 and got[0] == path + ":", "streamed answer (%s) for %s: %r" % (extra, path, got))
        print("%s answer for %s after %.2f s, stdin still open" % (extra, os.path.basename(path), time.time() - t0))
        answered.append(got)
    p.stdin.close()
    rest = p.stdout.read()
    rc = p.wait(timeout=60)
    check(rc == 0 and pending + rest == b"", "stream end: %d %r %s" % (rc, rest, p.stderr.read()))
    check(len(answered) == 3 and len(answered[1]) == 3 and "(%d): " % exp1["dragonfly.bmp"][0][0] in answered[1][1],
          "dragonfly streamed: %r" % answered[1:2])


for extra in ([], ["--batch=4"]):
    stream_test(extra)

# 9. Self test, help, usage errors.
rc, out, err = run(["classify"] + V1 + ["--self_test"])
check(rc == 0 and "self test passed" in err, "self test: %d %s" % (rc, err))
rc, out, err = run(["classify", "--help"])
check(rc == 0 and "Placeholder" in out and "--input_width" in out, "classify --help")
rc, out, err = run(["--help"])
check(rc == 0 and "classify" in out, "frost --help lists classify")
rc, out, err = run(["classify"] + V1 + ["--no_such_flag", paths[0]])
check(rc == 2, "unknown flag exit %d" % rc)
rc, out, err = run(["classify"] + V1 + ["--input_width=100", paths[0]])
check(rc == 1 and "conflict" in err, "width conflicting with the graph: %d %s" % (rc, err))
rc, out, err = run(["classify"] + V1 + ["--max_pixels=1000", paths[0]])
check(rc == 1 and "limit" in err, "max_pixels: %d %s" % (rc, err))
rc, out, err = run(["classify"] + V1 + ["--count=3", "--warmup_runs=1", paths[0]])
check(rc == 0 and re.search(r"average time: [0-9.]+ ms", err) is not None, "count/warmup: %s" % err)

# 10. --fast-decode (not TF-exact: scores move, the answer should not),
#     --root_dir, --resize, --profiling.
jpg = os.path.join(IMG, "grace_hopper.jpg")
rc, out, err = run(["classify"] + V2 + ["--top_k=1", "--format=jsonl", jpg])
exact = json.loads(out)["top"][0] if rc == 0 else None
rc, out, err = run(["classify"] + V2 + ["--top_k=1", "--format=jsonl", "--fast-decode", jpg])
fast = json.loads(out)["top"][0] if rc == 0 else None
check(exact and fast and exact["index"] == fast["index"] == 653, "fast decode top-1: %s %s" % (exact, fast))
# --dct_method as decode_jpeg's: INTEGER_FAST is the default, INTEGER_ACCURATE moves the scores a little
dct = {}
for m in ["INTEGER_FAST", "INTEGER_ACCURATE"]:
    rc, out, err = run(["classify"] + V2 + ["--top_k=1", "--format=jsonl", "--dct_method", m, jpg])
    dct[m] = json.loads(out)["top"][0] if rc == 0 else None
check(dct["INTEGER_FAST"] == exact and dct["INTEGER_ACCURATE"] and dct["INTEGER_ACCURATE"]["index"] == 653 and
      dct["INTEGER_ACCURATE"]["score"] != exact["score"], "dct_method: %s %s" % (exact, dct))
rc, out, err = run(["classify"] + V2 + ["--dct_method", "FLOAT", jpg])
check(rc == 2 and "INTEGER_ACCURATE" in err, "dct_method FLOAT: %d %s" % (rc, err))
rc, out, err = run(["classify", "--root_dir", SHARED, "--graph=models/mobilenet_v1_0.25_128_quant_float.pb",
                    "--labels=models/imagenet_labels.txt", "--input_mean=128", "--input_std=128",
                    "--image=images/cat.bmp", "--top_k=1"])
check(rc == 0 and "(%d): " % exp1["cat.bmp"][0][0] in out, "root_dir: %d %r %s" % (rc, out, err))
outs = {}
for mode in ["tf1", "tf2", "align_corners"]:
    rc, out, err = run(["classify"] + V1 + ["--top_k=1", "--format=jsonl", "--resize=" + mode, paths[1]])
    outs[mode] = json.loads(out)["top"][0]["score"] if rc == 0 else None
check(outs["tf1"] is not None and outs["tf2"] is not None and outs["tf1"] != outs["tf2"], "resize modes differ: %s" % outs)
rc, out, err = run(["classify"] + V1 + ["--profiling", "--top_k=1", paths[1]])
check(rc == 0 and "per-op profile" in err, "profiling table: %s" % err[-300:])
# the table counts the measured runs (--count), not the warm-up runs
rc, out, err = run(["classify"] + V1 + ["--profiling", "--count=3", "--warmup_runs=2", "--top_k=1", paths[1]])
rows = [l.split() for l in err.splitlines() if l[:1] == " " and len(l.split()) > 5 and l.split()[3].isdigit()]
check(rc == 0 and rows and all(r[3] == "3" for r in rows),
      "profile runs = --count: %s" % (sorted(set(r[3] for r in rows)) if rows else err[-300:]))

sys.exit(summary())
