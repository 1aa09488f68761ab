"""Shared by the frost.dask tests: the environment (frost from this build,
skips), the image set (real photos, derived images in several formats,
corrupt files), a LocalCluster that is always closed, the one-process
reference records and their comparison."""
import contextlib
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BUILD, FROST, SHARED, SRC, TMP, check  # noqa: E402,F401

DARKNET = "/usr/share/darknet/data"


def skip(why):
    print(why + ": skipped", flush=True)
    sys.exit(77)


if os.environ.get("FROST_SANITIZE", "0") == "1":
    skip("sanitizer build: python cannot load an instrumented libfrost without preloading the runtime")
if not os.path.isdir(os.path.join(SHARED, "models")):
    skip("no ../shared")
try:
    import dask.bag  # noqa: F401
    import distributed
except ImportError as e:
    skip("Dask is not installed (Debian: python3-dask python3-distributed): %s" % e)

# The worker processes inherit the environment and sys.path.
os.environ["FROST_LIBRARY"] = os.path.join(BUILD, "libfrost.so")
sys.path.insert(0, os.path.join(os.path.abspath(SRC), "python"))
import frost  # noqa: E402
import frost.dask  # noqa: E402,F401

V1 = os.path.join(SHARED, "models", "mobilenet_v1_0.25_128_quant_float.pb")
V2 = os.path.join(SHARED, "models", "mobilenet_v2_1.0_224_quant_float.pb")
LABELS = os.path.join(SHARED, "models", "imagenet_labels.txt")
OPTIONS = {"input_mean": 128, "input_std": 128}


def originals():
    names = sorted(os.listdir(os.path.join(SHARED, "images")))
    out = [os.path.join(SHARED, "images", n) for n in names]
    if os.path.isdir(DARKNET):
        out += sorted(os.path.join(DARKNET, n) for n in os.listdir(DARKNET) if n.endswith(".jpg"))
    return out


def make_images(directory, derived=True):
    """(good, bad): the real photos and, with derived, five variants of each
    (flipped, cropped, halved, rotated, gray) as PNG / JPEG / BMP; bad: a
    truncated JPEG, random bytes, an empty file, text named .png, a missing path."""
    import cv2
    import numpy as np
    os.makedirs(directory, exist_ok=True)
    good = originals()
    if derived:
        for i, src in enumerate(list(good)):
            img = cv2.imread(src, cv2.IMREAD_COLOR)
            h, w = img.shape[:2]
            variants = [("flip.png", cv2.flip(img, 1)),
                        ("crop.jpg", img[h // 5:h - h // 5, w // 6:w - w // 6]),
                        ("half.bmp", cv2.resize(img, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)),
                        ("rot.png", cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)),
                        ("gray.jpg", cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR))]
            for suffix, v in variants:
                path = os.path.join(directory, "%02d-%s" % (i, suffix))
                check(cv2.imwrite(path, v), "wrote %s" % path)
                good.append(path)
    jpeg = open(good[0] if good[0].endswith(".jpg") else [p for p in good if p.endswith(".jpg")][0], "rb").read()
    bad = []
    for name, data in (("truncated.jpg", jpeg[:len(jpeg) // 3]),
                       ("random.jpg", np.random.default_rng(7).integers(0, 256, 5000, dtype=np.uint8).tobytes()),
                       ("empty.png", b""), ("text.png", b"this is not an image\n")):
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(data)
        bad.append(path)
    bad.append(os.path.join(directory, "missing.jpg"))
    return good, bad


def interleave(good, bad):
    """good with the bad files spread through it."""
    out, step = list(good), max(1, len(good) // (len(bad) + 1))
    for i, b in enumerate(bad):
        out.insert((i + 1) * step + i, b)
    return out


def reference(model, paths, top_k=5, **options):
    """The records frost.Model(...).classify gives in this one process."""
    labels = frost.load_labels(LABELS)
    with frost.Model(model, labels=labels, **dict(OPTIONS, **options)) as m:
        res = m.classify(paths, top_k=top_k, errors="return")
    return [{"image": p, "error": str(r)} if isinstance(r, frost.Error) else
            {"image": p, "top": [[x.label, x.index, x.score] for x in r]} for p, r in zip(paths, res)]


def compare(got, want, what):
    """Records equal: the same images in the same order, the same errors,
    labels and indices exactly, scores within 1e-6.  Returns whether they are."""
    ok = check(len(got) == len(want), "%s: %d records, expected %d" % (what, len(got), len(want)))
    bad = []
    for g, w in zip(got, want):
        same = g.get("image") == w["image"] and ("error" in g) == ("error" in w)
        if same and "error" in w:
            same = g["error"] == w["error"]
        elif same:
            gt, wt = g["top"], w["top"]
            same = len(gt) == len(wt) and all(
                a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) <= 1e-6 for a, b in zip(gt, wt))
        if not same:
            bad.append((g, w))
    return check(ok and not bad, "%s: %d records differ, first %s" % (what, len(bad), bad[:1])) and ok


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def local_cluster(seconds, n_workers=2):
    """A LocalCluster of n_workers processes with 1 thread each on loopback
    TCP (random ports, no dashboard) and its Client; closed however the block
    ends; _Timeout after `seconds`."""
    def alarm(*_):
        raise _Timeout("the test ran past %d s" % seconds)
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    cluster = client = None
    try:
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", protocol="tcp://", dashboard_address=None,
                                           silence_logs=40)
        client = distributed.Client(cluster)
        client.wait_for_workers(n_workers, timeout=120)
        yield cluster, client
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        if client is not None:
            client.close(timeout=30)
        if cluster is not None:
            cluster.close(timeout=30)
