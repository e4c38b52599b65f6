"""Compiles backend-llvm/ops/Ops.cpp (syntax only, with the build's own flags from compile_commands.json) against
a copy of ir/Operators.def with one more row, `Probe`, and prints whether it compiled and the first error.

usage: op_hooks.py OBJ_ROOT SRC_ROOT TMPDIR MODE, MODE one of
  none      no OpGen<OpKind::Probe> at all
  partial   an OpGen<OpKind::Probe> without a `push` hook
  complete  an OpGen<OpKind::Probe> with every hook (the control: the copy itself compiles)"""
import json
import os
import re
import shlex
import subprocess
import sys

obj, src, tmp, mode = sys.argv[1:5]
os.makedirs(os.path.join(tmp, "ir"), exist_ok=True)
table = open(os.path.join(src, "ir", "Operators.def")).read()
row = 'OP(Probe, "probe", One, One, "", 0, 0, 0, Either, Stateless, PerItem, InTick, Silent)\n'
open(os.path.join(tmp, "ir", "Operators.def"), "w").write(table.replace("#undef OP", row + "#undef OP"))

ops = os.path.join(src, "backend-llvm", "ops", "Ops.cpp")
hooks = {
    "none": "",
    "partial": "template <> struct OpGen<OpKind::Probe> : Stream {};\n",
    "complete": "template <> struct OpGen<OpKind::Probe> : Stream {\n"
                "  static void push(Site &x, unsigned, llvm::Value *item) { x.emit(0, item); }\n};\n",
}[mode]
unit = os.path.join(tmp, "probe.cpp")
with open(unit, "w") as f:
    f.write('#include "backend-llvm/ops/OpGen.h"\nnamespace dfir::backend::ops {\n%s}\n#include "%s"\n' % (hooks, ops))

entry = next(e for e in json.load(open(os.path.join(obj, "compile_commands.json")))
             if os.path.realpath(e["file"]) == os.path.realpath(ops))
args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
command, skip = [args[0], "-I", tmp], 0
for i, a in enumerate(args[1:], 1):
    if skip:
        skip -= 1
    elif a in ("-o", "-MF", "-MT", "-MQ"):
        skip = 1
    elif a in ("-c", "-MD", "-MMD") or os.path.realpath(a) == os.path.realpath(ops):
        pass
    else:
        command.append(a)
run = subprocess.run(command + ["-fsyntax-only", "-c", unit], cwd=entry["directory"], capture_output=True, text=True)
print("compiles:", run.returncode == 0)
errors = [l for l in run.stderr.splitlines() if " error: " in l]
if errors:
    print("first error:", re.sub(r"^.*? error: ", "", errors[0]))
