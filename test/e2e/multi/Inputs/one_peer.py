"""The wait of an instance that hears from one peer (test/e2e/multi/one_peer.test), with Inputs/one_peer.dfir.

usage: one_peer.py MODE DFIRC TMPDIR, MODE one of
  syscalls  b answers 2000 pings under strace: it polls for far fewer of them than it reads (a blocking read on
            the one talking peer is its wait), and sends one write per answer
  accept    while a and b talk without end, c starts and sends b one item: b accepts the new connection and
            prints the item (the blocking read does not shut out the listening socket), and both stop cleanly

Prints what happened, one fact per line, for FileCheck."""
import os
import re
import signal
import subprocess
import sys
import time

from faults import free_port, line_within, start, stop

ROUND_TRIPS = 2000


def build(dfirc, tmp, limit):
    src = os.path.join(tmp, "one_peer.dfir")
    text = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "one_peer.dfir")).read()
    with open(src, "w") as f:
        f.write(text.replace("LIMIT: i64 = 2000", "LIMIT: i64 = %d" % limit))
    out = os.path.join(tmp, "out")
    subprocess.run([dfirc, "build", src, "-o", out, "--base-port", str(free_port())], check=True)
    return out


def child_of(pid):
    """The process that `pid` (strace) started."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for task in os.listdir("/proc/%d/task" % pid):
            children = open("/proc/%d/task/%s/children" % (pid, task)).read().split()
            if children:
                return int(children[0])
        time.sleep(0.01)
    raise SystemExit("strace did not start the instance")


def syscalls(dir, tmp):
    trace = os.path.join(tmp, "b.trace")
    a = start(dir, "a")
    b = subprocess.Popen(["strace", "-f", "-c", "-o", trace, "-e", "trace=poll,recvfrom,sendto",
                          os.path.join(dir, "b"), "--deploy", os.path.join(dir, "deploy.json"), "--location", "b",
                          "--id", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         # LeakSanitizer cannot run in a traced process (the sanitizer build).
                         env=dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0"))
    while not line_within(a.stdout, "round trips").startswith('("at", %d)' % ROUND_TRIPS):
        pass
    os.kill(child_of(b.pid), signal.SIGTERM)
    b.communicate(timeout=30)
    print("b exit:", b.returncode)
    stop(a)
    calls = {}
    for line in open(trace):
        m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", line)
        if m:
            calls[m.group(2)] = int(m.group(1))
    polls, reads, writes = calls.get("poll", 0), calls.get("recvfrom", 0), calls.get("sendto", 0)
    print("reads at least one per ping:", reads >= ROUND_TRIPS, reads)
    print("writes one per answer:", ROUND_TRIPS <= writes <= ROUND_TRIPS + 10, writes)
    print("polls for fewer than half of them:", polls < ROUND_TRIPS // 2, polls)


def accept(dir):
    a = start(dir, "a")
    b = start(dir, "b")
    try:
        talk(a, b, dir)
    finally:  # a failed check leaves nothing running (they talk without end)
        for p in (a, b):
            if p.poll() is None:
                p.kill()


def talk(a, b, dir):
    for who in (a, b):
        who.reports.wait("running")
    while not line_within(a.stdout, "round trips").startswith('("at", 3000)'):
        pass
    c = start(dir, "c")
    print("b:", line_within(b.stdout, "item from c").strip())
    print("c exit:", stop(c)[0])
    codes = []
    for who in (a, b):
        who.send_signal(signal.SIGTERM)
    for who in (a, b):
        who.communicate(timeout=30)
        codes.append(who.returncode)
    print("a and b exit:", codes)


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    if mode == "syscalls":
        syscalls(build(dfirc, tmp, ROUND_TRIPS), tmp)
    elif mode == "accept":
        accept(build(dfirc, tmp, 1 << 40))
    else:
        raise SystemExit("unknown mode " + mode)
