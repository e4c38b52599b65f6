#!/usr/bin/env python3
"""Prints every valid program of the test suite and the examples as IR,
parses the printout back and prints it again: the two printouts must be
identical, and the IR must verify after lowering.

usage: roundtrip.py DFIRC SRC_ROOT OUT_DIR
"""
import glob
import os
import subprocess
import sys


def emit(dfirc, src, dst):
    r = subprocess.run([dfirc, "build", "--emit=ir", "--verify-each", src, "-o", dst],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL: %s: dfirc exited %d\n%s" % (src, r.returncode, r.stderr))
        return False
    return True


def main():
    dfirc, root, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    programs = sorted(glob.glob(os.path.join(root, "test", "sema", "valid_*.dfir")) +
                      glob.glob(os.path.join(root, "test", "ir", "*.dfir")) +
                      glob.glob(os.path.join(root, "examples", "*", "*.dfir")))
    failures = 0
    for i, src in enumerate(programs):
        first = os.path.join(out, "%03d.first.dfir" % i)
        second = os.path.join(out, "%03d.second.dfir" % i)
        if not emit(dfirc, src, first) or not emit(dfirc, first, second):
            failures += 1
            continue
        with open(first) as a, open(second) as b:
            if a.read() != b.read():
                print("FAIL: %s: printing the printout changes it (compare %s %s)" % (src, first, second))
                failures += 1
    print("%d programs round-tripped, %d failed" % (len(programs) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
