"""ctypes declarations of include/frost.h and the lookup of libfrost.

Library lookup, first match wins:
  1. $FROST_LIBRARY (a path to libfrost.so);
  2. libfrost.so in a build directory of the source tree this package sits in
     (<repo>/build/libfrost.so for <repo>/python/frost);
  3. ctypes.util.find_library("frost") (an installed libfrost).
"""
import ctypes
import ctypes.util
import os

from ._errors import Error, error_for

MAX_RANK = 8  # FROST_MAX_RANK

# Enums (C enums are int-sized).
BACKENDS = {"auto": 0, "reference": 1, "onednn": 2}
PRECISIONS = {"fp32": 0, "bf16": 1, "int8": 2}
RESIZES = {"tf1": 0, "tf2": 1, "align_corners": 2}
# frost_winograd, by the Model(winograd=...) value: None = FROST_WINOGRAD_DEFAULT,
# False = FROST_WINOGRAD_OFF, True = FROST_WINOGRAD_ALL.
WINOGRADS = {None: 0, False: 1, True: 2}
# frost_options.debug_flags (for testing frost itself).
DEBUG_NO_OPTIMIZE = 0x1
DEBUG_ONEDNN_ONLY = 0x2


class Shape(ctypes.Structure):
    """frost_shape"""
    _fields_ = [("rank", ctypes.c_int), ("dims", ctypes.c_int64 * MAX_RANK)]

    def to_tuple(self):
        return tuple(int(self.dims[i]) for i in range(self.rank)) if self.rank >= 0 else None

    @classmethod
    def from_seq(cls, dims):
        dims = [int(d) for d in dims]
        if not 1 <= len(dims) <= MAX_RANK:
            raise ValueError("a shape has 1 to %d dimensions, not %d" % (MAX_RANK, len(dims)))
        s = cls()
        s.rank = len(dims)
        for i, d in enumerate(dims):
            s.dims[i] = d
        return s


class Preprocess(ctypes.Structure):
    """frost_preprocess"""
    _fields_ = [
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("mean", ctypes.c_float),
        ("std", ctypes.c_float),
        ("resize", ctypes.c_int),
    ]


class Options(ctypes.Structure):
    """frost_options (initialise with options_init(), which sets struct_size)"""
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("inputs", ctypes.POINTER(ctypes.c_char_p)),
        ("num_inputs", ctypes.c_int),
        ("input_shapes", ctypes.POINTER(Shape)),
        ("outputs", ctypes.POINTER(ctypes.c_char_p)),
        ("num_outputs", ctypes.c_int),
        ("max_batch", ctypes.c_int),
        ("threads", ctypes.c_int),
        ("backend", ctypes.c_int),
        ("precision", ctypes.c_int),
        ("winograd", ctypes.c_int),
        ("micro_batch", ctypes.c_int),
        ("profiling", ctypes.c_int),
        ("debug_flags", ctypes.c_uint),
        ("tune_file", ctypes.c_char_p),
        ("calibrate_dir", ctypes.c_char_p),
        ("calibrate_preprocess", ctypes.POINTER(Preprocess)),
    ]


class TuneLayer(ctypes.Structure):
    """frost_tune_layer"""
    _fields_ = [("name", ctypes.c_char_p), ("flops", ctypes.c_int64), ("ms", ctypes.c_double * 5),
                ("choice", ctypes.c_int), ("rules", ctypes.c_int)]


class TuneResult(ctypes.Structure):
    """frost_tune_result"""
    _fields_ = [("num_layers", ctypes.c_int), ("layers", ctypes.POINTER(TuneLayer)), ("rounds", ctypes.c_int),
                ("rules_ms", ctypes.c_double), ("tuned_ms", ctypes.c_double), ("kept", ctypes.c_int),
                ("record", ctypes.c_char_p), ("cache_path", ctypes.c_char_p), ("num_micro", ctypes.c_int),
                ("micro_values", ctypes.c_int * 8), ("micro_ms", ctypes.c_double * 8), ("micro_rule", ctypes.c_int),
                ("micro_batch", ctypes.c_int), ("num_splits", ctypes.c_int), ("split_contexts", ctypes.c_int * 8),
                ("split_ms", ctypes.c_double * 8), ("thread_split", ctypes.c_int)]


class CompileStats(ctypes.Structure):
    """frost_compile_stats"""
    _fields_ = [
        ("graph_nodes", ctypes.c_int),
        ("pruned_nodes", ctypes.c_int),
        ("identity_nodes", ctypes.c_int),
        ("folded_nodes", ctypes.c_int),
        ("folded_batchnorms", ctypes.c_int),
        ("fused_ops", ctypes.c_int),
        ("steps", ctypes.c_int),
        ("params", ctypes.c_int64),
        ("flops", ctypes.c_int64),
        ("weight_bytes", ctypes.c_size_t),
        ("arena_bytes", ctypes.c_size_t),
        ("backend", ctypes.c_char_p),
    ]


class OpProfile(ctypes.Structure):
    """frost_op_profile"""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("op", ctypes.c_char_p),
        ("kernel", ctypes.c_char_p),
        ("total_ms", ctypes.c_double),
        ("runs", ctypes.c_int64),
        ("flops", ctypes.c_int64),
    ]


class Image(ctypes.Structure):
    """frost_image"""
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("rgb", ctypes.POINTER(ctypes.c_uint8))]


class DecodeOptions(ctypes.Structure):
    """frost_decode_options"""
    _fields_ = [
        ("max_pixels", ctypes.c_int64),
        ("fast_decode", ctypes.c_int),
        ("target_width", ctypes.c_int),
        ("target_height", ctypes.c_int),
        ("dct_method", ctypes.c_int),
    ]


class String(ctypes.Structure):
    """frost_string"""
    _fields_ = [("data", ctypes.c_void_p), ("size", ctypes.c_size_t)]


class ImageSpec(ctypes.Structure):
    """frost_image_spec"""
    _fields_ = [
        ("input", ctypes.c_int),
        ("input_name", ctypes.c_char_p),
        ("output_name", ctypes.c_char_p),
        ("height", ctypes.c_int),
        ("width", ctypes.c_int),
        ("channels", ctypes.c_int),
        ("needs_shape", ctypes.c_int),
        ("shape", Shape),
    ]


class TensorInfo(ctypes.Structure):
    """frost_tensor_info (a SavedModel signature's input or output)"""
    _fields_ = [
        ("key", ctypes.c_char_p),
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int),
        ("shape", Shape),
        ("is_ref", ctypes.c_int),
        ("has_shape", ctypes.c_int),
    ]


# Every struct, by its C name (for the layout test).
STRUCTS = {
    "frost_shape": Shape,
    "frost_options": Options,
    "frost_compile_stats": CompileStats,
    "frost_op_profile": OpProfile,
    "frost_image": Image,
    "frost_decode_options": DecodeOptions,
    "frost_string": String,
    "frost_preprocess": Preprocess,
    "frost_image_spec": ImageSpec,
    "frost_tensor_info": TensorInfo,
}

_c_int, _c_char_p, _c_void_p, _size_t = ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t
_P = ctypes.POINTER
_err = _P(_c_void_p)  # char **error_out, read back as a raw pointer so it can be freed
_floats = _P(ctypes.c_float)

# name: (restype, argtypes), exactly the declarations of include/frost.h.
PROTOTYPES = {
    "frost_strerror": (_c_char_p, [_c_int]),
    "frost_free": (None, [_c_void_p]),
    "frost_version": (_c_char_p, []),
    "frost_graph_load": (_c_int, [_c_char_p, _P(_c_void_p), _err]),
    "frost_graph_load_memory": (_c_int, [_c_void_p, _size_t, _c_int, _P(_c_void_p), _err]),
    "frost_graph_free": (None, [_c_void_p]),
    "frost_graph_node_count": (_c_int, [_c_void_p]),
    "frost_graph_placeholder_count": (_c_int, [_c_void_p]),
    "frost_graph_placeholder_name": (_c_char_p, [_c_void_p, _c_int]),
    "frost_graph_placeholder_shape": (_c_int, [_c_void_p, _c_int, _P(Shape)]),
    "frost_graph_sink_count": (_c_int, [_c_void_p]),
    "frost_graph_sink_name": (_c_char_p, [_c_void_p, _c_int]),
    "frost_graph_op_type_count": (_c_int, [_c_void_p]),
    "frost_graph_op_type_name": (_c_char_p, [_c_void_p, _c_int]),
    "frost_graph_op_type_uses": (_c_int, [_c_void_p, _c_int]),
    "frost_graph_param_count": (ctypes.c_int64, [_c_void_p]),
    "frost_options_init_sized": (_c_int, [_P(Options), _size_t]),
    "frost_model_compile": (_c_int, [_c_void_p, _P(Options), _P(_c_void_p), _err]),
    "frost_model_load": (_c_int, [_c_char_p, _P(Options), _P(_c_void_p), _err]),
    "frost_model_free": (None, [_c_void_p]),
    "frost_model_input_count": (_c_int, [_c_void_p]),
    "frost_model_output_count": (_c_int, [_c_void_p]),
    "frost_model_input_name": (_c_char_p, [_c_void_p, _c_int]),
    "frost_model_output_name": (_c_char_p, [_c_void_p, _c_int]),
    "frost_model_input_shape": (_c_int, [_c_void_p, _c_int, _P(Shape)]),
    "frost_model_output_shape": (_c_int, [_c_void_p, _c_int, _P(Shape)]),
    "frost_model_input_size": (_size_t, [_c_void_p, _c_int]),
    "frost_model_output_size": (_size_t, [_c_void_p, _c_int]),
    "frost_model_max_batch": (_c_int, [_c_void_p]),
    "frost_model_micro_batch": (_c_int, [_c_void_p]),
    "frost_model_thread_split": (_c_int, [_c_void_p, _c_void_p]),
    "frost_model_stats": (_c_int, [_c_void_p, _P(CompileStats)]),
    "frost_model_tune_note": (_c_char_p, [_c_void_p]),
    "frost_tune_candidate_name": (_c_char_p, [_c_int]),
    "frost_tune": (_c_int, [_c_void_p, _P(Options), _P(_c_int), _c_int, ctypes.c_double, _c_int,
                            _P(_P(TuneResult)), _err]),
    "frost_tune_result_free": (None, [_P(TuneResult)]),
    "frost_model_tune_path": (_c_int, [_c_void_p, _P(_c_void_p)]),
    "frost_model_tune_record": (_c_int, [_c_void_p, _P(_c_char_p), _P(_c_char_p), _c_int, _c_char_p, _P(_c_void_p),
                                         _err]),
    "frost_dtype_name": (_c_char_p, [_c_int]),
    "frost_savedmodel_open": (_c_int, [_c_char_p, _P(_c_void_p), _err]),
    "frost_savedmodel_free": (None, [_c_void_p]),
    "frost_savedmodel_meta_graph_count": (_c_int, [_c_void_p]),
    "frost_savedmodel_tag_count": (_c_int, [_c_void_p, _c_int]),
    "frost_savedmodel_tag": (_c_char_p, [_c_void_p, _c_int, _c_int]),
    "frost_savedmodel_find_meta_graph": (_c_int, [_c_void_p, _P(_c_char_p), _c_int]),
    "frost_savedmodel_signature_count": (_c_int, [_c_void_p, _c_int]),
    "frost_savedmodel_signature_key": (_c_char_p, [_c_void_p, _c_int, _c_int]),
    "frost_savedmodel_signature_method": (_c_char_p, [_c_void_p, _c_int, _c_int]),
    "frost_savedmodel_find_signature": (_c_int, [_c_void_p, _c_int, _c_char_p]),
    "frost_savedmodel_signature_input_count": (_c_int, [_c_void_p, _c_int, _c_int]),
    "frost_savedmodel_signature_output_count": (_c_int, [_c_void_p, _c_int, _c_int]),
    "frost_savedmodel_signature_input": (_c_int, [_c_void_p, _c_int, _c_int, _c_int, _P(TensorInfo)]),
    "frost_savedmodel_signature_output": (_c_int, [_c_void_p, _c_int, _c_int, _c_int, _P(TensorInfo)]),
    "frost_savedmodel_graph": (_c_int, [_c_void_p, _c_int, _c_int, _P(_c_void_p), _err]),
    "frost_model_input_dtype": (_c_int, [_c_void_p, _c_int]),
    "frost_model_output_dtype": (_c_int, [_c_void_p, _c_int]),
    "frost_context_set_string_input": (_c_int, [_c_void_p, _c_int, _P(String), _c_int]),
    "frost_savedmodel_freeze": (_c_int, [_c_void_p, _c_int, _c_int, _P(_c_void_p), _P(_size_t), _err]),
    "frost_savedmodel_select": (_c_int, [_c_void_p, _P(_c_char_p), _c_int, _c_char_p, _P(_c_int), _P(_c_int), _err]),
    "frost_path_is_savedmodel": (_c_int, [_c_char_p]),
    "frost_graph_load_signature": (_c_int, [_c_char_p, _P(_c_char_p), _c_int, _c_char_p, _P(_c_void_p), _err]),
    "frost_context_create": (_c_int, [_c_void_p, _P(_c_void_p), _err]),
    "frost_context_free": (None, [_c_void_p]),
    "frost_context_run": (_c_int, [_c_void_p, _c_int, _P(_floats), _P(_floats)]),
    "frost_context_reserve": (_c_int, [_c_void_p, _c_int]),
    "frost_context_run1": (_c_int, [_c_void_p, _c_int, _floats, _floats]),
    "frost_context_error": (_c_char_p, [_c_void_p]),
    "frost_context_profile": (_c_int, [_c_void_p, _P(_P(OpProfile)), _P(_c_int)]),
    "frost_context_profile_reset": (None, [_c_void_p]),
    "frost_context_arena_bytes": (_size_t, [_c_void_p]),
    "frost_decode_options_init": (None, [_P(DecodeOptions)]),
    "frost_image_detect": (_c_int, [_c_void_p, _size_t]),
    "frost_image_decode": (_c_int, [_c_void_p, _size_t, _P(DecodeOptions), _P(_P(Image)), _err]),
    "frost_image_load": (_c_int, [_c_char_p, _P(DecodeOptions), _P(_P(Image)), _err]),
    "frost_image_free": (None, [_P(Image)]),
    "frost_image_preprocess": (_c_int, [_P(Image), _P(Preprocess), _floats]),
    "frost_graph_image_spec": (_c_int, [_c_void_p, _c_char_p, _c_int, _c_int, _P(ImageSpec), _err]),
    "frost_model_image_spec": (_c_int, [_c_void_p, _P(ImageSpec), _err]),
    "frost_quantizer_create": (_c_int, [_c_void_p, _P(Options), ctypes.c_uint, _P(_c_void_p), _err]),
    "frost_quantizer_model": (_c_void_p, [_c_void_p]),
    "frost_quantizer_observe": (_c_int, [_c_void_p, _c_int, _floats, _err]),
    "frost_quantizer_summary": (_c_int, [_c_void_p, _P(_c_int), _P(_c_int), _P(_c_int)]),
    "frost_quantizer_graphdef": (_c_int, [_c_void_p, _P(_c_void_p), _P(_size_t), _err]),
    "frost_quantizer_free": (None, [_c_void_p]),
    "frost_quantizer_observe_dir": (_c_int, [_c_void_p, _c_char_p, _P(Preprocess), _c_int, _P(_c_int), _err]),
    "frost_quantize_graph": (_c_int, [_c_void_p, _P(Options), ctypes.c_uint, _c_char_p, _P(Preprocess),
                                      _P(_c_void_p), _err]),
    "frost_top_k": (_c_int, [_floats, _size_t, _c_int, _P(_c_int), _floats, _P(_c_int)]),
}


def _candidates():
    env = os.environ.get("FROST_LIBRARY")
    if env:
        yield env
        return
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    yield os.path.join(repo, "build", "libfrost.so")
    found = ctypes.util.find_library("frost")
    if found:
        yield found


def _wait_policy():
    """libgomp (the OpenMP runtime under oneDNN and frost's kernels) reads its
    wait policy once, when it loads: by default its idle threads spin for
    milliseconds, and a run beside another busy process then waits on them
    (docs/performance.md, foreign load).  As `frost --wait-policy auto` does,
    set a short spin (GOMP_SPINCOUNT=1000, ~20 us, then sleep) before
    libfrost loads libgomp, unless the environment chose a policy itself or
    libgomp is already loaded (by another module: too late, left alone)."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    try:
        with open("/proc/self/maps") as f:
            if "libgomp" in f.read():
                return
    except OSError:
        pass
    os.environ["GOMP_SPINCOUNT"] = "1000"


def _load():
    _wait_policy()
    tried = []
    for path in _candidates():
        if os.path.sep in path and not os.path.exists(path):
            tried.append(path + " (missing)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        for name, (restype, argtypes) in PROTOTYPES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        lib.path = path
        return lib
    raise ImportError("frost: libfrost.so not found; set FROST_LIBRARY to its path or build the project "
                      "(scripts/build.sh).  Tried: " + ("; ".join(tried) or "find_library('frost')"))


lib = _load()


def options_init(options):
    """frost_options_init() of the header (a macro there): zero an Options,
    set its struct_size to the size of this mirror of the struct."""
    check(lib.frost_options_init_sized(ctypes.byref(options), ctypes.sizeof(options)))
    return options


def strerror(status):
    return lib.frost_strerror(status).decode("utf-8", "replace")


def text(b):
    """A C string from frost as str (None stays None)."""
    return None if b is None else b.decode("utf-8", "surrogateescape")


def take_message(err_ptr):
    """The message behind a char **error_out, freed; None when there is none."""
    if not err_ptr.value:
        return None
    try:
        return ctypes.string_at(err_ptr.value).decode("utf-8", "replace")
    finally:
        lib.frost_free(err_ptr.value)


def check(status, err_ptr=None, prefix=None):
    """Raises the frost.Error subclass of `status` unless it is FROST_OK."""
    message = take_message(err_ptr) if err_ptr is not None else None
    if status == 0:
        return
    if not message:
        message = strerror(status)
    if prefix:
        message = "%s: %s" % (prefix, message)
    raise error_for(status, message)


__all__ = ["lib", "check", "Error"]
