"""Makes a profile's times a function of its item counts, so that what
--auto-rewrite chooses from it does not depend on how busy this machine was
(the counts of a seeded embedded run are the same every time).

usage: even.py IN OUT [LOCATION=FACTOR ...]
Each instance: 1 us of busy time per item its operators emit, or that a
sink takes in (times FACTOR for the named locations), no samples (so time is split by
items), 100 ms of wall time."""
import json
import sys

p = json.load(open(sys.argv[1]))
factor = dict((a.split("=")[0], float(a.split("=")[1])) for a in sys.argv[3:])
p["wall_ns"] = 100_000_000
p["cpu_ns"] = 100_000_000
p["runtime_samples"] = 0
for inst in p["instances"]:
    # What flows on: each operator's output, and what sinks take in (a
    # filter that drops everything does no work worth counting).
    items = sum(o["out"] or (o["in"] if o["op"] in ("send", "for_each", "dest_sink") else 0)
                for o in inst["operators"])
    inst["busy_ns"] = int(1000 * items * factor.get(inst["location"], 1.0))
    inst["tick_samples"] = 0
    for o in inst["operators"]:
        o["samples"] = 0
json.dump(p, open(sys.argv[2], "w"), indent=1)
