"""How deployed instances stop (test/e2e/multi/stop.test), with Inputs/stream.dfir.

usage: stop.py MODE DFIRC TMPDIR, MODE one of
  sender    SIGTERM to the sender in the middle of a flood: it sends what it has made, exits 0, and the receiver
            gets every item
  together  SIGTERM to both at once, ten times: both exit 0 every time
  unanswered
            SIGTERM to a sender that has sent nothing, whose receiver never answered its hello (quiet.dfir): it
            has nothing to deliver, and exits 0 at once

Prints what happened, one fact per line, for FileCheck."""
import os
import signal
import subprocess
import sys
import threading
import time

import socket

from faults import address, build, free_port


def start(dir, location):
    return subprocess.Popen([os.path.join(dir, location), "--deploy", os.path.join(dir, "deploy.json"),
                             "--location", location, "--id", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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
    time.sleep(1.5)
    src.send_signal(signal.SIGTERM)
    src.wait(timeout=30)
    made.thread.join()
    print("sender exit:", src.returncode, "stderr:", repr(src.stderr.read()))
    print("made some:", made.value > 10)
    sent = made.value * 1000
    deadline = time.time() + 30
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
        time.sleep(0.4)
        src.send_signal(signal.SIGTERM)
        dst.send_signal(signal.SIGTERM)
        for p in (src, dst):
            p.wait(timeout=30)
            err = p.stderr.read()
            codes.append(p.returncode)
            if err:
                print("stderr:", repr(err))
    print("exits:", sorted(set(codes)), len(codes))


def unanswered(dir):
    deploy, addr = address(dir, "dst")
    fake = socket.socket()
    fake.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    fake.bind(addr)
    fake.listen(1)
    src = start(dir, "src")
    conn, _ = fake.accept()
    print("hello received:", len(conn.recv(4096)) > 0)
    time.sleep(0.3)
    began = time.monotonic()
    src.send_signal(signal.SIGTERM)
    src.wait(timeout=30)
    print("sender exit:", src.returncode, "within 2 s:", time.monotonic() - began < 2,
          "stderr:", repr(src.stderr.read()))
    conn.close()
    fake.close()


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    program = "quiet.dfir" if mode == "unanswered" else "stream.dfir"
    dir = build(dfirc, program, os.path.join(tmp, "system"), free_port())
    {"sender": sender, "together": together, "unanswered": unanswered}[mode](dir)
