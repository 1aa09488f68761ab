"""frost.dask on a real distributed.LocalCluster (2 worker processes, 1 thread
each, loopback TCP): 72 images (../shared/images, Debian's darknet photos and
variants of them in PNG / JPEG / BMP) plus corrupt files classified as a list,
a glob and a Bag, written by to_jsonl, read as a dataframe, from the command
line (python3 -m frost.dask) and with upload=True: every record equals
frost.Model(...).classify in one process (labels exactly, scores within 1e-6),
every corrupt file is an error record, and each worker process loaded the
model exactly once (the count read from the workers)."""
import contextlib
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402
import dask_util as du  # noqa: E402 (exits 77 where Dask or ../shared is missing)
from dask_util import LABELS, OPTIONS, TMP, V1, compare, frost, local_cluster  # noqa: E402

import dask  # noqa: E402
import dask.bag as db  # noqa: E402


def v1_loads(st):
    """Loads of V1 (any options) in one worker's stats."""
    return sum(n for k, n in st["loads_by_model"].items() if k.startswith(os.path.abspath(V1) + " "))


def main():
    t0 = time.time()
    imgdir = os.path.join(TMP, "images")
    shutil.rmtree(imgdir, ignore_errors=True)
    good, bad = du.make_images(imgdir)
    check(len(good) >= 64, "at least 64 images: %d" % len(good))
    paths = du.interleave(good, bad)
    want = du.reference(V1, paths)
    check(sum("error" in r for r in want) == len(bad), "the reference fails exactly the corrupt files")

    with local_cluster(600) as (cluster, client):
        print("cluster up after %.1f s" % (time.time() - t0), flush=True)
        # 1. A list of paths, 8 per task.
        bag = frost.dask.classify(paths, V1, labels=LABELS, partition_size=8, client=client, **OPTIONS)
        check(isinstance(bag, db.Bag) and bag.npartitions == (len(paths) + 7) // 8, "a Bag of %d partitions" % (
            bag.npartitions))
        records, report = frost.dask.compute(bag, client=client)
        compare(records, want, "list")
        errors = {r["image"]: r["error"] for r in records if "error" in r}
        check(sorted(errors) == sorted(bad), "the corrupt files, and only they, are error records: %s" % sorted(errors))
        check(all(os.path.basename(b) in errors.get(b, "") for b in bad), "each error names its file: %s" % errors)
        check(report.images == len(paths) and report.failures == len(bad) and report.seconds > 0,
              "report: %s" % report)
        st = client.run(frost.dask.worker_stats)
        pids = {w["pid"] for w in st.values()}
        check(len(st) == 2 and len(pids) == 2 and os.getpid() not in pids, "two worker processes: %s" % pids)
        check(all(w["loads"] == 1 for w in st.values()), "each worker loaded the model once: %s" % (
            {a: w["loads"] for a, w in st.items()}))
        check(all(w["images"] > 0 for w in st.values()), "both workers classified images: %s" % (
            {a: w["images"] for a, w in st.items()}))
        check(sum(w["images"] for w in st.values()) == len(paths), "the workers classified %d images" % len(paths))
        check(sorted(w["loads"] for w in report.workers.values()) == [1, 1] and
              sum(w["images"] for w in report.workers.values()) == len(paths), "report per worker: %s" % report)
        check("1 model load" in str(report) and "images/s" in str(report), "report text: %s" % report)

        # 2. A glob (sorted) and a Bag of paths partitioned its own way: the same records.
        pattern = os.path.join(imgdir, "*")
        gpaths = sorted(glob.glob(pattern))
        grecords, _ = frost.dask.compute(frost.dask.classify(pattern, V1, labels=LABELS, **OPTIONS))
        compare(grecords, du.reference(V1, gpaths), "glob")
        brecords, _ = frost.dask.compute(frost.dask.classify(db.from_sequence(paths, npartitions=5), V1,
                                                             labels=LABELS, **OPTIONS))
        compare(brecords, want, "Bag of paths")
        # top_k and batch change the records' length, not the model: no new load.
        k2, _ = frost.dask.compute(frost.dask.classify(paths, V1, labels=LABELS, top_k=2, batch=3, **OPTIONS))
        compare(k2, [dict(r, top=r["top"][:2]) if "top" in r else r for r in want], "top_k=2 batch=3")

        # 3. to_jsonl: one file per partition, written by the workers, in input order.
        out = os.path.join(TMP, "jsonl")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        open(os.path.join(out, "part-99999.jsonl"), "w").write("stale\n")
        rep = frost.dask.to_jsonl(bag, out, client=client)
        files = sorted(glob.glob(os.path.join(out, "*")))
        check([os.path.basename(f) for f in files] == ["part-%05d.jsonl" % i for i in range(bag.npartitions)],
              "one part file per partition: %s" % [os.path.basename(f) for f in files])
        lines = [json.loads(ln) for f in files for ln in open(f)]
        compare(lines, want, "to_jsonl")
        check(rep.images == len(paths) and rep.failures == len(bad), "to_jsonl report: %s" % rep)

        # 4. to_dataframe: one row per image (k=1), the k best with k=3, a row per failure.
        df = frost.dask.to_dataframe(bag).compute()
        check(list(df.columns) == ["image", "rank", "index", "label", "score", "error"], "columns %s" % list(df.columns))
        check(len(df) == len(paths) and list(df["image"]) == paths, "one row per image, in order")
        ok = all((r["error"] == w["error"] and row.rank == 0 and row.index == -1) if "error" in w else
                 (row.rank == 1 and row.index == w["top"][0][1] and row.label == w["top"][0][0] and
                  abs(row.score - w["top"][0][2]) <= 1e-6 and row.error is None)
                 for row, w, r in zip(df.itertuples(), want, df.to_dict("records")))
        check(ok, "dataframe rows equal the records")
        df3 = frost.dask.to_dataframe(bag, k=3).compute()
        check(len(df3) == 3 * len(good) + len(bad), "k=3: %d rows" % len(df3))

        # 5. Progress: Dask's progress bar, on stderr.
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            frost.dask.compute(bag, client=client, progress=True)
        check("100% Completed" in err.getvalue(), "progress bar: %r" % err.getvalue()[-200:])

        # Every job so far ran on the model each worker loaded the first time.
        st = client.run(frost.dask.worker_stats)
        check(all(v1_loads(w) == 1 and w["loads"] == 1 for w in st.values()),
              "after 8 jobs, still one load per worker: %s" % {a: w["loads_by_model"] for a, w in st.items()})

        # 6. The command line, on this cluster: JSONL parts, the report, status 1 (some images failed).
        cli_out = os.path.join(TMP, "cli")
        shutil.rmtree(cli_out, ignore_errors=True)
        env = dict(os.environ, PYTHONPATH=os.path.join(os.path.abspath(du.SRC), "python"))
        p = subprocess.run([sys.executable, "-m", "frost.dask", "--graph", V1, "--labels", LABELS, "--input_mean", "128",
                            "--input_std", "128", "--scheduler", cluster.scheduler_address, "--out", cli_out,
                            "--partition_size", "16", "-"], input="\n".join(paths) + "\n", capture_output=True,
                           text=True, env=env, timeout=300)
        check(p.returncode == 1, "CLI exit status 1 with failed images: %d %s" % (p.returncode, p.stderr[-500:]))
        lines = [json.loads(ln) for f in sorted(glob.glob(os.path.join(cli_out, "part-*.jsonl"))) for ln in open(f)]
        compare(lines, want, "python3 -m frost.dask")
        check("%d images in" % len(paths) in p.stderr and "%d failed" % len(bad) in p.stderr, "CLI report: %s" % p.stderr)
        st = client.run(frost.dask.worker_stats)
        check(all(w["loads"] == 1 for w in st.values()), "the CLI's job reused the workers' model")

        # 7. upload=True: the model file is read here, shipped to each worker once,
        # and the workers do not need its path (it is gone before the job runs).
        updir = os.path.join(TMP, "upload")
        os.makedirs(updir, exist_ok=True)
        copy = os.path.join(updir, "uploaded.pb")
        shutil.copyfile(V1, copy)
        ubag = frost.dask.classify(paths, copy, labels=LABELS, upload=True, client=client, partition_size=8,
                                         **OPTIONS)
        os.remove(copy)
        urecords, urep = frost.dask.compute(ubag, client=client)
        compare(urecords, want, "upload=True")
        st = client.run(frost.dask.worker_stats)
        up = {a: sum(n for k, n in w["loads_by_model"].items() if k.startswith("uploaded.pb (sha256"))
              for a, w in st.items()}
        check(sorted(up.values()) == [1, 1], "the uploaded model loaded once per worker: %s" % up)
        check(all(w["loads"] == 1 + up[a] for a, w in st.items()), "no other load: %s" % st)
        ndir = client.run(lambda dask_worker: os.listdir(os.path.join(dask_worker.local_directory, "frost-models")))
        check(all(len(v) == 1 and v[0].endswith("-uploaded.pb") for v in ndir.values()),
              "the file is in each worker's local directory: %s" % ndir)

        # 8. Options that change the model are a second model: one more load per worker.
        s2, _ = frost.dask.compute(frost.dask.classify(paths, V1, labels=LABELS, input_mean=127, input_std=128))
        compare(s2, du.reference(V1, paths, input_mean=127), "input_mean=127")
        st2 = client.run(frost.dask.worker_stats)
        check(all(v1_loads(st2[a]) - v1_loads(st[a]) == 1 for a in st2 if st2[a]["images"] > st[a]["images"]),
              "new options: one new load per worker that ran: %s" % {a: w["loads_by_model"] for a, w in st2.items()})
        check(max(w["cached"] for w in st2.values()) <= 3, "cache sizes %s" % [w["cached"] for w in st2.values()])
        check(sum(client.run(frost.dask.clear_cache).values()) >= 2, "clear_cache closes the cached models")
        print("cluster jobs done after %.1f s" % (time.time() - t0), flush=True)

    # Under Dask's local schedulers (no cluster): the same records.
    lbag = frost.dask.classify(paths, V1, labels=LABELS, partition_size=16, **OPTIONS)
    lrecords, lrep = frost.dask.compute(lbag)  # a Bag's default: Dask's local process pool
    compare(lrecords, want, "local processes")
    with dask.config.set(scheduler="threads"):
        lrecords, lrep = frost.dask.compute(lbag)
    compare(lrecords, want, "local threads")
    check(lrep.workers.get("local", {}).get("loads") == 1 and lrep.workers["local"]["images"] == len(paths),
          "local threads: one load in this process: %s" % lrep)
    try:
        frost.dask.classify(paths, V1, upload=True)
        check(False, "upload=True without a client accepted")
    except frost.InvalidArgumentError as e:
        check("Client" in str(e), "upload=True without a client: %s" % e)
    try:
        frost.dask.classify(paths, V1, input_meen=1)
        check(False, "a misspelt model option accepted")
    except TypeError as e:
        check("input_meen" in str(e), "unknown option named: %s" % e)
    print("done in %.1f s" % (time.time() - t0))
    return summary()


# The workers are spawned processes that import this file: only the parent runs the test.
if __name__ == "__main__":
    sys.exit(main())
