"""Fault tests of deployed instances (test/e2e/multi/faults.test).

usage: faults.py MODE DFIRC TMPDIR, MODE one of
  malformed  bad hellos and frames sent to a receiving instance (pipe.dfir)
  mismatch   a sender built from a different program (pipe_str.dfir) than its receiver
  late       a sender started before its receiver retries; without a receiver it gives up
  orphan     an instance whose launcher went away
  killed     a launched system (ticker.dfir) loses an instance mid-run

Prints what happened, one fact per line, for FileCheck."""
import json
import random
import os
import signal
import socket
import struct
import subprocess
import sys
import time


def start(dir, location, id=0):
    return subprocess.Popen([os.path.join(dir, location), "--deploy", os.path.join(dir, "deploy.json"),
                             "--location", location, "--id", str(id)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def address(dir, location, id=0):
    deploy = json.load(open(os.path.join(dir, "deploy.json")))
    for loc in deploy["locations"]:
        if loc["name"] == location:
            host, port = loc["instances"][id]["address"].rsplit(":", 1)
            return deploy, (host, int(port))
    raise SystemExit("no location " + location)


def connect(addr):
    for _ in range(200):
        try:
            return socket.create_connection(addr, timeout=5)
        except OSError:
            time.sleep(0.02)
    raise SystemExit("cannot connect to the instance")


def hello(deploy, location_index, member, channels):
    data = b"DFIR" + struct.pack("<IQIII", 1, int(deploy["fingerprint"], 16), location_index, member, len(channels))
    for ch in channels:
        data += struct.pack("<IQ", ch, int(deploy["channels"][ch]["fingerprint"], 16))
    return data


def finish(proc, name, timeout):
    """Waits for `proc` to end by itself; says so if it hangs. Returns its stderr."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        print(name, "hung")
    print(name, "exit:", proc.returncode)
    return err


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


def malformed(dir):
    # The receiver `sink` gets frames from `source` on channel 0.
    deploy, addr = address(dir, "sink")
    proc = start(dir, "sink")
    cases = [
        ("not a peer", b"GET / HTTP/1.1\r\n\r\n" + b"x" * 40),
        ("other version", b"DFIR" + struct.pack("<IQIII", 2, int(deploy["fingerprint"], 16), 0, 0, 0)),
        ("bad length", hello(deploy, 0, 0, [0]) + struct.pack("<I", 3)),
        ("unknown channel", hello(deploy, 0, 0, [0]) + struct.pack("<III", 8, 7, 0)),
        ("overrun", hello(deploy, 0, 0, [0]) + struct.pack("<IIII", 12, 0, 1, 1000)),
        ("truncated", hello(deploy, 0, 0, [0]) + struct.pack("<III", 100, 0, 1)),
    ]
    for name, data in cases:
        s = connect(addr)
        s.sendall(data)
        if name == "truncated":
            s.close()  # mid-frame: the connection just ends
        else:
            try:
                reply = s.recv(600)
            except OSError:
                reply = b""
            print("%s: refused=%s" % (name, reply[:1] == b"\x01"))
            s.close()
    # A good frame after all that: the instance still works.
    s = connect(addr)
    item = struct.pack("<q", 41)
    s.sendall(hello(deploy, 0, 0, [0]) + struct.pack("<IIII", 8 + 4 + len(item), 0, 1, len(item)) + item)
    time.sleep(0.5)
    s.close()
    time.sleep(0.2)
    code, out, err = stop(proc)
    print("exit:", code)
    sys.stdout.write(out)
    sys.stdout.write(err)


def mismatch(dir1, dir2):
    sink = start(dir1, "sink")
    source = start(dir2, "source")
    sys.stdout.write(finish(source, "source", 20))
    code, out, err = stop(sink)
    print("sink exit:", code)
    sys.stdout.write(err)


def late(dir):
    # The sender starts first and retries until the receiver listens.
    source = start(dir, "source")
    time.sleep(0.5)
    sink = start(dir, "sink")
    time.sleep(1.0)
    print("source running:", source.poll() is None)
    code, out, err = stop(sink)
    print("sink exit:", code)
    sys.stdout.write(out)
    stop(source)
    # Stopped (SIGTERM) while still retrying: it exits at once, without error.
    waiting = start(dir, "source")
    time.sleep(0.5)
    began = time.monotonic()
    code, out, err = stop(waiting)
    print("stopped while connecting: exit", code, "within 2 s:", time.monotonic() - began < 2)
    sys.stdout.write(err)
    # Nobody listening within DFIR_CONNECT_TIMEOUT_MS: a clear error.
    os.environ["DFIR_CONNECT_TIMEOUT_MS"] = "300"
    alone = start(dir, "source")
    sys.stdout.write(finish(alone, "alone", 20))


def orphan(dir):
    # An instance started by a launcher that dies: its control socket closes, and it stops by itself.
    ours, theirs = socket.socketpair()
    args = [os.path.join(dir, "sink"), "--deploy", os.path.join(dir, "deploy.json"), "--location", "sink", "--id", "0"]
    # A control descriptor that is not open is ignored with a warning (and the instance must then be stopped).
    stray = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=dict(os.environ, DFIR_CONTROL_FD="999"))
    time.sleep(0.3)
    print("stray:", stop(stray)[2].strip())
    sink = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, DFIR_CONTROL_FD=str(theirs.fileno())), pass_fds=(theirs.fileno(),))
    theirs.close()
    ours.settimeout(20)
    # It reports what it does to its launcher: connecting, running, then idle.
    reports = b""
    while b"idle" not in reports:
        got = ours.recv(100)
        if not got:
            break
        reports += got
    print("reports:", " ".join(line.split()[0] for line in reports.decode().splitlines()))
    ours.close()
    finish(sink, "orphan", 20)


def killed(dfirc, dir):
    launch = subprocess.Popen([dfirc, "launch", os.path.join(dir, "deploy.json"), "--timeout", "20"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait for the ticker's output, then kill one worker: this launch's own child, never another test's.
    first = launch.stdout.readline()
    print("running:", bool(first))
    for pid, args in children(launch.pid):
        if args[-3:-1] == [b"--id", b"1"] and b"worker" in args and os.path.basename(args[0]) == b"worker":
            os.kill(pid, signal.SIGKILL)
    sys.stdout.write(finish(launch, "launch", 30))


def children(parent):
    """(pid, argv) of each process whose parent is `parent`."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            stat = open("/proc/%s/stat" % pid).read()
            args = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        # Fields after the command name in parentheses: state, then the parent's pid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append((int(pid), args))
    return found


_reserved = []


def free_port():
    """A loopback port below the ephemeral range, kept reserved until this script ends: bound without
    SO_REUSEADDR (so nothing else holds it, and no other test or launch can take it), then marked SO_REUSEADDR
    so that the instance, which binds with SO_REUSEADDR, can listen on it."""
    for _ in range(200):
        port = random.randint(20000, 31999)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.close()
            continue
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _reserved.append(s)
        return port
    raise SystemExit("no free port")


def build(dfirc, name, out, port):
    inputs = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([dfirc, "build", os.path.join(inputs, name), "-o", out, "--base-port", str(port)], check=True)
    return out


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    port = free_port()
    if mode == "malformed":
        malformed(build(dfirc, "pipe.dfir", os.path.join(tmp, "pipe"), port))
    elif mode == "mismatch":
        mismatch(build(dfirc, "pipe.dfir", os.path.join(tmp, "v1"), port),
                 build(dfirc, "pipe_str.dfir", os.path.join(tmp, "v2"), port))
    elif mode == "orphan":
        orphan(build(dfirc, "pipe.dfir", os.path.join(tmp, "pipe"), port))
    elif mode == "late":
        late(build(dfirc, "pipe.dfir", os.path.join(tmp, "pipe"), port))
    else:
        killed(dfirc, build(dfirc, "ticker.dfir", os.path.join(tmp, "ticker"), 0))
