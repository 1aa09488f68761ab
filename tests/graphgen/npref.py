"""Plain numpy versions of the windowed ops (NHWC, TensorFlow padding rules),
a third opinion for the differential tests: when frost and OpenCV disagree on
a convolution or pooling case, this says which one follows TensorFlow."""
import numpy as np


def _pads(n, k, s, d, padding, explicit=None):
    ke = (k - 1) * d + 1
    if padding == "VALID":
        return (n - ke) // s + 1, 0, 0
    if padding == "EXPLICIT":
        b, a = explicit
        return (n + b + a - ke) // s + 1, b, a
    out = -(-n // s)
    total = max((out - 1) * s + ke - n, 0)
    return out, total // 2, total - total // 2


def _windows(x, kh, kw, s, d, padding, explicit, fill):
    """-> patches [N, OH, OW, kh, kw, C] and an in-bounds mask [OH, OW, kh, kw]."""
    n, h, w, c = x.shape
    oh, pt, pb = _pads(h, kh, s[0], d[0], padding, explicit and explicit[0:2])
    ow, pl, pr = _pads(w, kw, s[1], d[1], padding, explicit and explicit[2:4])
    xp = np.full((n, h + pt + pb + kh * d[0], w + pl + pr + kw * d[1], c), fill, np.float64)
    xp[:, pt:pt + h, pl:pl + w, :] = x
    mask_src = np.zeros(xp.shape[1:3], bool)
    mask_src[pt:pt + h, pl:pl + w] = True
    patches = np.empty((n, oh, ow, kh, kw, c))
    mask = np.empty((oh, ow, kh, kw), bool)
    for i in range(kh):
        for j in range(kw):
            ys = slice(i * d[0], i * d[0] + (oh - 1) * s[0] + 1, s[0])
            xs = slice(j * d[1], j * d[1] + (ow - 1) * s[1] + 1, s[1])
            patches[:, :, :, i, j, :] = xp[:, ys, xs, :]
            mask[:, :, i, j] = mask_src[ys, xs]
    return patches, mask


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, w, strides=1, padding="SAME", dilations=1, explicit_paddings=None):
    kh, kw, ci, co = w.shape
    p, _ = _windows(x, kh, kw, _pair(strides), _pair(dilations), padding, explicit_paddings, 0.0)
    return np.einsum("nhwijc,ijco->nhwo", p, w.astype(np.float64))


def depthwise(x, w, strides=1, padding="SAME", dilations=1):
    kh, kw, ci, m = w.shape
    p, _ = _windows(x, kh, kw, _pair(strides), _pair(dilations), padding, None, 0.0)
    y = np.einsum("nhwijc,ijcm->nhwcm", p, w.astype(np.float64))
    return y.reshape(y.shape[:3] + (ci * m,))


def pool(kind, x, k, s, padding):
    kh, kw = _pair(k)
    if kind == "max":
        p, _ = _windows(x, kh, kw, _pair(s), (1, 1), padding, None, -np.inf)
        return p.max(axis=(3, 4))
    p, mask = _windows(x, kh, kw, _pair(s), (1, 1), padding, None, 0.0)
    return p.sum(axis=(3, 4)) / mask.sum(axis=(2, 3))[None, :, :, None]
