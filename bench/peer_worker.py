"""One peer of the benchmark in its own process (protocol: bench/benchlib.py).

    python3 bench/peer_worker.py opencv --pb M.pb --size 299 --batch 1 --threads 2
    python3 bench/peer_worker.py torch  --model inception_v3 --batch 16 --threads 2
    python3 bench/peer_worker.py ort    --onnx M.onnx --size 224 --batch 1 --threads 2 --ort-root .cache/ort
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def load_opencv(a):
    import cv2
    cv2.setNumThreads(a.threads)
    net = cv2.dnn.readNetFromTensorflow(a.pb)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    # same NHWC data as frost, given to OpenCV as the NCHW blob it expects
    x = benchlib.det_input((a.batch, a.size, a.size, 3)).transpose(0, 3, 1, 2).copy()

    def run():
        net.setInput(x)
        return net.forward()
    return run, {"name": "OpenCV DNN", "version": cv2.__version__}, None


def load_torch(a):
    import torch
    torch.set_num_threads(a.threads)
    import torch_models
    model, size = torch_models.build(a.model)
    x = benchlib.det_input((a.batch, 3, size, size))
    xt = torch.from_numpy(x)
    with torch.no_grad():  # traced (torchvision's Inception does not script to a plain tensor output)
        frozen = torch.jit.freeze(torch.jit.trace(model, xt[:1]))

    def run():
        with torch.no_grad():
            return frozen(xt).numpy()
    return run, {"name": "PyTorch (TorchScript, frozen)", "version": torch.__version__}, None


def load_ort(a):
    import numpy as np
    import ort_capi
    lib = ort_capi.find_library(a.ort_root)
    if not lib:
        raise RuntimeError("libonnxruntime.so not found under " + a.ort_root)
    ort = ort_capi.Ort(lib)
    sess = ort.session(a.onnx, a.threads)
    x = benchlib.det_input((a.batch, 3, a.size, a.size))
    y = np.zeros((a.batch, 1001), np.float32)
    run = ort.runner(sess, x, y)
    return run, {"name": "ONNX Runtime", "version": ort.version}, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer", choices=["opencv", "torch", "ort"])
    ap.add_argument("--pb")
    ap.add_argument("--onnx")
    ap.add_argument("--model")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ort-root", default=".cache/ort")
    a = ap.parse_args()
    load = {"opencv": load_opencv, "torch": load_torch, "ort": load_ort}[a.peer]
    return benchlib.serve(lambda: load(a))


if __name__ == "__main__":
    sys.exit(main())
