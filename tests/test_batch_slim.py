"""TF-slim graphs frozen at batch 1 end with Reshape_1 to a constant [1, 1001].
frost substitutes the batch for that leading 1 (docs/engine.md, "Batch
dimension"), so the generated mobilenet_v1 runs at batch 4 with every item
equal to its own batch-1 result (within 1e-5), and equal to the same model
written with a batch-agnostic [-1, 1001] target.
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.environ["FROST_SRC"], "tests", "graphgen"))
import models  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, summary  # noqa: E402

FROST = os.environ["FROST_BIN"]
TMP = os.environ["FROST_TMP"]


def run(pb, x, batch, out_name):
    inp, out = os.path.join(TMP, "in.f32"), os.path.join(TMP, out_name)
    x.astype("<f4").tofile(inp)
    p = subprocess.run([FROST, "run", pb, "--input", inp, "--batch", str(batch), "--out", out, "--quiet"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        return None
    return np.fromfile(out, "<f4").reshape(batch, -1)


pb = os.path.join(TMP, "mobilenet_v1.pb")
pb_any = os.path.join(TMP, "mobilenet_v1_any.pb")
info = models.generate("mobilenet_v1", pb)
models.generate("mobilenet_v1", pb_any, batch_agnostic=True)
rng = np.random.default_rng(7)
x = rng.uniform(-1, 1, (4,) + tuple(info["shape"][1:])).astype(np.float32)

y4 = run(pb, x, 4, "y4.f32")
check(y4 is not None and y4.shape == (4, 1001), "batch 4 runs and gives 4 x 1001")
y4_any = run(pb_any, x, 4, "y4_any.f32")
check(y4_any is not None, "the batch-agnostic graph runs at batch 4")
if y4 is not None:
    check(np.allclose(y4.sum(axis=1), 1, atol=1e-4), "each row is a softmax")
    if y4_any is not None:
        d = float(np.abs(y4 - y4_any).max())
        check(d <= 1e-6, "batch 4 equals the [-1, 1001] graph's (max diff %g)" % d)
    for i in range(4):
        y1 = run(pb, x[i:i + 1], 1, "y1.f32")
        check(y1 is not None, "item %d runs at batch 1" % i)
        if y1 is not None:
            d = float(np.abs(y1[0] - y4[i]).max())
            check(d <= 1e-5, "item %d: batch 4 vs batch 1 max diff %g" % (i, d))
    # the items differ, so the comparison above is not vacuous
    check(float(np.abs(y4[0] - y4[1]).max()) > 1e-4, "different inputs give different outputs")

sys.exit(summary())
