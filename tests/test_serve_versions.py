"""frost serve's model versions as TensorFlow Serving manages them: a base
path of numbered version folders (a copy of ../shared's
saved_model_half_plus_two_2_versions in a scratch folder), polled every
second; new versions loaded in the background and switched to while clients
keep sending requests (every one must succeed), removed versions unloaded,
a broken version refused while the live one keeps serving; then a
--model_config_file with two models, a specific-versions policy and version
labels."""
import os
import shutil
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FROST_SHARED, FROST_TMP, Client, Server, check, done

SM = os.path.join(FROST_SHARED, "savedmodels")
TWO = os.path.join(SM, "saved_model_half_plus_two_2_versions")
if not os.path.isdir(TWO):
    print("no ../shared/savedmodels: skipped")
    sys.exit(77)

base = os.path.join(FROST_TMP, "half_plus_two")
shutil.rmtree(base, ignore_errors=True)
os.makedirs(base)


def add_version(number, source="00000123"):
    """Copy a version in under another name, then rename it in: the poller never sees half a copy."""
    tmp = os.path.join(base, ".incoming-%d" % number)
    shutil.copytree(os.path.join(TWO, source), tmp)
    os.rename(tmp, os.path.join(base, "%08d" % number))


def states(client, model="default"):
    st, body = client.get("/v1/models/" + model)
    if st != 200:
        return {}
    return {int(v["version"]): (v["state"], v["status"]["error_code"]) for v in body["model_version_status"]}


def wait_for(cond, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


add_version(123)
srv = Server(["--rest_api_port=0", "--model_base_path=" + base, "--file_system_poll_wait_seconds=1",
              "--max_batch_size", "4"])
check(states(srv) == {123: ("AVAILABLE", "OK")}, "version 123 available: %s" % states(srv))

# ---- clients that never stop while versions come and go
failures, answered = [], [0]
stop = threading.Event()


def client(k):
    c = Client(srv.port)
    x = [float(k), float(k) + 1]
    while not stop.is_set():
        try:
            st, body = c.post_json("/v1/models/default:predict", {"instances": x}, timeout=30)
            if st != 200 or body != {"predictions": [0.5 * v + 2 for v in x]}:
                failures.append((st, body))
        except Exception as e:  # a dropped connection counts as a failure too
            failures.append(repr(e))
        answered[0] += 1


threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
time.sleep(0.5)

add_version(124, "00000124")  # a newer version: loaded, switched to, 123 unloaded
check(wait_for(lambda: states(srv) == {124: ("AVAILABLE", "OK"), 123: ("END", "OK")}),
      "124 replaces 123: %s" % states(srv))
st, body = srv.post_json("/v1/models/default/versions/124:predict", {"instances": [2.0]})
check(st == 200 and body == {"predictions": [3.0]}, "version 124 answers: %s %s" % (st, body))
st, body = srv.post_json("/v1/models/default/versions/123:predict", {"instances": [2.0]})
check(st == 404 and "Specific(default, 123)" in body.get("error", ""), "123 is gone: %s %s" % (st, body))

add_version(125)
check(wait_for(lambda: states(srv).get(125) == ("AVAILABLE", "OK") and states(srv).get(124) == ("END", "OK")),
      "125 replaces 124: %s" % states(srv))
shutil.rmtree(os.path.join(base, "00000125"))  # removed: 124 is the latest again, loaded back
check(wait_for(lambda: states(srv).get(124) == ("AVAILABLE", "OK") and states(srv).get(125) == ("END", "OK")),
      "removing 125 brings 124 back: %s" % states(srv))

os.makedirs(os.path.join(base, ".incoming"))  # a broken version: refused, 124 keeps serving
with open(os.path.join(base, ".incoming", "saved_model.pb"), "wb") as f:
    f.write(b"\x0a\xff\xff\xff\x0f not a SavedModel")
os.rename(os.path.join(base, ".incoming"), os.path.join(base, "00000126"))
check(wait_for(lambda: states(srv).get(126, ("", ""))[0] == "END" and states(srv)[126][1] != "OK"),
      "the broken version 126 fails with its error: %s" % states(srv))
check(states(srv).get(124) == ("AVAILABLE", "OK"), "124 still serves: %s" % states(srv))
st, body = srv.get("/v1/models/default/versions/126")
check(st == 200 and body["model_version_status"][0]["status"]["error_message"] != "", "126's status says why")
time.sleep(1.5)  # one more poll with the broken version there: it is not retried, nothing changes
check(states(srv).get(124) == ("AVAILABLE", "OK"), "124 still serves after another poll")

stop.set()
for t in threads:
    t.join(60)
check(not failures and answered[0] > 20, "zero failed requests across the switches: %d answered, failures %s" %
      (answered[0], failures[:3]))
check(srv.alive() and srv.stop() == 0, "the server drains and exits 0")

# ---- a config file: two models, specific versions, labels
config = os.path.join(FROST_TMP, "models.config")
with open(config, "w") as f:
    f.write("""# two models, as TF Serving reads them
model_config_list {
  config {
    name: 'hp2'
    base_path: '%s'
    model_platform: 'tensorflow'
    model_version_policy { specific { versions: 123 versions: 124 } }
    version_labels { key: 'stable' value: 123 }
    version_labels { key: 'canary' value: 124 }
  }
  config {
    name: 'hp3'
    base_path: '%s'
    model_platform: 'tensorflow'
  }
}
""" % (TWO, os.path.join(SM, "saved_model_half_plus_three")))
srv = Server(["--rest_api_port", "0", "--model_config_file", config, "--file_system_poll_wait_seconds", "1"])
check(states(srv, "hp2") == {124: ("AVAILABLE", "OK"), 123: ("AVAILABLE", "OK")}, "both versions of hp2")
for path, want in (("/v1/models/hp2/labels/stable:predict", [2.5]), ("/v1/models/hp2/labels/canary:predict", [2.5]),
                   ("/v1/models/hp2/versions/123:predict", [2.5]), ("/v1/models/hp3:predict", [3.5])):
    st, body = srv.post_json(path, {"instances": [1.0]})
    check(st == 200 and body == {"predictions": want}, "%s: %s %s" % (path, st, body))
st, body = srv.get("/v1/models/hp2/labels/canary/metadata")
check(st == 200 and body["model_spec"]["version"] == "124", "metadata by label: %s" % body.get("model_spec"))
st, body = srv.post_json("/v1/models/hp2/labels/beta:predict", {"instances": [1.0]})
check(st == 400 and "Unrecognized servable version label: beta" in body.get("error", ""), "unknown label: %s" % body)
st, body = srv.post_json("/v1/models/hp3/labels/stable:predict", {"instances": [1.0]})
check(st == 400, "labels are per model: %s" % body)
check(srv.stop() == 0, "exit 0")

# ---- --model_config_file_poll_wait_seconds: the file read again; models added, removed, policies changed
HP3 = os.path.join(SM, "saved_model_half_plus_three")


def write_config(entries):
    tmp = config + ".tmp"
    with open(tmp, "w") as f:
        f.write("model_config_list {\n%s}\n" % "".join(
            "  config { name: '%s' base_path: '%s' model_platform: 'tensorflow' %s }\n" % e for e in entries))
    os.replace(tmp, config)  # whole: the poller never reads half a file


write_config([("hp2", TWO, "")])
srv = Server(["--rest_api_port", "0", "--model_config_file", config, "--file_system_poll_wait_seconds", "1",
              "--model_config_file_poll_wait_seconds", "1"])
check(states(srv, "hp2") == {124: ("AVAILABLE", "OK")} and srv.get("/v1/models/hp3")[0] == 404,
      "at start: hp2's latest version, no hp3: %s" % states(srv, "hp2"))
time.sleep(1.1)  # a new mtime
write_config([("hp2", TWO, "model_version_policy { specific { versions: 123 } }"), ("hp3", HP3, "")])
check(wait_for(lambda: states(srv, "hp3") == {123: ("AVAILABLE", "OK")}), "hp3 added: %s" % states(srv, "hp3"))
check(wait_for(lambda: states(srv, "hp2") == {123: ("AVAILABLE", "OK"), 124: ("END", "OK")}),
      "hp2's new policy applied (123 loaded, 124 unloaded): %s" % states(srv, "hp2"))
st, body = srv.post_json("/v1/models/hp3:predict", {"instances": [1.0]})
check(st == 200 and body == {"predictions": [3.5]}, "the added model answers: %s %s" % (st, body))
time.sleep(1.1)
with open(config, "w") as f:
    f.write("model_config_list { config { name: 'hp2' bogus_field: 1 } }\n")
time.sleep(2.5)
check(states(srv, "hp3") == {123: ("AVAILABLE", "OK")} and states(srv, "hp2").get(123) == ("AVAILABLE", "OK"),
      "a config file that does not parse changes nothing")
check("bogus_field" in srv.stderr(), "... and its error is logged")
write_config([("hp3", HP3, "")])
check(wait_for(lambda: srv.get("/v1/models/hp2")[0] == 404), "hp2 left out of the file: not found")
st, body = srv.post_json("/v1/models/hp2:predict", {"instances": [1.0]})
check(st == 404, "hp2 answers 404: %s %s" % (st, body))
check(states(srv, "hp3") == {123: ("AVAILABLE", "OK")}, "hp3 still serves")
check(srv.stop() == 0, "exit 0")
done()
