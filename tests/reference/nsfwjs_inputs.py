#!/usr/bin/python3
"""Preprocessed input tensors for the nsfwjs reference test, made
deterministically from real photos that Debian ships (package darknet) and,
when present, ../shared/images/grace_hopper.jpg.

Pipeline (the models' preprocessing, with TensorFlow's formulas):
  decode JPEG as TensorFlow's decode_jpeg (djpeg -dct fast: libjpeg-turbo's
  IFAST DCT, fancy upsampling) -> RGB float32 -> ResizeBilinear with
  align_corners=true to SIZExSIZE (float32 arithmetic) -> / 255.
Writes NAME_SIZE.f32 (little-endian float32 NHWC, batch 1) into OUTDIR and
prints "NAME_SIZE.f32 SHA256" lines.

usage: nsfwjs_inputs.py OUTDIR [SHARED_DIR]
"""
import hashlib
import os
import subprocess
import sys

import numpy as np

DARKNET = "/usr/share/darknet/data"
PHOTOS = ["dog", "eagle", "giraffe", "horses", "kite", "person", "scream"]
SIZES = [299, 224]


def images(shared):
    out = [(p, os.path.join(DARKNET, p + ".jpg")) for p in PHOTOS]
    gh = os.path.join(shared or "", "images", "grace_hopper.jpg")
    if shared and os.path.exists(gh):
        out.append(("grace_hopper", gh))
    return out


def decode_jpeg(path):
    ppm = subprocess.run(["djpeg", "-dct", "fast", "-pnm", path], check=True, capture_output=True).stdout
    # binary PPM: "P6\n<w> <h>\n255\n" then RGB bytes
    fields, pos = [], 0
    while len(fields) < 4:
        while ppm[pos:pos + 1].isspace():
            pos += 1
        if ppm[pos:pos + 1] == b"#":
            pos = ppm.index(b"\n", pos)
            continue
        end = pos
        while not ppm[end:end + 1].isspace():
            end += 1
        fields.append(ppm[pos:end])
        pos = end
    if fields[0] not in (b"P6", b"P5"):
        raise SystemExit("%s: unexpected djpeg output" % path)
    w, h = int(fields[1]), int(fields[2])
    ch = 3 if fields[0] == b"P6" else 1
    px = np.frombuffer(ppm, np.uint8, w * h * ch, pos + 1).reshape(h, w, ch)
    return np.repeat(px, 3, axis=2) if ch == 1 else px


def weights(n_in, n_out):
    """TensorFlow's compute_interpolation_weights, align_corners=true, in float32."""
    scale = np.float32((n_in - 1) / np.float32(n_out - 1)) if n_out > 1 else np.float32(0)
    src = np.arange(n_out, dtype=np.float32) * scale
    lo = np.floor(src)
    hi = np.minimum(np.ceil(src), n_in - 1)
    return lo.astype(np.int64), hi.astype(np.int64), (src - lo).astype(np.float32)


def resize_align_corners(img, size):
    img = img.astype(np.float32)
    y0, y1, dy = weights(img.shape[0], size)
    x0, x1, dx = weights(img.shape[1], size)
    dx = dx[None, :, None]
    tl, tr = img[y0][:, x0], img[y0][:, x1]
    bl, br = img[y1][:, x0], img[y1][:, x1]
    top = tl + (tr - tl) * dx
    bottom = bl + (br - bl) * dx
    return top + (bottom - top) * dy[:, None, None]


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    outdir = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else None
    os.makedirs(outdir, exist_ok=True)
    for name, path in images(shared):
        if not os.path.exists(path):
            raise SystemExit("%s: missing (install the Debian package darknet)" % path)
        px = decode_jpeg(path)
        for size in SIZES:
            x = (resize_align_corners(px, size) - np.float32(0)) / np.float32(255)
            data = x.astype("<f4").tobytes()
            fn = "%s_%d.f32" % (name, size)
            with open(os.path.join(outdir, fn), "wb") as f:
                f.write(data)
            print(fn, hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
