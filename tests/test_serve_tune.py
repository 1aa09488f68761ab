"""frost serve --tune: after start-up each model is tuned on this machine
(frost_tune), its tuning record written where compiles look by default
($XDG_CACHE_HOME/frost), and, when the tuned plan is faster, the version is
loaded again with it and swapped in; clients that keep sending requests
meanwhile see every one answered, with the same predictions before, during
and after.
frost-test-labels: asan"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from serve_util import FROST_BIN, FROST_TMP, TINY_H, TINY_W, Server, check, done, tiny_model  # noqa: E402

model = os.path.join(FROST_TMP, "tiny.pb")
tiny_model(model)
cache = os.path.join(FROST_TMP, "cache")
os.environ["XDG_CACHE_HOME"] = cache
for root, _, files in os.walk(cache):
    for f in files:
        os.remove(os.path.join(root, f))

x = np.random.RandomState(4).rand(2, TINY_H, TINY_W, 3).astype(np.float32).tolist()
srv = Server(["--model", "tiny=" + model, "--tune", "--tune_budget", "1", "--max_batch_size", "4"])
st, first = srv.post_json("/v1/models/tiny:predict", {"instances": x})
check(st == 200 and len(first["predictions"]) == 2, "answers while tuning starts: %s %s" % (st, first))

failures, answered = [], [0]
stop = threading.Event()


def client():
    while not stop.is_set():
        st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x})
        if st != 200 or np.max(np.abs(np.array(body["predictions"]) - np.array(first["predictions"]))) > 1e-5:
            failures.append((st, body))
        answered[0] += 1


threads = [threading.Thread(target=client) for _ in range(2)]
for t in threads:
    t.start()


def log():
    return open(srv.log_path).read()


deadline = time.time() + 120
while time.time() < deadline and "tuned: " not in log() and "not tuned: " not in log():
    time.sleep(0.2)
text = log()
check("model tiny version 1: tuned: 1 layer(s)" in text, "the model was tuned: %s" % text[-600:])
if "swapping the tuned plan in" in text:
    while time.time() < deadline and "the tuned plan serves" not in log():
        time.sleep(0.2)
    check("the tuned plan serves" in log(), "the tuned version swapped in: %s" % log()[-400:])
time.sleep(0.5)
stop.set()
for t in threads:
    t.join(60)
check(not failures and answered[0] > 5, "every request answered alike while tuning and swapping: %d answered, %s" %
      (answered[0], failures[:2]))
records = [os.path.join(r, f) for r, _, fs in os.walk(cache) for f in fs if f.endswith(".tune")]
check(len(records) == 1 and open(records[0]).read().startswith("frost-tune 1\n"), "the record in the cache: %s" % records)
check(srv.stop() == 0, "exit 0")

# the next start compiles with the record (the log says so)
srv = Server(["--model", "tiny=" + model])
check(("tuning record " + (records[0] if records else "?") + ": 1 layer(s)") in open(srv.log_path).read(),
      "a restart uses the record: %s" % open(srv.log_path).read()[-400:])
check(srv.stop() == 0, "exit 0")

# a record's thread split: 2 batch threads of 1 compute thread each, unless
# --num_batch_threads says otherwise; the answers as from one context
rec = open(records[0]).read() if records else ""
lines = [ln for ln in rec.splitlines() if not ln.startswith(("threads ", "thread_split ", "micro_batch "))]
split_rec = os.path.join(FROST_TMP, "split.tune")
with open(split_rec, "w") as f:
    f.write("\n".join(lines + ["threads 2", "thread_split 2x1", ""]))
srv = Server(["--model", "tiny=" + model, "--threads", "2", "--tune_file", split_rec, "--max_batch_size", "4"])
answers, errors = [], []


def split_client():
    for _ in range(5):
        st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x})
        (answers if st == 200 else errors).append(body)


threads = [threading.Thread(target=split_client) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join(60)
text = open(srv.log_path).read()
check("model tiny: 2 batch threads of 1 compute thread(s) (the tuning record's thread split)" in text,
      "the split applied: %s" % text[-600:])
check(not errors and len(answers) == 20 and
      all(np.max(np.abs(np.array(a["predictions"]) - np.array(first["predictions"]))) <= 1e-5 for a in answers),
      "2 contexts answer as one: %d answered, errors %s" % (len(answers), errors[:2]))
check(srv.stop() == 0, "exit 0")
srv = Server(["--model", "tiny=" + model, "--threads", "2", "--tune_file", split_rec, "--num_batch_threads", "1"])
check("batch threads of" not in open(srv.log_path).read(), "--num_batch_threads wins over the record's split")
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x})
check(st == 200, "answers: %s" % st)
check(srv.stop() == 0, "exit 0")

p = subprocess.run([FROST_BIN, "serve", "--port", "0", "--model", "tiny=" + model, "--tune", "--no_tune"],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 2 and "--tune" in p.stderr, "--tune with --no_tune: %s" % p.stderr[-200:])
done()
