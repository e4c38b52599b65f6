"""Runs examples/fleet's instances in two network namespaces joined by a veth pair: the leader at 10.213.0.1,
the three workers at 10.213.0.2, so that every channel crosses a real (virtual) network link. Prints the
leader's output once its total is final. usage: netns.py DFIRC TMPDIR"""
import json
import os
import signal
import subprocess
import sys
import time

dfirc, tmp = sys.argv[1:3]
root = os.path.dirname(os.path.abspath(__file__))
fleet = os.path.join(root, "..", "..", "..", "..", "examples", "fleet", "fleet.dfir")
tag = "dfirc%d" % os.getpid()
ns = [tag + "a", tag + "b"]


def sh(*args):
    subprocess.run(args, check=True)


procs = []
try:
    for n in ns:
        sh("ip", "netns", "add", n)
    sh("ip", "link", "add", tag + "x", "type", "veth", "peer", "name", tag + "y")
    for n, dev, ip in [(ns[0], tag + "x", "10.213.0.1"), (ns[1], tag + "y", "10.213.0.2")]:
        sh("ip", "link", "set", dev, "netns", n)
        sh("ip", "-n", n, "addr", "add", ip + "/24", "dev", dev)
        sh("ip", "-n", n, "link", "set", dev, "up")
        sh("ip", "-n", n, "link", "set", "lo", "up")
    out = os.path.join(tmp, "fleet")
    sh(dfirc, "build", fleet, "-o", out)
    deploy = json.load(open(os.path.join(out, "deploy.json")))
    for loc in deploy["locations"]:
        host = "10.213.0.1" if loc["name"] == "leader" else "10.213.0.2"
        for i in loc["instances"]:
            i["address"] = "%s:%d" % (host, 7600 + i["id"])
    path = os.path.join(out, "deploy.json")
    json.dump(deploy, open(path, "w"))
    for loc in deploy["locations"]:
        n = ns[0] if loc["name"] == "leader" else ns[1]
        for i in loc["instances"]:
            procs.append(subprocess.Popen(["ip", "netns", "exec", n, os.path.join(out, loc["executable"]), "--deploy",
                                           path, "--location", loc["name"], "--id", str(i["id"])],
                                          stdout=subprocess.PIPE if loc["name"] == "leader" else subprocess.DEVNULL,
                                          text=True))
    leader = procs[0]
    lines = []
    deadline = time.time() + 30
    while time.time() < deadline:
        line = leader.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == '("total", 3012)':
            break
    print("".join(sorted(lines)), end="")
finally:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
    for n in ns:
        subprocess.run(["ip", "netns", "del", n], stderr=subprocess.DEVNULL)
