"""Deployed programs run from generated Kubernetes YAML by a real engine (test/e2e/multi/podman.test): each program
is built with `dfirc build --static`, packed by `dfirc deploy image` (an image FROM scratch, built by podman), and
run by `podman kube play` from what `dfirc deploy k8s --local` wrote (one pod, a container per instance); the lines
the instances print are read from their logs, and everything is torn down.

usage: podman.py DFIRC TMPDIR PROGRAM EXPECTED...   (each EXPECTED a line some instance must print)

Prints the expected lines found, sorted, then what was torn down."""
import json
import os
import subprocess
import sys
import time

PATIENCE = 120


def run(*argv, **kw):
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, **kw)


def main():
    dfirc, tmp, program = sys.argv[1:4]
    expected = sys.argv[4:]
    os.makedirs(tmp, exist_ok=True)
    out = os.path.join(tmp, "build")
    run(dfirc, "build", "--static", program, "-o", out)
    deploy = json.load(open(os.path.join(out, "deploy.json")))
    image = "localhost/dfirc-test-%s:%s" % (deploy["program"].lower().replace("_", "-"), deploy["fingerprint"])
    run(dfirc, "deploy", "image", out, "--name", image)
    run(dfirc, "deploy", "k8s", out, "--local", "--image", image)
    manifest = os.path.join(out, "k8s-local.yaml")
    pod = deploy["program"].lower().replace("_", "-")
    containers = ["%s-%s-%d" % (pod, l["name"].lower().replace("_", "-"), i["id"])
                  for l in deploy["locations"] for i in l["instances"]]
    # `kube play` takes a directory named like an image for a build context: run it where there is none.
    run("podman", "kube", "play", "--replace", manifest, cwd=tmp)
    try:
        found, deadline = set(), time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            lines = set()
            for c in containers:
                logs = subprocess.run(["podman", "logs", c], capture_output=True, text=True)
                lines |= set((logs.stdout + logs.stderr).splitlines())
            found = {e for e in expected if e in lines}
            if len(found) == len(expected):
                break
            time.sleep(0.2)
        for line in sorted(found):
            print("found:", line)
        if len(found) != len(expected):
            print("logs:", sorted(lines))
    finally:
        down = subprocess.run(["podman", "kube", "down", manifest], capture_output=True, text=True, cwd=tmp)
        print("torn down:", down.returncode == 0)
        print("image removed:", subprocess.run(["podman", "rmi", "-f", image], capture_output=True).returncode == 0)


if __name__ == "__main__":
    main()
