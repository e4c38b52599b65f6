#!/usr/bin/env python3
"""For every valid program of the suite and every example: the dot output
renders with Graphviz, the JSON output parses and is consistent, and the
Mermaid output is a well-formed flowchart (balanced subgraph/end, every
edge between declared nodes, only known arrow forms).

usage: check_graphs.py DFIRC SRC_ROOT
"""
import glob
import json
import os
import re
import subprocess
import sys

NODE = re.compile(r'^\s*(n\d+)\["[^"]*"\]$')
SUBGRAPH = re.compile(r'^\s*subgraph [A-Za-z0-9]+\["[^"]*"\]$')
EDGE = re.compile(r'^\s*(n\d+) (-->|==>|-\.->)(\|"[^"]*"\|)? (n\d+)$')


def check_mermaid(text):
    lines = text.rstrip("\n").split("\n")
    if lines[0] != "flowchart TD":
        return "does not start with `flowchart TD`"
    depth, nodes, edges = 0, set(), []
    for line in lines[1:]:
        if SUBGRAPH.match(line):
            depth += 1
        elif line.strip() == "end":
            depth -= 1
            if depth < 0:
                return "`end` without `subgraph`"
        elif NODE.match(line):
            nodes.add(NODE.match(line).group(1))
        elif EDGE.match(line):
            m = EDGE.match(line)
            edges.append((m.group(1), m.group(4)))
        else:
            return "unexpected line: " + line
    if depth != 0:
        return "unbalanced subgraphs"
    for a, b in edges:
        if a not in nodes or b not in nodes:
            return "edge between undeclared nodes %s %s" % (a, b)
    return None


def run(dfirc, fmt, src):
    return subprocess.run([dfirc, "graph", "--format=" + fmt, src], capture_output=True, text=True)


def main():
    dfirc, root = sys.argv[1:3]
    programs = sorted(glob.glob(os.path.join(root, "test", "sema", "valid_*.dfir")) +
                      glob.glob(os.path.join(root, "examples", "*", "*.dfir")))
    failures = 0
    for src in programs:
        dot = run(dfirc, "dot", src)
        rendered = subprocess.run(["dot", "-Tsvg"], input=dot.stdout, capture_output=True, text=True)
        if dot.returncode != 0 or rendered.returncode != 0 or "<svg" not in rendered.stdout:
            print("FAIL dot: %s\n%s%s" % (src, dot.stderr, rendered.stderr))
            failures += 1
        mermaid = run(dfirc, "mermaid", src)
        problem = "exit %d" % mermaid.returncode if mermaid.returncode else check_mermaid(mermaid.stdout)
        if problem:
            print("FAIL mermaid: %s: %s" % (src, problem))
            failures += 1
        js = run(dfirc, "json", src)
        try:
            g = json.loads(js.stdout)
            ids = {op["id"] for op in g["operators"]}
            assert all(e["from"] in ids and e["to"] in ids for e in g["edges"])
            assert all(c["send"] in ids and c["recv"] in ids for c in g["channels"])
        except Exception as e:  # noqa: BLE001 - any failure is a test failure
            print("FAIL json: %s: %s" % (src, e))
            failures += 1
    print("%d programs drawn, %d failures" % (len(programs), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
