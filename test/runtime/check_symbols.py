#!/usr/bin/env python3
"""Every function declared in runtime/dfir_rt.h must be listed in
runtime/dfir_rt_symbols.def (the JIT resolves generated code's calls from
that list), and nothing else.

usage: check_symbols.py SRC_ROOT"""
import os
import re
import sys

root = sys.argv[1]
header = open(os.path.join(root, "runtime", "dfir_rt.h")).read()
declared = set(re.findall(r"\b(dfir_rt_\w+)\s*\(", header))
listed = set(re.findall(r"DFIR_RT_SYMBOL\((\w+)\)", open(os.path.join(root, "runtime", "dfir_rt_symbols.def")).read()))
missing, extra = sorted(declared - listed), sorted(listed - declared)
for name in missing:
    print("missing from dfir_rt_symbols.def: " + name)
for name in extra:
    print("not declared in dfir_rt.h: " + name)
print("%d runtime functions, %d problems" % (len(declared), len(missing) + len(extra)))
sys.exit(1 if missing or extra else 0)
