"""Check counting for the Python tests (the counterpart of tests/testutil.h):
check() counts a condition and names it when it fails; summary() prints the
"N passed, N failed" line ctest's log shows and returns the exit status."""
import sys

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
