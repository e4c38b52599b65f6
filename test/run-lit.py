#!/usr/bin/env python3
"""Runs the lit suites with a fresh diagnostic-kind log, then checks that
every kind in DiagnosticKinds.def was reported by at least one lit test.

usage: run-lit.py LIT_PY BUILD_TEST_DIR DFIRC [lit args...]
"""
import os
import shutil
import subprocess
import sys


def main():
    lit_py, test_dir, dfirc = sys.argv[1:4]
    test_dir = os.path.abspath(test_dir)
    log_dir = os.path.join(test_dir, "diag-kinds")
    shutil.rmtree(log_dir, ignore_errors=True)
    os.makedirs(log_dir)
    env = dict(os.environ, DFIRC_DIAG_LOG=log_dir)
    rc = subprocess.call([sys.executable, lit_py, "-sv", test_dir] + sys.argv[4:], env=env)
    if rc != 0:
        return rc
    listed = subprocess.run([dfirc, "diagnostic-kinds"], check=True, capture_output=True,
                            text=True).stdout.split("\n")
    kinds = {line.split()[0] for line in listed if line.strip()}
    seen = set()
    for name in os.listdir(log_dir):
        with open(os.path.join(log_dir, name)) as f:
            seen.update(line.strip() for line in f if line.strip())
    missing = sorted(kinds - seen)
    if missing:
        print("error: diagnostic kinds that no lit test triggers:")
        for kind in missing:
            print("  " + kind)
        return 1
    print("every one of the %d diagnostic kinds is triggered by a lit test" % len(kinds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
