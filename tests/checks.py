"""Check counting for the Python tests (the counterpart of tests/testutil.h):
check() counts a condition and names it when it fails; summary() prints the
"N passed, N failed" line ctest's log shows and returns the exit status.
Also the paths every test gets from tests/CMakeLists.txt (SRC, BUILD, FROST,
SHARED, TMP), with the defaults of a run by hand from the source tree."""
import os
import sys

SRC = os.environ.get("FROST_SRC", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("FROST_BUILD", os.path.join(SRC, "build"))
FROST = os.environ.get("FROST_BIN", os.path.join(BUILD, "frost"))
SHARED = os.environ.get("FROST_SHARED", os.path.join(SRC, "..", "shared"))
TMP = os.environ.get("FROST_TMP", "/tmp")

_count = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        _count["passed"] += 1
    else:
        _count["failed"] += 1
        print("CHECK failed:", what, file=sys.stderr, flush=True)
    return bool(cond)


def summary():
    print("%d passed, %d failed" % (_count["passed"], _count["failed"]), flush=True)
    return 1 if _count["failed"] else 0
