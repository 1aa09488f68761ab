"""frost classify past one machine from the command line: the GNU parallel
recipe of the README (paths on stdin, `parallel --pipe -k -N ...` running
`frost classify --format jsonl -` per block) and deploy/slurm/classify.sbatch
(run as Slurm runs an array task, one shard per task) give the records of one
`frost classify` process over the same paths: in input order, one line per
input, an error line for each corrupt file (labels and indices exactly, scores
within 1e-6)."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

SRC = os.environ.get("FROST_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FROST = os.environ.get("FROST_BIN", os.path.join(SRC, "build", "frost"))
SHARED = os.environ.get("FROST_SHARED", os.path.join(SRC, "..", "shared"))
TMP = os.environ.get("FROST_TMP", "/tmp")
if not os.path.isdir(os.path.join(SHARED, "models")):
    print("no ../shared: skipped")
    sys.exit(77)
if shutil.which("parallel") is None:
    print("GNU parallel is not installed (Debian: parallel): skipped")
    sys.exit(77)
MODEL = ["--graph", os.path.join(SHARED, "models", "mobilenet_v1_0.25_128_quant_float.pb"),
         "--labels", os.path.join(SHARED, "models", "imagenet_labels.txt"), "--input_mean", "128", "--input_std", "128"]
SBATCH = os.path.join(SRC, "deploy", "slurm", "classify.sbatch")

# 40 paths: the photos, repeated, with corrupt and missing files among them.
photos = sorted(os.path.join(SHARED, "images", n) for n in os.listdir(os.path.join(SHARED, "images")))
darknet = "/usr/share/darknet/data"
if os.path.isdir(darknet):
    photos += sorted(os.path.join(darknet, n) for n in os.listdir(darknet) if n.endswith(".jpg"))
bad = [os.path.join(TMP, "truncated.jpg"), os.path.join(TMP, "text.png"), os.path.join(TMP, "missing.jpg")]
with open(bad[0], "wb") as f:
    f.write(open(os.path.join(SHARED, "images", "grace_hopper.jpg"), "rb").read()[:3000])
with open(bad[1], "w") as f:
    f.write("not an image\n")
paths = (photos * 4)[:37]
for i, b in enumerate(bad):
    paths.insert(5 + 13 * i, b)
listing = os.path.join(TMP, "paths.txt")
with open(listing, "w") as f:
    f.write("".join(p + "\n" for p in paths))

one = subprocess.run([FROST, "classify", "--format", "jsonl", "--batch", "16", "--no_progress"] + MODEL + paths,
                     capture_output=True, text=True, timeout=300)
check(one.returncode == 1, "one process: status 1 (some images failed): %d" % one.returncode)
want = [json.loads(ln) for ln in one.stdout.splitlines()]
check([r["image"] for r in want] == paths and sum("error" in r for r in want) == len(bad),
      "one process: a line per input, in order, errors for the bad files")


def same(lines, what):
    try:
        got = [json.loads(ln) for ln in lines]
    except ValueError as e:
        return check(False, "%s: not JSON lines: %s" % (what, e))
    ok = check([r.get("image") for r in got] == paths, "%s: every input once, in input order (%d lines)" % (
        what, len(got)))
    diff = [(g, w) for g, w in zip(got, want) if ("error" in g) != ("error" in w) or (
        "top" in w and ([(t["index"], t["label"]) for t in g["top"]] != [(t["index"], t["label"]) for t in w["top"]]
                        or any(abs(a["score"] - b["score"]) > 1e-6 for a, b in zip(g["top"], w["top"]))))]
    return check(ok and not diff, "%s: same records as one process; first difference %s" % (what, diff[:1]))


# 1. GNU parallel: blocks of 6 paths, 2 jobs at a time, output in input order (-k).
block = 6
p = subprocess.run(["parallel", "--pipe", "-k", "-N", str(block), "-j", "2", FROST, "classify", "--format", "jsonl",
                    "--batch", "16", "--threads", "1", "--no_progress"] + MODEL + ["-"],
                   input=open(listing).read(), capture_output=True, text=True, timeout=300)
same(p.stdout.splitlines(), "parallel --pipe -k")
# parallel's status is the number of jobs that failed: the blocks holding a bad file.
failed_blocks = len({paths.index(b) // block for b in bad})
check(p.returncode == failed_blocks, "parallel status %d = blocks with a bad file %d" % (p.returncode, failed_blocks))

# 2. The Slurm array job, run as Slurm runs its tasks (array 3-9 step 2: 4 tasks).
out = os.path.join(TMP, "slurm")
shutil.rmtree(out, ignore_errors=True)
env = dict(os.environ, FROST=FROST, SLURM_ARRAY_TASK_MIN="3", SLURM_ARRAY_TASK_MAX="9", SLURM_ARRAY_TASK_STEP="2",
           SLURM_CPUS_PER_TASK="1")
env.pop("SLURM_ARRAY_TASK_COUNT", None)
for task in (9, 3, 7, 5):  # any order: each task writes its own shard
    r = subprocess.run(["bash", SBATCH, listing, out] + MODEL, env=dict(env, SLURM_ARRAY_TASK_ID=str(task)),
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "array task %d: status 0 with failed images in it: %d %s" % (
        task, r.returncode, r.stderr[-300:]))
shards = sorted(os.listdir(out))
check(shards == ["shard-%06d.jsonl" % i for i in range(4)], "4 shards: %s" % shards)
lines = [ln for s in shards for ln in open(os.path.join(out, s)).read().splitlines()]
same(lines, "slurm shards concatenated")
sizes = [sum(1 for _ in open(os.path.join(out, s))) for s in shards]
check(sizes == [10, 10, 10, 10], "consecutive shards of 10: %s" % sizes)

# A task whose frost cannot run (no such model) fails and leaves no shard.
r = subprocess.run(["bash", SBATCH, listing, os.path.join(TMP, "slurm-bad"), "--graph", "/nonexistent.pb"],
                   env=dict(env, SLURM_ARRAY_TASK_ID="3"), capture_output=True, text=True, timeout=60)
check(r.returncode == 1 and "failed on shard 0" in r.stderr, "missing model: the task fails: %d %s" % (
    r.returncode, r.stderr[-300:]))
check(not os.path.exists(os.path.join(TMP, "slurm-bad", "shard-000000.jsonl")), "no shard for a failed task")
r = subprocess.run(["bash", SBATCH, listing, out], env=dict(os.environ), capture_output=True, text=True, timeout=60)
check(r.returncode != 0 and "array job" in r.stderr, "outside an array job: refused: %s" % r.stderr[-200:])
sys.exit(summary())
