"""How deployed instances stop (test/e2e/multi/stop.test), with Inputs/stream.dfir.

usage: stop.py MODE DFIRC TMPDIR, MODE one of
  sender    SIGTERM to the sender in the middle of a flood: it sends what it has made, exits 0, and the receiver
            gets every item
  together  SIGTERM to both at once, ten times: both exit 0 every time
  unanswered
            SIGTERM to a sender that has sent nothing, whose receiver never answered its hello (quiet.dfir): it
            has nothing to deliver, and exits 0 at once
  stalled   SIGTERM to a sender whose receiver has stopped reading (SIGSTOP): what it could not send within
            DFIR_STOP_TIMEOUT_MS is reported as lost, and it exits 1
  gone      a receiver stopped while its sender runs on (ticker.dfir): the sender's next item is an error
  impostor  a "receiver" that answers the hello without the deployment key: the sender refuses to go on
  garbage   a "receiver" that answers the hello with bytes that are not the protocol
  dropped   a relay and its sink stopped together while the stream into the relay goes on (relay.dfir): once
            idle, the stopping relay ends its connection to the sink; what it makes afterwards from what still
            arrives cannot be sent, and it says how many items it dropped

Prints what happened, one fact per line, for FileCheck."""
import os
import signal
import subprocess
import sys
import threading
import time

import socket

from faults import address, build, free_port, start, PATIENCE


class Last:
    """The last value of the ("NAME", n) lines a process prints, read as they come."""

    def __init__(self, proc):
        self.value, self.lines = 0, 0
        self.thread = threading.Thread(target=self.read, args=(proc,), daemon=True)
        self.thread.start()

    def read(self, proc):
        for line in proc.stdout:
            self.value = int(line.strip().strip("()").split(", ")[1])
            self.lines += 1


def sender(dir):
    dst = start(dir, "dst")
    src = start(dir, "src")
    received, made = Last(dst), Last(src)
    src.reports.wait("running")
    time.sleep(1.0)
    src.send_signal(signal.SIGTERM)
    src.wait(timeout=30)
    made.thread.join()
    print("sender exit:", src.returncode, "stderr:", repr(src.stderr.read()))
    print("made some:", made.value > 10)
    sent = made.value * 1000
    deadline = time.time() + PATIENCE
    while received.value < sent and time.time() < deadline:
        time.sleep(0.05)
    print("received all:", received.value == sent, received.value, sent)
    dst.send_signal(signal.SIGTERM)
    dst.wait(timeout=30)
    print("receiver exit:", dst.returncode, "stderr:", repr(dst.stderr.read()))


def together(dir):
    codes = []
    for _ in range(10):
        dst = start(dir, "dst")
        src = start(dir, "src")
        Last(dst), Last(src)
        src.reports.wait("running")
        dst.reports.wait("running")
        time.sleep(0.1)
        src.send_signal(signal.SIGTERM)
        dst.send_signal(signal.SIGTERM)
        for p in (src, dst):
            p.wait(timeout=30)
            err = p.stderr.read()
            codes.append(p.returncode)
            if err:
                print("stderr:", repr(err))
    print("exits:", sorted(set(codes)), len(codes))


def stalled(dir):
    dst = start(dir, "dst")
    src = start(dir, "src", env={"DFIR_STOP_TIMEOUT_MS": "500"})
    Last(dst), Last(src)
    src.reports.wait("running")
    time.sleep(0.3)
    dst.send_signal(signal.SIGSTOP)
    time.sleep(1.0)  # the sender fills its buffers
    src.send_signal(signal.SIGTERM)
    src.wait(timeout=30)
    print("sender exit:", src.returncode)
    sys.stdout.write(src.stderr.read())
    dst.send_signal(signal.SIGCONT)
    dst.kill()
    dst.wait()


def gone(dir):
    leader = start(dir, "leader", env={"DFIR_STOP_TIMEOUT_MS": "300"})
    worker = start(dir, "worker")
    print("beating:", bool(leader.stdout.readline()))
    leader.send_signal(signal.SIGTERM)
    leader.wait(timeout=30)
    print("leader exit:", leader.returncode)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        print("worker hung")
    print("worker exit:", worker.returncode)
    sys.stdout.write(worker.stderr.read())


def fake_receiver(dir, env=None):
    """Listens where `dst` should, starts `src` and takes its connection: (listener, src, connection)."""
    deploy, addr = address(dir, "dst")
    fake = socket.socket()
    fake.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    fake.bind(addr)
    fake.listen(1)
    src = start(dir, "src", env=env)
    conn, _ = fake.accept()
    return fake, src, conn


def answer_hello(dir, reply):
    """A fake receiver answers the sender's hello with `reply`; prints how the sender ends."""
    fake, src, conn = fake_receiver(dir)
    conn.recv(4096)
    conn.sendall(reply)
    src.wait(timeout=30)
    print("sender exit:", src.returncode)
    sys.stdout.write(src.stderr.read())
    conn.close()
    fake.close()


def impostor(dir):
    answer_hello(dir, b"\0" + os.urandom(64))  # a challenge whose MAC no key made


def garbage(dir):
    answer_hello(dir, b"\x07HTTP/1.1 400 Bad Request\r\n")


def unanswered(dir):
    # A stop timeout of a minute: exiting well before it shows the sender did not wait for the peer (a bound of
    # seconds would also count a slow exit under valgrind on a busy machine).
    fake, src, conn = fake_receiver(dir, env={"DFIR_STOP_TIMEOUT_MS": "60000"})
    print("hello received:", len(conn.recv(4096)) > 0)
    time.sleep(0.3)
    began = time.monotonic()
    src.send_signal(signal.SIGTERM)
    src.wait(timeout=90)
    print("sender exit:", src.returncode, "within 20 s:", time.monotonic() - began < 20,
          "stderr:", repr(src.stderr.read()))
    conn.close()
    fake.close()


def dropped(dir):
    gen = start(dir, "gen")
    relay = start(dir, "relay", env={"DFIR_STOP_TIMEOUT_MS": "3000"})
    sink = start(dir, "sink", env={"DFIR_STOP_TIMEOUT_MS": "300"})
    for p in (gen, relay):  # each connected to the next
        p.reports.wait("running")
    time.sleep(0.5)
    relay.send_signal(signal.SIGTERM)
    sink.send_signal(signal.SIGTERM)
    for name, p in (("sink", sink), ("relay", relay)):
        p.wait(timeout=30)
        print(name, "exit:", p.returncode)
        sys.stdout.write(p.stderr.read())
    gen.kill()
    gen.wait()


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    program = {"dropped": "relay.dfir", "unanswered": "quiet.dfir", "impostor": "quiet.dfir", "garbage": "quiet.dfir", "gone": "ticker.dfir"}.get(mode, "stream.dfir")
    dir = build(dfirc, program, os.path.join(tmp, "system"), free_port())
    globals()[mode](dir)
