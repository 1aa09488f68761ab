# frost-test-labels: asan
"""Graphs whose input is encoded image bytes (a string Placeholder ->
DecodeJpeg / DecodePng / DecodeImage -> Cast -> ExpandDims -> ResizeBilinear
-> (x - 128) * (1 / 128) -> a small network), classified by `frost classify`
and by frost.Model from files' bytes.  The reference: the same network
without the decoding part (a float NHWC Placeholder), fed by frost's own
image pipeline with the same resize, mean, std and dct_method, whose
decoding test_decode_graph shows bit-identical to the in-graph one: same
top-k, scores within 1e-5, for the photos of ../shared (re-encoded as JPEG
and PNG here).  Also: a corrupt file among good ones (an error line for it,
exit status 1, the others classified), a directory (non-images skipped), the
preprocessing flags that do not apply, Python classify on paths and bytes,
run() on bytes, lists of bytes and numpy object arrays, and the errors for
decoded arrays given to such a model."""
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BUILD, FROST, SHARED, SRC, TMP, check, summary  # noqa: E402
from serve_util import DT_FLOAT, DT_INT32, DT_STRING, DT_UINT8, _field, _node, classifier_nodes  # noqa: E402

if not os.path.isdir(os.path.join(SHARED, "images")):
    print("no ../shared: skipped")
    sys.exit(77)

S, CLASSES, FILTERS = 64, 10, 4
rng = np.random.RandomState(21)
K = (rng.standard_normal((5, 5, 3, FILTERS)) * 0.2).astype(np.float32)  # HWIO
KB = (rng.standard_normal(FILTERS) * 0.1).astype(np.float32)
CONV = (S - 5) // 4 + 1  # 5x5 stride 4 VALID
W = (rng.standard_normal((CONV * CONV * FILTERS, CLASSES)) * 0.05).astype(np.float32)
B = (rng.standard_normal(CLASSES) * 0.1).astype(np.float32)


def network(x):
    """The classifier on top of NHWC float `x`: Conv2D 5x5 stride 4 -> ...
    -> Softmax "probs" (serve_util.classifier_nodes)."""
    return classifier_nodes(x, K, KB, W, B, stride=4)


def string_const(name):
    """A Const holding one empty string, as TF-for-Poets graphs hold "DecodeJpeg/contents"."""
    tensor = _field(1, 0, DT_STRING) + _field(2, 2, b"") + _field(8, 2, b"")  # dtype, shape [], string_val
    attr = _field(5, 2, _field(1, 2, b"value") + _field(2, 2, _field(8, 2, tensor)))
    return _field(1, 2, _field(1, 2, name.encode()) + _field(2, 2, b"Const") + attr + _field(
        5, 2, _field(1, 2, b"dtype") + _field(2, 2, _field(6, 0, DT_STRING))))


def bytes_graph(path, op, dct=None, contents="contents", const=False):
    """contents (string []) -> op -> Cast -> ExpandDims -> ResizeBilinear (TF1) -> Sub 128 -> Mul 1/128 -> network."""
    attrs = {"channels": ("i", 3)}
    if dct:
        attrs["dct_method"] = ("s", dct)
    nodes = [
        string_const(contents) if const else
        _node(contents, "Placeholder", dtype=("type", DT_STRING), shape=("shape", [])),
        _node("decode", op, [contents], **attrs),
        _node("cast", "Cast", ["decode"], SrcT=("type", DT_UINT8), DstT=("type", DT_FLOAT)),
        _node("dim", "Const", dtype=("type", DT_INT32), value=("tensor", np.array(0, np.int32))),
        _node("expand", "ExpandDims", ["cast", "dim"], T=("type", DT_FLOAT), Tdim=("type", DT_INT32)),
        _node("size", "Const", dtype=("type", DT_INT32), value=("tensor", np.array([S, S], np.int32))),
        _node("resize", "ResizeBilinear", ["expand", "size"], T=("type", DT_FLOAT), align_corners=("b", False)),
        _node("mean", "Const", dtype=("type", DT_FLOAT), value=("tensor", np.array(128, np.float32))),
        _node("sub", "Sub", ["resize", "mean"], T=("type", DT_FLOAT)),
        _node("scale", "Const", dtype=("type", DT_FLOAT), value=("tensor", np.array(1 / 128, np.float32))),
        _node("norm", "Mul", ["sub", "scale"], T=("type", DT_FLOAT)),
    ]
    with open(path, "wb") as f:
        f.write(b"".join(nodes) + network("norm"))


def float_graph(path):
    with open(path, "wb") as f:
        f.write(_node("input", "Placeholder", dtype=("type", DT_FLOAT), shape=("shape", [-1, S, S, 3])) +
                network("input"))


T = os.path.join(TMP, "classify_bytes")
shutil.rmtree(T, ignore_errors=True)
os.makedirs(T)
FLOAT_PB, JPEG_PB, ACC_PB, PNG_PB, ANY_PB = (os.path.join(T, n + ".pb") for n in ("float", "jpeg", "acc", "png", "any"))
float_graph(FLOAT_PB)
bytes_graph(JPEG_PB, "DecodeJpeg")
bytes_graph(ACC_PB, "DecodeJpeg", "INTEGER_ACCURATE")
bytes_graph(PNG_PB, "DecodePng")
bytes_graph(ANY_PB, "DecodeImage")
POETS_PB = os.path.join(T, "poets.pb")
bytes_graph(POETS_PB, "DecodeJpeg", contents="DecodeJpeg/contents", const=True)
LABELS = os.path.join(T, "labels.txt")
with open(LABELS, "w") as f:
    f.write("".join("class %d\n" % i for i in range(CLASSES)))

# The photos: grace_hopper.jpg as it is, the BMPs re-encoded as JPEG and PNG.
IMG = os.path.join(SHARED, "images")
JPEGS, PNGS = [os.path.join(IMG, "grace_hopper.jpg")], []
for name in ("cat", "bird", "dragonfly", "grace_hopper"):
    pic = cv2.imread(os.path.join(IMG, name + ".bmp"))
    for ext, params, dst in ((".jpg", [cv2.IMWRITE_JPEG_QUALITY, 90], JPEGS), (".png", [], PNGS)):
        dst.append(os.path.join(T, name + ext))
        cv2.imwrite(dst[-1], pic, params)
ALL = JPEGS + PNGS + [os.path.join(IMG, "cat.bmp")]


def classify(args):
    p = subprocess.run([FROST, "classify", "--labels", LABELS, "--format=jsonl", "--top_k=3"] + args,
                       capture_output=True, text=True, timeout=120)
    lines = [json.loads(ln) for ln in p.stdout.splitlines()]
    return p.returncode, {d["image"]: d for d in lines}, p.stderr, [d["image"] for d in lines]


def reference(files, *extra):
    rc, res, err, _ = classify(["--graph", FLOAT_PB, "--input_mean=128", "--input_std=128"] + list(extra) + files)
    check(rc == 0 and len(res) == len(files), "reference run: %d %s" % (rc, err))
    return res


def same(got, want, what, tol=1e-5):
    """Same top-k classes (indices and labels) and scores within tol."""
    ok = got is not None and "top" in got and [(t["index"], t["label"]) for t in got["top"]] == [
        (t["index"], t["label"]) for t in want["top"]] and all(
        abs(a["score"] - b["score"]) <= tol for a, b in zip(got["top"], want["top"]))
    return check(ok, "%s: %s vs the float graph %s" % (what, got, want))


# 1. DecodeJpeg (dct_method INTEGER_FAST, TensorFlow's default) vs the float
#    graph with frost's pipeline, batched and one by one.
ref = reference(JPEGS)
check(len({tuple(t["index"] for t in d["top"]) for d in ref.values()}) > 1, "the photos get different classes")
for batch in ("4", "1"):
    rc, res, err, order = classify(["--graph", JPEG_PB, "--batch", batch] + JPEGS)
    check(rc == 0 and order == JPEGS, "DecodeJpeg graph --batch %s: rc %d, %s %s" % (batch, rc, order, err))
    for p in JPEGS:
        same(res.get(p), ref[p], "DecodeJpeg --batch %s %s" % (batch, p))
# INTEGER_ACCURATE in the graph = --dct_method INTEGER_ACCURATE in frost's pipeline (and differs from FAST)
ref_acc = reference(JPEGS[:1], "--dct_method", "INTEGER_ACCURATE")
rc, res, err, _ = classify(["--graph", ACC_PB] + JPEGS[:1])
check(rc == 0, "INTEGER_ACCURATE graph: %s" % err)
same(res.get(JPEGS[0]), ref_acc[JPEGS[0]], "dct_method INTEGER_ACCURATE", 1e-5)
check(abs(ref_acc[JPEGS[0]]["top"][0]["score"] - ref[JPEGS[0]]["top"][0]["score"]) > 1e-7,
      "dct_method changes the scores (the check above can fail)")

# 2. PNG through DecodePng, and everything through DecodeImage.
ref_all = reference(ALL)
rc, res, err, _ = classify(["--graph", PNG_PB] + PNGS)
check(rc == 0, "DecodePng graph: %s" % err)
for p in PNGS:
    same(res.get(p), ref_all[p], "DecodePng %s" % p)
rc, res, err, _ = classify(["--graph", ANY_PB, "--batch=3"] + ALL)
check(rc == 0, "DecodeImage graph: %s" % err)
for p in ALL:
    same(res.get(p), ref_all[p], "DecodeImage %s" % p)

# 3. A corrupt file and a BMP fed to DecodeJpeg (which, as TensorFlow's,
#    decodes JPEG, PNG and GIF) among good files: an error line for each,
#    exit status 1, the others classified as before.
BAD = os.path.join(T, "corrupt.jpg")
with open(JPEGS[1], "rb") as f:
    data = f.read()
with open(BAD, "wb") as f:
    f.write(data[:2] + bytes(200) + data[-300:])
CAT_BMP = os.path.join(IMG, "cat.bmp")
files = [JPEGS[0], BAD, JPEGS[1], CAT_BMP, PNGS[0]]
rc, res, err, order = classify(["--graph", JPEG_PB, "--batch=4"] + files)
check(rc == 1 and order == files, "corrupt file: rc %d, order %s" % (rc, order))
for p in (BAD, CAT_BMP):
    check("error" in res.get(p, {}) and p in res[p]["error"] and p in err, "error line for %s: %s / %s" % (
        p, res.get(p), err))
for p in (JPEGS[0], JPEGS[1]):
    same(res.get(p), ref[p], "after a corrupt file: %s" % p)
same(res.get(PNGS[0]), ref_all[PNGS[0]], "a PNG through DecodeJpeg")
p = subprocess.run([FROST, "classify", "--graph", JPEG_PB, "--labels", LABELS, BAD, JPEGS[0]], capture_output=True,
                   text=True, timeout=60)
check(p.returncode == 1 and "class " in p.stdout and BAD in p.stderr, "text format, corrupt file: %s" % p.stderr)

# 4. A directory: images found by their magic bytes, other files skipped.
D = os.path.join(T, "dir")
os.makedirs(os.path.join(D, "sub"))
shutil.copy(JPEGS[0], os.path.join(D, "a.jpg"))
shutil.copy(PNGS[1], os.path.join(D, "sub", "b.png"))
with open(os.path.join(D, "notes.txt"), "w") as f:
    f.write("not an image\n")
rc, res, err, order = classify(["--graph", ANY_PB, D])
want = [os.path.join(D, "a.jpg"), os.path.join(D, "sub", "b.png")]
check(rc == 0 and order == want, "directory: rc %d, %s, %s" % (rc, order, err))
if order == want:
    same(res[want[0]], ref_all[JPEGS[0]], "directory a.jpg")
    same(res[want[1]], ref_all[PNGS[1]], "directory sub/b.png")

# 5. Preprocessing flags do not apply: said on stderr, results unchanged;
#    --input_layer naming the string input, or the normalised tensor (a
#    float input: then frost's pipeline feeds it, TF-for-Poets style).
rc, res, err, _ = classify(["--graph", JPEG_PB, "--input_mean=0", "--input_std=1", "--resize=tf2"] + JPEGS[:2])
check(rc == 0 and "--input_mean, --input_std, --resize ignored" in err and "encoded image bytes" in err,
      "note on flags that do not apply: %r" % err)
for p in JPEGS[:2]:
    same(res.get(p), ref[p], "with --input_mean etc. %s" % p)
rc, res, err, _ = classify(["--graph", JPEG_PB, "--input_layer=contents"] + JPEGS[:1])
check(rc == 0 and not err, "--input_layer=contents: %s" % err)
same(res.get(JPEGS[0]), ref[JPEGS[0]], "--input_layer=contents")
rc, res, err, _ = classify(["--graph", JPEG_PB, "--input_layer=norm", "--input_width=64", "--input_height=64",
                            "--input_mean=128", "--input_std=128"] + JPEGS[:1])
check(rc == 0, "--input_layer=norm: %s" % err)
same(res.get(JPEGS[0]), ref[JPEGS[0]], "--input_layer=norm (a float input)")
# a TF-for-Poets graph: its DecodeJpeg/contents is a Const, fed when named
rc, res, err, _ = classify(["--graph", POETS_PB, "--input_layer=DecodeJpeg/contents"] + JPEGS[:2])
check(rc == 0, "--input_layer=DecodeJpeg/contents (a Const): %s" % err)
for p in JPEGS[:2]:
    same(res.get(p), ref[p], "DecodeJpeg/contents Const %s" % p)
p = subprocess.run([FROST, "classify", "--graph", JPEG_PB, "--labels", LABELS, "--self_test", JPEGS[0]],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 0 and "skipped" in p.stderr and "class " in p.stdout, "--self_test: %s" % p.stderr)

# 6. Python (not under the sanitizers: python cannot load an instrumented libfrost).
if os.environ.get("FROST_SANITIZE", "0") == "1":
    print("sanitizer build: the Python part is skipped")
    sys.exit(summary())
os.environ["FROST_LIBRARY"] = os.path.join(BUILD, "libfrost.so")
sys.path.insert(0, os.path.join(SRC, "python"))
import frost  # noqa: E402
from frost._model import Prediction  # noqa: E402


def close(a, b, tol=1e-5):
    """Two classify() results (lists of top-k lists, or None / errors) alike:
    the same classes, scores within tol (a batch of another size may run
    other kernels: the last bits of a score may differ)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, Prediction) and isinstance(b, Prediction):
        return a.index == b.index and a.label == b.label and abs(a.score - b.score) <= tol
    return a == b


def py_same(got, want, what, tol=1e-5):
    ok = got is not None and [(g.index, g.label) for g in got] == [(t["index"], t["label"]) for t in want["top"]]
    ok = ok and all(abs(g.score - t["score"]) <= tol for g, t in zip(got, want["top"]))
    return check(ok, "%s: %s vs %s" % (what, got, want))


with frost.Model(JPEG_PB, labels=LABELS, max_batch=3) as m, \
        frost.Model(FLOAT_PB, labels=LABELS, input_mean=128, input_std=128) as fm:
    check(m.input_dtypes == ["string"] and fm.input_dtypes == ["float32"], "input_dtypes %s %s" % (
        m.input_dtypes, fm.input_dtypes))
    check(m.input_width is None, "no input_width for a string input")
    by_path = m.classify(JPEGS, top_k=3, batch=2)
    for p, got in zip(JPEGS, by_path):
        py_same(got, ref[p], "Model.classify(path) %s" % p)
    # the float model through frost's pipeline, independently of the CLI
    for got, want in zip(by_path, fm.classify(JPEGS, top_k=3)):
        check([g.index for g in got] == [w.index for w in want] and all(
            abs(g.score - w.score) <= 1e-5 for g, w in zip(got, want)), "vs the float Model: %s %s" % (got, want))
    blobs = [open(p, "rb").read() for p in JPEGS]
    got = m.classify(blobs, top_k=3)
    check(close(got, by_path), "classify(bytes) == classify(paths): %s vs %s" % (got, by_path))
    got = m.classify(blobs[0], top_k=3)
    check(close(got, by_path[:1]), "classify(one bytes object): %s vs %s" % (got, by_path[:1]))
    res = m.classify([JPEGS[0], BAD, blobs[1], CAT_BMP], top_k=3, errors="return")
    check(close(res[0], by_path[0]) and close(res[2], by_path[1]), "good images among bad ones: %s" % (res,))
    check(isinstance(res[1], frost.ImageError) and BAD in str(res[1]), "corrupt file: %r" % (res[1],))
    check(isinstance(res[3], frost.ImageError) and CAT_BMP in str(res[3]), "BMP to DecodeJpeg: %r" % (res[3],))
    got = m.classify([BAD, JPEGS[0]], errors="none", top_k=3)
    check(close(got, [None, by_path[0]]), "errors='none': %s" % (got,))
    try:
        m.classify([JPEGS[0], BAD])
        check(False, "errors='raise' raises")
    except frost.ImageError as e:
        check(BAD in str(e), "errors='raise': %s" % e)
    try:
        m.classify(os.path.join(T, "missing.jpg"))
        check(False, "a missing file raises")
    except frost.FileError as e:
        check("missing.jpg" in str(e), "missing file: %s" % e)
    for bad in (np.zeros((S, S, 3), np.uint8), [3.5]):
        try:
            m.classify(bad)
            check(False, "classify(%s) raises" % type(bad).__name__)
        except TypeError as e:
            check("encoded" in str(e), "classify(%s): %s" % (type(bad).__name__, e))
    # run(): bytes, a list of bytes (more than max_batch), a numpy object array
    one = m.run(blobs[0])
    check(one.shape == (1, CLASSES) and abs(float(one[0][by_path[0][0].index]) - by_path[0][0].score) < 1e-6,
          "run(bytes): %s" % (one,))
    many = m.run(blobs + blobs[:2])
    check(many.shape == (len(blobs) + 2, CLASSES), "run(list) shape %s" % (many.shape,))
    for i, got in enumerate(by_path):
        check(all(abs(float(many[i][g.index]) - g.score) < 1e-6 for g in got), "run(list) item %d" % i)
    check(np.array_equal(many[len(blobs)], many[0]), "the same bytes twice, the same output")
    arr = np.empty(2, dtype=object)
    arr[0], arr[1] = blobs[0], blobs[1]
    got = m.run(arr)
    check(got.shape == (2, CLASSES) and np.allclose(got, many[:2], rtol=0, atol=1e-6),
          "run(numpy object array): max difference %s" % (np.abs(got - many[:2]).max() if got.shape == (2, CLASSES)
                                                          else got.shape,))
    got = m.run({"contents": [blobs[1]]})
    check(got.shape == (1, CLASSES) and np.allclose(got, many[1:2], rtol=0, atol=1e-6),
          "run({name: [bytes]}): max difference %s" % (np.abs(got - many[1:2]).max() if got.shape == (1, CLASSES)
                                                         else got.shape,))
    for bad in (np.zeros((1, S, S, 3), np.float32), np.array(blobs[:1]), [blobs[0], "a str"], 7):
        try:
            m.run(bad)
            check(False, "run(%s) raises" % type(bad).__name__)
        except TypeError as e:
            check("string input" in str(e), "run(%s): %s" % (type(bad).__name__, e))
    try:
        m.run([blobs[0], open(BAD, "rb").read()])
        check(False, "run() on a corrupt item raises")
    except frost.ImageError as e:
        check("decode" in str(e), "run() corrupt item: %s" % e)
with frost.Model(ANY_PB) as m:
    got = m.classify(PNGS + [os.path.join(IMG, "cat.bmp")], top_k=3)
    for p, g in zip(PNGS + [os.path.join(IMG, "cat.bmp")], got):
        check([x.index for x in g] == [t["index"] for t in ref_all[p]["top"]] and all(
            abs(x.score - t["score"]) <= 1e-5 for x, t in zip(g, ref_all[p]["top"])), "DecodeImage Model %s" % p)
sys.exit(summary())
