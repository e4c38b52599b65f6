"""Restarts of failed instances (test/e2e/multi/restart.test), with Inputs/ticker.dfir (two workers send the leader
a beat every 20 ms).

usage: restart.py MODE DFIRC TMPDIR, MODE one of
  launch   `dfirc launch --restart on-failure:1 --metrics`: the leader is killed; launch starts it again, the workers
           reconnect to it and their beats reach it, and its metrics count the restart; killed a second time, it is
           not restarted, and launch fails naming it
  giveup   without a launcher: a worker that cannot reach its killed leader within DFIR_RECONNECT_MS fails, naming it
  stoplost a worker stopped while it waits for its killed leader: what it kept for the leader is reported as lost
  otherbuild  the leader comes back from another build: it refuses the workers, which give up, naming it

Prints what happened, one fact per line, for FileCheck."""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from faults import build, free_port, line_within, PATIENCE

def lines_of(stream):
    q = queue.Queue()

    def read():
        for line in stream:
            q.put(line.rstrip("\n"))
        q.put(None)
    threading.Thread(target=read, daemon=True).start()
    return q


def until(q, pattern, what):
    """The next line of `q` matching `pattern`, within PATIENCE."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        if re.search(pattern, line):
            return line
    raise SystemExit("no %s within %d s" % (what, PATIENCE))


def child(parent, location):
    """The pid of `parent`'s child running `location`."""
    for task in os.listdir("/proc/%d/task" % parent):
        for pid in open("/proc/%d/task/%s/children" % (parent, task)).read().split():
            try:
                args = open("/proc/%s/cmdline" % pid).read().split("\0")
            except OSError:
                continue
            if "--location" in args and args[args.index("--location") + 1] == location:
                return int(pid)
    raise SystemExit("no instance of " + location)


def launch(dfirc, dir):
    p = subprocess.Popen([dfirc, "launch", "--restart", "on-failure:1", "--metrics", os.path.join(dir, "deploy.json")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_launch(p)
    finally:  # a failed check leaves nothing running
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=PATIENCE)


def run_launch(p):
    out, err = lines_of(p.stdout), lines_of(p.stderr)
    urls = {}
    for _ in range(3):
        m = re.match(r"dfirc: metrics of (\S+): (\S+)$", until(err, r"^dfirc: metrics of", "a metrics address"))
        urls[m.group(1)] = m.group(2)
    until(out, r"^\[leader/0\] \(\"beat\"", "a beat")
    os.kill(child(p.pid, "leader"), signal.SIGKILL)
    print(until(err, r"restarting it", "the restart"))
    reconnected = set()
    while len(reconnected) < 2:
        line = until(err, r"^\[worker/\d\] dfir: note: reconnected", "a reconnection")
        reconnected.add(line.split(" at ")[0])
    for line in sorted(reconnected):
        print(line)
    print("beats after the restart:", until(out, r"^\[leader/0\] \(\"beat\"", "a beat after the restart") != "")
    text = urllib.request.urlopen(urls["leader/0"], timeout=PATIENCE).read().decode()
    print([l for l in text.splitlines() if l.startswith("dfir_restarts_total")][0])
    os.kill(child(p.pid, "leader"), signal.SIGKILL)
    print(until(err, r"^dfirc: error: instance leader/0", "the failure"))
    p.wait(timeout=PATIENCE)
    print("launch exit:", p.returncode)


def start(dir, loc, id, reconnect_ms, env=None):
    return subprocess.Popen([os.path.join(dir, loc), "--deploy", os.path.join(dir, "deploy.json"), "--location",
                             loc, "--id", str(id)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, DFIR_RECONNECT_MS=reconnect_ms, **(env or {})))


def stoplost(dir):
    leader = start(dir, "leader", 0, "60000")
    workers = [start(dir, "worker", i, "60000") for i in (0, 1)]
    try:
        line_within(leader.stdout, "a beat")
        leader.kill()
        leader.wait()
        lost = line_within(workers[0].stderr, "the lost connection")
        time.sleep(0.2)  # beats made for the leader meanwhile
        workers[0].send_signal(signal.SIGTERM)
        out, err = workers[0].communicate(timeout=PATIENCE)
        print("worker exit:", workers[0].returncode)
        for line in (lost + err).splitlines():
            print(re.sub(r"127\.0\.0\.1:\d+", "ADDRESS", re.sub(r"with \d+ bytes", "with N bytes", line)))
    finally:  # a failed check leaves nothing running
        for p in [leader] + workers:
            if p.poll() is None:
                p.kill()


def giveup(dir):
    def start_(loc, id):
        return start(dir, loc, id, "300")
    leader = start_("leader", 0)
    workers = [start_("worker", 0), start_("worker", 1)]
    try:
        line_within(leader.stdout, "a beat")
        leader.kill()
        leader.wait()
        out, err = workers[0].communicate(timeout=PATIENCE)
        print("worker exit:", workers[0].returncode)
        for line in err.splitlines():
            print(re.sub(r"127\.0\.0\.1:\d+", "ADDRESS", line))
    finally:  # a failed check leaves nothing running
        for p in [leader] + workers:
            if p.poll() is None:
                p.kill()


def otherbuild(dfirc, dir, tmp, port):
    """The leader comes back from another build of the program (same addresses and key): the new incarnation refuses
    the workers' hellos, and they give up when their budget runs out instead of sending to it."""
    with open(os.path.join(tmp, "ticker2.dfir"), "w") as f:
        f.write(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "ticker.dfir")).read()
                .replace("source_interval(20)", "source_interval(25)"))
    other = os.path.join(tmp, "other")
    subprocess.run([dfirc, "build", os.path.join(tmp, "ticker2.dfir"), "-o", other, "--base-port", str(port)],
                   check=True)
    key = {"DFIR_DEPLOY_KEY": "ab" * 32}
    leader = start(dir, "leader", 0, "1500", key)
    workers = [start(dir, "worker", i, "1500", key) for i in (0, 1)]
    new = None
    try:
        line_within(leader.stdout, "a beat")
        leader.kill()
        leader.wait()
        new = start(other, "leader", 0, "1500", key)
        out, err = workers[0].communicate(timeout=PATIENCE)
        print("worker exit:", workers[0].returncode)
        print(err.splitlines()[-1].replace(dir, "DIR").replace(str(port), "PORT"))
        new.send_signal(signal.SIGTERM)
        out, err = new.communicate(timeout=PATIENCE)
        print("new leader beats:", sum(1 for line in out.splitlines() if "beat" in line))
        print(re.sub(r"127\.0\.0\.1:\d+", "ADDRESS", err.splitlines()[0]))
    finally:  # a failed check leaves nothing running
        for p in [leader, new] + workers:
            if p is not None and p.poll() is None:
                p.kill()


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    port = free_port()
    out = build(dfirc, "ticker.dfir", os.path.join(tmp, "out"), port)
    if mode == "launch":
        launch(dfirc, out)
    elif mode == "stoplost":
        stoplost(out)
    elif mode == "otherbuild":
        otherbuild(dfirc, out, tmp, port)
    else:
        giveup(out)
