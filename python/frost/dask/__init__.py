"""frost.dask: classify images on a Dask cluster, the model loaded once per worker process.

    from distributed import Client
    import frost.dask

    client = Client("tcp://scheduler:8786")       # or Client(LocalCluster(...))
    bag = frost.dask.classify("photos/*.jpg", "mobilenet_v2.pb", labels="labels.txt",
                              input_mean=128, input_std=128)
    report = frost.dask.to_jsonl(bag, "results/", progress=True)
    print(report)       # images, images/s, failures, model loads per worker

classify() returns a lazy dask.bag.Bag of one record per input path, in input
order: {"image": path, "top": [[label, index, score], ...]} or, for an image
that cannot be read or decoded, {"image": path, "error": message}.  A bad file
never fails the job and is never left out.

Each worker process keeps the compiled models it has loaded in a cache keyed
by the model (its path, size and modification time, or its SHA-256 when
uploaded) and the model's options, so a model is loaded once per process and
reused by every partition that process runs; the images of a partition are
decoded and run in batches by frost.Model.iclassify.  Model files are read by
path on the workers (a shared filesystem), or shipped once to every worker,
present and future, with upload=True (a distributed WorkerPlugin).

Needs Dask (dask.bag); distributed for a cluster, upload=True and per-worker
statistics; pandas for to_dataframe().  `python3 -m frost.dask --help` runs
the same job from the command line.
"""
import contextlib
import glob as _glob
import hashlib
import inspect
import json
import math
import os
import sys
import threading
import time

import dask
import dask.bag as db

from .._errors import Error, InvalidArgumentError
from .._model import Model, load_labels

__all__ = ["classify", "compute", "to_jsonl", "to_dataframe", "Report", "worker_stats", "stats", "clear_cache"]

# ------------------------------------------------------------------ worker side
# Everything below up to the client side runs in the worker processes (or in
# this process under Dask's local schedulers): the cache of compiled models and
# this process's counters.

_lock = threading.Lock()
_models = {}          # cache key -> frost.Model
_uploaded = {}        # sha256 -> path of the model file written by _ModelUpload on this worker
_counters = {"loads": 0, "load_seconds": 0.0, "partitions": 0, "images": 0, "failures": 0, "busy_seconds": 0.0}
_loads_by_model = {}  # readable model key -> loads in this process


def worker_stats():
    """This process's counters: pid, models loaded (loads, load_seconds, and
    loads per model key), partitions, images and failures classified, seconds
    spent classifying.  Run on every worker with client.run(frost.dask.worker_stats)."""
    with _lock:
        d = dict(_counters)
        d["pid"] = os.getpid()
        d["cached"] = len(_models)
        d["loads_by_model"] = dict(_loads_by_model)
        return d


def clear_cache():
    """Close the models this process has cached (the counters stay); returns
    how many.  On a cluster: client.run(frost.dask.clear_cache)."""
    with _lock:
        n = len(_models)
        for m in _models.values():
            m.close()
        _models.clear()
        return n


def _model_for(ref, options_key, options):
    """The compiled model for (ref, options) in this process, loaded on first use."""
    kind, ident = ref[0], ref[1]
    if kind == "path":
        st = os.stat(ident)  # a replaced model file is a new model
        key, path, readable = (ident, st.st_mtime_ns, st.st_size, options_key), ident, ident
    else:
        key, readable = ("sha256", ident, options_key), "%s (sha256 %s)" % (ref[2], ident[:12])
        path = _uploaded.get(ident)
        if path is None:
            raise InvalidArgumentError("%s: the model was not uploaded to this worker (upload=True registers "
                                       "it on the client's workers)" % ref[2])
    m = _models.get(key)
    if m is not None:
        return m
    with _lock:  # one load per process, however many threads ask at once
        m = _models.get(key)
        if m is None:
            t = time.perf_counter()
            m = Model(path, **options)
            if kind == "path":  # an older version of the same file is not needed any more
                for old in [k for k in _models if k[0] == ident]:
                    _models.pop(old).close()
            _models[key] = m
            _counters["loads"] += 1
            _counters["load_seconds"] += time.perf_counter() - t
            readable = "%s %s" % (readable, options_key)
            _loads_by_model[readable] = _loads_by_model.get(readable, 0) + 1
        return m


def _as_path(p):
    if isinstance(p, str):
        return p
    if isinstance(p, (bytes, os.PathLike)):
        return os.fsdecode(p)
    return None


def _classify_partition(items, ref, options_key, options, labels, top_k, batch):
    """One partition: a list of paths -> a list of records, in order."""
    model = _model_for(ref, options_key, options)
    t = time.perf_counter()
    items = list(items)
    paths = [_as_path(p) for p in items]
    good = [p for p in paths if p is not None]
    results = model.iclassify(good, top_k=top_k, batch=batch, errors="return")
    nl = len(labels) if labels is not None else 0
    out, failures = [], 0
    for item, path in zip(items, paths):
        if path is None:
            out.append({"image": repr(item), "error": "not a path: %r" % (item,)})
            failures += 1
            continue
        r = next(results)
        if isinstance(r, Error):
            out.append({"image": path, "error": str(r)})
            failures += 1
        else:
            out.append({"image": path, "top": [[labels[p.index] if p.index < nl else None, p.index, p.score]
                                               for p in r]})
    with _lock:
        _counters["partitions"] += 1
        _counters["images"] += len(out)
        _counters["failures"] += failures
        _counters["busy_seconds"] += time.perf_counter() - t
    return out


class _ModelUpload:
    """A distributed WorkerPlugin that writes a model file into each worker's
    local directory once (and on every worker that joins later)."""
    # Not a subclass of distributed's WorkerPlugin so that this module imports
    # without distributed; the worker calls setup() by name.

    def __init__(self, data, sha256, name):
        self.data, self.sha256, self.name = data, sha256, name

    def setup(self, worker):
        d = os.path.join(worker.local_directory, "frost-models")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, self.sha256 + "-" + self.name)
        if not (os.path.exists(path) and os.path.getsize(path) == len(self.data)):
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "wb") as f:
                f.write(self.data)
            os.replace(tmp, path)
        with _lock:
            _uploaded[self.sha256] = path

    def teardown(self, worker):
        pass


# ------------------------------------------------------------------ client side

_MODEL_DEFAULTS = {name: p.default for name, p in inspect.signature(Model).parameters.items()
                   if p.kind == p.KEYWORD_ONLY}
_MODEL_OPTIONS = list(_MODEL_DEFAULTS)


def _canonical(options):
    """The options that differ from frost.Model's defaults, numbers as the
    defaults' types (input_mean=128 and 128.0 are one model, resize="tf1" is
    the default): the cache key names each model one way."""
    out = {}
    for name, value in options.items():
        default = _MODEL_DEFAULTS[name]
        if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
        if name == "threads" or value != default or type(value) != type(default):
            out[name] = value
    return out


def _current_client(client):
    """The distributed Client to use: the one given, else the current
    default one, else None (Dask's local schedulers)."""
    if client is not None:
        return client
    try:
        import distributed
    except ImportError:
        return None
    try:
        return distributed.get_client()
    except ValueError:
        return None


def _paths_bag(paths, partition_size, batch):
    if isinstance(paths, db.Bag):
        return paths
    if isinstance(paths, (str, bytes, os.PathLike)):
        pattern = os.fsdecode(paths)
        found = sorted(_glob.glob(pattern, recursive=True)) if _glob.has_magic(pattern) else \
            ([pattern] if os.path.exists(pattern) else [])
        found = [p for p in found if not os.path.isdir(p)]
        if not found:
            raise InvalidArgumentError("no file matches %s" % pattern)
        paths = found
    else:
        paths = list(paths)
    if partition_size is None:  # a few batches per task; at most ~100,000 tasks
        partition_size = max(8 * batch, math.ceil(len(paths) / 100000))
    return db.from_sequence(paths, partition_size=max(1, int(partition_size)))


def classify(paths, model, *, labels=None, top_k=5, batch=16, client=None, upload=False, partition_size=None,
             **model_options):
    """A dask.bag.Bag of one record per path, in input order:
    {"image": path, "top": [[label, index, score], ...]} (best first; label
    None without labels) or {"image": path, "error": message}.

    paths: a list of paths, a dask.bag.Bag of paths (partitioned as it is; for
    millions of paths, db.read_text(list_files).map(str.strip) reads the list
    on the workers), or a glob pattern (expanded here, sorted; ** recurses).
    Paths are opened by the workers.
    model: the frozen graph's path, read by the workers (give a path they all
    see: it is made absolute here), or, with upload=True, read here and
    shipped once to every worker of the distributed client.
    labels: a labels file (read here) or a list.  top_k, batch: as
    frost.Model.classify.  partition_size: paths per task (default 8 batches).
    model_options: frost.Model's keyword options (input_mean, input_std,
    resize, ...).  threads defaults to 1: Dask's worker threads are the
    parallelism, one core each.
    """
    unknown = sorted(set(model_options) - set(_MODEL_OPTIONS))
    if unknown:
        raise TypeError("classify() got unknown model options %s (frost.Model takes %s)" % (
            ", ".join(unknown), ", ".join(_MODEL_OPTIONS)))
    top_k, batch = int(top_k), int(batch)
    if top_k < 1 or batch < 1:
        raise InvalidArgumentError("top_k and batch must be at least 1")
    options = _canonical(dict({"threads": 1}, **model_options))
    options_key = repr(sorted(options.items()))
    if upload:
        client = _current_client(client)
        if client is None:
            raise InvalidArgumentError("upload=True ships the model through a distributed Client: none is running")
        with open(model, "rb") as f:
            data = f.read()
        sha = hashlib.sha256(data).hexdigest()
        name = os.path.basename(os.fsdecode(model))
        client.register_worker_plugin(_ModelUpload(data, sha, name), name="frost-model-" + sha)
        ref = ("upload", sha, name)
    else:
        ref = ("path", os.path.abspath(os.fsdecode(model)))
    if isinstance(labels, (str, bytes, os.PathLike)):
        labels = load_labels(labels)
    labels = tuple(labels) if labels is not None else None
    labels_d = dask.delayed(labels, pure=True, traverse=False) if labels is not None else None
    bag = _paths_bag(paths, partition_size, batch)
    return bag.map_partitions(_classify_partition, ref, options_key, options, labels_d, top_k, batch,
                              token="frost-classify")


class Report:
    """What a job did: images, failures, seconds (wall time, from submission to
    the last result), images_per_s, and per worker (address -> dict) the pid,
    the model loads and the images classified during the job."""

    def __init__(self, images, failures, seconds, workers):
        self.images, self.failures, self.seconds, self.workers = images, failures, seconds, workers

    @property
    def images_per_s(self):
        return self.images / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self):
        return {"images": self.images, "failures": self.failures, "seconds": self.seconds,
                "images_per_s": self.images_per_s, "workers": self.workers}

    def __str__(self):
        lines = ["frost.dask: %d images in %.2f s (%.1f images/s), %d failed" % (
            self.images, self.seconds, self.images_per_s, self.failures)]
        for addr, w in sorted((self.workers or {}).items()):
            lines.append("  %s (pid %s): %d model load%s, %d images" % (
                addr, w["pid"], w["loads"], "" if w["loads"] == 1 else "s", w["images"]))
        return "\n".join(lines)

    __repr__ = __str__


def stats(client=None):
    """worker_stats() of every worker of the client: {address: dict}; without a
    distributed client, {"local": this process's}."""
    client = _current_client(client)
    if client is None:
        return {"local": worker_stats()}
    return client.run(worker_stats)


def _delta(before, after):
    out = {}
    for addr, a in after.items():
        b = before.get(addr)
        if b is None or b["pid"] != a["pid"]:  # a new (or restarted) worker process
            b = {"loads": 0, "images": 0}
        loads, images = a["loads"] - b["loads"], a["images"] - b["images"]
        if addr != "local" or loads or images:
            out[addr] = {"pid": a["pid"], "loads": loads, "images": images}
    return out


def _run(collections, client, progress):
    """Computes a list of dask collections with an optional progress bar (on
    stderr); returns (results, seconds, workers' stats delta)."""
    client = _current_client(client)
    before = stats(client)
    t = time.perf_counter()
    if client is not None:
        futures = client.compute(collections)
        if progress:
            import distributed
            with contextlib.redirect_stdout(sys.stderr):
                distributed.progress(futures)
            sys.stderr.write("\n")
        results = client.gather(futures)
    else:
        if progress:
            from dask.diagnostics import ProgressBar
            with ProgressBar(out=sys.stderr):
                results = dask.compute(*collections)
        else:
            results = dask.compute(*collections)
    seconds = time.perf_counter() - t
    return list(results), seconds, _delta(before, stats(client))


def compute(bag, *, client=None, progress=False):
    """Runs a classify() bag; returns (records, Report).  progress=True shows
    Dask's progress bar on stderr."""
    (records,), seconds, workers = _run([bag], client, progress)
    return records, Report(len(records), sum("error" in r for r in records), seconds, workers)


def _write_partition(records, directory, name):
    """Writes one partition's records as JSON lines, atomically (a retried task
    rewrites the same file); returns (records, failures)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    tmp = os.path.join(directory, ".%s.%d.%d.tmp" % (name, os.getpid(), threading.get_ident()))
    n = failures = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
            n += 1
            failures += "error" in r
    os.replace(tmp, path)
    return n, failures


def to_jsonl(bag, directory, *, client=None, progress=False):
    """Writes a classify() bag as JSON lines, one file per partition written by
    the worker that ran it: DIRECTORY/part-00000.jsonl, ... (concatenated in
    name order they are the input order).  Earlier part-*.jsonl files there are
    removed first.  Returns a Report."""
    directory = os.fsdecode(directory)
    os.makedirs(directory, exist_ok=True)
    for old in _glob.glob(os.path.join(_glob.escape(directory), "part-*.jsonl")):
        os.remove(old)
    parts = bag.to_delayed()
    width = max(5, len(str(len(parts) - 1)))
    writes = [dask.delayed(_write_partition, pure=False)(p, directory, "part-%0*d.jsonl" % (width, i),
                                                         dask_key_name="frost-write-%d-%s" % (i, bag.name))
              for i, p in enumerate(parts)]
    counts, seconds, workers = _run(writes, client, progress)
    return Report(sum(c[0] for c in counts), sum(c[1] for c in counts), seconds, workers)


_COLUMNS = (("image", object), ("rank", "int64"), ("index", "int64"), ("label", object), ("score", "float64"),
            ("error", object))


def _rows(records, k):
    rows = []
    for r in records:
        if "error" in r:
            rows.append((r["image"], 0, -1, None, float("nan"), r["error"]))
        else:
            for rank, (label, index, score) in enumerate(r["top"][:k], 1):
                rows.append((r["image"], rank, index, label, score, None))
    return rows


def to_dataframe(bag, k=1):
    """A dask.dataframe of a classify() bag with columns image, rank, index,
    label, score, error: the k best classes of each image (rank 1 = best; k=1:
    one row per image), and one row per failed image with rank 0, index -1,
    score NaN and its error message.  Needs pandas."""
    import pandas as pd
    meta = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in _COLUMNS})
    return bag.map_partitions(_rows, int(k), token="frost-rows").to_dataframe(meta=meta)
