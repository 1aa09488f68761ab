# frost-test-labels: asan
"""frost serve with many parallel clients: every answer is the right one for its
own request (numpy oracle), batches really form across connections (the
/metrics batch-size histogram has batches of more than one instance), and
with --max_batch_size 1 every batch has exactly one."""
import os
import sys
import threading

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (FROST_TMP, TINY_H, TINY_W, Server, b64, check, done, encode_image, metric_values, tiny_model,
                        tiny_reference)

model_path = os.path.join(FROST_TMP, "tiny.pb")
wb = tiny_model(model_path)
CLIENTS, PER_CLIENT = 24, 8


def hammer(srv):
    """CLIENTS threads, each PER_CLIENT requests (own inputs, mixed forms); returns the list of errors."""
    errors = []
    start = threading.Barrier(CLIENTS)

    def client(cid):
        rng = np.random.RandomState(1000 + cid)
        start.wait(30)
        for r in range(PER_CLIENT):
            try:
                kind = (cid + r) % 3
                if kind == 0:  # float tensors, 1-2 instances
                    x = rng.uniform(-1, 1, (1 + r % 2, TINY_H, TINY_W, 3)).astype(np.float32)
                    st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x.tolist()})
                    got = body.get("predictions") if st == 200 else None
                else:  # an encoded image, as b64 JSON or a raw body
                    img = rng.randint(0, 256, (TINY_H, TINY_W, 3)).astype(np.uint8)
                    x = (img[None].astype(np.float32) - 127.5) / 127.5
                    png = encode_image(img, ".png")
                    if kind == 1:
                        st, body = srv.post_json("/v1/models/tiny:predict", {"instances": [b64(png)]})
                    else:
                        st, body = srv.post_image("/v1/models/tiny:predict", png, "image/png")
                    got = body.get("predictions") if st == 200 else None
                want = tiny_reference(wb, x)
                if got is None or np.asarray(got).shape != want.shape or np.max(np.abs(np.asarray(got) - want)) > 2e-5:
                    errors.append("client %d request %d: %s %s" % (cid, r, st, str(body)[:200]))
            except Exception as e:  # noqa: BLE001 - every failure is a test failure
                errors.append("client %d request %d: %r" % (cid, r, e))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return errors


def batch_stats(srv):
    m = srv.metrics()
    buckets = metric_values(m, "frost_serve_batch_size_bucket")
    count = metric_values(m, "frost_serve_batch_size_count").get('{model="tiny"}', 0)
    total = metric_values(m, "frost_serve_batch_size_sum").get('{model="tiny"}', 0)
    ones = buckets.get('{model="tiny",le="1"}', 0)
    return count, total, ones


# dynamic batching on
srv = Server(["--model", "tiny=%s,input_mean=127.5,input_std=127.5" % model_path, "--max_batch_size", "8",
              "--batch_timeout_micros", "20000"])
errors = hammer(srv)
check(not errors, "%d wrong or failed answers with batching, e.g. %s" % (len(errors), errors[:3]))
count, total, ones = batch_stats(srv)
expected = CLIENTS * PER_CLIENT + sum(1 for c in range(CLIENTS) for r in range(PER_CLIENT) if (c + r) % 3 == 0 and r % 2)
check(total == expected, "batch-size sum counts every instance once (%d vs %d)" % (total, expected))
check(count > 0 and ones < count, "batches of more than one instance formed (%d of %d batches had size 1)" % (ones, count))
check(total / max(count, 1) > 1.5, "mean batch size %.2f > 1.5" % (total / max(count, 1)))
print("batching: %d instances in %d batches (mean %.2f)" % (total, count, total / max(count, 1)))
check(srv.stop() == 0, "clean exit")

# batching off: every batch holds one instance, answers still right
srv = Server(["--model", "tiny=%s,input_mean=127.5,input_std=127.5" % model_path, "--max_batch_size", "1",
              "--num_batch_threads", "2"])
errors = hammer(srv)
check(not errors, "%d wrong or failed answers with --max_batch_size 1, e.g. %s" % (len(errors), errors[:3]))
count, total, ones = batch_stats(srv)
check(count == total == ones == expected, "--max_batch_size 1: %d batches, all of size 1" % count)
check(srv.stop() == 0, "clean exit")

# batches run as pieces of --allowed_batch_sizes (a batch of 7 = 5 + 2x1): answers still right
srv = Server(["--model", "tiny=%s,input_mean=127.5,input_std=127.5" % model_path, "--max_batch_size", "8",
              "--allowed_batch_sizes", "2,5,8", "--batch_timeout_micros", "20000"])
errors = hammer(srv)
check(not errors, "%d wrong or failed answers with --allowed_batch_sizes 2,5,8, e.g. %s" % (len(errors), errors[:3]))
count, total, ones = batch_stats(srv)
check(total == expected and ones < count, "--allowed_batch_sizes: %d instances in %d batches" % (total, count))
check(srv.stop() == 0, "clean exit")
done()
