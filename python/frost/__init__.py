"""frost for Python: load a frozen TensorFlow graph once, classify many images.

    import frost
    with frost.Model("mobilenet_v2.pb", labels="labels.txt",
                     input_mean=128, input_std=128) as m:
        for label, index, score in m.classify("grace_hopper.jpg")[0]:
            print(label, index, score)

A thin layer over libfrost's C API (ctypes; no compiled extension, only the
standard library; numpy is used when importable).  See docs/python.md.
"""
from ._capi import lib as _lib, strerror
from ._errors import (Error, InvalidArgumentError, FileError, ParseError, UnsupportedOpError, NotFoundError,
                      GraphError, ShapeError, NoMemoryError, ImageError, LimitError, BackendError, InternalError,
                      STATUS_NAMES)
from ._model import Model, Prediction, load_labels, top_k
from ._tune import tune

__all__ = ["Model", "Prediction", "load_labels", "top_k", "tune", "version", "library_path", "strerror", "Error",
           "InvalidArgumentError", "FileError", "ParseError", "UnsupportedOpError", "NotFoundError", "GraphError",
           "ShapeError", "NoMemoryError", "ImageError", "LimitError", "BackendError", "InternalError",
           "STATUS_NAMES"]


def version():
    """libfrost's version, "MAJOR.MINOR.PATCH"."""
    return _lib.frost_version().decode()


def library_path():
    """The path of the libfrost that was loaded."""
    return _lib.path
