"""How `dfirc launch` stops a system (test/e2e/multi/launch_stop.test).

usage: launch.py MODE DFIRC TMPDIR, MODE one of
  slow        the workers are still starting when --timeout fires
  connecting  the leader is still starting, so the workers are still connecting
  stubborn    a worker ignores SIGTERM when --timeout fires (launch kills it)
  unclean     after quiescence, an instance exits 3 when stopped (pipe.dfir)
  SIGINT, SIGTERM, SIGHUP
              launch itself receives the signal while the system runs

Prints what happened, one fact per line, for FileCheck."""
import os
import signal
import stat
import subprocess
import sys
import time

from faults import build, children

# Stands in for an instance that is slow to start (a cold page cache, a slow
# disk): waits, then becomes the real executable with the same arguments.
WRAPPER = """#!%(python)s
import os, signal, sys, time
if %(stubborn)s:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(%(delay)s)
os.execv(%(real)r, [%(real)r] + sys.argv[1:])
"""


# Stands in for an instance that reports a failure when it is stopped: runs the real executable (with the
# launcher's control socket) and exits 3 after stopping it.
UNCLEAN = """#!%(python)s
import signal, subprocess, sys
child = subprocess.Popen([%(real)r] + sys.argv[1:], pass_fds=(3,))
stopped = []
def stop(sig, frame):
    stopped.append(sig)
    child.send_signal(signal.SIGTERM)
signal.signal(signal.SIGTERM, stop)
code = child.wait()
sys.exit(3 if stopped else code)
"""


def wrap(dir, location, text, **values):
    exe = os.path.join(dir, location)
    real = exe + ".real"
    os.rename(exe, real)
    with open(exe, "w") as f:
        f.write(text % dict(values, python=sys.executable, real=real))
    os.chmod(exe, stat.S_IRWXU)


def slow_start(dir, location, delay, stubborn=False):
    wrap(dir, location, WRAPPER, stubborn=stubborn, delay=delay)


def timeout(dfirc, dir, seconds=1, stubborn=False):
    began = time.monotonic()
    launch = subprocess.run([dfirc, "launch", os.path.join(dir, "deploy.json"), "--timeout", str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    limit = (20 if stubborn else 10) + seconds - 1
    print("exit:", launch.returncode, "within %d s:" % limit, time.monotonic() - began < limit)
    sys.stdout.write(launch.stderr)


def interrupt(dfirc, dir, sig):
    tmp = os.path.join(dir, "tmp")
    os.makedirs(tmp)
    launch = subprocess.Popen([dfirc, "launch", os.path.join(dir, "deploy.json")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ, TMPDIR=tmp))
    print("running:", bool(launch.stdout.readline()))
    instances = [pid for pid, _ in children(launch.pid)]
    print("instances:", len(instances))
    launch.send_signal(sig)
    try:
        out, err = launch.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        launch.kill()
        out, err = launch.communicate()
        print("hung")
    print("exit:", launch.returncode)
    print("instances left:", sum(os.path.exists("/proc/%d" % pid) for pid in instances))
    print("temporary files left:", len(os.listdir(tmp)))
    sys.stdout.write(err)


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    dir = build(dfirc, "pipe.dfir" if mode == "unclean" else "ticker.dfir", os.path.join(tmp, "system"), 0)
    if mode == "unclean":
        wrap(dir, "sink", UNCLEAN)
        launch = subprocess.run([dfirc, "launch", os.path.join(dir, "deploy.json"), "--timeout", "30"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        print("exit:", launch.returncode)
        sys.stdout.write(launch.stdout + launch.stderr)
    elif mode == "slow":
        slow_start(dir, "worker", 30)
        timeout(dfirc, dir)
    elif mode == "connecting":
        slow_start(dir, "leader", 30)
        # Time enough for the workers to start even on a cold machine, and far less than the leader's delay.
        timeout(dfirc, dir, seconds=5)
    elif mode == "stubborn":
        slow_start(dir, "worker", 30, stubborn=True)
        timeout(dfirc, dir, stubborn=True)
    else:
        interrupt(dfirc, dir, getattr(signal, mode))
