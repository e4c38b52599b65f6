"""Gives a profile fixed numbers, so that what --auto-rewrite chooses from it
does not depend on how fast this machine ran the program.

usage: shape.py IN OUT [--deployed]
The run took 150 ms; the leader gets 100 ms busy and the client 20, 1000 samples spread evenly over its
operators weighted by WEIGHTS (operator name -> weight, default 1), ticks
and item counts as measured; with --deployed, the profile says it was
measured launched, each item its own frame."""
import json
import sys

WEIGHTS = {"parsed": 40, "checked": 40}

src, dst = sys.argv[1], sys.argv[2]
p = json.load(open(src))
p["deployed"] = "--deployed" in sys.argv
p["wall_ns"] = 150_000_000
p["cpu_ns"] = 150_000_000
for inst in p["instances"]:
    inst["busy_ns"] = 100_000_000 if inst["location"] == "leader" else 20_000_000
    total = sum(WEIGHTS.get(o["name"], 1) for o in inst["operators"])
    for o in inst["operators"]:
        o["samples"] = 1000 * WEIGHTS.get(o["name"], 1) // total
    inst["tick_samples"] = 0
    for c in inst["channels"]:
        c["frames"] = c["items"]
json.dump(p, open(dst, "w"), indent=1)
