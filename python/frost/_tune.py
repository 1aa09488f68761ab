"""frost.tune(): `frost tune` from Python (frost_tune() in libfrost)."""
import ctypes
import os

from . import _capi
from ._capi import check, lib, text
from ._errors import InvalidArgumentError


def tune(graph, batches=(1, 16), *, threads=0, budget=60, rounds=9, output=None, signature=None, tag_set=None):
    """Measure each convolution's implementations inside the running network on
    this machine and write the tuning record that later compiles of the model
    (this CPU, `threads`) use: to `output`, else to the per-user cache where
    frost.Model looks by default.  The input and output are chosen as
    frost.Model chooses them.  Returns a dict: "record" (the text), "path"
    (where it was written), "kept" (the tuned choices beat the rules),
    "rules_ms" / "tuned_ms" (the whole network, ms per image summed over the
    batch sizes), "rounds", and "layers": per convolution a dict with "name",
    "flops", "ms" ({candidate: ms per image}, the candidates that apply) and
    "choice"; "micro_ms" ({items per pass, -1 for one pass: ms per image} at
    the largest batch size), "micro_rule" (what the compile picks by itself)
    and "micro_batch" (what the record says: 0 nothing); "split_ms"
    ({contexts at once, each on threads / contexts threads: ms per image} at
    the largest batch size, with 2 or more threads) and "thread_split" (what
    the record says: 0 nothing, else the contexts).  Takes the machine
    for about `budget` seconds."""
    batches = [int(b) for b in batches]
    if not batches:
        raise InvalidArgumentError("batches: give at least one batch size")
    g, err = ctypes.c_void_p(), ctypes.c_void_p()
    tags = None
    if tag_set is not None:
        tags = [t for t in (tag_set.split(",") if isinstance(tag_set, str) else [str(t) for t in tag_set]) if t]
    arr = None if tags is None else (ctypes.c_char_p * len(tags))(*[t.encode() for t in tags])
    check(lib.frost_graph_load_signature(os.fsencode(graph), arr, len(tags) if tags else 0,
                                         None if signature is None else str(signature).encode(), ctypes.byref(g),
                                         ctypes.byref(err)), err)
    res = ctypes.POINTER(_capi.TuneResult)()
    try:
        spec = _capi.ImageSpec()
        check(lib.frost_graph_image_spec(g, None, 0, 0, ctypes.byref(spec), ctypes.byref(err)), err)
        opt = _capi.options_init(_capi.Options())
        names_in = (ctypes.c_char_p * 1)(spec.input_name) if spec.input_name is not None else None
        names_out = (ctypes.c_char_p * 1)(spec.output_name) if spec.output_name is not None else None
        shape = (_capi.Shape * 1)(spec.shape)
        if names_in is not None:
            opt.inputs, opt.num_inputs = ctypes.cast(names_in, ctypes.POINTER(ctypes.c_char_p)), 1
            if spec.needs_shape:
                opt.input_shapes = ctypes.cast(shape, ctypes.POINTER(_capi.Shape))
        if names_out is not None:
            opt.outputs, opt.num_outputs = ctypes.cast(names_out, ctypes.POINTER(ctypes.c_char_p)), 1
        opt.threads = int(threads)
        bs = (ctypes.c_int * len(batches))(*batches)
        check(lib.frost_tune(g, ctypes.byref(opt), bs, len(batches), float(budget), int(rounds), ctypes.byref(res),
                             ctypes.byref(err)), err, prefix=os.fsdecode(graph))
        r = res.contents
        names = [text(lib.frost_tune_candidate_name(c)) for c in range(5)]
        layers = [{"name": text(r.layers[i].name), "flops": r.layers[i].flops,
                   "ms": {names[c]: r.layers[i].ms[c] for c in range(5) if r.layers[i].ms[c] >= 0},
                   "choice": names[r.layers[i].choice], "rules": names[r.layers[i].rules]}
                  for i in range(r.num_layers)]
        out = {"record": text(r.record), "kept": bool(r.kept), "rules_ms": r.rules_ms, "tuned_ms": r.tuned_ms,
               "rounds": r.rounds, "layers": layers,
               "micro_ms": {r.micro_values[k]: r.micro_ms[k] for k in range(r.num_micro)},
               "micro_rule": r.micro_rule if r.num_micro else None, "micro_batch": r.micro_batch,
               "split_ms": {r.split_contexts[k]: r.split_ms[k] for k in range(r.num_splits)},
               "thread_split": r.thread_split}
        path = output if output is not None else text(r.cache_path)
    finally:
        if res:
            lib.frost_tune_result_free(res)
        lib.frost_graph_free(g)
    if path is None:
        raise InvalidArgumentError("no cache directory (neither XDG_CACHE_HOME nor HOME is set): give output=")
    path = os.fsdecode(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(out["record"])
    out["path"] = path
    return out
