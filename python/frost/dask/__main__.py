"""python3 -m frost.dask: classify images on a Dask cluster from the command line.

    python3 -m frost.dask --graph m.pb --labels labels.txt --input_mean 128 --input_std 128 \\
        --scheduler tcp://host:8786 --out results/ 'photos/**/*.jpg'

Without --scheduler, a LocalCluster of --workers processes (--threads_per_worker
threads each) runs on this machine.  Records go to --out DIR as
part-NNNNN.jsonl files (written by the workers), else to stdout as JSON lines
in input order.  Progress and the report (images/s, failures, model loads per
worker) go to stderr.  Exit status: 0, 1 when some image failed, 2 bad usage.
"""
import argparse
import glob
import json
import os
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m frost.dask", description=__doc__.split("\n\n")[0])
    ap.add_argument("inputs", nargs="+", help="image paths, glob patterns, or - (one path a line from stdin)")
    ap.add_argument("--graph", required=True, help="frozen GraphDef (.pb)")
    ap.add_argument("--labels", help="labels file, one a line")
    ap.add_argument("--scheduler", help="address of a running dask-scheduler (default: a LocalCluster here)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="LocalCluster worker processes")
    ap.add_argument("--threads_per_worker", type=int, default=1, help="LocalCluster threads per worker")
    ap.add_argument("--out", help="directory for part-NNNNN.jsonl (default: JSON lines on stdout)")
    ap.add_argument("--upload", action="store_true", help="ship the model file to every worker")
    ap.add_argument("--top_k", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--partition_size", type=int, help="paths per task (default 8 batches)")
    ap.add_argument("--input_mean", type=float, default=0.0)
    ap.add_argument("--input_std", type=float, default=255.0)
    ap.add_argument("--resize", default="tf1", choices=["tf1", "tf2", "align_corners"])
    ap.add_argument("--threads", type=int, default=1, help="compute threads per task (default 1)")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress bar on stderr (default: when stderr is a terminal)")
    a = ap.parse_args(argv)

    from distributed import Client, LocalCluster
    import frost.dask as fd

    paths = []
    for x in a.inputs:
        if x == "-":
            paths.extend(line.rstrip("\r\n") for line in sys.stdin if line.strip())
        elif glob.has_magic(x):
            found = sorted(p for p in glob.glob(x, recursive=True) if not os.path.isdir(p))
            if not found:
                print("frost.dask: no file matches %s" % x, file=sys.stderr)
            paths.extend(found)
        else:
            paths.append(x)
    progress = sys.stderr.isatty() if a.progress is None else a.progress
    if a.scheduler:
        cluster = None
        client = Client(a.scheduler)
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=a.threads_per_worker, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        bag = fd.classify(paths, a.graph, labels=a.labels, top_k=a.top_k, batch=a.batch, client=client,
                          upload=a.upload, partition_size=a.partition_size, input_mean=a.input_mean,
                          input_std=a.input_std, resize=a.resize, threads=a.threads)
        if a.out:
            report = fd.to_jsonl(bag, a.out, client=client, progress=progress)
        else:
            records, report = fd.compute(bag, client=client, progress=progress)
            out = sys.stdout
            for r in records:
                out.write(json.dumps(r) + "\n")
            out.flush()
        print(report, file=sys.stderr)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return 1 if report.failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # frost.Error, OSError: one line, as frost classify prints them
        print("frost.dask: %s" % e, file=sys.stderr)
        sys.exit(1)
