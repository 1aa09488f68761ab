"""frost.Model: load and compile a frozen graph once, classify and run many times."""
import array
import collections
import ctypes
import math
import os
import threading

try:
    import numpy as _np
except ImportError:  # the package works without numpy, with lists and buffers
    _np = None

from . import _capi
from ._capi import lib, check, text
from ._errors import Error, InvalidArgumentError, error_for

Prediction = collections.namedtuple("Prediction", "label index score")
Prediction.__doc__ = "One ranked class: (label or None, index in the output, score)."

_floatp = ctypes.POINTER(ctypes.c_float)


def _fptr(address):
    return ctypes.cast(address, _floatp)


def _strip_port(name):
    return name[:-2] if len(name) > 2 and name.endswith(":0") else name


def _names(value):
    """None, a name, or a sequence of names -> None or a list of str."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        value = [value]
    out = [v.decode() if isinstance(v, bytes) else str(v) for v in value]
    if not out:
        raise InvalidArgumentError("an empty list of tensor names")
    return out


def load_labels(path):
    """Labels, one a line (trailing CR/LF removed), as `frost classify` reads them."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise error_for(2, "cannot open labels file %s: %s" % (os.fsdecode(path), e.strerror or e)) from None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [ln.rstrip(b"\r").decode("utf-8", "replace") for ln in lines]


_DTYPES = {1: "float32", 7: "string"}  # frost_model_input_dtype(): FROST_DTYPE_FLOAT, FROST_DTYPE_STRING


def _strings(items):
    """A frost_string array over `items` (bytes objects the caller keeps alive)."""
    arr = (_capi.String * len(items))()
    for i, b in enumerate(items):
        arr[i].data = ctypes.cast(ctypes.c_char_p(b), ctypes.c_void_p).value
        arr[i].size = len(b)
    return arr


def _string_items(x, name):
    """The items of a string input: bytes (one item), a list or tuple of
    bytes, or a numpy object array of bytes; a list of bytes."""
    if isinstance(x, (bytes, bytearray, memoryview)):
        return [bytes(x)]
    if _np is not None and isinstance(x, _np.ndarray):
        if x.dtype.kind != "O":  # dtype S too: numpy drops its items' trailing NUL bytes
            raise TypeError("input '%s' is a string input (encoded bytes, one item each): give bytes, a list of "
                            "bytes or a numpy object array of bytes, not a numpy %s array" % (name, x.dtype))
        x = x.ravel().tolist()
    elif not isinstance(x, (list, tuple)):
        raise TypeError("input '%s' is a string input (encoded bytes, one item each): give bytes or a list of bytes, "
                        "not %s" % (name, type(x).__name__))
    items = []
    for i, v in enumerate(x):
        if not isinstance(v, (bytes, bytearray, memoryview)):
            raise TypeError("input '%s' is a string input: item %d is %s, not bytes" % (name, i, type(v).__name__))
        items.append(bytes(v))
    if not items:
        raise InvalidArgumentError("input '%s': no items" % name)
    return items


def _top_k(address, count, k):
    """frost_top_k() over `count` float32 scores at `address`: (indices, scores)
    of the min(k, count) best, best first (ties: lower index; NaN last)."""
    k = max(0, min(int(k), count))
    idx, val, got = (ctypes.c_int * max(k, 1))(), (ctypes.c_float * max(k, 1))(), ctypes.c_int()
    check(lib.frost_top_k(_fptr(address), count, k, idx, val, ctypes.byref(got)))
    return idx[:got.value], val[:got.value]


def top_k(scores, k):
    """Indices of the k best of `scores` (a sequence of numbers), best first,
    ranked as frost ranks classes (frost_top_k(): ties by lower index, NaN last)."""
    a = array.array("f", scores)
    return _top_k(a.buffer_info()[0], len(a), k)[0] if len(a) else []


class _Worker:
    """A context (one thread at a time) and its classify buffers."""
    __slots__ = ("ctx", "inbuf", "outbuf", "cap")

    def __init__(self, ctx):
        self.ctx, self.inbuf, self.outbuf, self.cap = ctx, None, None, 0


class Model:
    """A compiled frozen TensorFlow graph.

    Model(graph, labels=None, *, input_layer=None, output_layer=None,
          input_width=None, input_height=None, input_shape=None,
          input_mean=0.0, input_std=255.0, resize="tf1", threads=0,
          precision="fp32", backend="auto", winograd=None, max_batch=64,
          max_pixels=None, fast_decode=False, micro_batch=0,
          signature=None, tag_set=None, tune_file=None, calibrate=None)

    `graph` is a path to a binary GraphDef (.pb) or its bytes, or a
    TensorFlow SavedModel directory (or its saved_model.pb): then the
    signature `signature` (default "serving_default", or the only one) of
    the meta graph tagged `tag_set` (a list or a comma-separated string;
    default "serve") is loaded, its inputs as the graph's Placeholders and
    its outputs as the sinks (frost_graph_load_signature).  Input and
    output are found as `frost classify` finds them: the only Placeholder (or
    the one named "input") and the only sink, unless named.  The image size is
    the input Placeholder's, else input_width/input_height, else 299.
    `tune_file`: the tuning record `frost tune` wrote (None: the per-user
    cache's for this model, CPU and thread count, if any; "": none);
    .tune_note says which was used, or why not; .thread_split the contexts
    the record measured fastest at once under full load (1: one).
    Preprocessing: (pixel - input_mean) / input_std after a TensorFlow
    bilinear resize (`resize`: "tf1", "tf2" or "align_corners").
    `calibrate` (with precision="int8"): a directory of images; a plain FP32
    graph is quantized at load time as `frost quantize` does, calibrated on
    them with this preprocessing (frost_options.calibrate_dir), for quick
    trials; `frost quantize` writes the same graph to keep.

    A graph whose input takes encoded images (a string Placeholder decoded
    in the graph by DecodeJpeg, DecodePng, DecodeBmp or DecodeImage: TF
    Serving image exports, TF-for-Poets graphs fed "DecodeJpeg/contents";
    input_dtypes == ["string"]) is classified from the files' bytes as they
    are: the graph decodes and preprocesses them, so input_mean, input_std,
    resize, max_pixels and fast_decode do not apply.

    The compiled model is immutable and shared; each call borrows a context
    from a pool (one per concurrent call), so one Model may be used from any
    number of threads at once.  Release it with close() or a `with` block.
    """

    def __init__(self, graph, labels=None, *, input_layer=None, output_layer=None, input_width=None,
                 input_height=None, input_shape=None, input_mean=0.0, input_std=255.0, resize="tf1", threads=0,
                 precision="fp32", backend="auto", winograd=None, max_batch=64, max_pixels=None,
                 fast_decode=False, micro_batch=0, signature=None, tag_set=None, tune_file=None, calibrate=None):
        self._model = None
        self._lock = threading.Lock()
        self._idle = []
        self._busy = 0
        self._closed = False
        for name, table, value in (("resize", _capi.RESIZES, resize), ("precision", _capi.PRECISIONS, precision),
                                   ("backend", _capi.BACKENDS, backend)):
            if value not in table:
                raise InvalidArgumentError("%s: %r is not one of %s" % (name, value, ", ".join(table)))
        input_std, input_mean = float(input_std), float(input_mean)
        if input_std == 0.0 or not math.isfinite(input_std) or not math.isfinite(input_mean):
            raise InvalidArgumentError("input_std must be a non-zero number and input_mean a number")
        if isinstance(labels, (str, bytes, os.PathLike)):
            labels = load_labels(labels)
        self.labels = list(labels) if labels is not None else None
        self.source = "<memory>" if isinstance(graph, (bytes, bytearray, memoryview)) else os.fsdecode(graph)
        self._compile(graph, _names(input_layer), _names(output_layer), input_width, input_height, input_shape,
                      int(max_batch), int(threads), _capi.BACKENDS[backend], _capi.PRECISIONS[precision],
                      winograd, int(micro_batch), signature, tag_set, tune_file,
                      None if calibrate is None else (os.fsencode(calibrate),
                                                      _capi.Preprocess(0, 0, input_mean, input_std,
                                                                       _capi.RESIZES[resize])))
        self.input_mean, self.input_std, self.resize = input_mean, input_std, resize
        self._decode = _capi.DecodeOptions()
        lib.frost_decode_options_init(ctypes.byref(self._decode))
        if max_pixels is not None:
            self._decode.max_pixels = int(max_pixels)
        self._decode.fast_decode = int(bool(fast_decode))
        self._pp = None
        self._not_image = None
        self.input_height = self.input_width = None
        # a model whose input takes encoded images (JPEG, PNG bytes) that the graph decodes itself
        self._bytes_input = len(self.inputs) == 1 and self.input_dtypes[0] == "string"
        if len(self.inputs) == 1 and not self._bytes_input:  # an image model: frost_model_image_spec
            spec, err = _capi.ImageSpec(), ctypes.c_void_p()
            st = lib.frost_model_image_spec(self._model, ctypes.byref(spec), ctypes.byref(err))
            self._not_image = _capi.take_message(err)
            if st == 0:
                self.input_height, self.input_width = spec.height, spec.width
                self._decode.target_width, self._decode.target_height = self.input_width, self.input_height
                self._pp = _capi.Preprocess(self.input_width, self.input_height, input_mean, input_std,
                                            _capi.RESIZES[resize])

    # ------------------------------------------------------------- compile

    def _compile(self, graph, inputs, outputs, width, height, input_shape, max_batch, threads, backend, precision,
                 winograd, micro_batch=0, signature=None, tag_set=None, tune_file=None, calibrate=None):
        g = ctypes.c_void_p()
        err = ctypes.c_void_p()
        if isinstance(tag_set, (str, bytes)):
            tag_set = (tag_set.decode() if isinstance(tag_set, bytes) else tag_set).split(",")
        tags = None if tag_set is None else [t for t in (str(t) for t in tag_set) if t]
        if tag_set is not None and not tags:
            raise InvalidArgumentError("tag_set names no tag")
        if isinstance(graph, (bytes, bytearray, memoryview)):
            if signature is not None or tags is not None:
                raise InvalidArgumentError("signature= and tag_set= take a SavedModel directory, not GraphDef bytes")
            data = bytes(graph)
            check(lib.frost_graph_load_memory(data, len(data), 1, ctypes.byref(g), ctypes.byref(err)), err)
        else:
            arr = None if tags is None else (ctypes.c_char_p * len(tags))(*[t.encode() for t in tags])
            check(lib.frost_graph_load_signature(
                os.fsencode(graph), arr, len(tags) if tags else 0,
                None if signature is None else str(signature).encode(), ctypes.byref(g), ctypes.byref(err)), err)
        try:
            opt = _capi.options_init(_capi.Options())
            keep = []  # ctypes objects the options point to
            # The input, its size and the output as `frost classify` picks them
            # (frost_graph_image_spec): the only Placeholder or the one named
            # "input"; its [N,H,W,C], else the arguments, else 299; the only sink.
            one = inputs is None or len(inputs) == 1
            spec = _capi.ImageSpec()
            check(lib.frost_graph_image_spec(g, inputs[0].encode() if inputs else None, int(width or 0) if one else 0,
                                             int(height or 0) if one else 0, ctypes.byref(spec), ctypes.byref(err)),
                  err)
            if inputs is None and spec.input_name is not None:
                inputs = [text(spec.input_name)]
            if outputs is None and spec.output_name is not None:
                outputs = [text(spec.output_name)]
            shapes = None
            if input_shape is not None:
                seq = [input_shape] if input_shape and not isinstance(input_shape[0], (list, tuple)) else input_shape
                shapes = [_capi.Shape.from_seq(-1 if d is None else d for d in s) for s in seq]
            elif one and spec.needs_shape:
                shapes = [spec.shape]
            if inputs is not None:
                arr = (ctypes.c_char_p * len(inputs))(*[n.encode() for n in inputs])
                keep.append(arr)
                opt.inputs, opt.num_inputs = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p)), len(inputs)
            if shapes is not None:
                if len(shapes) != (len(inputs) if inputs is not None else len(shapes)):
                    raise InvalidArgumentError("%d input shapes for %d inputs" % (len(shapes), len(inputs)))
                arr = (_capi.Shape * len(shapes))(*shapes)
                keep.append(arr)
                opt.input_shapes = ctypes.cast(arr, ctypes.POINTER(_capi.Shape))
            if outputs is not None:
                arr = (ctypes.c_char_p * len(outputs))(*[n.encode() for n in outputs])
                keep.append(arr)
                opt.outputs, opt.num_outputs = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p)), len(outputs)
            opt.max_batch, opt.threads, opt.backend, opt.precision = max_batch, threads, backend, precision
            # None: the default (F(2x2, 3x3) and 1-D Winograd on 1x7 / 7x1
            # layers, within 1e-4); True: the larger tiles; False: none
            opt.winograd = _capi.WINOGRADS[None if winograd is None else bool(winograd)]
            opt.micro_batch = micro_batch
            # None: the per-user cache's record for this model, CPU and
            # thread count (frost tune), if any; "": none; else that record
            opt.tune_file = None if tune_file is None else os.fsencode(tune_file)
            if calibrate is not None:  # (directory, Preprocess): quantized at load time
                keep.append(calibrate[1])
                opt.calibrate_dir, opt.calibrate_preprocess = calibrate[0], ctypes.pointer(calibrate[1])
            m = ctypes.c_void_p()
            check(lib.frost_model_compile(g, ctypes.byref(opt), ctypes.byref(m), ctypes.byref(err)), err,
                  prefix=self.source)
        finally:
            lib.frost_graph_free(g)
        self._model = m
        shape = _capi.Shape()

        def shape_of(fn, i):
            check(fn(m, i, ctypes.byref(shape)))
            return tuple(None if d < 0 else d for d in shape.to_tuple())
        self.inputs = [text(lib.frost_model_input_name(m, i)) for i in range(lib.frost_model_input_count(m))]
        self.outputs = [text(lib.frost_model_output_name(m, i)) for i in range(lib.frost_model_output_count(m))]
        self.input_shapes = [shape_of(lib.frost_model_input_shape, i) for i in range(len(self.inputs))]
        self.input_dtypes = [_DTYPES.get(lib.frost_model_input_dtype(m, i), "float32") for i in range(len(self.inputs))]
        self.output_shapes = [shape_of(lib.frost_model_output_shape, i) for i in range(len(self.outputs))]
        self._in_sizes = [lib.frost_model_input_size(m, i) for i in range(len(self.inputs))]
        self._out_sizes = [lib.frost_model_output_size(m, i) for i in range(len(self.outputs))]
        self.max_batch = lib.frost_model_max_batch(m)
        self.tune_note = text(lib.frost_model_tune_note(m))
        self.thread_split = lib.frost_model_thread_split(m, None)

    # ------------------------------------------------------------ contexts

    def _acquire(self):
        with self._lock:
            if self._closed:
                raise InvalidArgumentError("%s: the model is closed" % self.source)
            self._busy += 1
            if self._idle:
                return self._idle.pop()
        ctx, err = ctypes.c_void_p(), ctypes.c_void_p()
        try:
            check(lib.frost_context_create(self._model, ctypes.byref(ctx), ctypes.byref(err)), err)
        except BaseException:
            self._release(None)
            raise
        return _Worker(ctx)

    def _release(self, w):
        with self._lock:
            self._busy -= 1
            if not self._closed:
                if w is not None:
                    self._idle.append(w)
                return
            if w is not None:
                lib.frost_context_free(w.ctx)
            if self._busy == 0 and self._model is not None:
                lib.frost_model_free(self._model)
                self._model = None

    def close(self):
        """Free the compiled model and its contexts (calls still running on
        other threads finish first; later calls raise).  Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for w in self._idle:
                lib.frost_context_free(w.ctx)
            self._idle = []
            if self._busy == 0 and self._model is not None:
                lib.frost_model_free(self._model)
                self._model = None

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            if getattr(self, "_lock", None) is not None:
                self.close()
        except Exception:  # interpreter shutdown
            pass

    def __repr__(self):
        return "<frost.Model %s inputs=%s outputs=%s%s>" % (
            self.source, self.inputs, self.outputs, " closed" if self._closed else "")

    # ---------------------------------------------------------------- info

    def stats(self):
        """What the compiler did (frost_model_stats(), a frost_compile_stats) as a dict."""
        w = self._acquire()  # keeps the model alive
        try:
            s = _capi.CompileStats()
            check(lib.frost_model_stats(self._model, ctypes.byref(s)))
        finally:
            self._release(w)
        d = {name: getattr(s, name) for name, _ in _capi.CompileStats._fields_}
        d["backend"] = text(d["backend"])
        return d

    # ------------------------------------------------------------ classify

    def classify(self, images, top_k=5, batch=16, errors="raise"):
        """Classify images; returns one list of Prediction(label, index, score)
        per image (top_k of them, best first), in input order.

        `images`: one image or an iterable of them; an image is a path (str or
        os.PathLike), encoded bytes (JPEG, PNG, BMP, GIF: bytes, bytearray,
        memoryview) or, with numpy, a decoded uint8 RGB array of shape (H, W, 3).
        For a model whose input takes encoded images (input_dtypes ==
        ["string"]), an image is a path or encoded bytes, fed to the graph as
        they are (a decoded array raises TypeError); one the graph cannot
        decode is that image's ImageError.
        A single image still gives a list of one result.  Images run through
        the model `batch` at a time (at most max_batch).  errors="raise"
        raises the first image's frost.Error (ImageError, FileError, ...);
        errors="none" puts None in place of a failed image's result, and
        errors="return" that image's frost.Error (its message names the file).
        """
        return list(self.iclassify(images, top_k, batch, errors))

    def iclassify(self, images, top_k=5, batch=16, errors="raise"):
        """classify() as a generator: yields each image's result as soon as its
        batch has run, reading `images` lazily (for long or endless streams)."""
        if errors not in ("raise", "none", "return"):
            raise InvalidArgumentError("errors: %r is not 'raise', 'none' or 'return'" % (errors,))
        if self._pp is None and not self._bytes_input:
            self._not_an_image_model()
        if len(self.outputs) != 1:
            raise InvalidArgumentError("%s has %d outputs (%s); choose one with output_layer=" % (
                self.source, len(self.outputs), " ".join(self.outputs)))
        top_k, batch = int(top_k), max(1, min(int(batch), self.max_batch))
        if top_k < 1:
            raise InvalidArgumentError("top_k must be at least 1")
        if _is_one_image(images):
            images = [images]
        return self._iclassify(iter(images), top_k, batch, errors)

    def _iclassify(self, it, top_k, batch, errors):
        in_n, out_n = self._in_sizes[0], self._out_sizes[0]
        k = min(top_k, out_n)
        number = 0
        w = self._acquire()
        try:
            if w.cap < batch:
                w.inbuf = (ctypes.c_float * (in_n * batch))()
                w.outbuf = (ctypes.c_float * (out_n * batch))()
                w.cap = batch
            base = ctypes.addressof(w.inbuf)
            while True:
                rows = []  # per image: its row in the batch, or its error when it failed
                encoded = []  # a model that decodes images itself: (bytes, name) of each row
                nok = 0
                for img in it:
                    try:
                        if self._bytes_input:
                            encoded.append(self._encoded(img, number))
                        else:
                            self._preprocess(img, number, base + 4 * in_n * nok)
                        rows.append(nok)
                        nok += 1
                    except Error as e:
                        if errors == "raise":
                            raise
                        rows.append(e if errors == "return" else None)
                    number += 1
                    if len(rows) == batch:
                        break
                if not rows:
                    return
                failed = self._run_encoded(w, encoded) if encoded else {}
                if nok and not encoded:
                    st = lib.frost_context_run1(w.ctx, nok, w.inbuf, w.outbuf)
                    if st:
                        raise error_for(st, "%s: inference failed: %s" % (self.source,
                                                                          text(lib.frost_context_error(w.ctx))))
                for row in rows:
                    e = failed.get(row) if isinstance(row, int) else row
                    if isinstance(e, Error) and errors == "raise":
                        raise e
                    if isinstance(row, int) and e is None:
                        yield self._ranked(w.outbuf, row, out_n, k)
                    else:
                        yield e if errors == "return" else None
        finally:
            self._release(w)

    def _encoded(self, img, number):
        """(bytes, name for messages) of one image for a model that decodes them itself."""
        if isinstance(img, (str, os.PathLike)):
            name = os.fsdecode(img)
            try:
                with open(img, "rb") as f:
                    return f.read(), name
            except OSError as e:
                raise error_for(2, "%s: cannot read: %s" % (name, e.strerror or e)) from None
        if isinstance(img, (bytes, bytearray, memoryview)):
            return bytes(img), "image %d" % number
        raise TypeError("image %d: input '%s' of %s takes encoded images, which the graph decodes itself: give a path "
                        "or the file's bytes, not %s" % (number, self.inputs[0], self.source, type(img).__name__))

    def _run_encoded(self, w, encoded):
        """Runs the batch of encoded images into w.outbuf: {row: frost.Error}
        of those the graph could not decode (a batch that fails for that runs
        again one image at a time, so that only they fail)."""
        def run(start, n):
            arr = _strings([b for b, _ in encoded[start:start + n]])
            st = lib.frost_context_set_string_input(w.ctx, 0, arr, n)
            if st == 0:
                out = ctypes.cast(ctypes.addressof(w.outbuf) + 4 * self._out_sizes[0] * start, _floatp)
                st = lib.frost_context_run1(w.ctx, n, None, out)
            return st, (text(lib.frost_context_error(w.ctx)) if st else None)
        st, msg = run(0, len(encoded))
        if st == 0:
            return {}
        item_fault = (9, 10, 3)  # FROST_E_IMAGE, FROST_E_LIMIT, FROST_E_PARSE: the bytes, not the model
        if st not in item_fault:
            raise error_for(st, "%s: inference failed: %s" % (self.source, msg))
        failed = {}
        for row in range(len(encoded)):
            if len(encoded) > 1:
                st, msg = run(row, 1)
            if st:
                failed[row] = error_for(st, "%s: cannot decode: %s" % (encoded[row][1], msg))
        return failed

    def _not_an_image_model(self):
        if len(self.inputs) != 1:
            raise InvalidArgumentError("%s has %d inputs (%s); choose one with input_layer=" % (
                self.source, len(self.inputs), " ".join(self.inputs)))
        raise InvalidArgumentError(self._not_image or
                                   "input '%s' is not an NHWC image with 3 channels" % self.inputs[0])

    def _ranked(self, outbuf, row, out_n, k):
        order, vals = _top_k(ctypes.addressof(outbuf) + 4 * out_n * row, out_n, k)
        labels = self.labels
        nl = len(labels) if labels is not None else 0
        return [Prediction(labels[i] if i < nl else None, i, s) for i, s in zip(order, vals)]

    def _preprocess(self, img, number, address):
        """Decodes one image and writes its input tensor at `address`."""
        err = ctypes.c_void_p()
        im = ctypes.POINTER(_capi.Image)()
        if isinstance(img, (str, os.PathLike)):
            check(lib.frost_image_load(os.fsencode(img), ctypes.byref(self._decode), ctypes.byref(im),
                                       ctypes.byref(err)), err)
        elif isinstance(img, (bytes, bytearray, memoryview)):
            data = bytes(img)
            check(lib.frost_image_decode(data, len(data), ctypes.byref(self._decode), ctypes.byref(im),
                                         ctypes.byref(err)), err, prefix="image %d" % number)
        elif _np is not None and isinstance(img, _np.ndarray):
            if img.dtype != _np.uint8 or img.ndim != 3 or img.shape[2] != 3 or 0 in img.shape:
                raise InvalidArgumentError("image %d: an array image is uint8 RGB of shape (H, W, 3), not %s %s" % (
                    number, img.dtype, img.shape))
            img = _np.ascontiguousarray(img)
            pic = _capi.Image(img.shape[1], img.shape[0], img.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)))
            check(lib.frost_image_preprocess(ctypes.byref(pic), ctypes.byref(self._pp), _fptr(address)),
                  prefix="image %d" % number)
            return
        else:
            raise TypeError("image %d: a path, encoded bytes or a uint8 (H, W, 3) array, not %s" % (
                number, type(img).__name__))
        try:
            st = lib.frost_image_preprocess(im, ctypes.byref(self._pp), _fptr(address))
        finally:
            lib.frost_image_free(im)
        check(st, prefix="image %d: preprocessing failed" % number)

    # ----------------------------------------------------------------- run

    def run(self, inputs):
        """Run the model on raw float32 tensors (NHWC, as the graph declares).

        `inputs`: for a one-input model the tensor itself, else a list (in the
        order of .inputs) or a dict {name: tensor}.  A tensor is a numpy array
        (used in place when float32 and C-contiguous), nested lists, or a
        buffer of float32; its first dimension is the batch (any size: runs
        of at most max_batch are made).  A string input (input_dtypes[i] ==
        "string": encoded images or tf.Example protos the graph decodes
        itself) takes bytes (one item) or a list of bytes (one per batch
        item; a numpy array of dtype object too).  Returns, for a one-output
        model, the output, else a list of them: numpy float32 arrays of shape
        (batch,) + output_shape[1:]; without numpy, for each output a list
        per batch item of flat lists of floats.
        """
        xs = self._input_list(inputs)
        bufs, batch = [], None
        for i, x in enumerate(xs):
            if self.input_dtypes[i] == "string":
                items = _string_items(x, self.inputs[i])
                if batch is not None and len(items) != batch:
                    raise InvalidArgumentError("input '%s' has batch %d, the first input %d" % (
                        self.inputs[i], len(items), batch))
                batch = len(items)
                bufs.append((items, None))
                continue
            buf, addr, n = _float_buffer(x)
            size = self._in_sizes[i]
            shape = self.input_shapes[i]
            if _np is not None and buf.ndim == len(shape) and any(
                    d is not None and d != g for d, g in zip(shape[1:], buf.shape[1:])):
                raise InvalidArgumentError("input '%s' has shape %s, the model takes %s" % (
                    self.inputs[i], list(buf.shape), list(shape)))
            if size == 0 or n % size or n == 0:
                raise InvalidArgumentError("input '%s' takes a multiple of %d floats (shape %s), not %d" % (
                    self.inputs[i], size, list(self.input_shapes[i]), n))
            if batch is not None and n // size != batch:
                raise InvalidArgumentError("input '%s' has batch %d, the first input %d" % (
                    self.inputs[i], n // size, batch))
            batch = n // size
            bufs.append((buf, addr))
        outs = []
        for j, shape in enumerate(self.output_shapes):
            n = batch * self._out_sizes[j]
            if _np is not None:
                dims = (batch,) + shape[1:] if shape[0] is None else shape
                o = _np.empty(dims if batch == 1 or shape[0] is None else (n,), _np.float32)
                outs.append((o, o.ctypes.data))
            else:
                o = array.array("f", bytes(4 * n))
                outs.append((o, o.buffer_info()[0]))
        nin, nout = len(xs), len(outs)
        w = self._acquire()
        try:
            start = 0
            while start < batch:
                b = min(self.max_batch, batch - start)
                ins = (_floatp * nin)(*[None if a is None else _fptr(a + 4 * start * self._in_sizes[i])
                                        for i, (_, a) in enumerate(bufs)])
                ous = (_floatp * nout)(*[_fptr(a + 4 * start * self._out_sizes[j]) for j, (_, a) in enumerate(outs)])
                st, bound = 0, []  # string inputs: bound before every run, alive until it returns
                for i, (items, a) in enumerate(bufs):
                    if a is None and st == 0:
                        bound.append(_strings(items[start:start + b]))
                        st = lib.frost_context_set_string_input(w.ctx, i, bound[-1], b)
                if st == 0:
                    st = lib.frost_context_run(w.ctx, b, ins, ous)
                if st:
                    raise error_for(st, text(lib.frost_context_error(w.ctx)) or _capi.strerror(st))
                start += b
        finally:
            self._release(w)
        if _np is not None:
            res = [o for o, _ in outs]
        else:
            res = [[o[k * self._out_sizes[j]:(k + 1) * self._out_sizes[j]].tolist() for k in range(batch)]
                   for j, (o, _) in enumerate(outs)]
        return res[0] if len(res) == 1 else res

    def _input_list(self, inputs):
        n = len(self.inputs)
        if isinstance(inputs, dict):
            names = {_strip_port(k): v for k, v in inputs.items()}
            missing = [nm for nm in self.inputs if _strip_port(nm) not in names]
            if missing or len(names) != n:
                raise InvalidArgumentError("the inputs are %s, given %s" % (self.inputs, list(inputs)))
            return [names[_strip_port(nm)] for nm in self.inputs]
        if n == 1:
            return [inputs]
        if not isinstance(inputs, (list, tuple)) or len(inputs) != n:
            raise InvalidArgumentError("the model has %d inputs (%s): give a list or a dict of them" % (
                n, " ".join(self.inputs)))
        return list(inputs)


def _is_one_image(x):
    if isinstance(x, (str, bytes, bytearray, memoryview, os.PathLike)):
        return True
    return _np is not None and isinstance(x, _np.ndarray) and x.ndim == 3


def _flatten(x, out):
    if isinstance(x, (list, tuple)):
        for v in x:
            _flatten(v, out)
    else:
        out.append(float(x))


def _float_buffer(x):
    """(object keeping the data alive, its address, number of floats)."""
    if _np is not None:
        a = _np.ascontiguousarray(x, dtype=_np.float32)
        return a, a.ctypes.data, a.size
    if isinstance(x, (list, tuple)):
        a = array.array("f")
        _flatten(x, a)
        return a, a.buffer_info()[0], len(a)
    if isinstance(x, array.array) and x.typecode == "f":
        return x, x.buffer_info()[0], len(x)
    mv = memoryview(x)
    if mv.format not in ("f", "<f", "=f") or not mv.c_contiguous:
        raise TypeError("a tensor is a list, a numpy array or a contiguous float32 buffer, not format %r" % mv.format)
    a = array.array("f")
    a.frombytes(mv.cast("B"))
    return a, a.buffer_info()[0], len(a)
