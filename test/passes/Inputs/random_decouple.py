#!/usr/bin/env python3
"""Random programs against `decouple`'s contract.

Generates COUNT random programs (fixed seed): a `leader` (a process, or a
cluster of 2) computing a random dataflow from sources, whose results go to a
`sink` that prints them. Each program's sorted output does not depend on the
schedule (checked over two seeds). Then, for random selections of the
leader's operators, `dfirc opt --decouple leader:SEL=helper --verify-each`:
  - accepted: the rewritten program, run under three seeds, prints the same
    sorted output as the original;
  - refused: exit 1 with a `cannot decouple` or `moves every operator`
    diagnostic;
  - anything else (a usage error for names that exist, a crash, an internal
    error) fails.
Prints one summary line; exits 1 on the first failure, with the program.

usage: random_decouple.py DFIRC WORKDIR [COUNT] [SEED]
"""
import os
import random
import subprocess
import sys

DFIRC, WORK = sys.argv[1], sys.argv[2]
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 40
SEED = int(sys.argv[4]) if len(sys.argv) > 4 else 7


def generate(rng):
    cluster = rng.random() < 0.3
    stmts = []      # (name, text-before-uses, uses)
    streams = []    # names of streams not yet consumed, with use counts
    uses = {}
    exprs = {}
    n = [0]

    folded = set()  # fed by an operator that emits every tick: never deferred (it would tick forever)

    def new(expr, *inputs):
        name = "s%d" % n[0]
        reemits = "fold(" in expr or ("'static, 'static" in expr and not expr.endswith("unique::<'static>()"))
        if reemits or any(i in folded for i in inputs):
            folded.add(name)
        n[0] += 1
        exprs[name] = expr
        uses[name] = 0
        streams.append(name)
        return name

    def take():
        name = rng.choice(streams)
        uses[name] += 1
        return name

    for _ in range(rng.randint(1, 2)):
        vals = [rng.randint(0, 30) for _ in range(rng.randint(2, 8))]
        src = "source_iter(%s)" % vals
        if cluster:
            src += " -> map(|x| x + member_id() as i64 * 100)"
        new(src)
    for _ in range(rng.randint(2, 9)):
        kind = rng.choice(["map", "map", "filter", "flat_map", "union", "unique_static", "unique_tick",
                           "fold_tick", "sort", "join_static", "join_static_dedup", "persist_dedup",
                           "defer", "tick_join"])
        a = take()
        if kind == "map":
            new("%s -> map(|x| x * %d + %d)" % (a, rng.randint(1, 3), rng.randint(0, 5)), a)
        elif kind == "filter":
            new("%s -> filter(|x| x %% %d != %d)" % (a, rng.randint(2, 4), rng.randint(0, 1)), a)
        elif kind == "flat_map":
            new("%s -> flat_map(|x| [x, x + 1])" % a, a)
        elif kind == "union":
            b = take()
            new("union_of(%s, %s)" % (a, b), a, b)
        elif kind == "unique_static":
            new("%s -> unique::<'static>()" % a, a)
        elif kind == "unique_tick":
            new("%s -> unique()" % a, a)
        elif kind == "fold_tick":
            new("%s -> fold(|| 0, |acc, x| acc + x)" % a, a)
        elif kind == "sort":
            new("%s -> sort()" % a, a)
        elif kind in ("join_static", "join_static_dedup", "tick_join"):
            b = take()
            life = "" if kind == "tick_join" else "::<'static, 'static>"
            tail = " -> unique::<'static>()" if kind == "join_static_dedup" else ""
            new("join_of%s(%s, %s)%s" % (life, a, b, tail), a, b)
        elif kind == "persist_dedup":
            new("%s -> persist::<'static>() -> map(|x| x + 1) -> unique::<'static>()" % a, a)
        elif kind == "defer":
            if a in folded:
                new("%s -> map(|x| x + 7)" % a, a)
            else:
                new("%s -> defer_tick()" % a, a)
    leaves = [s for s in streams if uses[s] == 0]

    lines = []
    defined = {}

    def ref(name):
        return name

    order = sorted(exprs, key=lambda s: int(s[1:]))
    body = []
    for name in order:
        e = exprs[name]
        tee = " -> tee()" if uses[name] + (1 if name in leaves else 0) > 1 else ""
        if e.startswith("union_of("):
            a, b = e[len("union_of("):-1].split(", ")
            body.append("%s = union()%s;" % (name, tee))
            body.append("%s -> %s;" % (a, name))
            body.append("%s -> %s;" % (b, name))
        elif e.startswith("join_of"):
            life = e[len("join_of"):e.index("(")]
            args = e[e.index("(") + 1:e.index(")")]
            tail = e[e.index(")") + 1:]
            a, b = args.split(", ")
            j = name + "j"
            body.append("%s = join%s();" % (j, life))
            body.append("%s -> map(|x| (x %% 3, x)) -> [0]%s;" % (a, j))
            body.append("%s -> map(|x| (x %% 3, x + 1)) -> [1]%s;" % (b, j))
            body.append("%s = %s -> map(|(k, (x, y))| k * 1000 + x * 10 + y)%s%s;" % (name, j, tail, tee))
        else:
            body.append("%s = %s%s;" % (name, e, tee))
    body.append("out_all = union();")
    for leaf in leaves:
        body.append("%s -> out_all;" % leaf)
    if cluster:
        body.append("out_all -> map(|x| (0u32, x)) -> send(out);")
        head = "cluster leader[2];\nprocess sink;\nchannel out: leader -> sink;\n"
        sink = "sink { recv(out) -> for_each(|p| println(p)); }\n"
    else:
        body.append("out_all -> send(out);")
        head = "process leader;\nprocess sink;\nchannel out: leader -> sink;\n"
        sink = "sink { recv(out) -> for_each(|x| println(x)); }\n"
    names = [s for s in order]
    return head + "leader {\n  " + "\n  ".join(body) + "\n}\n" + sink, names


def run(path, seed):
    r = subprocess.run([DFIRC, "run", path, "--seed", str(seed)], capture_output=True, text=True, timeout=120)
    return r.returncode, sorted(r.stdout.splitlines()), r.stderr


def fail(why, program, extra=""):
    print("FAIL: %s\n--- program ---\n%s\n%s" % (why, program, extra))
    sys.exit(1)


def main():
    os.makedirs(WORK, exist_ok=True)
    rng = random.Random(SEED)
    accepted = refused = 0
    for i in range(COUNT):
        text, names = generate(rng)
        src = os.path.join(WORK, "p%d.dfir" % i)
        with open(src, "w") as f:
            f.write(text)
        rc, base, err = run(src, 1)
        if rc != 0:
            fail("the generated program does not run (%d): %s" % (rc, err), text)
        rc2, again, _ = run(src, 2)
        if again != base:
            continue  # depends on the schedule: not a test of the contract
        for _ in range(3):
            sel = ",".join(rng.sample(names, rng.randint(1, min(2, len(names)))))
            out = os.path.join(WORK, "p%d_%s.dfir" % (i, sel.replace(",", "_")))
            r = subprocess.run([DFIRC, "opt", src, "--decouple", "leader:%s=helper" % sel, "--verify-each",
                                "-o", out], capture_output=True, text=True, timeout=120)
            if r.returncode == 1:
                if "cannot decouple" not in r.stderr and "moves every operator" not in r.stderr:
                    fail("refused without the diagnostic (selection %s)" % sel, text, r.stderr)
                refused += 1
                continue
            if r.returncode != 0:
                fail("exit %d for selection %s" % (r.returncode, sel), text, r.stderr)
            accepted += 1
            for seed in (1, 5, 9):
                rc, got, err = run(out, seed)
                if rc != 0 or got != base:
                    with open(out) as f:
                        rewritten = f.read()
                    fail("selection %s, seed %d: the rewritten program printed other results (exit %d)"
                         % (sel, seed, rc), text, "--- rewritten ---\n%s\n--- expected ---\n%s\n--- got ---\n%s\n%s"
                         % (rewritten, "\n".join(base), "\n".join(got), err))
    print("random decouple: %d accepted, %d refused, all kept the sorted output" % (accepted, refused))


if __name__ == "__main__":
    main()
