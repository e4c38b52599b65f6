"""Runs the examples of a Markdown reference and checks their printed output.

usage: run_examples.py DFIRC DOC.md [OPERATORS.def]

Every fenced block whose info string is `dfir` is a program; the next fenced block, whose info string must be
`output`, is exactly what `dfirc run` prints for it. Blocks marked `dfir-norun` are shown, not run. With
OPERATORS.def, every operator of the table must also have a heading in the document. Prints one line per
problem and a summary; exits 1 if there was a problem."""
import os
import re
import subprocess
import sys
import tempfile

dfirc, doc = sys.argv[1], sys.argv[2]
lines = open(doc).read().split("\n")

blocks = []  # (info, first line number, text)
i = 0
while i < len(lines):
    m = re.match(r"^```(\S*)\s*$", lines[i])
    if m and m.group(1):
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        blocks.append((m.group(1), start, "\n".join(body)))
    i += 1

problems, ran = [], 0
with tempfile.TemporaryDirectory() as tmp:
    for k, (info, line, text) in enumerate(blocks):
        if info != "dfir":
            continue
        if k + 1 >= len(blocks) or blocks[k + 1][0] != "output":
            problems.append("%s:%d: a `dfir` example without an `output` block after it" % (doc, line))
            continue
        path = os.path.join(tmp, "example%d.dfir" % k)
        with open(path, "w") as f:
            f.write(text + "\n")
        run = subprocess.run([dfirc, "run", path], capture_output=True, text=True, timeout=60)
        ran += 1
        want = blocks[k + 1][2]
        got = run.stdout.rstrip("\n")
        if run.returncode != 0 or got != want:
            problems.append("%s:%d: the example prints something else (exit %d)\n--- expected\n%s\n--- printed\n%s%s"
                            % (doc, line, run.returncode, want, got, "\n" + run.stderr if run.stderr else ""))

if len(sys.argv) > 3:
    headings = "\n".join(l for l in lines if l.startswith("#"))
    for row in re.findall(r'^OP\(\w+,\s*"([a-z_]+)"', open(sys.argv[3]).read(), re.M):
        if not re.search(r"\b%s\b" % re.escape(row), headings):
            problems.append("%s: operator `%s` has no section" % (doc, row))

for p in problems:
    print(p)
print("examples run: %d, problems: %d" % (ran, len(problems)))
sys.exit(1 if problems else 0)
