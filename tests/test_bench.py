"""frost bench end to end: every pattern runs a few iterations on a small model;
the CSV has one row per iteration with the documented columns; the SVG is
well-formed with one polyline per pattern and one point per iteration; every
statistic printed in the summary is recomputed here from the CSV; bad arguments
exit with status 2 and a message."""
import csv
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np

FROST = os.environ.get("FROST_BIN", "frost")
SRC = os.environ.get("FROST_SRC", os.path.join(os.path.dirname(__file__), ".."))
SHARED = os.environ.get("FROST_SHARED", os.path.join(SRC, "..", "shared"))
TMP = os.environ.get("FROST_TMP", "/tmp")
SVG_NS = "{http://www.w3.org/2000/svg}"

failures = 0
passed = 0


def check(cond, what):
    global failures, passed
    if cond:
        passed += 1
    else:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def near(a, b, tol, what):
    check(abs(a - b) <= tol, "%s: printed %r, recomputed %r (tol %g)" % (what, a, b, tol))


def run(args, **kw):
    return subprocess.run([FROST, "bench"] + args, capture_output=True, text=True, timeout=600, **kw)


def tiny_models():
    """Models to bench: the small shared MobileNet and, where the generator is
    present, a tiny generated graph."""
    models = []
    mobilenet = os.path.join(SHARED, "models", "mobilenet_v1_0.25_128_quant_float.pb")
    if os.path.exists(mobilenet):
        models.append(mobilenet)
    gen = os.path.join(SRC, "tests", "graphgen", "tfgraph.py")
    if os.path.exists(gen):
        sys.path.insert(0, os.path.dirname(gen))
        try:
            import tfgraph  # noqa: E402

            path = os.path.join(TMP, "bench_tiny.pb")
            if tfgraph_tiny_classifier(tfgraph, path):
                models.append(path)
        except Exception as e:  # the generator is optional here
            print("note: tiny generated graph not used:", repr(e), file=sys.stderr)
    return models


def tfgraph_tiny_classifier(tfgraph, path):
    """input [-1, 8, 8, 3] -> Conv2D 3x3 -> BiasAdd -> Relu -> Mean -> MatMul -> Softmax."""
    g = tfgraph.GraphDef()
    rng = np.random.default_rng(7)
    x = g.placeholder("input", [-1, 8, 8, 3])
    c = g.conv2d("conv", x, g.const("w", rng.standard_normal((3, 3, 3, 4)).astype(np.float32)))
    r = g.relu("relu", g.bias_add("bias", c, g.const("b", rng.standard_normal(4).astype(np.float32))))
    m = g.mean("mean", r, g.const("axes", np.array([1, 2], np.int32)))
    mm = g.matmul("logits", m, g.const("fc", rng.standard_normal((4, 5)).astype(np.float32)))
    g.softmax("prob", mm)
    g.save(path)
    return True


def parse_summary(stdout):
    lines = stdout.splitlines()
    head = next(i for i, l in enumerate(lines) if l.startswith("pattern "))
    cols = lines[head].split()
    rows = {}
    for l in lines[head + 1:]:
        parts = l.split()
        if not parts or parts[0] not in ("reload", "cached", "batched"):
            break
        rows[parts[0]] = dict(zip(cols, parts))
    ratios = {}
    for l in lines:
        m = re.match(r"\s+(reload|cached|batched)\s+first (\d+): ([0-9.]+) ms\s+last (\d+): ([0-9.]+) ms", l)
        if m and m.group(1) in rows:
            rows[m.group(1)]["window"] = (int(m.group(2)), float(m.group(3)), float(m.group(5)))
        m = re.match(r"(reload/cached|cached/batched)\s+per-image time \(p50\):\s+([0-9.]+)x.*CPU time ([0-9.]+)x", l)
        if m:
            ratios[m.group(1)] = float(m.group(2))
            ratios[m.group(1) + " cpu"] = float(m.group(3))
    return rows, ratios


def check_stats(label, rows, ratios, data, batch):
    for pattern, series in data.items():
        r = rows.get(pattern)
        check(r is not None, "%s: summary row for %s" % (label, pattern))
        if r is None:
            continue
        lat = np.array([s[0] for s in series])
        rss = np.array([s[1] for s in series])
        cpu = np.array([s[2] for s in series])
        n = len(lat)
        images = batch if pattern == "batched" else 1
        what = "%s %s" % (label, pattern)
        check(int(r["iters"]) == n, what + ": iters")
        check(int(r["img/it"]) == images, what + ": img/it")
        for q in (50, 90, 99):
            near(float(r["p%d_ms" % q]), np.percentile(lat, q), 1e-4 + 1e-6 * lat.max(), what + " p%d" % q)
        near(float(r["mean_ms"]), lat.mean(), 1e-4, what + " mean")
        near(float(r["cpu_p50_ms"]), np.median(cpu), 1e-4, what + " cpu p50")
        near(float(r["ms/img"]), np.percentile(lat, 50) / images, 1e-4, what + " ms/img")
        ips = 1000.0 * n * images / lat.sum()
        near(float(r["img/s"]), ips, 0.06 + 1e-5 * ips, what + " img/s")
        slope = np.polyfit(np.arange(1, n + 1), lat, 1)[0] * 1000 if n > 1 else 0.0
        near(float(r["slope_ms/1k"]), slope, 1e-3 + 1e-3 * abs(slope), what + " slope")
        w = min(1000, max(1, n // 10))
        first, last = np.median(lat[:w]), np.median(lat[-w:])
        drift = 100.0 * (last / first - 1.0)
        near(float(r["drift_%"]), drift, 0.011 + 1e-4 * abs(drift), what + " drift")
        check("window" in r, what + ": stability line")
        if "window" in r:
            check(r["window"][0] == w, what + ": window %d (want %d)" % (r["window"][0], w))
            near(r["window"][1], first, 1e-4, what + " p50 of the first window")
            near(r["window"][2], last, 1e-4, what + " p50 of the last window")
        growth = int(rss[-1] - rss[9 if n >= 10 else 0])
        check(int(r["rss_growth_kB"]) == growth, what + ": rss growth %s vs %d" % (r["rss_growth_kB"], growth))
        near(float(r["rss_MB"]), rss[-1] / 1024.0, 0.051, what + " rss_MB")
    if "reload" in data and "cached" in data:
        p_re = np.percentile([s[0] for s in data["reload"]], 50)
        p_ca = np.percentile([s[0] for s in data["cached"]], 50)
        check("reload/cached" in ratios, label + ": reload/cached ratio printed")
        near(ratios.get("reload/cached", -1), p_re / p_ca, 0.006 + 1e-3 * p_re / p_ca, label + " reload/cached")
        c_re = np.median([s[2] for s in data["reload"]])
        c_ca = np.median([s[2] for s in data["cached"]])
        near(ratios.get("reload/cached cpu", -1), c_re / c_ca, 0.006 + 1e-3 * c_re / c_ca, label + " reload/cached CPU")
        # Rebuilding the model for every image must cost more than running it.
        check(p_re > p_ca, label + ": reload p50 %.4f > cached p50 %.4f" % (p_re, p_ca))
    if "cached" in data and "batched" in data:
        p_ca = np.percentile([s[0] for s in data["cached"]], 50)
        p_ba = np.percentile([s[0] for s in data["batched"]], 50) / batch
        check("cached/batched" in ratios, label + ": cached/batched ratio printed")
        near(ratios.get("cached/batched", -1), p_ca / p_ba, 0.006 + 1e-3 * p_ca / p_ba, label + " cached/batched")
        c_ca = np.median([s[2] for s in data["cached"]])
        c_ba = np.median([s[2] for s in data["batched"]]) / batch
        near(ratios.get("cached/batched cpu", -1), c_ca / c_ba, 0.006 + 1e-3 * c_ca / c_ba, label + " cached/batched CPU")


def check_svg(label, path, data):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        check(False, "%s: SVG parses: %s" % (label, e))
        return
    check(root.tag == SVG_NS + "svg", label + ": root is <svg>")
    polys = [p for p in root.iter(SVG_NS + "polyline") if p.get("class") == "series"]
    check(len(polys) == len(data), "%s: %d polylines for %d patterns" % (label, len(polys), len(data)))
    mean_y = {}
    for p in polys:
        name = p.get("data-name", "").split(":")[0]
        check(name in data, label + ": polyline for a pattern that ran: " + name)
        pts = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
        if name in data:
            check(len(pts) == len(data[name]), "%s %s: %d points for %d iterations" % (label, name, len(pts), len(data[name])))
        xs = [x for x, _ in pts]
        check(all(b > a for a, b in zip(xs, xs[1:])), label + ": x increases along " + name)
        w, h = float(root.get("width")), float(root.get("height"))
        check(all(0 <= x <= w and 0 <= y <= h for x, y in pts), label + ": points inside the canvas")
        mean_y[name] = np.median([y for _, y in pts])
    texts = " ".join("".join(t.itertext()) for t in root.iter(SVG_NS + "text"))
    check("iteration" in texts and "milliseconds per image" in texts, label + ": axis labels")
    for name in data:
        check(name + ":" in texts, label + ": legend names " + name)
    # SVG y grows downwards: the slower pattern is drawn higher.
    if "reload" in mean_y and "cached" in mean_y:
        check(mean_y["reload"] < mean_y["cached"], label + ": reload drawn above cached")


def bench_model(model, label):
    csv_path = os.path.join(TMP, label + ".csv")
    svg_path = os.path.join(TMP, label + ".svg")
    batch = 3
    p = run([model, "--pattern=all", "--iterations=12", "--reload_iterations", "4", "--warmup=1",
             "--batch", str(batch), "--threads=1", "--csv", csv_path, "--plot=" + svg_path])
    check(p.returncode == 0, "%s: exit status %d: %s" % (label, p.returncode, p.stderr))
    if p.returncode != 0:
        return
    with open(csv_path) as f:
        reader = csv.reader(f)
        header = next(reader)
        check(header == ["pattern", "iteration", "latency_ms", "rss_kb", "images", "cpu_ms"],
              label + ": CSV header %r" % header)
        rows = list(reader)
    data = {}
    for row in rows:
        check(len(row) == 6, label + ": CSV row has 6 fields")
        data.setdefault(row[0], []).append((float(row[2]), int(row[3]), int(row[1]), int(row[4]), float(row[5])))
    check(sorted(data) == ["batched", "cached", "reload"], label + ": CSV patterns %r" % sorted(data))
    expect_n = {"reload": 4, "cached": 12, "batched": 12}
    for pattern, series in data.items():
        check(len(series) == expect_n.get(pattern), "%s %s: %d rows" % (label, pattern, len(series)))
        check([s[2] for s in series] == list(range(1, len(series) + 1)), label + ": iterations numbered 1..n")
        check(all(s[3] == (batch if pattern == "batched" else 1) for s in series), label + ": images column")
        check(all(s[0] > 0 for s in series), label + ": positive latencies")
        check(all(s[1] > 0 for s in series), label + ": positive RSS")
        check(all(s[4] >= 0 for s in series), label + ": CPU time not negative")
    rows_printed, ratios = parse_summary(p.stdout)
    check_stats(label, rows_printed, ratios, {k: [(s[0], s[1], s[4]) for s in v] for k, v in data.items()}, batch)
    check_svg(label, svg_path, data)
    check(re.search(r"outputs of the patterns agree within ([0-9.e+-]+)", p.stdout) is not None,
          label + ": agreement line")
    m = re.search(r"agree within ([0-9.e+-]+)", p.stdout)
    if m:
        check(float(m.group(1)) <= 1e-4, label + ": patterns agree within 1e-4, got " + m.group(1))


def bad_arguments(model):
    cases = [
        [],
        [model, "--iterations=0"],
        [model, "--iterations", "ten"],
        [model, "--batch=0"],
        [model, "--pattern=bogus"],
        [model, "--pattern=cached,nope"],
        [model, "--warmup=-1"],
        [model, "--resize=cubic"],
        [model, "--backend=gpu"],
        [model, "--precision=fp16"],
        [model, "--input_std=0"],
        [model, "--input_width=10"],
        [model, "--no-such-flag"],
        [model, model],
        [model, "--csv"],
    ]
    for args in cases:
        p = run(args)
        check(p.returncode == 2, "bad arguments %r: exit %d (want 2)" % (args, p.returncode))
        check("frost" in p.stderr and len(p.stderr.strip()) > 10, "bad arguments %r: message on stderr" % (args,))
    p = run(["--help"])
    check(p.returncode == 0 and "--pattern" in p.stdout, "--help")
    # the engine options of classify
    p = run([model, "--pattern=cached", "--iterations=2", "--warmup=0", "--winograd", "--precision=fp32"])
    check(p.returncode == 0, "--winograd --precision=fp32: exit %d: %s" % (p.returncode, p.stderr))
    p = run([model, "--pattern=cached", "--iterations=1", "--csv", os.path.join(TMP, "no-dir", "x.csv")])
    check(p.returncode == 1 and "x.csv" in p.stderr, "unwritable CSV: exit 1 naming it")
    p = run([os.path.join(TMP, "no-such-model.pb"), "--iterations=1"])
    check(p.returncode == 1 and "no-such-model.pb" in p.stderr, "missing model: exit 1 naming the file")


def main():
    models = tiny_models()
    if not models:
        print("skipped: no ../shared models and no graph generator")
        return 77
    for i, model in enumerate(models):
        bench_model(model, "bench%d" % i)
    shared_img = os.path.join(SHARED, "images", "grace_hopper.bmp")
    mobilenet = os.path.join(SHARED, "models", "mobilenet_v1_0.25_128_quant_float.pb")
    if os.path.exists(shared_img) and os.path.exists(mobilenet):
        p = run([mobilenet, "--pattern=cached", "--iterations=3", "--warmup=0", "--image", shared_img,
                 "--input_mean=128", "--input_std=128"])
        check(p.returncode == 0 and "grace_hopper.bmp" in p.stdout, "--image: %d %s" % (p.returncode, p.stderr))
        p = run([mobilenet, "--pattern=cached", "--iterations=1", "--image", os.path.join(TMP, "missing.jpg")])
        check(p.returncode == 1 and "missing.jpg" in p.stderr, "--image missing file: exit 1 naming it")
    bad_arguments(models[0])
    print("%d passed, %d failed" % (passed, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
