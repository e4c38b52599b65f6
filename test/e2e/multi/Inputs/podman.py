"""Deployed programs run from generated Kubernetes YAML by a real engine (test/e2e/multi/podman.test): each program
is built with `dfirc build --static`, packed by `dfirc deploy image` (an image FROM scratch, built by podman), and
run by `podman kube play` from what `dfirc deploy k8s --local` wrote (one pod, a container per instance); the lines
the instances print are read from their logs, and everything is torn down.

usage: podman.py DFIRC TMPDIR PROGRAM EXPECTED...   (each EXPECTED a line some instance must print)
       podman.py --restart DFIRC TMPDIR TICKER   (Inputs/ticker.dfir)

Prints the expected lines found, sorted, then what was torn down. With --restart, the leader's process is killed
(a crash, not `podman kill`, which podman treats as a deliberate stop): the pod's restart policy starts it again,
the workers say they reconnected, and beats reach its new incarnation."""
import json
import os
import signal
import subprocess
import sys
import time

PATIENCE = 120


def run(*argv, **kw):
    return subprocess.run(list(argv), check=True, capture_output=True, text=True, **kw)


def logs(container):
    out = subprocess.run(["podman", "logs", container], capture_output=True, text=True)
    return (out.stdout + out.stderr).splitlines()


def until(what, done):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.2)
    print("not seen within %d s: %s" % (PATIENCE, what))
    return False


def play(dfirc, tmp, program, check):
    """Builds `program`, packs it, plays its pod, runs `check(containers)`, and tears everything down."""
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
        check(containers)
    finally:
        down = subprocess.run(["podman", "kube", "down", manifest], capture_output=True, text=True, cwd=tmp)
        print("torn down:", down.returncode == 0)
        print("image removed:", subprocess.run(["podman", "rmi", "-f", image], capture_output=True).returncode == 0)


def expect(expected):
    def check(containers):
        found, lines = set(), set()

        def all_found():
            nonlocal found, lines
            lines = set(line for c in containers for line in logs(c))
            found = {e for e in expected if e in lines}
            return len(found) == len(expected)
        if not until("the expected lines", all_found):
            print("logs:", sorted(lines))
        for line in sorted(found):
            print("found:", line)
    return check


def restart(containers):
    leader = next(c for c in containers if "-leader-" in c)
    workers = [c for c in containers if c != leader]

    def beats():
        return sum(1 for line in logs(leader) if line.startswith('("beat"'))
    if not until("a beat", lambda: beats() > 0):
        return
    pid = run("podman", "inspect", leader, "--format", "{{.State.Pid}}").stdout.strip()
    os.kill(int(pid), signal.SIGKILL)
    before = beats()

    def restarts():
        return run("podman", "inspect", leader, "--format", "{{.RestartCount}}").stdout.strip()
    until("the restart", lambda: restarts() != "0")
    print("leader restarts:", restarts())
    for w in workers:
        if until("%s reconnecting" % w, lambda: any("reconnected to leader/0" in line for line in logs(w))):
            print(w + ": reconnected to leader/0")
    print("beats after the restart:", until("beats after the restart", lambda: beats() > before + 4))
    print("workers running:", all(run("podman", "inspect", w, "--format", "{{.State.Status}} {{.RestartCount}}")
                                  .stdout.strip() == "running 0" for w in workers))


def main():
    if sys.argv[1] == "--restart":
        play(*sys.argv[2:5], restart)
    else:
        play(*sys.argv[1:4], expect(sys.argv[4:]))


if __name__ == "__main__":
    main()
