# frost-test-labels: asan
"""The scale-out setup of deploy/nginx/frost-serve.conf: two frost serve
replicas behind one nginx upstream, all on loopback ports chosen at run time.
Answers through the proxy are right, both replicas get traffic, and with one
replica stopped the proxy still answers.  Exit 77 without nginx."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import (FROST_TMP, Client, die_with_parent, TINY_H, TINY_W, Server, b64, check, done, encode_image, metric_values, tiny_model,
                        tiny_reference)

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
if not NGINX:
    print("nginx not installed (Debian nginx-light): skipped")
    sys.exit(77)
SRC = os.environ.get("FROST_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

model_path = os.path.join(FROST_TMP, "tiny.pb")
wb = tiny_model(model_path)
replicas = [Server(["--model", "tiny=%s,input_mean=127.5,input_std=127.5" % model_path]) for _ in range(2)]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


# nginx.conf = a main context of our own (pid, logs, temp dirs under FROST_TMP, foreground)
# around the shipped snippet with its ports replaced.
prefix = os.path.join(FROST_TMP, "nginx")
os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
snippet = open(os.path.join(SRC, "deploy", "nginx", "frost-serve.conf")).read()
port = free_port()
snippet = snippet.replace("127.0.0.1:8501", "127.0.0.1:%d" % replicas[0].port)
snippet = snippet.replace("127.0.0.1:8502", "127.0.0.1:%d" % replicas[1].port)
snippet, n = re.subn(r"listen\s+8500;", "listen 127.0.0.1:%d;" % port, snippet)
check(n == 1, "the snippet listens on 8500")
conf = os.path.join(prefix, "nginx.conf")
with open(conf, "w") as f:
    f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(p)s/nginx.pid;
error_log %(p)s/logs/error.log warn;
events { worker_connections 256; }
http {
    access_log %(p)s/logs/access.log;
    client_body_temp_path %(p)s/client_body;
    proxy_temp_path %(p)s/proxy;
    fastcgi_temp_path %(p)s/fastcgi;
    uwsgi_temp_path %(p)s/uwsgi;
    scgi_temp_path %(p)s/scgi;
%(snippet)s
}
""" % {"p": prefix, "snippet": snippet})
log = open(os.path.join(prefix, "logs", "stderr.log"), "w")
nginx = subprocess.Popen([NGINX, "-p", prefix, "-c", conf, "-e", os.path.join(prefix, "logs", "error.log")],
                         stdout=log, stderr=log, preexec_fn=die_with_parent)
try:
    # wait for the proxy port
    up = False
    for _ in range(100):
        if nginx.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            up = True
            break
        except OSError:
            time.sleep(0.1)
    check(up, "nginx started: %s" % open(os.path.join(prefix, "logs", "error.log")).read()[-500:] if not up else "")
    proxy = Client(port)

    rng = np.random.RandomState(5)
    st, body = proxy.get("/v1/models/tiny")
    check(st == 200 and body["model_version_status"][0]["state"] == "AVAILABLE", "status through the proxy")
    for i in range(12):
        img = rng.randint(0, 256, (TINY_H, TINY_W, 3)).astype(np.uint8)
        png = encode_image(img, ".png")
        want = tiny_reference(wb, (img[None].astype(np.float32) - 127.5) / 127.5)
        if i % 2:
            st, body = proxy.post_json("/v1/models/tiny:predict", {"instances": [b64(png)]})
        else:
            st, body = proxy.post_image("/v1/models/tiny:predict", png, "image/png")
        check(st == 200 and np.max(np.abs(np.array(body["predictions"]) - want)) <= 2e-5,
              "predict %d through the proxy: %s" % (i, st))
    st, body = proxy.post_json("/v1/models/tiny:predict", {"instances": "bad"})
    check(st == 400 and "error" in body, "errors pass through the proxy")
    served = [metric_values(r.metrics(), "frost_serve_requests_total").get('{code="200"}', 0) for r in replicas]
    check(all(s >= 2 for s in served), "both replicas served requests: %s" % served)

    # one replica drains and exits: the proxy keeps answering from the other
    check(replicas[0].stop() == 0, "replica 0 exits 0 on SIGTERM")
    img = rng.randint(0, 256, (TINY_H, TINY_W, 3)).astype(np.uint8)
    want = tiny_reference(wb, (img[None].astype(np.float32) - 127.5) / 127.5)
    for i in range(4):
        st, body = proxy.post_image("/v1/models/tiny:predict", encode_image(img, ".png"), "image/png")
        check(st == 200 and np.max(np.abs(np.array(body["predictions"]) - want)) <= 2e-5,
              "with one replica down, request %d still answered: %s" % (i, st))
finally:
    if nginx.poll() is None:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(15)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()
    for r in replicas:
        r.kill()
done()
