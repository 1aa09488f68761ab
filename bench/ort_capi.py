"""Minimal ctypes binding of the ONNX Runtime C API (libonnxruntime.so as
shipped by the npm package onnxruntime-node), enough to create a session and
run it on caller-owned buffers.

The C API is a table of function pointers (struct OrtApi) obtained from
OrtGetApiBase()->GetApi(version); entries are append-only, so the indices
below (from onnxruntime_c_api.h) are valid for every release >= 1.10.
"""
import ctypes as C
import glob
import os

ORT_API_VERSION = 10
IDX = {  # position of each function in struct OrtApi
    "GetErrorMessage": 2,
    "CreateEnv": 3,
    "CreateSession": 7,
    "Run": 9,
    "CreateSessionOptions": 10,
    "SetSessionExecutionMode": 13,
    "SetSessionGraphOptimizationLevel": 23,
    "SetIntraOpNumThreads": 24,
    "SetInterOpNumThreads": 25,
    "CreateTensorWithDataAsOrtValue": 49,
    "CreateCpuMemoryInfo": 69,
}
ORT_ENABLE_ALL = 99
ORT_SEQUENTIAL = 0
ONNX_FLOAT = 1
P = C.c_void_p


class _ApiBase(C.Structure):
    _fields_ = [("GetApi", C.CFUNCTYPE(P, C.c_uint32)), ("GetVersionString", C.CFUNCTYPE(C.c_char_p))]


def find_library(root):
    """libonnxruntime.so.* under an npm install root (node_modules/onnxruntime-node)."""
    pats = ["node_modules/onnxruntime-node/bin/napi-v*/linux/x64/libonnxruntime.so*"]
    for p in pats:
        hits = sorted(glob.glob(os.path.join(root, p)))
        if hits:
            return hits[-1]
    return None


class Ort:
    def __init__(self, libpath):
        self.lib = C.CDLL(libpath)
        self.lib.OrtGetApiBase.restype = C.POINTER(_ApiBase)
        base = self.lib.OrtGetApiBase().contents
        self.version = base.GetVersionString().decode()
        api = base.GetApi(ORT_API_VERSION)
        if not api:
            raise RuntimeError("ONNX Runtime %s does not offer C API version %d" % (self.version, ORT_API_VERSION))
        self.table = C.cast(api, C.POINTER(P))
        f = self._fn
        self.GetErrorMessage = f("GetErrorMessage", C.c_char_p, P)
        self.CreateEnv = f("CreateEnv", P, C.c_int, C.c_char_p, C.POINTER(P))
        self.CreateSession = f("CreateSession", P, P, C.c_char_p, P, C.POINTER(P))
        self.Run = f("Run", P, P, P, C.POINTER(C.c_char_p), C.POINTER(P), C.c_size_t, C.POINTER(C.c_char_p),
                     C.c_size_t, C.POINTER(P))
        self.CreateSessionOptions = f("CreateSessionOptions", P, C.POINTER(P))
        self.SetSessionExecutionMode = f("SetSessionExecutionMode", P, P, C.c_int)
        self.SetSessionGraphOptimizationLevel = f("SetSessionGraphOptimizationLevel", P, P, C.c_int)
        self.SetIntraOpNumThreads = f("SetIntraOpNumThreads", P, P, C.c_int)
        self.SetInterOpNumThreads = f("SetInterOpNumThreads", P, P, C.c_int)
        self.CreateTensorWithDataAsOrtValue = f("CreateTensorWithDataAsOrtValue", P, P, P, C.c_size_t,
                                                C.POINTER(C.c_int64), C.c_size_t, C.c_int, C.POINTER(P))
        self.CreateCpuMemoryInfo = f("CreateCpuMemoryInfo", P, C.c_int, C.c_int, C.POINTER(P))
        self.env = self._out(self.CreateEnv, 3, b"frost-bench")  # 3 = ORT_LOGGING_LEVEL_ERROR
        self.meminfo = self._out(self.CreateCpuMemoryInfo, 1, 0)  # OrtArenaAllocator, OrtMemTypeDefault

    def _fn(self, name, restype, *argtypes):
        return C.CFUNCTYPE(restype, *argtypes)(self.table[IDX[name]])

    def check(self, status):
        if status:
            raise RuntimeError("onnxruntime: " + self.GetErrorMessage(status).decode(errors="replace"))

    def _out(self, fn, *args):
        out = P()
        self.check(fn(*args, C.byref(out)))
        return out

    def session(self, path, threads):
        opts = self._out(self.CreateSessionOptions)
        self.check(self.SetIntraOpNumThreads(opts, threads))
        self.check(self.SetInterOpNumThreads(opts, 1))
        self.check(self.SetSessionExecutionMode(opts, ORT_SEQUENTIAL))
        self.check(self.SetSessionGraphOptimizationLevel(opts, ORT_ENABLE_ALL))
        return self._out(self.CreateSession, self.env, path.encode(), opts)

    def tensor(self, arr):
        """An OrtValue over a C-contiguous float32 numpy array (kept alive by the caller)."""
        shape = (C.c_int64 * arr.ndim)(*arr.shape)
        return self._out(self.CreateTensorWithDataAsOrtValue, self.meminfo, arr.ctypes.data_as(P), arr.nbytes,
                         shape, arr.ndim, ONNX_FLOAT)

    def runner(self, sess, x, y, in_name="input", out_name="output"):
        """A no-argument function running sess from x into y (numpy arrays)."""
        vin, vout = (P * 1)(self.tensor(x)), (P * 1)(self.tensor(y))
        nin, nout = (C.c_char_p * 1)(in_name.encode()), (C.c_char_p * 1)(out_name.encode())

        def run():
            self.check(self.Run(sess, None, nin, vin, 1, nout, 1, vout))
            return y
        run.keep = (vin, vout, nin, nout, x, y)
        return run
