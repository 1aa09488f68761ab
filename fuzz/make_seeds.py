#!/usr/bin/python3
"""Seed corpora of the fuzz targets.

    fuzz/make_seeds.py OUTDIR [--shared DIR]

writes OUTDIR/<target>/ for fuzz_graph, fuzz_image (and per decoder
fuzz_jpeg, fuzz_png, fuzz_bmp, fuzz_gif), fuzz_convert, fuzz_serve, fuzz_serve_config and fuzz_warmup: small valid inputs covering the formats and code paths (a few KB
each; fuzz/seeds/ holds the checked-in copy, replayed by every build).  With
--shared (../shared), also truncated copies of the real models and images
and the real SavedModels packed for fuzz_savedmodel (fuzz/run.sh uses those
for the fuzzing runs only).  fuzz_savedmodel's checked-in seeds are written
by the C test instead: build/tests/test_savedmodel --seeds fuzz/seeds/fuzz_savedmodel.
Needs /usr/bin/python3 with numpy and cv2 (Debian's python3-opencv).
"""
import argparse
import base64
import json
import os
import struct
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "graphgen"))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import tfgraph  # noqa: E402
from tfgraph import A, GraphDef  # noqa: E402
import tfjs_models  # noqa: E402


def put(outdir, target, name, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_graph: small GraphDefs over the op families -------------------------
def graphs():
    rng = np.random.default_rng(1)

    def r(*shape):
        return rng.uniform(-1, 1, shape).astype(np.float32)

    out = {}
    g = GraphDef()
    x = g.placeholder("input", [-1, 6, 6, 3])
    c = g.conv2d("conv", x, g.const("w", r(3, 3, 3, 4)), strides=2, padding="SAME")
    c = g.bias_add("bias", c, g.const("b", r(4)))
    c = g.relu6("relu", c)
    d = g.depthwise("dw", c, g.const("dww", r(3, 3, 4, 1)), padding="SAME")
    p = g.max_pool("pool", d, 2, 2, "VALID")
    m = g.mean("gap", p, g.const("axes", np.array([1, 2], np.int32)), keep_dims=False)
    mm = g.matmul("fc", m, g.const("fcw", r(4, 3)))
    g.softmax("prob", mm)
    out["conv_chain.pb"] = g.serialize()

    g = GraphDef()
    x = g.placeholder("x", [-1, 4, 4, 2])
    bn = g.fused_batch_norm("bn", x, g.const("s", r(2)), g.const("o", r(2)), g.const("m", r(2)),
                            g.const("v", np.abs(r(2)) + 0.5))
    a = g.avg_pool("avg", bn, 2, 1, "SAME")
    cc = g.concat("cat", [a, bn], g.const("ax", np.int32(3)))
    pd = g.pad("pad", cc, g.const("pads", np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32)))
    sh = g.shape("shape", pd)
    ss = g.strided_slice("ss", sh, g.const("b0", np.array([0], np.int32)), g.const("e0", np.array([1], np.int32)),
                         g.const("s0", np.array([1], np.int32)), shrink_axis_mask=1)
    pk = g.pack("pk", [ss, g.const("m1", np.int32(-1))])
    rs = g.reshape("flat", pd, pk)
    g.add_v2("out", g.mul("mul", rs, g.const("k", np.float32(0.5))), g.const("k2", np.float32(1.0)))
    out["bn_concat_pad.pb"] = g.serialize()

    g = GraphDef()
    x = g.placeholder("a", [2, 3])
    y = g.placeholder("b", [2, 3])
    s = g.sub("sub", x, y)
    e = g.expand_dims("ed", s, g.const("d", np.int32(0)))
    q = g.squeeze("sq", e, [0])
    g.identity("id", g.rsqrt("rs", g.add("add", g.mul("sq2", q, q), g.const("eps", np.float32(1e-3)))))
    out["two_inputs.pb"] = g.serialize()

    # A graph with a duplicated input reference, an unknown op and a cycle: error paths.
    g = GraphDef()
    x = g.placeholder("x", [1, 2])
    g.node("Frobnicate", "bad", [x, x], {"T": A.type(tfgraph.DT_FLOAT)})
    out["unknown_op.pb"] = g.serialize()
    g = GraphDef()
    g.node("Relu", "r1", ["r2"], {"T": A.type(tfgraph.DT_FLOAT)})
    g.node("Relu", "r2", ["r1"], {"T": A.type(tfgraph.DT_FLOAT)})
    out["cycle.pb"] = g.serialize()
    return out


# ---- fuzz_image: tiny images in every decoder's formats ------------------------
def gif_bytes(w, h, interlace=False, local=False, screen=None, frames=1):
    """A minimal GIF89a: 4-colour global palette (or a local one), frames of
    w x h at (1, 1) when the logical screen is larger, LZW min code size 2."""
    sw, sh = screen or (w, h)
    hdr = b"GIF89a" + struct.pack("<HHBBB", sw, sh, 0x01 if local else 0x81, 0, 0)
    pal = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    gce = b"\x21\xf9\x04\x01\x00\x00\x03\x00"  # transparent index 3
    at = 1 if screen else 0
    desc = b"\x2c" + struct.pack("<HHHHB", at, at, w, h, (0x40 if interlace else 0) | (0x81 if local else 0))
    # LZW: clear (4), then each pixel as a 3-bit code (no dictionary growth past 8
    # entries would need wider codes; emit a clear every 4 codes to stay at 3 bits).
    bits, nbits, out = 0, 0, bytearray()

    def emit(code, width):
        nonlocal bits, nbits
        bits |= code << nbits
        nbits += width
        while nbits >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            nbits -= 8

    pix = [(i * 7 + i // w) % 4 for i in range(w * h)]
    for i, p in enumerate(pix):
        if i % 2 == 0:
            emit(4, 3)
        emit(p, 3)
    emit(5, 3)
    if nbits:
        out.append(bits & 0xFF)
    data = bytearray()
    for i in range(0, len(out), 255):
        chunk = out[i:i + 255]
        data += bytes([len(chunk)]) + chunk
    frame = gce + desc + (pal if local else b"") + b"\x02" + bytes(data) + b"\x00"
    comment = b"\x21\xfe\x05frost\x00" if local else b""
    return hdr + (b"" if local else pal) + comment + frame * frames + b"\x3b"


def bmp_bytes(w, h, bpp, top_down=False, masks=None, core=False, ncolors=0):
    """A hand-written BMP: palette (bpp <= 8), 16-bit or 32-bit (bit fields
    when masks is given), BITMAPCOREHEADER when core."""
    stride = (w * bpp + 31) // 32 * 4
    rows = []
    for y in range(h):
        bits = 0
        for x in range(w):
            bits = (bits << bpp) | ((x * 7 + y * 3) % (1 << min(bpp, 16)) if bpp < 24 else 0)
        row = bits.to_bytes((w * bpp + 7) // 8, "big") if bpp < 24 else bytes(
            (x * 40 + y * 13 + c * 71) % 256 for x in range(w) for c in range(bpp // 8))
        rows.append(row + b"\0" * (stride - len(row)))
    pixels = b"".join(rows)
    if core:
        header = struct.pack("<IHHHH", 12, w, h, 1, bpp)
        palette = b"".join(bytes([i * 40 % 256, i * 90 % 256, i * 20 % 256]) for i in range(1 << bpp))
    else:
        compression = 3 if masks else 0
        header = struct.pack("<IiiHHIIiiII", 40, w, -h if top_down else h, 1, bpp, compression, len(pixels),
                             2835, 2835, ncolors, 0)
        if masks:
            header += struct.pack("<III", *masks)
        palette = b""
        if bpp <= 8:
            palette = b"".join(bytes([i * 40 % 256, i * 90 % 256, i * 20 % 256, 0])
                               for i in range(ncolors or 1 << bpp))
    off = 14 + len(header) + len(palette)
    return b"BM" + struct.pack("<IHHI", off + len(pixels), 0, 0, off) + header + palette + pixels


def images():
    import cv2
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    img4 = rng.integers(0, 256, (5, 6, 4), dtype=np.uint8)
    gray = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    out = {}
    out["rgb.jpg"] = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    out["progressive.jpg"] = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    out["gray.jpg"] = cv2.imencode(".jpg", gray)[1].tobytes()
    out["rgb.png"] = cv2.imencode(".png", img)[1].tobytes()
    out["rgba.png"] = cv2.imencode(".png", img4)[1].tobytes()
    out["gray16.png"] = cv2.imencode(".png", gray.astype(np.uint16) * 257)[1].tobytes()
    out["rgb.bmp"] = cv2.imencode(".bmp", img)[1].tobytes()
    out["gray.bmp"] = cv2.imencode(".bmp", gray)[1].tobytes()
    out["rgba.bmp"] = cv2.imencode(".bmp", img4)[1].tobytes()
    out["pal1.bmp"] = bmp_bytes(9, 3, 1)
    out["pal4_topdown.bmp"] = bmp_bytes(5, 4, 4, top_down=True, ncolors=6)
    out["pal8_core.bmp"] = bmp_bytes(3, 3, 8, core=True)
    out["rgb555.bmp"] = bmp_bytes(5, 3, 16)
    out["rgb565_fields.bmp"] = bmp_bytes(4, 2, 16, masks=(0xF800, 0x07E0, 0x001F))
    out["bgrx_fields.bmp"] = bmp_bytes(3, 2, 32, masks=(0x00FF0000, 0x0000FF00, 0x000000FF))
    out["small.gif"] = gif_bytes(5, 4)
    out["local_offset_2frames.gif"] = gif_bytes(3, 2, local=True, screen=(6, 5), frames=2)
    out["interlaced.gif"] = gif_bytes(4, 9, interlace=True)
    # A palette PNG written by hand (colour type 3 with tRNS).
    raw = b"".join(b"\x00" + bytes((x + y) % 3 for x in range(4)) for y in range(3))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    out["palette.png"] = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 3, 0, 0, 0)) +
                          chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0, 0, 0, 255])) + chunk(b"tRNS", b"\xff\x80") +
                          chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return out


# ---- fuzz_convert: model.json NUL shard ---------------------------------------
def tfjs(tmp):
    """TF.js models written by tests/tfjs_models.py, packed as json + NUL + shard."""
    rng = np.random.default_rng(3)
    out = {}

    def pack(model_dir, name):
        with open(os.path.join(model_dir, "model.json")) as f:
            m = json.load(f)
        shards = [p for g in m["weightsManifest"] for p in g["paths"]]
        blob = b""
        for p in shards:
            with open(os.path.join(model_dir, p), "rb") as f:
                blob += f.read()
        for g in m["weightsManifest"]:
            g["paths"] = ["w.bin"]
        out[name] = json.dumps(m, separators=(",", ":")).encode() + b"\0" + blob

    for quant in (None, "uint8", "float16"):
        lm = tfjs_models.LayersModel(quant=quant, seed=1)
        lm.add("input_1", "InputLayer", {"batch_input_shape": [None, 6, 6, 3], "dtype": "float32"}, [])
        lm.add("conv", "Conv2D", {"filters": 2, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same",
                                  "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "relu",
                                  "use_bias": True}, ["input_1"],
               [("kernel", lm.rand(3, 3, 3, 2)), ("bias", lm.rand(2))])
        lm.add("flat", "Flatten", {"data_format": "channels_last"}, ["conv"])
        lm.add("dense", "Dense", {"units": 3, "activation": "softmax", "use_bias": True}, ["flat"],
               [("kernel", lm.rand(18, 3)), ("bias", lm.rand(3))])
        d = os.path.join(tmp, "layers_%s" % quant)
        lm.save(d)
        pack(d, "layers_%s.bin" % (quant or "float32"))

    w = tfjs_models.Weights()
    w.add("w", rng.uniform(-1, 1, (3, 2)).astype(np.float32))
    dt = {"type": "DT_FLOAT"}
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"dtype": dt, "shape": {"shape": {"dim": [{"size": "-1"},
                                                                                       {"size": "3"}]}}}},
        {"name": "w", "op": "Const", "attr": {"dtype": dt, "value": {"tensor": {"dtype": "DT_FLOAT",
                                                                                "tensorShape": {}}}}},
        {"name": "mm", "op": "_FusedMatMul", "input": ["x", "w"],
         "attr": {"T": dt, "fused_ops": {"list": {"s": [tfjs_models.b64("Relu")]}}, "num_args": {"i": "0"},
                  "transpose_a": {"b": False}, "transpose_b": {"b": False}}},
        {"name": "out", "op": "Softmax", "input": ["mm"], "attr": {"T": dt}},
    ]
    d = os.path.join(tmp, "graph")
    tfjs_models.graph_model(d, nodes, w, signature={"inputs": {"x": {"name": "x:0"}}})
    pack(d, "graph_model.bin")
    return out


# ---- fuzz_serve: mode byte + body ---------------------------------------------
def serve_bodies(images_out):
    def j(mode, obj):
        return bytes([mode]) + json.dumps(obj).encode()

    img = [[[0.5, -0.5, 1.0] for _ in range(4)] for _ in range(4)]
    jpg = base64.b64encode(images_out["rgb.jpg"]).decode()
    png = base64.urlsafe_b64encode(images_out["rgb.png"]).decode().rstrip("=")
    out = {
        "predict_instances": j(0, {"instances": [img, img]}),
        "predict_inputs": j(0, {"inputs": [img]}),
        "predict_b64": j(0, {"instances": [{"b64": jpg}, {"b64": png}]}),
        "predict_signature": j(0, {"signature_name": "serving_default", "instances": [{"x": img}]}),
        "classify_examples": j(1, {"examples": [{"x": img}]}),
        "classify_b64": j(5, {"instances": [{"b64": jpg}]}),
        "two_keyed": j(2, {"instances": [{"a": [1, 2, 3], "b": [4, 5, 6]}]}),
        "two_columnar": j(2, {"inputs": {"a": [[1, 2, 3]], "b": [[0.5, 1e30, -0.0]]}}),
        "deep": bytes([0]) + b'{"instances": ' + b"[" * 40 + b"]" * 40 + b"}",
        "raw_jpeg": bytes([3]) + images_out["rgb.jpg"],
        "raw_jpeg_fast": bytes([7]) + images_out["progressive.jpg"],
        "raw_gif": bytes([3]) + images_out["small.gif"],
        # (b & 8): the "examples" as tf.Example protos too (TF Serving's :classify / :regress)
        "tf_examples": j(8 | 1, {"examples": [{"x": 2.0, "n": [1, 2], "s": "a", "b": {"b64": jpg[:16]}, "e": []},
                                              {"x": [1.5, -0.0], "t": True}], "context": {"c": 0.25}}),
        "tf_examples_mixed": j(8, {"examples": [{"x": [1.0, 2]}]}),
        # NaN / Infinity tokens as TF Serving reads them (rewritten before jansson parses)
        "nonfinite": bytes([2]) + b'{"note": "NaN", "instances": [{"a": [NaN, Infinity, -Inf], "b": [-NaN, Inf, 1]}]}',
        "nonfinite_examples": bytes([8 | 1]) + b'{"examples": [{"x": [NaN, -Infinity]}, {"x": Infinity}]}',
    }
    return out


# ---- fuzz_serve_config: reader byte + TF Serving's text-format config files ----
def serve_configs():
    models = b"""# two models
model_config_list {
  config {
    name: 'half_plus_two'
    base_path: "/models/half_plus_two"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 123 versions: 124 } }
    version_labels { key: 'stable' value: 123 }
    version_labels { key: 'canary' value: 124 }
  }
  config: {
    name: "resnet", base_path: "/models/re\\x73net\\n" "suffix",
    model_version_policy < latest { num_versions: 2 } >;
  }
  config { name: "all" base_path: "/m" model_version_policy { all {} } }
}
"""
    batching = b"""max_batch_size { value: 128 }
batch_timeout_micros { value: 0 }
max_enqueued_batches { value: 1000000 }
num_batch_threads { value: 8 }
allowed_batch_sizes: [1, 2, 4, 8, 128]
pad_variable_length_inputs: true
"""
    monitoring = b"""prometheus_config {
  enable: true,
  path: "/monitoring/prometheus/metrics"
}
"""
    return {"model_config": bytes([0]) + models, "batching": bytes([1]) + batching,
            "monitoring": bytes([2]) + monitoring}


# ---- fuzz_warmup: framing byte + a warm-up file (even) or one record's data (odd) ----
def warmup_files():
    import warmup_util as W
    ex = [W.example({"x": [2.0]}), W.example({"x": [5.0]})]
    recs = {
        "predict": W.predict_log({"x": W.tensor_float([1.0, 2.0, 5.0], [3])}),
        "predict_strings": W.predict_log({"s": W.tensor_string([b"a", b"bc"])}, signature="sig"),
        "regress": W.regress_log(ex, signature="regress_x_to_y"),
        "classify_context": W.classify_log([W.example({})], "classify_x_to_y", context=W.example({"x": [4.0]})),
        "multi": W.multi_inference_log([("c", "tensorflow/serving/classify"), ("r", "tensorflow/serving/regress")],
                                       ex),
        "session_run": W.session_run_log(),
    }
    out = {"file_all": b"\0" + W.tfrecord(list(recs.values()))}
    for name, r in recs.items():
        out["record_" + name] = b"\1" + r
    out["file_truncated"] = out["file_all"][:40]
    return out


# ---- fuzz_savedmodel: real SavedModels as the target reads them -------------
# [u32 LE len(saved_model.pb)][u32 LE len(variables.index)][pb][index][data shard];
# the Keras models without their variables (megabytes): their graphs and
# function libraries only.
def savedmodels(shared):
    out = {}
    root = os.path.join(shared, "savedmodels")
    for rel, with_vars in (("saved_model_half_plus_two_cpu/00000123", True),
                           ("saved_model_half_plus_two_tf2_cpu/00000123", True),
                           ("saved_model_half_plus_three/00000123", True),
                           ("saved_model_counter/00000123", True),
                           ("keras/mnist-cnn-k2/saved_model", False),
                           ("keras/rice5-cnn/saved_model", False)):
        d = os.path.join(root, rel)
        if not os.path.exists(os.path.join(d, "saved_model.pb")):
            continue
        parts = []
        for f in ("saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"):
            p = os.path.join(d, f)
            if f != "saved_model.pb" and not with_vars or not os.path.exists(p):
                parts.append(b"")
                continue
            with open(p, "rb") as fh:
                parts.append(fh.read())
        name = rel.split("/")[-2 if rel.startswith("keras/") else 0] + ".bin"
        out[name] = struct.pack("<II", len(parts[0]), len(parts[1])) + b"".join(parts)
    return out


# the per-decoder image targets, by file extension
IMAGE_TARGET = {"jpg": "fuzz_jpeg", "png": "fuzz_png", "bmp": "fuzz_bmp", "gif": "fuzz_gif"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--shared", help="../shared: add truncated copies of its models and images")
    a = ap.parse_args()
    import tempfile
    for name, data in graphs().items():
        put(a.outdir, "fuzz_graph", name, data)
    imgs = images()
    for name, data in imgs.items():
        put(a.outdir, "fuzz_image", name, data)
        put(a.outdir, IMAGE_TARGET[name.rsplit(".", 1)[1]], name, data)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in tfjs(tmp).items():
            put(a.outdir, "fuzz_convert", name, data)
    for name, data in serve_bodies(imgs).items():
        put(a.outdir, "fuzz_serve", name, data)
    for name, data in serve_configs().items():
        put(a.outdir, "fuzz_serve_config", name, data)
    for name, data in warmup_files().items():
        put(a.outdir, "fuzz_warmup", name, data)
    if a.shared:
        for f in ("mobilenet_v1_0.25_128_quant_float.pb",):
            p = os.path.join(a.shared, "models", f)
            if os.path.exists(p):
                with open(p, "rb") as fh:
                    data = fh.read()
                for n in (2048, 65536):
                    put(a.outdir, "fuzz_graph", "%s.head%d" % (f, n), data[:n])
        for name, data in savedmodels(a.shared).items():
            put(a.outdir, "fuzz_savedmodel", name, data)
        p = os.path.join(a.shared, "images", "grace_hopper.jpg")
        if os.path.exists(p):
            with open(p, "rb") as fh:
                data = fh.read()
            put(a.outdir, "fuzz_image", "grace_hopper.head8k.jpg", data[:8192])
            put(a.outdir, "fuzz_jpeg", "grace_hopper.head8k.jpg", data[:8192])
            put(a.outdir, "fuzz_serve", "raw_grace_hopper_head", bytes([3]) + data[:8192])
    return 0


if __name__ == "__main__":
    sys.exit(main())
