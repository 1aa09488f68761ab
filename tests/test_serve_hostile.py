# frost-test-labels: asan
"""frost serve under hostile requests: malformed JSON, 100k-deep nesting, wrong
shapes, oversized bodies (declared and chunked), too many instances, an image
bomb, truncated uploads, slow clients and garbage.  Each gets an error (or the
connection is closed), the server stays up, and a normal request afterwards
still gets the right answer."""
import os
import socket
import struct
import sys
import time
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_util import FROST_TMP, TINY_H, TINY_W, Server, b64, check, done, encode_image, tiny_model, tiny_reference

model_path = os.path.join(FROST_TMP, "tiny.pb")
wb = tiny_model(model_path)
LIMIT = 1000000
TIMEOUT = 2
srv = Server(["--model", "tiny=%s,input_mean=0,input_std=1" % model_path, "--max_body_bytes", str(LIMIT),
              "--max_instances", "8", "--max_pixels", "4096", "--timeout", str(TIMEOUT), "--max_json_depth", "16",
              "--request_timeout", "3"])
x = np.random.RandomState(3).uniform(-1, 1, (1, TINY_H, TINY_W, 3)).astype(np.float32)
ref = tiny_reference(wb, x)


def still_serving(what):
    ok = srv.alive()
    if ok:
        st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x.tolist()})
        ok = st == 200 and np.max(np.abs(np.array(body["predictions"]) - ref)) < 2e-5
    check(ok, "a normal request succeeds after: " + what)


def expect_error(what, status, body, code):
    check(status == code and isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"],
          "%s -> %d with {\"error\": ...} (got %s %r)" % (what, code, status, body if len(str(body)) < 300 else str(body)[:300]))
    still_serving(what)


def post(body, ctype="application/json", path="/v1/models/tiny:predict"):
    if isinstance(body, str):
        body = body.encode()
    return srv.request("POST", path, body, {"Content-Type": ctype})


# malformed JSON
for bad in ['{"instances": [1, 2', "not json", "", "[]", '{"instances": [[1,2]],}', '{"instances": [NaN x]}',
            '{"instances": "abc"}', '{"instances": []}', '{"instances": [1], "inputs": [1]}', '{"foo": 1}',
            '{"instances": [{"b64": 12}]}', '{"instances": [{"b64": "@@@@"}]}', '{"signature_name": "x", "instances": [1]}']:
    st, body = post(bad)
    expect_error("malformed request %r" % bad[:40], st, body, 400)

# 100k-deep nesting, arrays and objects (rejected by the pre-scan, before the JSON parser)
deep = '{"instances": ' + "[" * 100000 + "]" * 100000 + "}"
t0 = time.time()
st, body = post(deep)
expect_error("100k-deep list nesting", st, body, 400)
check(time.time() - t0 < 5, "deep nesting rejected quickly")
st, body = post('{"a":' * 50000 + "1" + "}" * 50000)
expect_error("50k-deep object nesting", st, body, 400)
st, body = post('{"instances": "' + "[" * 100000 + '"}')
check(st == 400 and "nested" not in body.get("error", ""), "brackets inside strings do not count as nesting")

for q in ["0", "abc", "", "-3", "99999999999"]:
    st, body = srv.post_json("/v1/models/tiny:classify?top_k=" + q, {"instances": x.tolist()})
    expect_error("classify ?top_k=%s" % q, st, body, 400)

# wrong shapes and types
for bad, what in [([[[1.0, 2.0, 3.0]] * TINY_W] * (TINY_H - 1), "one row short"),
                  ([[[1.0, 2.0]] * TINY_W] * TINY_H, "2 channels"),
                  ([[["a", "b", "c"]] * TINY_W] * TINY_H, "strings"),
                  (x.reshape(-1).tolist(), "flat list"),
                  (1.5, "a scalar")]:
    st, body = srv.post_json("/v1/models/tiny:predict", {"instances": [bad]})
    expect_error("wrong shape: " + what, st, body, 400)
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": [{"nosuchinput": x[0].tolist(), "input": x[0].tolist()}]})
expect_error("unknown input name", st, body, 400)

# not an image / corrupt image / image bomb (PNG header declaring 100000 x 100000)
st, body = post(b"\x89PNG\r\n\x1a\n garbage garbage", "image/png")
expect_error("corrupt PNG body", st, body, 400)
st, body = post(b"hello world", "image/jpeg")
expect_error("not an image", st, body, 400)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
t0 = time.time()
st, body = post(bomb, "image/png")
expect_error("PNG bomb (10^10 pixels declared)", st, body, 413)
check(time.time() - t0 < 5, "bomb rejected quickly")
big = encode_image(np.zeros((100, 100, 3), np.uint8), ".png")  # 10000 px > --max_pixels 4096
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": [b64(big)]})
expect_error("image over --max_pixels", st, body, 413)

# too many instances / values
st, body = srv.post_json("/v1/models/tiny:predict", {"instances": x.tolist() * 9})
expect_error("9 instances > --max_instances 8", st, body, 413)
st, body = post('{"instances": [' + ",".join(["0"] * 60000) + "]}")
expect_error("60000 JSON values", st, body, 413)

# oversized bodies: declared (refused before reading), and chunked (refused while streaming)
resp = srv.raw(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1))
check(resp.startswith(b"HTTP/1.1 413") and b"max_body_bytes" in resp, "body over --max_body_bytes refused: %r" % resp[:40])
still_serving("body over --max_body_bytes")
resp = srv.raw(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000000\r\n\r\n")
check(resp.startswith(b"HTTP/1.1 413"), "100 GB Content-Length refused at once: %r" % resp[:40])
still_serving("100 GB Content-Length")
piece = b"[" + b"0," * 20000 + b"0]"
chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(30)) + b"0\r\n\r\n"
resp = srv.raw(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
               b"Connection: close\r\n\r\n" + chunks)
check(resp.startswith(b"HTTP/1.1 413") and b"error" in resp, "chunked body over the limit -> 413: %r" % resp[:60])
still_serving("chunked oversized body")
# endless chunked body: the connection is closed once it passes twice the limit
s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s.sendall(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
closed = False
try:
    for _ in range(200):
        s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
except OSError:
    closed = True
if not closed:
    try:
        s.settimeout(5)
        closed = s.recv(100) == b"" or True
    except OSError:
        closed = True
s.close()
check(closed, "endless chunked body: connection closed")
still_serving("endless chunked body")

# truncated uploads: Content-Length larger than what is sent, then close (both halves, or write half)
srv.raw(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n{\"instances\": [", timeout=3)
still_serving("truncated upload, connection closed")
resp = srv.raw(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n{\"inst",
               shut_write=True, timeout=TIMEOUT + 5)
check(not resp or resp.startswith(b"HTTP/1.1 4"), "truncated upload with half-close: closed or 4xx (%r)" % resp[:40])
still_serving("truncated upload, half-closed")
resp = srv.raw(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\nContent-Length: 500\r\n\r\n"
               + bomb[:40], shut_write=True, timeout=TIMEOUT + 5)
still_serving("truncated raw image upload")

# slow clients: idle after part of the headers / part of the body -> closed after --timeout
for what, data in [("headers", b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Le"),
                   ("body", b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{\"in")]:
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT + 10)
    s.sendall(data)
    got = b"?"
    try:
        got = s.recv(1000)
        while got and not got.endswith(b"}"):
            d = s.recv(1000)
            if not d:
                break
            got += d
    except OSError:
        pass
    s.close()
    took = time.time() - t0
    check((got == b"" or got.startswith(b"HTTP/1.1 4")) and TIMEOUT - 0.5 <= took <= TIMEOUT + 8,
          "slow client (%s) cut off after ~%ds: %r in %.1fs" % (what, TIMEOUT, got[:30], took))
    still_serving("slow client (%s)" % what)

# a client trickling its body (a byte every 0.5 s, never idle for --timeout): cut off after --request_timeout
t0 = time.time()
s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
s.sendall(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n")
cut = False
try:
    for _ in range(40):
        s.sendall(b" ")
        time.sleep(0.5)
except OSError:
    cut = True
took = time.time() - t0
s.close()
check(cut and took < 10, "trickling body cut off after --request_timeout (%.1fs)" % took)
still_serving("trickling body")

# garbage instead of HTTP
resp = srv.raw(b"\x00\x01\x02 not http at all\r\n\r\n", timeout=TIMEOUT + 5)
check(not resp or resp.startswith(b"HTTP/1.1 4"), "garbage: 4xx or closed (%r)" % resp[:40])
still_serving("garbage bytes")
resp = srv.raw(b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", timeout=TIMEOUT + 5)
check(not resp or resp.startswith(b"HTTP/1.1 4"), "100 kB URL: 4xx or closed (%r)" % resp[:40])
still_serving("100 kB URL")

check(srv.stop(timeout=30) == 0, "clean exit after SIGTERM")
done()
