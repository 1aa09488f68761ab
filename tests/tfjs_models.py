"""Small TensorFlow.js models written from numpy, for the converter tests.

LayersModel collects Keras 2.2.4-style layers (topology as TensorFlow.js
writes it) and their weights; save() writes model.json and one weight shard,
quantizing the float weights as the TF.js converter does when asked
(uint8 / uint16: q = round((w - min) / scale); float16: IEEE half).
graph_model() does the same for a GraphDef given as JSON nodes.
"""
import base64
import json
import os

import numpy as np


def quantize(w, dtype):
    """Returns (bytes, quantization dict, dequantized float32 array) as TF.js does."""
    w = np.asarray(w, np.float32)
    if dtype is None:
        return w.tobytes(), None, w
    if dtype == "float16":
        h = w.astype(np.float16)
        return h.tobytes(), {"dtype": "float16"}, h.astype(np.float32)
    qmax = 255 if dtype == "uint8" else 65535
    lo, hi = float(min(w.min(), 0.0)), float(max(w.max(), 0.0))
    scale = (hi - lo) / qmax if hi > lo else 1.0
    q = np.clip(np.round((w.astype(np.float64) - lo) / scale), 0, qmax)
    q = q.astype(np.uint8 if dtype == "uint8" else np.uint16)
    deq = (q.astype(np.float64) * scale + lo).astype(np.float32)  # as tfjs: v * scale + min
    return q.tobytes(), {"dtype": dtype, "min": lo, "scale": scale}, deq


class Weights:
    def __init__(self, quant=None):
        self.quant = quant
        self.specs, self.chunks, self.values = [], [], {}

    def add(self, name, w):
        data, q, deq = quantize(w, self.quant)
        spec = {"name": name, "shape": list(np.shape(w)), "dtype": "float32"}
        if q:
            spec["quantization"] = q
        self.specs.append(spec)
        self.chunks.append(data)
        self.values[name] = deq
        return deq

    def manifest(self, shard_names):
        return [{"paths": shard_names, "weights": self.specs}]

    def write(self, outdir, nshards=1):
        blob = b"".join(self.chunks)
        names, step = [], max(1, -(-len(blob) // nshards))
        for i in range(nshards):
            n = "group1-shard%dof%d.bin" % (i + 1, nshards)
            with open(os.path.join(outdir, n), "wb") as f:
                f.write(blob[i * step:(i + 1) * step])
            names.append(n)
        return names


class LayersModel:
    def __init__(self, quant=None, seed=0):
        self.layers, self.w = [], Weights(quant)
        self.rng = np.random.default_rng(seed)
        self.outputs = []

    def rand(self, *shape, lo=-1.0, hi=1.0):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def add(self, name, cls, config, inputs, weights=()):
        """inputs: list of layer names (node 0, tensor 0).  weights: [(param, array)].
        Returns {param: dequantized array}."""
        config = dict(config, name=name, trainable=False)
        inbound = [[[i, 0, 0, {}] for i in inputs]] if inputs else []
        self.layers.append({"name": name, "class_name": cls, "config": config, "inbound_nodes": inbound})
        return {p: self.w.add(name + "/" + p, a) for p, a in weights}

    def save(self, outdir, nshards=1):
        os.makedirs(outdir, exist_ok=True)
        inputs = [[l["name"], 0, 0] for l in self.layers if l["class_name"] == "InputLayer"]
        outs = [[o, 0, 0] for o in (self.outputs or [self.layers[-1]["name"]])]
        topo = {"keras_version": "2.2.4", "backend": "tensorflow",
                "model_config": {"class_name": "Model", "config": {
                    "name": "model_1", "layers": self.layers, "input_layers": inputs, "output_layers": outs}}}
        model = {"modelTopology": topo, "weightsManifest": self.w.manifest(self.w.write(outdir, nshards))}
        with open(os.path.join(outdir, "model.json"), "w") as f:
            json.dump(model, f)
        return os.path.join(outdir, "model.json")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def graph_model(outdir, nodes, weights, signature=None):
    """nodes: GraphDef nodes in JSON form; weights: a Weights for the Const nodes."""
    os.makedirs(outdir, exist_ok=True)
    model = {"format": "graph-model", "generatedBy": "test", "convertedBy": "test",
             "modelTopology": {"node": nodes, "versions": {"producer": 175}},
             "weightsManifest": weights.manifest(weights.write(outdir))}
    if signature:
        model["userDefinedMetadata"] = {"signature": signature}
    with open(os.path.join(outdir, "model.json"), "w") as f:
        json.dump(model, f)
    return os.path.join(outdir, "model.json")
