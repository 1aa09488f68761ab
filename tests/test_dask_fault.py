"""frost.dask when a worker dies: on a LocalCluster of 2 worker processes (1
thread each), one worker process is killed (SIGKILL) while it runs the job's
tasks; Dask reschedules them, the nanny starts a new worker process, and the
job still returns every record exactly once, in input order, equal to
frost.Model(...).classify in one process; the new process loads the model
once."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402
import dask_util as du  # noqa: E402 (exits 77 where Dask or ../shared is missing)
from dask_util import LABELS, OPTIONS, TMP, V2, compare, frost, local_cluster  # noqa: E402


def scheduler_view(dask_scheduler=None):
    """(partitions of the job done, {worker address: tasks processing})."""
    done = sum(1 for k, ts in dask_scheduler.tasks.items() if "frost-classify-" in str(k) and ts.state == "memory")
    return done, {ws.address: len(ws.processing) for ws in dask_scheduler.workers.values()}


def main():
    t0 = time.time()
    good, bad = du.make_images(os.path.join(TMP, "images"), derived=False)
    # 12 photos x 16 and the bad files: 197 records, 25 partitions of 8; the
    # larger MobileNet so that the job lasts a few seconds.
    paths = du.interleave(good * 16, bad)
    want = du.reference(V2, paths)
    with local_cluster(600) as (cluster, client):
        print("cluster up after %.1f s" % (time.time() - t0), flush=True)
        pids = client.run(os.getpid)
        bag = frost.dask.classify(paths, V2, labels=LABELS, partition_size=8, client=client, **OPTIONS)
        nparts = bag.npartitions
        result = {}

        def job():
            try:
                result["records"], result["report"] = frost.dask.compute(bag, client=client)
            except BaseException as e:  # reported by the main thread
                result["error"] = e
        runner = threading.Thread(target=job, daemon=True)
        runner.start()
        victim = killed_at = None
        deadline = time.time() + 240
        while runner.is_alive() and time.time() < deadline:
            done, processing = client.run_on_scheduler(scheduler_view)
            busy = [a for a, n in processing.items() if n > 0 and a in pids]
            if done >= 2 and done < nparts - 4 and busy:
                victim = busy[0]
                killed_at = (done, processing[victim])
                os.kill(pids[victim], signal.SIGKILL)
                break
            time.sleep(0.02)
        check(victim is not None, "a worker was killed while it ran the job's tasks")
        print("killed %s (pid %s) with %s partitions of %d done, %s of its tasks processing, after %.1f s" % (
            victim, victim and pids[victim], killed_at and killed_at[0], nparts, killed_at and killed_at[1],
            time.time() - t0), flush=True)
        check(runner.is_alive(), "the job was still running when the worker was killed")
        runner.join(300)
        check(not runner.is_alive(), "the job finished")
        check("error" not in result, "the job succeeded: %r" % result.get("error"))
        records = result.get("records", [])
        compare(records, want, "after the kill")
        check([r["image"] for r in records] == paths, "every input exactly once, in order")
        check(sum("error" in r for r in records) == len(bad), "the corrupt files are error records")
        # The nanny replaced the killed process: two workers again, the victim's pid gone.
        client.wait_for_workers(2, timeout=120)
        after = client.run(frost.dask.worker_stats)
        check(pids[victim] not in {w["pid"] for w in after.values()} if victim else False,
              "the killed process is gone: %s" % {a: w["pid"] for a, w in after.items()})
        check(all(w["loads"] <= 1 for w in after.values()), "each worker process loaded the model at most once: %s" % (
            {a: (w["pid"], w["loads"]) for a, w in after.items()}))
        survivor = [a for a in after if a in pids and after[a]["pid"] == pids[a]]
        check(len(survivor) == 1 and after[survivor[0]]["loads"] == 1, "the surviving worker loaded once: %s" % (
            survivor,))
        # A second job on the healed cluster: complete, no new load for the survivor.
        again, _ = frost.dask.compute(bag, client=client)
        compare(again, want, "a job after the kill")
        final = client.run(frost.dask.worker_stats)
        check(all(w["loads"] == 1 for a, w in final.items() if w["images"] > 0), "one load per worker process: %s" % (
            {a: w["loads"] for a, w in final.items()}))
    print("done in %.1f s" % (time.time() - t0))
    return summary()


# The workers are spawned processes that import this file: only the parent runs the test.
if __name__ == "__main__":
    sys.exit(main())
