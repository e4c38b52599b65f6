#!/usr/bin/env python3
"""Deterministic fuzz smoke test: mutates every .dfir file of the test suite
and examples (fixed seed) and replays the mutants through dfir-fuzz-replay,
which fails if the frontend crashes. A complement to real libFuzzer runs
(docs/testing.md), cheap enough for every CI run.

usage: mutate-and-replay.py SRC_ROOT OUT_DIR REPLAY_BINARY [COUNT]
"""
import os
import random
import subprocess
import sys

TOKENS = [b"(", b")", b"[", b"]", b"{", b"}", b"->", b"|", b"||", b",", b";", b"=", b"::<",
          b">", b">>", b"'static", b"'tick", b"..", b".0", b"\"", b"/*", b"*/", b"//", b"0x",
          b"1e400", b"18446744073709551616", b"match x {", b"if", b"else", b"let", b"=>",
          b"join()", b"[0]", b"[neg]", b"defer_tick()", b"union()", b"tee()", b"\\u{110000}",
          b"\xff", b"\xc3\x28", b"process p;", b"cluster c[0];", b"channel k: p -> c;",
          b"send(k)", b"recv(k)", b"member_id()", b"Some(", b"None", b"_", b"as u8"]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            end = min(len(data), pos + rng.randint(1, 16))
            del data[pos:end]
        elif op == 2:
            data[pos:pos] = rng.choice(TOKENS)
        elif op == 3 and data:
            a = rng.randint(0, len(data) - 1)
            b = min(len(data), a + rng.randint(1, 40))
            data[pos:pos] = data[a:b]
        else:
            data[pos:pos] = rng.choice(TOKENS) * rng.randint(1, 300)
    return bytes(data)


def main():
    src_root, out_dir, replay = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1500
    seeds = []
    for top in ("test", "examples"):
        for root, _, files in os.walk(os.path.join(src_root, top)):
            seeds += [os.path.join(root, f) for f in sorted(files) if f.endswith(".dfir")]
    seeds.sort()
    if not seeds:
        print("no seed inputs found")
        return 1
    rng = random.Random(20261121)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for i in range(count):
        with open(rng.choice(seeds), "rb") as f:
            data = f.read()
        path = os.path.join(out_dir, "m%05d.dfir" % i)
        with open(path, "wb") as f:
            f.write(mutate(rng, data))
        paths.append(path)
    for i in range(0, len(paths), 200):
        batch = paths[i:i + 200]
        rc = subprocess.call([replay] + batch, stdout=subprocess.DEVNULL)
        if rc != 0:
            # Find the culprit for the report.
            for p in batch:
                if subprocess.call([replay, p], stdout=subprocess.DEVNULL) != 0:
                    print("frontend crashed on %s (exit %d)" % (p, rc))
                    return 1
            return 1
    print("replayed %d mutated inputs from %d seeds without a crash" % (len(paths), len(seeds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
