#!/usr/bin/env python3
"""Images/s of frost.dask on a LocalCluster next to one `frost classify`
process on the same images, and the cost of the anti-pattern (the model
loaded inside the per-partition function).

    /usr/bin/python3 bench/dask_bench.py [--graph M.pb] [--images N] [--runs 3]

The images are ../shared/images and Debian's darknet photos, repeated to N
paths (decoding included: real JPEGs and BMPs).  Each configuration runs
--runs times; the median wall time is reported.  A Dask job's time is from
submission to the last record back in this process, on a cluster already
started; the cold run (first job, each worker loading the model) is shown
apart.  Configurations:
  frost classify        one process, all cores (frost's pipeline: decoding
                        threads overlapped with inference), batch 16
  dask 1x1, dask 2x1    frost.dask.classify, LocalCluster of 1 or 2 worker
                        processes with 1 thread each, threads=1 per model
  anti-pattern          2x1, frost.Model(...) created in every partition
                        (default partition size, then 16 paths a partition)
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SHARED = os.path.join(SRC, "..", "shared")


def anti_partition(paths, graph, labels, options, top_k, batch):
    """The anti-pattern: a new model for every partition."""
    import frost
    with frost.Model(graph, labels=labels, **options) as m:
        res = m.classify(list(paths), top_k=top_k, batch=batch, errors="none")
    return [{"image": p, "top": [[x.label, x.index, x.score] for x in r]} for p, r in zip(paths, res)]


def median_time(fn, runs):
    """fn(run) for run = 0, 1, ...: its median wall time."""
    times = []
    for run in range(runs):
        t = time.perf_counter()
        n = fn(run)
        times.append(time.perf_counter() - t)
    return n, statistics.median(times), times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--graph", default=os.path.join(SHARED, "models", "mobilenet_v2_1.0_224_quant_float.pb"))
    ap.add_argument("--labels", default=os.path.join(SHARED, "models", "imagenet_labels.txt"))
    ap.add_argument("--input_mean", type=float, default=128)
    ap.add_argument("--input_std", type=float, default=128)
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--images", type=int, default=640)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()

    os.environ["FROST_LIBRARY"] = os.path.join(a.build, "libfrost.so")
    sys.path.insert(0, os.path.join(SRC, "python"))
    import dask.bag as db
    import distributed
    import frost
    import frost.dask

    photos = sorted(os.path.join(SHARED, "images", n) for n in os.listdir(os.path.join(SHARED, "images")))
    dn = "/usr/share/darknet/data"
    if os.path.isdir(dn):
        photos += sorted(os.path.join(dn, n) for n in os.listdir(dn) if n.endswith(".jpg"))
    paths = [os.path.abspath(p) for p in (photos * (a.images // len(photos) + 1))[:a.images]]
    labels = frost.load_labels(a.labels)
    options = {"input_mean": a.input_mean, "input_std": a.input_std}
    cli = [os.path.join(a.build, "frost"), "classify", "--graph", a.graph, "--labels", a.labels, "--input_mean",
           str(a.input_mean), "--input_std", str(a.input_std), "--format", "jsonl", "--batch", "16", "--no_progress",
           "-"]
    listing = "".join(p + "\n" for p in paths)
    rows = []

    def variant(run):
        """The paths of one run, spelt differently in each run (dir/./name) so
        that Dask computes each run's graph instead of finding its results."""
        return [os.path.join(os.path.dirname(p), *(["."] * run), os.path.basename(p)) for p in paths]

    def one_process(run):
        p = subprocess.run(cli, input=listing, capture_output=True, text=True, check=True)
        return p.stdout.count("\n")
    n, t, ts = median_time(one_process, a.runs)
    base = n / t
    rows.append(("frost classify, 1 process", n, t, ts))

    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None, silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            bag = frost.dask.classify(paths, a.graph, labels=labels, client=client, **options)
            cold = time.perf_counter()
            records, report = frost.dask.compute(bag, client=client)
            cold = time.perf_counter() - cold
            loads = sorted(w["loads"] for w in report.workers.values())
            n, t, ts = median_time(lambda run: len(frost.dask.compute(frost.dask.classify(
                variant(run + 1), a.graph, labels=labels, client=client, **options), client=client)[0]), a.runs)
            rows.append(("dask %dx1 (cold: %.2f s, loads %s)" % (workers, cold, loads), n, t, ts))
            if workers == 2:
                for size in (-(-len(paths) // bag.npartitions), 16):  # frost.dask's partitions, then smaller
                    def anti(run):
                        return len(client.compute(db.from_sequence(variant(run), partition_size=size).map_partitions(
                            anti_partition, os.path.abspath(a.graph), tuple(labels), dict(options, threads=1), 5,
                            16)).result())
                    n, t, ts = median_time(anti, a.runs)
                    rows.append(("anti-pattern 2x1, model per partition of %d" % size, n, t, ts))
    print("%d images (%s), %s, %d runs each, median; %d cores" % (
        len(paths), os.path.basename(a.graph), "batch 16", a.runs, os.cpu_count()))
    print("%-52s %8s %8s %10s %8s" % ("configuration", "images", "seconds", "images/s", "vs 1 proc"))
    for name, n, t, ts in rows:
        print("%-52s %8d %8.2f %10.1f %8.2fx   (runs: %s)" % (name, n, t, n / t, n / t / base,
                                                               " ".join("%.2f" % x for x in ts)))


if __name__ == "__main__":
    main()
