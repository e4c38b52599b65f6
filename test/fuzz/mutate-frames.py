#!/usr/bin/env python3
"""Deterministic fuzz smoke test of the frame check (FrameFuzzer.cpp): builds well-formed frame bodies of each of
its element types, mutates them (fixed seed: lengths, counts and tags bent, bytes cut and repeated) and replays
them all through dfir-frame-fuzz-replay, which traps if a frame the runtime accepts reads past an item. A
complement to real libFuzzer runs (docs/testing.md), cheap enough for every CI run.

usage: mutate-frames.py OUT_DIR REPLAY_BINARY [COUNT]   (REPLAY_BINARY `-`: only write the frames, as seeds)
"""
import os
import random
import struct
import subprocess
import sys


def s(text):
    return struct.pack("<Q", len(text)) + text


def tree(rng, depth=0):
    kids = [tree(rng, depth + 1) for _ in range(rng.randint(0, 2 if depth < 3 else 0))]
    return s(b"t%d" % depth) + struct.pack("<Q", len(kids)) + b"".join(kids)


def value(rng, which):
    """A well-formed encoding of a value of type `which` (the order of Types in FrameFuzzer.cpp)."""
    if which == 0:  # Msg
        tag = rng.randrange(6)
        body = [s(b"hello"), struct.pack("<Q", 3) + struct.pack("<3q", 1, -2, 3), tree(rng), struct.pack("<B", 1),
                struct.pack("<B", 1) + s(b"x"), b""][tag]
        return struct.pack("<I", tag) + body
    if which == 1:  # (str, [(u8, Option<f64>)])
        n = rng.randint(0, 3)
        return s(b"abc") + struct.pack("<Q", n) + b"".join(struct.pack("<BBd", i, i % 2, 1.5) for i in range(n))
    if which == 2:  # [[()]]
        n = rng.randint(0, 3)
        return struct.pack("<Q", n) + b"".join(struct.pack("<Q", rng.randint(0, 5)) for _ in range(n))
    if which == 3:  # (i64, f64)
        return struct.pack("<qd", rng.randint(-9, 9), 0.5)
    return tree(rng)  # Tree


def frame(rng):
    which = rng.randrange(5)
    items = [value(rng, which) for _ in range(rng.randint(0, 4))]
    return bytes([which]) + struct.pack("<I", len(items)) + b"".join(struct.pack("<I", len(i)) + i for i in items)


INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(5)
        pos = rng.randint(0, max(0, len(data) - 1))
        if op == 0 and data:
            data[pos] = rng.randrange(256)
        elif op == 1 and len(data) >= pos + 4:
            data[pos:pos + 4] = struct.pack("<I", rng.choice(INTERESTING))
        elif op == 2 and len(data) >= pos + 8:
            data[pos:pos + 8] = struct.pack("<Q", rng.choice(INTERESTING + [10 ** 12, 2 ** 63, 2 ** 64 - 1]))
        elif op == 3:
            del data[pos:pos + rng.randint(1, 8)]
        else:
            a = rng.randint(0, max(0, len(data) - 1))
            data[pos:pos] = data[a:a + rng.randint(1, 32)]
    return bytes(data)


def main():
    out_dir, replay = sys.argv[1:3]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
    rng = random.Random(20261204)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for i in range(count):
        data = frame(rng)
        if i % 4:
            data = data[:1] + mutate(rng, data[1:])
        path = os.path.join(out_dir, "f%05d.bin" % i)
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    if replay == "-":
        print("wrote %d frames" % len(paths))
        return 0
    for start in range(0, len(paths), 500):
        subprocess.run([replay] + paths[start:start + 500], check=True, stdout=subprocess.DEVNULL)
    print("replayed %d frames without a crash" % len(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
