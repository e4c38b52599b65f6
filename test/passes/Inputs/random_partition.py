#!/usr/bin/env python3
"""Random programs against `partition`'s contract.

Takes the random programs of random_decouple.py (a `leader`, a process or a
cluster of 2, computing a random dataflow whose results a `sink` prints).
Half of them get their inputs from a `feeder` process over channels instead
of from sources of their own. Each program whose sorted output does not
depend on the schedule (two seeds) is partitioned, `leader` into K = 2 or 3
instances (with one input channel replicated, sometimes):
  - accepted: the rewritten program, run under three seeds, prints the same
    sorted output as the original;
  - refused: exit 1 with a `cannot partition` diagnostic;
  - anything else (a usage error, a crash, an internal error) fails.
Prints one summary line; exits 1 on the first failure, with the program.

usage: random_partition.py DFIRC WORKDIR [COUNT] [SEED]
"""
import os
import random
import re
import subprocess
import sys

import random_decouple as rd

DFIRC, WORK = sys.argv[1], sys.argv[2]
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 40
SEED = int(sys.argv[4]) if len(sys.argv) > 4 else 7


def feed(text):
    """The leader's sources become channels from a `feeder` process (to
    every member of a cluster, which then sees what its source showed)."""
    cluster = text.startswith("cluster")
    inputs = []

    def to_recv(m):
        inputs.append(m.group(1))
        return "recv(in%d)" % (len(inputs) - 1)

    text = re.sub(r"source_iter\((\[[^\]]*\])\)", to_recv, text)
    mode = " broadcast" if cluster else ""
    decls = "process feeder;\n" + "".join(
        "channel in%d: feeder -> leader%s;\n" % (i, mode) for i in range(len(inputs)))
    feeder = "feeder {\n" + "".join(
        "  source_iter(%s) -> send(in%d);\n" % (v, i) for i, v in enumerate(inputs)) + "}\n"
    return decls + text + feeder, len(inputs)


def main():
    os.makedirs(WORK, exist_ok=True)
    rng = random.Random(SEED)
    accepted = refused = 0
    for i in range(COUNT):
        text, _ = rd.generate(rng)
        channels = 0
        if rng.random() < 0.5:
            text, channels = feed(text)
        src = os.path.join(WORK, "p%d.dfir" % i)
        with open(src, "w") as f:
            f.write(text)
        rc, base, err = rd.run(src, 1)
        if rc != 0:
            rd.fail("the generated program does not run (%d): %s" % (rc, err), text)
        _, again, _ = rd.run(src, 2)
        if again != base:
            continue  # depends on the schedule: not a test of the contract
        k = rng.choice([2, 3])
        flags = ["--partition", "leader=%d" % k]
        if channels > 1 and rng.random() < 0.3:
            flags += ["--replicate", "in%d" % rng.randrange(channels)]
        out = os.path.join(WORK, "p%d_k%d.dfir" % (i, k))
        r = subprocess.run([DFIRC, "opt", src, "--verify-each", "-o", out] + flags, capture_output=True, text=True,
                           timeout=120)
        if r.returncode == 1:
            if "cannot partition" not in r.stderr:
                rd.fail("refused without the diagnostic (%s)" % " ".join(flags), text, r.stderr)
            refused += 1
            continue
        if r.returncode != 0:
            rd.fail("exit %d for %s" % (r.returncode, " ".join(flags)), text, r.stderr)
        accepted += 1
        for seed in (1, 5, 9):
            rc, got, err = rd.run(out, seed)
            if rc != 0 or got != base:
                with open(out) as f:
                    rewritten = f.read()
                rd.fail("%s, seed %d: the rewritten program printed other results (exit %d)"
                        % (" ".join(flags), seed, rc), text,
                        "--- rewritten ---\n%s\n--- expected ---\n%s\n--- got ---\n%s\n%s"
                        % (rewritten, "\n".join(base), "\n".join(got), err))
    print("random partition: %d accepted, %d refused, all kept the sorted output" % (accepted, refused))


if __name__ == "__main__":
    main()
