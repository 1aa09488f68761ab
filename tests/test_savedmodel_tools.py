"""The SavedModel side of the command line and of Python: `frost inspect DIR`
(saved_model_cli's `show` text), `frost convert DIR -o OUT.pb`, `frost run`,
`frost classify` and `frost.Model` on a SavedModel directory with
`--signature` / `signature=`.

Oracles independent of frost: the expected `saved_model_cli show --all` text
of half_plus_two written out by hand below (from the fixture's SignatureDefs
and saved_model_cli.py's format: _show_all, _show_inputs_outputs,
_print_tensor_info); for every fixture, saved_model_cli's printing
re-implemented here over saved_model.pb decoded by tests/graphgen/tfgraph.py
(not by frost's reader); half_plus_two's arithmetic (0.5 x + 2, + 3); OpenCV
DNN on the frozen graphs is tests/test_savedmodel_opencv.py's part.

    /usr/bin/python3 tests/test_savedmodel_tools.py
"""
import glob
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "graphgen"))
from difftest import Report, frost_bin, run_frost, tmp_dir  # noqa: E402
from tfgraph import _fields, _signed  # noqa: E402

SHARED = os.environ.get("FROST_SHARED") or os.path.join(HERE, "..", "..", "shared")
SM = os.path.join(SHARED, "savedmodels")
HP2 = os.path.join(SM, "saved_model_half_plus_two_cpu", "00000123")
HP2_TF2 = os.path.join(SM, "saved_model_half_plus_two_tf2_cpu", "00000123")
HP3 = os.path.join(SM, "saved_model_half_plus_three", "00000123")
COUNTER = os.path.join(SM, "saved_model_counter", "00000123")
# (folder, input_mean, input_std) of the Keras classifiers with RGB inputs
# (../shared/README.md: intel6 takes raw 0..255, rice5 x/255)
KERAS_RGB = (("intel6-cnn", 0, 1), ("rice5-cnn", 0, 255))
KERAS = ("intel6-cnn", "rice5-cnn", "mnist-cnn-k2")

# `saved_model_cli show --dir saved_model_half_plus_two_cpu/00000123 --all`,
# written out by hand: TF Serving's half_plus_two (TF1) has five signatures
# (TensorFlow's own copy of the model also has classify_x2_to_y3; TF
# Serving's does not).  Every block starts with an empty line.
HP2_ALL = """
MetaGraphDef with tag-set: 'serve' contains the following SignatureDefs:

signature_def['classify_x_to_y']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['inputs'] tensor_info:
        dtype: DT_STRING
        shape: unknown_rank
        name: tf_example:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['scores'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: y:0
  Method name is: tensorflow/serving/classify

signature_def['regress_x2_to_y3']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['inputs'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: x2:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['outputs'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: y3:0
  Method name is: tensorflow/serving/regress

signature_def['regress_x_to_y']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['inputs'] tensor_info:
        dtype: DT_STRING
        shape: unknown_rank
        name: tf_example:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['outputs'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: y:0
  Method name is: tensorflow/serving/regress

signature_def['regress_x_to_y2']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['inputs'] tensor_info:
        dtype: DT_STRING
        shape: unknown_rank
        name: tf_example:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['outputs'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: y2:0
  Method name is: tensorflow/serving/regress

signature_def['serving_default']:
  The given SavedModel SignatureDef contains the following input(s):
    inputs['x'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: x:0
  The given SavedModel SignatureDef contains the following output(s):
    outputs['y'] tensor_info:
        dtype: DT_FLOAT
        shape: (-1, 1)
        name: y:0
  Method name is: tensorflow/serving/predict
"""

# saved_model_cli show --dir DIR --tag_set serve
HP2_KEYS = """The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:
SignatureDef key: "classify_x_to_y"
SignatureDef key: "regress_x2_to_y3"
SignatureDef key: "regress_x_to_y"
SignatureDef key: "regress_x_to_y2"
SignatureDef key: "serving_default"
"""

# saved_model_cli show --dir DIR --tag_set serve --signature_def serving_default
HP2_SERVING = """The given SavedModel SignatureDef contains the following input(s):
  inputs['x'] tensor_info:
      dtype: DT_FLOAT
      shape: (-1, 1)
      name: x:0
The given SavedModel SignatureDef contains the following output(s):
  outputs['y'] tensor_info:
      dtype: DT_FLOAT
      shape: (-1, 1)
      name: y:0
Method name is: tensorflow/serving/predict
"""

# types.proto's DataType names (the values these models use, and their _REF forms)
DTYPES = {0: "DT_INVALID", 1: "DT_FLOAT", 2: "DT_DOUBLE", 3: "DT_INT32", 4: "DT_UINT8", 5: "DT_INT16",
          6: "DT_INT8", 7: "DT_STRING", 9: "DT_INT64", 10: "DT_BOOL", 14: "DT_BFLOAT16", 17: "DT_UINT16",
          19: "DT_HALF", 20: "DT_RESOURCE", 21: "DT_VARIANT"}
DTYPES.update({k + 100: v + "_REF" for k, v in list(DTYPES.items()) if k})


def _map(buf, field):
    """A protobuf map<string, message> field -> {key: value bytes} (last wins)."""
    out = {}
    for f, _, v in _fields(buf):
        if f == field:
            kv = {f2: v2 for f2, _, v2 in _fields(v)}
            out[kv.get(1, b"").decode()] = kv.get(2, b"")
    return out


def read_savedmodel(d):
    """saved_model.pb -> [(tags, {key: (inputs, outputs, method)})] with
    inputs / outputs {key: (dtype, shape or None, name)}; proto3 defaults as
    Python's protobuf gives them (an absent shape is the empty one)."""
    data = open(os.path.join(d, "saved_model.pb"), "rb").read()
    metas = []
    for f, _, mg in _fields(data):
        if f != 2:
            continue
        tags = []
        for f2, _, v in _fields(mg):
            if f2 == 1:
                tags += [t.decode() for f3, _, t in _fields(v) if f3 == 4]
        sigs = {}
        for key, sd in _map(mg, 5).items():
            def infos(field):
                res = {}
                for k, ti in _map(sd, field).items():
                    name, dtype, dims, unknown = "", 0, [], False
                    for f3, _, v in _fields(ti):
                        if f3 == 1:
                            name = v.decode()
                        elif f3 == 2:
                            dtype = v
                        elif f3 == 3:
                            for f4, _, v4 in _fields(v):
                                if f4 == 2:
                                    dims.append(next((_signed(s) for f5, _, s in _fields(v4) if f5 == 1), 0))
                                elif f4 == 3 and v4:
                                    unknown = True
                    res[k] = (dtype, None if unknown else dims, name)
                return res
            method = next((v.decode() for f3, _, v in _fields(sd) if f3 == 3), "")
            sigs[key] = (infos(1), infos(2), method)
        metas.append((tags, sigs))
    return metas


def cli_tensor(indent, kind, key, info):
    dtype, dims, name = info
    shape = "unknown_rank" if dims is None else "(" + ", ".join(str(d) for d in dims) + ")"
    return ["%s  %s['%s'] tensor_info:" % (indent, kind, key), "%s      dtype: %s" % (indent, DTYPES[dtype]),
            "%s      shape: %s" % (indent, shape), "%s      name: %s" % (indent, name)]


def cli_signature(indent, sig):
    inputs, outputs, method = sig
    lines = [indent + "The given SavedModel SignatureDef contains the following input(s):"]
    for k in sorted(inputs):
        lines += cli_tensor(indent, "inputs", k, inputs[k])
    lines.append(indent + "The given SavedModel SignatureDef contains the following output(s):")
    for k in sorted(outputs):
        lines += cli_tensor(indent, "outputs", k, outputs[k])
    return lines + [indent + "Method name is: " + method]


def cli_show_all(metas):
    """saved_model_cli's _show_all (the SignatureDef part), over read_savedmodel()."""
    lines = []
    for tags in sorted(t for t, _ in metas):
        lines += ["", "MetaGraphDef with tag-set: '%s' contains the following SignatureDefs:" % ", ".join(tags)]
        sigs = next(s for t, s in metas if set(t) == set(tags))
        for key in sorted(sigs):
            lines += ["", "signature_def['%s']:" % key] + cli_signature("  ", sigs[key])
    return "\n".join(lines) + "\n"


def frost(*args):
    r = subprocess.run([frost_bin()] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr


def first_diff(got, want):
    g, w = got.splitlines(), want.splitlines()
    for k in range(max(len(g), len(w))):
        a, b = (g[k] if k < len(g) else "<end>"), (w[k] if k < len(w) else "<end>")
        if a != b:
            return "line %d: got %r, want %r" % (k + 1, a, b)
    return "same lines, different ends"


def fixtures():
    dirs = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(SM, "saved_model_*", "*", "saved_model.pb")))
    return dirs + [os.path.join(SM, "keras", k, "saved_model") for k in KERAS]


def test_inspect(rep):
    for args, want, what in (([HP2], HP2_ALL, "--all (default)"), ([HP2, "--all"], HP2_ALL, "--all"),
                             (["--dir", HP2, "--all"], HP2_ALL, "--dir DIR --all"),
                             ([HP2, "--tag_set", "serve"], HP2_KEYS, "--tag_set serve"),
                             ([HP2, "--tag_set", "serve", "--signature_def", "serving_default"], HP2_SERVING,
                              "--tag_set serve --signature_def serving_default")):
        rc, out, err = frost("inspect", *args)
        ok = rc == 0 and out == want and not err
        (rep.ok if ok else rep.fail)("inspect half_plus_two " + what,
                                     "as saved_model_cli prints it" if ok else "rc %d %s %s" % (
                                         rc, first_diff(out, want), err.strip()))
    # the reference printer agrees with the hand-written text
    ok = cli_show_all(read_savedmodel(HP2)) == HP2_ALL
    (rep.ok if ok else rep.fail)("reference printer vs hand-written text", "")
    for d in fixtures():
        name = os.path.relpath(d, SM)
        rc, out, err = frost("inspect", d)
        want = cli_show_all(read_savedmodel(d))
        ok = rc == 0 and out == want
        (rep.ok if ok else rep.fail)("inspect " + name, "%d lines" % len(out.splitlines()) if ok else "rc %d %s %s" % (
            rc, first_diff(out, want), err.strip()))
        metas = read_savedmodel(d)
        for key, sig in sorted(metas[0][1].items()):
            rc, out, err = frost("inspect", d, "--signature_def", key)
            want = "\n".join(cli_signature("", sig)) + "\n"
            if rc or out != want:
                rep.fail("inspect %s --signature_def %s" % (name, key), "rc %d %s" % (rc, first_diff(out, want)))
                break
        else:
            rep.ok("inspect %s --signature_def" % name, "each of %d signatures" % len(metas[0][1]))
    # the stateful counter: listed, though none of its signatures runs read-only
    rc, out, err = frost("inspect", COUNTER, "--tag_set", "serve")
    keys = [ln.split('"')[1] for ln in out.splitlines()[1:]]
    ok = rc == 0 and keys == ["get_counter", "incr_counter", "incr_counter_by", "reset_counter"]
    (rep.ok if ok else rep.fail)("inspect counter --tag_set serve", " ".join(keys))
    for args, needle, what in (([HP2, "--tag_set", "gpu"], "no meta graph is tagged exactly {gpu} (its tag sets: {serve})",
                                "a tag set that is not there"),
                               ([HP2, "--signature_def", "nope"], "no signature 'nope'; choose one of: 'classify_x_to_y'",
                                "a signature that is not there")):
        rc, out, err = frost("inspect", *args)
        ok = rc == 1 and needle in err and not out
        (rep.ok if ok else rep.fail)("inspect: " + what, err.strip()[:150])
    # --signature: the frozen graph's report, as for a .pb
    rc, out, err = frost("inspect", HP2_TF2, "--signature", "regress_x2_to_y3")
    ok = rc == 0 and "  input  regress_x2_to_y3_inputs [-1]" in out.replace("[-1,1]", "[-1]") if rc == 0 else False
    (rep.ok if ok else rep.fail)("inspect tf2 --signature regress_x2_to_y3", "compiled report" if ok else out + err)


def run_values(d, *args):
    x = np.array([[1.0], [2.0], [5.0]], np.float32)
    f = os.path.join(tmp_dir(), "hp.in.f32")
    out = os.path.join(tmp_dir(), "hp.out.f32")
    x.tofile(f)
    rc, so, err = frost("run", d, "--out", out, "--quiet", *[a.replace("FILE", f) for a in args])
    return (np.fromfile(out, "<f4").tolist() if rc == 0 else None), err


def test_run(rep):
    cases = ((HP2, ["--input", "x=FILE"], [2.5, 3.0, 4.5], "half_plus_two x -> 0.5x+2"),
             (HP2, ["--input", "FILE"], [2.5, 3.0, 4.5], "half_plus_two, the only input unnamed"),
             (HP2, ["--signature", "regress_x2_to_y3", "--input", "inputs=FILE", "--output", "outputs"],
              [3.5, 4.0, 5.5], "half_plus_two regress_x2_to_y3 by keys -> 0.5x+3"),
             (HP2, ["--signature", "regress_x2_to_y3", "--tag_set", "serve", "--input", "x2=FILE"],
              [3.5, 4.0, 5.5], "half_plus_two regress_x2_to_y3 by tensor name"),
             (HP2_TF2, ["--input", "x=FILE", "--output", "y", "--shape", "3"], [2.5, 3.0, 4.5],
              "tf2 half_plus_two by keys (x, y)"),
             (HP3, ["--input", "x=FILE"], [3.5, 4.0, 5.5], "half_plus_three x -> 0.5x+3"))
    for d, args, want, what in cases:
        got, err = run_values(d, *args)
        (rep.ok if got == want else rep.fail)("run " + what, "%s" % got if got == want else "%s %s" % (got, err))
    for d, args, needle, what in ((HP2, ["--signature", "nope", "--input", "x=FILE"], "no signature 'nope'",
                                   "an unknown signature"),
                                  (COUNTER, ["--signature", "incr_counter", "--input", "x=FILE"],
                                   "changes the model's state", "a signature that changes state"),
                                  (COUNTER, ["--input", "x=FILE"],
                                   "choose one of: 'get_counter', 'incr_counter', 'incr_counter_by', 'reset_counter'",
                                   "no default signature")):
        got, err = run_values(d, *args)
        ok = got is None and needle in err
        (rep.ok if ok else rep.fail)("run refuses " + what, err.strip()[:160])


def test_convert(rep):
    """Each converted .pb runs in frost exactly as the SavedModel does (the
    OpenCV oracle on the same .pb: test_savedmodel_opencv.py)."""
    d = tmp_dir()
    rng = np.random.default_rng(5)
    for sm, sig, shape in ((HP2, None, [4, 1]), (HP2, "regress_x2_to_y3", [4, 1]), (HP3, None, [4, 1]),
                           (HP2_TF2, None, [1]),
                           (os.path.join(SM, "keras", "intel6-cnn", "saved_model"), None, [2, 150, 150, 3]),
                           (os.path.join(SM, "keras", "rice5-cnn", "saved_model"), None, [2, 24, 24, 3]),
                           (os.path.join(SM, "keras", "mnist-cnn-k2", "saved_model"), None, [2, 28, 28, 1])):
        name = os.path.relpath(sm, SM) + (" " + sig if sig else "")
        pb = os.path.join(d, name.replace("/", "_").replace(" ", "_") + ".pb")
        rc, out, err = frost("convert", sm, "-o", pb, *(["--signature", sig] if sig else []))
        if rc:
            rep.fail("convert " + name, err.strip())
            continue
        inp = out.split("\n  input  ")[1].split()[0]
        outp = out.split("\n  output ")[1].split()[0]
        x = rng.uniform(0, 1, shape).astype(np.float32)
        extra = ["--signature", sig] if sig else []
        got = run_frost(pb, [(inp, x)], [outp])[0]
        want = run_frost(sm, [(inp, x)], [outp], extra=extra)[0]
        ok = got.tobytes() == want.tobytes()
        (rep.ok if ok else rep.fail)("convert " + name, "frost on the .pb = frost on the SavedModel, bit for bit (%s)"
                                     % inp if ok else "max |diff| %g" % float(np.max(np.abs(got - want))))
    # a ParseExample signature: its string input (serialized tf.Example) kept as the frozen graph's input
    pb = os.path.join(d, "regress_x_to_y.pb")
    rc, out, err = frost("convert", HP2, "-o", pb, "--signature", "regress_x_to_y")
    ok = rc == 0 and "input  tf_example (signature input 'inputs', DT_STRING)" in out and os.path.exists(pb)
    if ok:
        rc, out, err = frost("inspect", pb)
        ok = rc == 0 and "ParseExample" in out
    (rep.ok if ok else rep.fail)("convert half_plus_two regress_x_to_y (ParseExample): a .pb frost loads",
                                 (err or out).strip()[:150])
    # refused with the reason, nothing written
    pb = os.path.join(d, "refused.pb")
    for sm, args, needle in ((COUNTER, [], "no 'serving_default' signature"),
                             (COUNTER, ["--signature", "reset_counter"], "changes the model's state"),
                             (HP2, ["--tag_set", "serve,gpu"], "no meta graph is tagged exactly {serve, gpu}")):
        if os.path.exists(pb):
            os.unlink(pb)
        rc, out, err = frost("convert", sm, "-o", pb, *args)
        ok = rc == 1 and needle in err and not os.path.exists(pb)
        (rep.ok if ok else rep.fail)("convert refuses %s %s" % (os.path.relpath(sm, SM), " ".join(args)),
                                     err.strip().splitlines()[0][:150] if err.strip() else "rc %d" % rc)


def test_classify(rep):
    """classify / frost.Model on a SavedModel: the same answers as on its frozen .pb."""
    d = tmp_dir()
    images = sorted(glob.glob(os.path.join(SHARED, "images", "*")))
    build = os.environ.get("FROST_BUILD") or os.path.dirname(frost_bin())
    env = dict(os.environ, PYTHONPATH=os.path.join(HERE, "..", "python"),
               FROST_LIBRARY=os.path.join(build, "libfrost.so"))
    # python cannot load an instrumented libfrost without preloading the runtime
    no_python = os.environ.get("FROST_SANITIZE", "0") == "1"
    for name, mean, std in KERAS_RGB:
        sm = os.path.join(SM, "keras", name, "saved_model")
        labels = os.path.join(SM, "keras", name, "labels.txt")
        pb = os.path.join(d, name + ".pb")
        frost("convert", "-q", sm, "-o", pb)
        common = ["--labels", labels, "--input_mean", str(mean), "--input_std", str(std), "--format", "csv",
                  "--top_k", "1"]
        rc1, by_sm, e1 = frost("classify", "--graph", sm, *common, *images)
        rc2, by_pb, e2 = frost("classify", "--graph", pb, *common, *images)
        rc3, by_sig, e3 = frost("classify", "--graph", sm, "--signature", "serving_default", "--tag_set", "serve",
                                *common, *images)
        ok = rc1 == rc2 == rc3 == 0 and by_sm == by_pb == by_sig and len(by_sm.splitlines()) == len(images) + 1
        (rep.ok if ok else rep.fail)("classify %s (SavedModel vs .pb)" % name,
                                     "top-1 equal on %d images" % len(images) if ok else e1 + e2 + e3)
        code = ("import frost, sys\n"
                "m = frost.Model(sys.argv[1], labels=sys.argv[2], input_mean=%s, input_std=%s, signature=%s)\n"
                "for r in m.classify(sys.argv[3:], top_k=1): print(r[0].index, r[0].label)\n")
        if no_python:
            rep.skip("python frost.Model %s signature=" % name, "sanitizer build")
            continue
        outs = []
        for path, sig in ((sm, "'serving_default'"), (sm, "None"), (pb, "None")):
            r = subprocess.run([sys.executable, "-c", code % (mean, std, sig), path, labels] + images,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            outs.append(r.stdout if r.returncode == 0 else "error: " + r.stderr)
        cli = "".join("%s %s\n" % tuple(ln.split(",")[2:4]) for ln in by_sm.splitlines()[1:])  # after the header
        ok = outs[0] == outs[1] == outs[2] == cli
        (rep.ok if ok else rep.fail)("python frost.Model %s signature=" % name,
                                     "top-1 equal to the CLI's" if ok else "%r vs %r" % (outs, cli))
    if no_python:
        rep.skip("python half_plus_two", "sanitizer build")
        return
    code = ("import frost, numpy as np, sys\n"
            "m = frost.Model(sys.argv[1], signature=sys.argv[2] if len(sys.argv) > 2 else None)\n"
            "print(m.run(np.array([[1], [2], [5]], np.float32)).ravel().tolist())\n")
    for args, want in (([HP2], "[2.5, 3.0, 4.5]"), ([HP2, "regress_x2_to_y3"], "[3.5, 4.0, 5.5]")):
        r = subprocess.run([sys.executable, "-c", code] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env)
        ok = r.returncode == 0 and r.stdout.strip() == want
        (rep.ok if ok else rep.fail)("python half_plus_two %s" % " ".join(args[1:] or ["serving_default"]),
                                     r.stdout.strip() or r.stderr.strip()[-200:])
    r = subprocess.run([sys.executable, "-c", "import frost, sys\ntry:\n frost.Model(sys.argv[1], signature='nope')\n"
                        "except frost.NotFoundError as e:\n print(e)\n", HP2],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ok = "no signature 'nope'; choose one of:" in r.stdout
    (rep.ok if ok else rep.fail)("python signature='nope': NotFoundError", r.stdout.strip()[-120:] or r.stderr)


def main():
    if not os.path.isdir(SM) or not os.path.exists(frost_bin()):
        print("../shared/savedmodels or the frost binary is missing: skipped")
        return 77
    rep = Report()
    test_inspect(rep)
    test_run(rep)
    test_convert(rep)
    test_classify(rep)
    return rep.done()


if __name__ == "__main__":
    sys.exit(main())
