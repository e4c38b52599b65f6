"""Runs a program that never ends by itself (an open source such as source_interval) until it has printed
enough, then stops it.

usage: run_until.py LINES SETTLE_MS COMMAND ARGS...

Waits (up to 60 s, however slowly the program starts) for LINES lines of standard output, then SETTLE_MS more
milliseconds for any line that should not come, then stops the program with SIGTERM and copies what it printed
to standard output. Fails if the program ends by itself or prints fewer lines in time."""
import signal
import subprocess
import sys
import threading
import time

want, settle, command = int(sys.argv[1]), int(sys.argv[2]) / 1000, sys.argv[3:]
proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
lines, enough = [], threading.Event()


def read():
    for line in proc.stdout:
        lines.append(line)
        if len(lines) >= want:
            enough.set()
    enough.set()  # the program ended


threading.Thread(target=read, daemon=True).start()
enough.wait(60)
time.sleep(settle)
ended = proc.poll()
proc.send_signal(signal.SIGTERM)
try:
    proc.wait(10)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
sys.stdout.write("".join(lines))
if ended is not None:
    sys.exit("run_until.py: the program ended by itself (exit %d)" % ended)
if len(lines) < want:
    sys.exit("run_until.py: %d lines of %d within 60 s" % (len(lines), want))
