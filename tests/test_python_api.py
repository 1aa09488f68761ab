"""The Python package (python/frost) against the C API it binds and against
`frost classify`: struct layouts and prototypes vs include/frost.h (a C
program compiled here prints sizeof/offsetof), classify results equal to the
CLI's JSON lines (labels and indices exactly, scores within 1e-6) and to the
independent top-5 of ../shared, run() vs the ../shared reference tensors,
errors carrying frost's status and message, the path without numpy."""
import ctypes
import json
import os
import re
import subprocess
import sys

import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BUILD, FROST, SHARED, SRC, TMP, check, summary  # noqa: E402,F401

if os.environ.get("FROST_SANITIZE", "0") == "1":
    print("sanitizer build: python cannot load an instrumented libfrost without preloading the runtime: skipped")
    sys.exit(77)
os.environ["FROST_LIBRARY"] = os.path.join(BUILD, "libfrost.so")
sys.path.insert(0, os.path.join(SRC, "python"))
import frost  # noqa: E402
from frost import _capi, _model  # noqa: E402

check(frost.library_path() == os.environ["FROST_LIBRARY"], "library from FROST_LIBRARY: %s" % frost.library_path())
check(frost.version() == "%d.%d.%d" % tuple(int(x) for x in re.findall(
    r"#define FROST_VERSION_(?:MAJOR|MINOR|PATCH) (\d+)", open(os.path.join(SRC, "include", "frost.h")).read())),
    "version %s" % frost.version())

# ---------------------------------------------------------------- bindings
# 1. Every FROST_API function of the header is bound, and nothing else.
header = open(os.path.join(SRC, "include", "frost.h")).read()
declared = set(re.findall(r"FROST_API[^;(]*?\b(frost_\w+)\s*\(", header))
check(declared == set(_capi.PROTOTYPES), "bound vs declared: missing %s, extra %s" % (
    sorted(declared - set(_capi.PROTOTYPES)), sorted(set(_capi.PROTOTYPES) - declared)))
# Argument counts match the declarations.
for name, (_, args) in _capi.PROTOTYPES.items():
    m = re.search(r"FROST_API[^;(]*?\b%s\s*\(([^)]*)\)" % name, header)
    if m:
        params = m.group(1).strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        check(n == len(args), "%s: %d parameters declared, %d bound" % (name, n, len(args)))

# 2. Struct layouts: sizeof and every field's offset, from a C program.
cc = os.environ.get("CC", "cc")
prog = ["#include <stddef.h>", "#include <stdio.h>", "#include \"frost.h\"", "int main(void) {"]
for cname, cls in _capi.STRUCTS.items():
    prog.append('printf("%s sizeof %%zu\\n", sizeof(%s));' % (cname, cname))
    for field, _ in cls._fields_:
        prog.append('printf("%s %s %%zu\\n", offsetof(%s, %s));' % (cname, field, cname, field))
prog += ["return 0;", "}"]
csrc, cexe = os.path.join(TMP, "layout.c"), os.path.join(TMP, "layout")
with open(csrc, "w") as f:
    f.write("\n".join(prog) + "\n")
try:
    p = subprocess.run([cc, "-std=c11", "-I", os.path.join(SRC, "include"), csrc, "-o", cexe],
                       capture_output=True, text=True)
    compiled = p.returncode == 0
    check(compiled, "layout program compiles: %s" % p.stderr)
except OSError:
    compiled = False
    print("no C compiler (%s): struct layouts checked by behaviour only" % cc)
if compiled:
    out = subprocess.run([cexe], capture_output=True, text=True).stdout.split("\n")
    seen = 0
    for line in filter(None, out):
        cname, field, value = line.split()
        cls = _capi.STRUCTS[cname]
        got = ctypes.sizeof(cls) if field == "sizeof" else getattr(cls, field).offset
        check(got == int(value), "%s.%s: C %s, ctypes %d" % (cname, field, value, got))
        seen += 1
    check(seen == sum(len(c._fields_) + 1 for c in _capi.STRUCTS.values()), "every field compared (%d)" % seen)
# Behaviour too: frost_decode_options_init writes max_pixels = 100M and zeroes the rest.
d = _capi.DecodeOptions(7, 7, 7, 7)
_capi.lib.frost_decode_options_init(ctypes.byref(d))
check((d.max_pixels, d.fast_decode, d.target_width, d.target_height) == (100000000, 0, 0, 0),
      "decode options init %r" % ((d.max_pixels, d.fast_decode, d.target_width, d.target_height),))
o = _capi.Options(max_batch=5, threads=3, profiling=1, debug_flags=3)
_capi.options_init(o)
check(o.struct_size == ctypes.sizeof(_capi.Options) and all(
    getattr(o, f) in (0, None) or not getattr(o, f) for f, _ in _capi.Options._fields_ if f != "struct_size"),
    "options init zeroes and sets struct_size")
check(_capi.lib.frost_options_init_sized(None, ctypes.sizeof(_capi.Options)) == 1, "options init of NULL")

# Ranking: frost_top_k, as the CLI ranks (ties by lower index, NaN last).
nan, inf = float("nan"), float("inf")
check(frost.top_k([0.5, nan, 0.5, 0.9, nan], 5) == [3, 0, 2, 1, 4], "top_k: ties, NaN last")
check(frost.top_k([nan, -inf, 0.0], 2) == [2, 1], "top_k: NaN below -Inf")
check(frost.top_k([2, 1, 3], 10) == [2, 0, 1] and frost.top_k([2, 1, 3], 0) == [] and frost.top_k([], 3) == [],
      "top_k: k > n, k = 0, no scores")

# ------------------------------------------------- image spec, options layout
# 2b. Generated graphs: a grayscale Placeholder of open size keeps its one
# channel (as frost_graph_image_spec says; forcing 3 would contradict the
# graph): the model compiles at 299x299x1, runs, and is not an image model;
# an RGB one of open size takes input_width / input_height, else 299.
sys.path.insert(0, os.path.join(SRC, "tests", "graphgen"))
from tfgraph import GraphDef  # noqa: E402


def conv_graph(channels, dims=(-1, -1, -1)):
    gd = GraphDef()
    x = gd.placeholder("input", list(dims) + [channels])
    w = gd.const("w", np.full((3, 3, channels, 2), 0.1, np.float32))
    c = gd.conv2d("conv", x, w)
    ax = gd.const("axes", np.array([1, 2], np.int32))
    gd.mean("scores", c, ax)
    return gd.serialize()


with frost.Model(conv_graph(1)) as m:
    check(m.input_shapes == [(None, 299, 299, 1)] and m.input_width is None, "grayscale: %s" % m.input_shapes)
    y = m.run(np.ones((1, 299, 299, 1), np.float32))
    # SAME 3x3 of 0.1 on ones, averaged: 0.1 x (taps per row / 299)^2, to
    # the rounding of a float32 mean of 89401 values
    check(y.shape == (1, 2) and abs(float(y[0, 0]) - 0.1 * ((3 * 299 - 2) / 299) ** 2) < 2e-3, "grayscale runs: %s" % y)
    try:
        m.classify(np.zeros((4, 4, 3), np.uint8))
        check(False, "grayscale classify accepted")
    except frost.InvalidArgumentError as e:
        check("'input' of shape [-1,299,299,1] is not an NHWC image with 3 channels" in str(e), "grayscale: %s" % e)
with frost.Model(conv_graph(3), input_width=40, input_height=30) as m:
    check((m.input_width, m.input_height) == (40, 30) and m.outputs == ["scores"], "RGB open size given")
    check(len(m.classify(np.zeros((5, 7, 3), np.uint8), top_k=2)[0]) == 2, "RGB open size classifies")
with frost.Model(conv_graph(3)) as m:
    check((m.input_width, m.input_height) == (299, 299), "RGB open size: 299")
with frost.Model(conv_graph(3, (-1, 16, 16))) as m:
    check((m.input_width, m.input_height) == (16, 16), "declared size")
# the wait policy set before libgomp loads, unless the environment chose one
env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
env["PYTHONPATH"] = os.path.join(SRC, "python")
code = "import frost, os; frost.version(); print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))"
got = [subprocess.run([sys.executable, "-c", code], env=dict(env, **extra), capture_output=True, text=True,
                      cwd=SRC).stdout.split() for extra in ({}, {"OMP_WAIT_POLICY": "active"})]
check(got == [["1000", "None"], ["None", "active"]], "the wait policy frost sets / leaves: %s" % got)
# frost.tune(): a record for the model, which a compile then uses
pb = os.path.join(TMP, "tune_conv.pb")
with open(pb, "wb") as f:
    f.write(conv_graph(3, (-1, 16, 16)))
rec = os.path.join(TMP, "conv.tune")
t = frost.tune(pb, batches=[1, 2], threads=2, budget=1, rounds=3, output=rec)
check(t["path"] == rec and t["record"].startswith("frost-tune 1\n") and len(t["layers"]) == 1 and
      t["layers"][0]["name"] == "conv" and "rules" in t["layers"][0]["ms"] and t["rounds"] == 3,
      "frost.tune: %s" % {k: v for k, v in t.items() if k != "record"})
check(sorted(t["micro_ms"]) == [-1, 1] and t["micro_rule"] in (-1, 1) and t["micro_batch"] in (-1, 0, 1) and
      all(v > 0 for v in t["micro_ms"].values()), "frost.tune's pass sizes at batch 2: %s" % t)
check(sorted(t["split_ms"]) == [1, 2] and t["thread_split"] in (0, 2) and all(v > 0 for v in t["split_ms"].values()),
      "frost.tune's thread splits with 2 threads: %s" % t)
with frost.Model(pb, threads=2, tune_file=rec) as m:
    check("1 layer(s)" in m.tune_note, "the tuned record used: %r" % m.tune_note)
    check(m.thread_split == (t["thread_split"] or 1), "Model.thread_split %d, the record's %d" %
          (m.thread_split, t["thread_split"]))
# tune_file: "" uses none; a record that cannot be read is an error naming it
with frost.Model(conv_graph(3, (-1, 16, 16)), tune_file="") as m:
    check(m.tune_note == "", "tune_file='': no record: %r" % m.tune_note)
try:
    frost.Model(conv_graph(3, (-1, 16, 16)), tune_file=os.path.join(TMP, "no-such.tune"))
    check(False, "a missing tuning record accepted")
except frost.Error as e:
    check("no-such.tune" in str(e), "a missing tuning record: %s" % e)
try:
    frost.Model(conv_graph(3, (-1, 16, 16)), input_height=17)
    check(False, "size conflict accepted")
except frost.InvalidArgumentError as e:
    check("conflict" in str(e), "conflict: %s" % e)
# An old, smaller frost_options (a struct_size that ends before `winograd`)
# compiles with defaults for the rest, whatever lies past it; struct_size 0
# (not initialised) is refused with a message naming frost_options_init.
gbytes = conv_graph(3, (-1, 16, 16))
g = ctypes.c_void_p()
err = ctypes.c_void_p()
_capi.check(_capi.lib.frost_graph_load_memory(gbytes, len(gbytes), 1, ctypes.byref(g), ctypes.byref(err)), err)
o = _capi.Options(winograd=7, micro_batch=-5, profiling=9, debug_flags=0xff)
_capi.check(_capi.lib.frost_options_init_sized(ctypes.byref(o), _capi.Options.winograd.offset))
o.winograd, o.micro_batch, o.debug_flags, o.max_batch = 7, -5, 0xff, 3
m = ctypes.c_void_p()
st = _capi.lib.frost_model_compile(g, ctypes.byref(o), ctypes.byref(m), ctypes.byref(err))
check(st == 0 and _capi.lib.frost_model_max_batch(m) == 3, "old layout compiles: %s %s" % (st, _capi.take_message(err)))
_capi.lib.frost_model_free(m)
o.struct_size = 0
st = _capi.lib.frost_model_compile(g, ctypes.byref(o), ctypes.byref(m), ctypes.byref(err))
msg = _capi.take_message(err)
check(st == 1 and "frost_options_init" in (msg or ""), "struct_size 0: %s %s" % (st, msg))
_capi.lib.frost_graph_free(g)

if not os.path.isdir(os.path.join(SHARED, "models")):
    print("no ../shared: the model checks are skipped")
    sys.exit(summary() or 77)

M = os.path.join(SHARED, "models")
IMG = os.path.join(SHARED, "images")
LABELS = os.path.join(M, "imagenet_labels.txt")
V1 = os.path.join(M, "mobilenet_v1_0.25_128_quant_float.pb")
V2 = os.path.join(M, "mobilenet_v2_1.0_224_quant_float.pb")
IMAGES = [os.path.join(IMG, n) for n in ("grace_hopper.jpg", "grace_hopper.bmp", "cat.bmp", "bird.bmp",
                                         "dragonfly.bmp")]


def cli_jsonl(graph, paths, *flags):
    p = subprocess.run([FROST, "classify", "--graph=" + graph, "--labels=" + LABELS, "--input_mean=128",
                        "--input_std=128", "--threads=1", "--format=jsonl"] + list(flags) + paths,
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "frost classify exit %d: %s" % (p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


def same_as_cli(what, got, recs):
    check(len(got) == len(recs), "%s: %d results vs %d" % (what, len(got), len(recs)))
    for res, rec in zip(got, recs):
        top = rec["top"]
        check([(p.label, p.index) for p in res] == [(t["label"], t["index"]) for t in top],
              "%s %s: %s vs %s" % (what, rec["image"], res, top))
        check(all(abs(p.score - t["score"]) <= 1e-6 for p, t in zip(res, top)), "%s %s scores" % (what, rec["image"]))


# ------------------------------------------------------- classify vs the CLI
# 3. Both models, every shared image, several batch sizes, paths and bytes.
for graph in (V1, V2):
    name = os.path.basename(graph)
    recs = cli_jsonl(graph, IMAGES, "--top_k=10", "--batch=2")
    with frost.Model(graph, labels=LABELS, input_mean=128, input_std=128, threads=1) as m:
        size = 128 if graph == V1 else 224
        check((m.input_width, m.input_height) == (size, size), "%s size detected: %s" % (name, m.input_width))
        check(m.inputs == ["input"] and len(m.outputs) == 1, "%s detected %s -> %s" % (name, m.inputs, m.outputs))
        check(m.input_shapes == [(None, size, size, 3)] and m.output_shapes == [(None, 1001)],
              "%s shapes %s %s" % (name, m.input_shapes, m.output_shapes))
        for batch in (1, 2, 16):
            same_as_cli("%s batch %d" % (name, batch), m.classify(IMAGES, top_k=10, batch=batch), recs)
        blobs = [open(p, "rb").read() for p in IMAGES]
        same_as_cli(name + " bytes", m.classify(blobs, top_k=10), recs)
        same_as_cli(name + " generator", m.classify((p for p in IMAGES), top_k=10), recs)
        one = m.classify(IMAGES[2], top_k=10)
        check(len(one) == 1, "a single path gives a list of one result")
        same_as_cli(name + " single", one, recs[2:3])
        # Independent reference: the top-5 of ../shared (TensorFlow.js), 4 decimals.
        exp = {}
        for line in open(os.path.join(SHARED, "expected", name[:-3] + ".top5.txt")):
            img, rest = line.strip().split(" ", 1)
            exp[img] = [(int(p.split(":")[0]), float(p.rsplit("=", 1)[1])) for p in rest.split(" | ")]
        for path, res in zip(IMAGES, m.classify(IMAGES)):
            e = exp.get(os.path.basename(path))
            if e:
                check([p.index for p in res] == [x[0] for x in e], "%s %s top-5 vs reference" % (name, path))
                check(all(abs(p.score - x[1]) <= 2e-3 for p, x in zip(res, e)), "%s %s ref scores" % (name, path))

# 4. A decoded image (numpy uint8 RGB) gives the path's result: OpenCV reads BMP exactly.
import cv2  # noqa: E402
with frost.Model(V1, labels=LABELS, input_mean=128, input_std=128, threads=1) as m:
    rgb = cv2.imread(IMAGES[2], cv2.IMREAD_COLOR)[:, :, ::-1]
    a, b = m.classify(rgb)[0], m.classify(IMAGES[2])[0]
    check(a == b, "array image %s vs path %s" % (a, b))
    check(m.classify(np.ascontiguousarray(rgb[::2, ::2]))[0][0].index >= 0, "strided array image")
    # label_image's text defaults: no labels -> label None; top_k beyond the classes.
with frost.Model(V1, input_mean=128, input_std=128, threads=1) as m:
    r = m.classify(IMAGES[2], top_k=2000)[0]
    check(len(r) == 1001 and r[0].label is None and r[0].index == 283, "no labels, top_k > classes: %s" % r[:1])
    check(sorted(p.index for p in r) == list(range(1001)), "every class once")
    check(all(r[i].score >= r[i + 1].score for i in range(1000)), "descending")

# 5. Options reach the compiler / preprocessing: align_corners changes scores; a
# model from bytes equals the one from the file; a size conflict is refused.
with frost.Model(V1, labels=LABELS, input_mean=128, input_std=128, threads=1, resize="align_corners") as m:
    recs = cli_jsonl(V1, IMAGES[2:3], "--resize=align_corners")
    same_as_cli("align_corners", m.classify(IMAGES[2:3]), recs)
with frost.Model(open(V1, "rb").read(), labels=LABELS, input_mean=128, input_std=128, threads=1) as m:
    same_as_cli("model from bytes", m.classify(IMAGES[2:3]), cli_jsonl(V1, IMAGES[2:3]))
# winograd=False (every convolution direct) and True reach the compiler as
# --no-winograd / --winograd do (this MobileNet has no 1x7 / 7x1 layer: the
# scores equal the CLI's either way)
for wino, flag in ((False, "--no-winograd"), (True, "--winograd")):
    with frost.Model(V1, labels=LABELS, input_mean=128, input_std=128, threads=1, winograd=wino) as m:
        same_as_cli("winograd=%s" % wino, m.classify(IMAGES[2:3]), cli_jsonl(V1, IMAGES[2:3], flag))
try:
    frost.Model(V1, input_width=200)
    check(False, "size conflict accepted")
except frost.InvalidArgumentError as e:
    check("conflict" in str(e) and e.status == 1, "size conflict message: %s" % e)

# ------------------------------------------------------ run vs the reference
# 6. The raw engine against ../shared's tensors (TensorFlow.js), within 1e-4.
T = os.path.join(SHARED, "expected", "tensors")
pairs = sorted(f[:-len(".input.f32")] for f in os.listdir(T) if f.endswith(".input.f32"))
with frost.Model(V1, threads=1) as m:
    ins = [np.fromfile(os.path.join(T, p + ".input.f32"), np.float32).reshape(1, 128, 128, 3) for p in pairs]
    refs = [np.fromfile(os.path.join(T, p + ".output.f32"), np.float32).reshape(1, 1001) for p in pairs]
    for p, x, ref in zip(pairs, ins, refs):
        y = m.run(x)
        check(y.shape == (1, 1001) and y.dtype == np.float32, "run output %s %s" % (y.shape, y.dtype))
        check(float(np.abs(y - ref).max()) <= 1e-4, "%s: max diff %g" % (p, float(np.abs(y - ref).max())))
    xb = np.concatenate(ins * 3)
    yb = m.run(xb)
    check(yb.shape == (len(ins) * 3, 1001), "batched run shape %s" % (yb.shape,))
    check(float(np.abs(yb - np.concatenate(refs * 3)).max()) <= 1e-4, "batched run vs reference")
    check(np.array_equal(m.run({"input:0": xb}), yb), "dict input with a port name")
    check(np.array_equal(m.run(xb.ravel()), yb), "flat input: batch from the size")
    # The same through the image path: preprocessing + run == classify.
    with frost.Model(V1, input_mean=128, input_std=128, threads=1) as mi:
        bmp = os.path.join(IMG, "cat.bmp")
        y = m.run(ins[pairs.index(next(p for p in pairs if p.endswith("__cat")))])[0]
        top = mi.classify(bmp, top_k=3)[0]
        check([t.index for t in top] == [int(i) for i in np.argsort(-y, kind="stable")[:3]],
              "classify == run on the reference input")
    try:
        m.run(np.zeros(100, np.float32))
        check(False, "wrong input size accepted")
    except frost.InvalidArgumentError as e:
        check("49152" in str(e), "wrong size message: %s" % e)
    try:
        m.run(np.zeros((4, 64, 64, 3), np.float32))
        check(False, "wrong image size accepted")
    except frost.InvalidArgumentError as e:
        check("[4, 64, 64, 3]" in str(e), "wrong shape message: %s" % e)
    # More than max_batch items run in pieces.
    with frost.Model(V1, threads=1, max_batch=2) as m2:
        check(m2.max_batch == 2, "max_batch %d" % m2.max_batch)
        y5 = m2.run(np.concatenate(ins * 5))
        check(float(np.abs(y5 - np.concatenate(refs * 5)).max()) <= 1e-4, "run of 10 with max_batch 2")

# ----------------------------------------------------------------- errors
# 7. frost's status and message, as frost classify prints them.


def raises(what, cls, fn, *needles):
    try:
        fn()
    except frost.Error as e:
        ok = isinstance(e, cls) and all(n in str(e) for n in needles) and e.message == str(e)
        check(ok, "%s: %s %s (status %d %s)" % (what, type(e).__name__, e, e.status, e.status_name))
        check(cls is frost.Error or e.status == cls.status and e.status_name == frost.STATUS_NAMES[cls.status], what + ": status")
        return e
    check(False, what + ": no exception")


missing = os.path.join(TMP, "no-such-model.pb")
e = raises("missing model", frost.FileError, lambda: frost.Model(missing), missing)
check(isinstance(e, OSError), "FileError is an OSError")
corrupt = os.path.join(TMP, "corrupt.pb")
with open(V1, "rb") as f:
    data = f.read()
with open(corrupt, "wb") as f:
    f.write(data[:len(data) // 3])
p = subprocess.run([FROST, "classify", "--graph=" + corrupt, IMAGES[0]], capture_output=True, text=True)
cli_msg = p.stderr.strip().split("\n")[0]
check(p.returncode == 1 and cli_msg.startswith("frost: "), "CLI on a corrupt model: %r" % p.stderr)
e = raises("corrupt model", frost.ParseError, lambda: frost.Model(corrupt), corrupt)
check(e is not None and cli_msg == "frost: " + str(e), "same message as the CLI: %r vs %r" % (cli_msg, str(e)))
raises("garbage model bytes", frost.Error, lambda: frost.Model(b"\x0a\xff\xff\xff\xff\x0f"))
raises("unknown output", frost.NotFoundError, lambda: frost.Model(V1, output_layer="nope"), "nope")
raises("missing labels", frost.FileError, lambda: frost.Model(V1, labels=missing), missing)
with frost.Model(V1, labels=LABELS, threads=1) as m:
    bad = os.path.join(TMP, "bad.jpg")
    with open(bad, "wb") as f:
        f.write(open(IMAGES[0], "rb").read()[:2000])
    p = subprocess.run([FROST, "classify", "--graph=" + V1, bad], capture_output=True, text=True)
    e = raises("truncated jpeg file", frost.ImageError, lambda: m.classify([IMAGES[2], bad]), bad)
    check(e is not None and p.stderr.strip() == "frost: " + str(e), "CLI %r vs %r" % (p.stderr, str(e)))
    raises("bad image bytes", frost.ImageError, lambda: m.classify([b"not an image at all"]), "image 0")
    raises("missing image", frost.FileError, lambda: m.classify(missing), missing)
    raises("pixel limit", frost.LimitError,
           lambda: frost.Model(V1, max_pixels=1000).classify(IMAGES[2]), IMAGES[2])
    r = m.classify([IMAGES[2], b"junk", IMAGES[3]], errors="none")
    check(r[1] is None and r[0][0].index == 283 and r[2][0].index == 20, "errors='none' keeps the others")
    r = m.classify([IMAGES[2], bad, IMAGES[3]], errors="return")
    check(isinstance(r[1], frost.ImageError) and bad in str(r[1]) and r[0][0].index == 283 and r[2][0].index == 20,
          "errors='return' gives the failed image's error, keeps the others: %r" % (r[1],))
    try:
        m.classify([42])
        check(False, "int accepted as an image")
    except TypeError:
        check(True, "TypeError for a non-image")
m2 = frost.Model(V1)
m2.close()
raises("closed model", frost.InvalidArgumentError, lambda: m2.classify(IMAGES[2]), "closed")
m2.close()  # idempotent

# ------------------------------------------------- iclassify and the example
# 8. iclassify streams the same results; examples/label_image.py prints the
# CLI's labels and scores (%g of the same floats).
with frost.Model(V1, labels=LABELS, input_mean=128, input_std=128, threads=1) as m:
    gen = m.iclassify(iter(IMAGES), batch=2)
    check(m._busy == 0, "nothing borrowed before the first result")
    first = next(gen)
    check(m._busy == 1, "a context borrowed while streaming")
    rest = list(gen)
    check(m._busy == 0, "and returned at the end")
    check([first] + rest == m.classify(IMAGES, batch=3), "iclassify == classify")
    g2 = m.iclassify(IMAGES)
    next(g2)
    g2.close()
    check(m._busy == 0, "an abandoned generator returns its context")
LINE = re.compile(r"^(.*) \((\d+)\): (\S+)$")
p = subprocess.run([FROST, "classify", "--graph=" + V2, "--labels=" + LABELS, "--input_mean=128", "--input_std=128",
                    "--batch=1"] + IMAGES, capture_output=True, text=True, timeout=300)
cli = [(mm.group(1), mm.group(3)) for mm in map(LINE.match, p.stdout.splitlines()) if mm]
p2 = subprocess.run([sys.executable, os.path.join(SRC, "examples", "label_image.py"), "--graph=" + V2,
                     "--labels=" + LABELS, "--input_mean=128", "--input_std=128", "--image=" + IMAGES[0],
                     "--batch=1"] + IMAGES[1:], capture_output=True, text=True, timeout=300)
ex = [tuple(line.rsplit(" ", 1)) for line in p2.stdout.splitlines() if not line.endswith(":")]
check(p.returncode == 0 and p2.returncode == 0 and len(cli) == 25, "CLI %d / example %d: %s" % (
    p.returncode, p2.returncode, p2.stderr))
check(ex == cli, "example vs CLI: %s vs %s" % (ex[:3], cli[:3]))
check([line for line in p2.stdout.splitlines() if line.endswith(":")] == [i + ":" for i in IMAGES], "headers")
p3 = subprocess.run([sys.executable, os.path.join(SRC, "examples", "label_image.py"), "--graph=" + missing],
                    capture_output=True, text=True, timeout=60)
check(p3.returncode == 1 and missing in p3.stderr, "example on a missing graph: %d %s" % (p3.returncode, p3.stderr))

# ------------------------------------------------------------ without numpy
# 9. Lists and float buffers in, lists out; the same numbers.
saved = _model._np
_model._np = None
try:
    with frost.Model(V1, labels=LABELS, input_mean=128, input_std=128, threads=1) as m:
        same_as_cli("no numpy", m.classify(IMAGES, top_k=10), cli_jsonl(V1, IMAGES, "--top_k=10"))
        x = ins[0]
        y = m.run(x.ravel().tolist())
        check(isinstance(y, list) and len(y) == 1 and len(y[0]) == 1001, "list output")
        check(max(abs(a - b) for a, b in zip(y[0], refs[0][0])) <= 1e-4, "list run vs reference")
        y2 = m.run(memoryview(np.concatenate(ins)).cast("B").cast("f"))
        check(len(y2) == len(ins) and all(max(abs(a - b) for a, b in zip(y2[i], refs[i][0])) <= 1e-4
                                          for i in range(len(ins))), "float buffer run")
finally:
    _model._np = saved

# ------------------------------------------------------- forked workers
# 10. multiprocessing's "fork" workers after the parent ran a model on 2
# threads (libgomp's threads are not in the children, whose first team
# used to wait for them forever): the parent's model, and one each worker
# makes, give the parent's probabilities.
import multiprocessing  # noqa: E402

with frost.Model(V1, threads=2) as m:
    want = m.run(np.concatenate(ins))
    _forked = m


def _forked_run(i):
    with frost.Model(V1, threads=2) as own:
        return (float(np.abs(_forked.run(ins[i]) - want[i]).max()),
                float(np.abs(own.run(ins[i]) - want[i]).max()))


_forked = frost.Model(V1, threads=2)
_forked.run(np.concatenate(ins))
with multiprocessing.get_context("fork").Pool(2) as pool:
    res = pool.map_async(_forked_run, range(len(ins)))
    try:
        got = res.get(timeout=120)
        check(all(a <= 1e-5 and b <= 1e-5 for a, b in got), "forked workers' runs vs the parent's: %s" % got)
    except multiprocessing.TimeoutError:
        check(False, "forked workers hung (120 s)")
        pool.terminate()
_forked.close()

sys.exit(summary())
