"""Runs Inputs/flood.dfir deployed and prints both instances' peak memory (VmHWM) in MiB once the receiver
has counted every piece. usage: flood.py DFIRC TMPDIR"""
import os
import signal
import subprocess
import sys
import time

dfirc, tmp = sys.argv[1:3]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults import free_port  # noqa: E402

port = free_port()
out = os.path.join(tmp, "flood")
subprocess.run([dfirc, "build", os.path.join(os.path.dirname(os.path.abspath(__file__)), "flood.dfir"), "-o", out,
                "--base-port", str(port)], check=True)
procs = {}
for loc in ["dst", "src"]:
    procs[loc] = subprocess.Popen([os.path.join(out, loc), "--deploy", os.path.join(out, "deploy.json"),
                                   "--location", loc, "--id", "0"],
                                  stdout=subprocess.PIPE if loc == "dst" else subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, text=True)
peak = {}
last = ""


def sample():
    for loc, p in procs.items():
        try:
            for line in open("/proc/%d/status" % p.pid):
                if line.startswith("VmHWM:"):
                    peak[loc] = int(line.split()[1]) // 1024
        except OSError:
            pass


deadline = time.time() + 60
while time.time() < deadline:
    line = procs["dst"].stdout.readline()
    if not line:
        break
    last = line.strip()
    sample()
    if last == '("pieces", 200200000)':
        break
print("last:", last)
for loc in ["src", "dst"]:
    print("%s peak MiB: %d" % (loc, peak.get(loc, -1)))
for p in procs.values():
    p.send_signal(signal.SIGTERM)
for p in procs.values():
    p.wait()
