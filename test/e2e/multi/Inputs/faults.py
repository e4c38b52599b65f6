"""Fault tests of deployed instances (test/e2e/multi/faults.test).

usage: faults.py MODE DFIRC TMPDIR, MODE one of
  malformed  bad hellos, handshakes and frames sent to a receiving instance (pipe.dfir)
  hostile    frames whose items lie about their contents (hostile.dfir)
  halfsent   many connections each sending most of a big frame, and no more
  fds        a receiver out of file descriptors
  mismatch   a sender built from a different program (pipe_str.dfir) than its receiver
  late       a sender started before its receiver retries; without a receiver it gives up
  orphan     an instance whose launcher went away
  killed     a launched system (ticker.dfir) loses an instance mid-run

Prints what happened, one fact per line, for FileCheck."""
import hashlib
import hmac
import json
import random
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

# How long a test waits for an instance to get somewhere (start, connect, print). A cold machine (executables and
# libraries not in the page cache) can take seconds to start one; nothing here waits for a fixed time instead.
PATIENCE = 30


class Reports:
    """What an instance reports on its control socket, as it would to `dfirc launch` (connecting, running, idle
    ...), read as it comes so that the instance never blocks on a full socket."""

    def __init__(self, sock):
        self.seen, self.changed = set(), threading.Condition()
        threading.Thread(target=self.read, args=(sock,), daemon=True).start()

    def read(self, sock):
        for line in sock.makefile("rb"):
            with self.changed:
                self.seen.add(line.split()[0].decode() if line.split() else "")
                self.changed.notify_all()

    def wait(self, word):
        with self.changed:
            if not self.changed.wait_for(lambda: word in self.seen, PATIENCE):
                raise SystemExit("the instance did not report `%s` within %d s" % (word, PATIENCE))


def start(dir, location, id=0, env=None):
    """Starts an instance; `proc.reports` are its control reports. `proc.reports.wait("running")` returns once it
    has set itself up (its signal handlers too) and connected to its peers."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen([os.path.join(dir, location), "--deploy", os.path.join(dir, "deploy.json"),
                             "--location", location, "--id", str(id)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, pass_fds=(theirs.fileno(),),
                            env=dict(os.environ, DFIR_CONTROL_FD=str(theirs.fileno()), **(env or {})))
    theirs.close()
    proc.reports = Reports(ours)
    return proc


def line_within(stream, what):
    """The next line of `stream`, waiting at most PATIENCE seconds for it."""
    got = []
    reader = threading.Thread(target=lambda: got.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(PATIENCE)
    if not got or not got[0]:
        raise SystemExit("no %s within %d s" % (what, PATIENCE))
    return got[0]


def address(dir, location, id=0):
    deploy = json.load(open(os.path.join(dir, "deploy.json")))
    for loc in deploy["locations"]:
        if loc["name"] == location:
            host, port = loc["instances"][id]["address"].rsplit(":", 1)
            return deploy, (host, int(port))
    raise SystemExit("no location " + location)


def connect(addr):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        try:
            return socket.create_connection(addr, timeout=5)
        except OSError:
            time.sleep(0.02)
    raise SystemExit("cannot connect to the instance within %d s" % PATIENCE)


def hello(deploy, location_index, member, channels, version=2):
    data = b"DFIR" + struct.pack("<IQIII", version, int(deploy["fingerprint"], 16), location_index, member,
                                 len(channels))
    for ch in channels:
        data += struct.pack("<IQ", ch, int(deploy["channels"][ch]["fingerprint"], 16))
    return data + os.urandom(32)


def key_of(dir):
    return bytes.fromhex(open(os.path.join(dir, "deploy.key")).read().strip())


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        got = s.recv(n - len(data))
        if not got:
            break
        data += got
    return data


def handshake(s, deploy, key, location_index=0, member=0, channels=(0,)):
    """Sends a hello as instance `member` of location `location_index`, checks the receiver's challenge and
    answers it with a proof made with `key`. Returns (hello, challenge, proof)."""
    h = hello(deploy, location_index, member, list(channels))
    s.sendall(h)
    challenge = recv_exact(s, 65)
    assert challenge[:1] == b"\0", challenge
    proof = hmac.new(key, b"dfir-connect" + h + challenge[1:33], hashlib.sha256).digest()
    s.sendall(proof)
    return h, challenge, proof


def verified(deploy, key, challenge, h):
    """Whether the receiver's challenge proves that it holds `key`."""
    return hmac.compare_digest(challenge[33:], hmac.new(key, b"dfir-accept" + h + challenge[1:33], hashlib.sha256).digest())


def refused(s):
    try:
        reply = s.recv(600)
    except OSError:
        reply = b""
    return reply[:1] == b"\x01"


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


def report_stop(proc):
    """Stops `proc` and prints its exit status, output and errors."""
    code, out, err = stop(proc)
    print("exit:", code)
    sys.stdout.write(out)
    sys.stdout.write(err)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    return proc.returncode, out, err


def malformed(dir):
    # The receiver `sink` gets frames from `source` on channel 0.
    deploy, addr = address(dir, "sink")
    key = key_of(dir)
    proc = start(dir, "sink", env={"DFIR_HANDSHAKE_TIMEOUT_MS": "400", "DFIR_FRAME_TIMEOUT_MS": "400"})
    raw = [
        ("not a peer", b"GET / HTTP/1.1\r\n\r\n" + b"x" * 40),
        ("other version", hello(deploy, 0, 0, [], version=1)),
    ]
    for name, data in raw:
        s = connect(addr)
        s.sendall(data)
        print("%s: refused=%s" % (name, refused(s)))
        s.close()
    # The receiver proves that it holds the key before anything else.
    s = connect(addr)
    h = hello(deploy, 0, 0, [0])
    s.sendall(h)
    challenge = recv_exact(s, 65)
    print("receiver proves the key:", verified(deploy, key, challenge, h), "and not another:",
          verified(deploy, os.urandom(32), challenge, h))
    s.close()
    # A peer without the key: a hello built from the deploy file is not enough.
    s = connect(addr)
    handshake(s, deploy, os.urandom(32))
    s.sendall(struct.pack("<IIII", 12, 0, 1, 8) + struct.pack("<q", 666))
    print("without the key: refused=%s" % refused(s))
    s.close()
    # A recorded handshake replayed: the receiver's nonce is new each time.
    s = connect(addr)
    h, challenge, proof = handshake(s, deploy, key)
    s.close()
    s = connect(addr)
    s.sendall(h + proof + struct.pack("<IIII", 12, 0, 1, 8) + struct.pack("<q", 667))
    recv_exact(s, 65)  # a new challenge, which the recorded proof does not answer
    print("replayed: refused=%s" % refused(s))
    s.close()
    # Silent and slow peers are cut off (the timeouts are 400 ms here).
    s = connect(addr)
    print("silent: refused=%s" % refused(s))
    s.close()
    s = connect(addr)
    handshake(s, deploy, key)
    s.sendall(struct.pack("<III", 100, 0, 1))
    print("slow frame: refused=%s" % refused(s))
    s.close()
    frames = [
        ("bad length", struct.pack("<I", 3)),
        ("unknown channel", struct.pack("<III", 8, 7, 0)),
        ("overrun", struct.pack("<IIII", 12, 0, 1, 1000)),
        ("short item", struct.pack("<IIII", 12, 0, 1, 0)),
    ]
    for name, data in frames:
        s = connect(addr)
        handshake(s, deploy, key)
        s.sendall(data)
        print("%s: refused=%s" % (name, refused(s)))
        s.close()
    s = connect(addr)
    handshake(s, deploy, key)
    s.sendall(struct.pack("<III", 100, 0, 1))
    s.close()  # mid-frame: the connection just ends
    # A good frame after all that: the instance still works.
    good_item(deploy, key, addr, 41)
    report_stop(proc)


def frame(*items):
    return struct.pack("<III", 8 + sum(4 + len(i) for i in items), 0, len(items)) + b"".join(
        struct.pack("<I", len(i)) + i for i in items)


def text(s, claimed=None):
    data = s.encode()
    return struct.pack("<IQ", 0, len(data) if claimed is None else claimed) + data


def hostile(dir):
    """Items of `Msg` (hostile.dfir) that lie about their contents; each closes its connection with the
    reason, and nothing but the honest items is printed."""
    deploy, addr = address(dir, "sink")
    key = key_of(dir)
    proc = start(dir, "sink")
    tree = b""
    for _ in range(5000):
        tree = struct.pack("<Q", 0) + struct.pack("<Q", 1) + tree  # Tree { label: "", kids: [tree] }
    tree += struct.pack("<QQ", 0, 0)
    cases = [
        ("honest", frame(text("SECRET-OF-ANOTHER-PEER"))),
        ("huge string", frame(text("abcd", claimed=10 ** 8))),
        ("string past its item", frame(text("", claimed=200))),
        ("item shorter than a tag", frame(b"\0\0")),
        ("huge list", frame(struct.pack("<IQ", 1, 10 ** 12) + struct.pack("<q", 5))),
        ("enum tag", frame(struct.pack("<I", 99))),
        ("boolean", frame(struct.pack("<IB", 3, 7))),
        ("option tag", frame(struct.pack("<IBQ", 4, 2, 0))),
        ("deep nesting", frame(struct.pack("<I", 2) + tree)),
        ("trailing bytes", frame(text("a") + b"!")),
        ("one bad item of two", frame(text("first"), struct.pack("<I", 42))),
        ("nested", frame(struct.pack("<I", 2) + struct.pack("<Q", 1) + b"n" + struct.pack("<Q", 1) +
                         struct.pack("<Q", 1) + b"m" + struct.pack("<Q", 0))),
    ]
    for name, data in cases:
        s = connect(addr)
        handshake(s, deploy, key)
        s.sendall(data)
        if name in ("honest", "nested"):
            time.sleep(0.3)
        else:
            print("%s: refused=%s" % (name, refused(s)))
        s.close()
    time.sleep(0.3)
    report_stop(proc)


def peak_mib(proc):
    for line in open("/proc/%d/status" % proc.pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


def cpu_seconds(proc):
    fields = open("/proc/%d/stat" % proc.pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def good_item(deploy, key, addr, value):
    s = connect(addr)
    handshake(s, deploy, key)
    item = struct.pack("<q", value)
    s.sendall(struct.pack("<IIII", 8 + 4 + len(item), 0, 1, len(item)) + item)
    time.sleep(0.3)
    s.close()


def halfsent(dir):
    """Ten connections each send 3.5 MiB of a 4 MiB frame (DFIR_MAX_FRAME) and stop: the receiver holds at
    most DFIR_MAX_BUFFERED (8 MiB) of unfinished frames plus the oldest one, cuts each off after
    DFIR_FRAME_TIMEOUT_MS, and then still works."""
    deploy, addr = address(dir, "sink")
    key = key_of(dir)
    proc = start(dir, "sink", env={"DFIR_MAX_FRAME": str(4 << 20), "DFIR_MAX_BUFFERED": str(8 << 20),
                                   "DFIR_FRAME_TIMEOUT_MS": "2000"})
    part = struct.pack("<IIII", (4 << 20) - 4, 0, 1, (4 << 20) - 16) + b"x" * (7 << 19)
    socks = []
    for _ in range(10):
        s = connect(addr)
        handshake(s, deploy, key)
        s.setblocking(False)
        socks.append([s, 0])
    began = time.time()
    while time.time() - began < 1.5:
        for entry in socks:
            try:
                entry[1] += entry[0].send(part[entry[1]:entry[1] + 65536])
            except OSError:
                pass
        time.sleep(0.001)
    print("sent MiB:", sum(n for _, n in socks) >> 20, "peak MiB below 24:", peak_mib(proc) < 24)
    cut = sum(refused_later(s) for s, _ in socks)
    print("cut off:", cut)
    for s, _ in socks:
        s.close()
    good_item(deploy, key, addr, 41)
    code, out, err = stop(proc)
    print("exit:", code)
    sys.stdout.write(out)
    print("timeouts:", err.count("it sent part of a frame and not the rest within 2000 ms"))


def refused_later(s):
    s.setblocking(True)
    s.settimeout(10)
    try:
        while True:
            got = s.recv(600)
            if not got or got[:1] == b"\x01":
                return 1
    except OSError:
        return 1


def fds(dir):
    """A receiver allowed 24 descriptors, sent 40 connections: it says so once, does not spin, and works
    again once they close."""
    import resource
    deploy, addr = address(dir, "sink")
    key = key_of(dir)
    limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))
    proc = subprocess.Popen([os.path.join(dir, "sink"), "--deploy", os.path.join(dir, "deploy.json"),
                             "--location", "sink", "--id", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=limit)
    socks = [connect(addr) for _ in range(40)]
    time.sleep(0.2)
    before = cpu_seconds(proc)
    time.sleep(1.0)
    print("busy while out of descriptors:", cpu_seconds(proc) - before > 0.5)
    for s in socks:
        s.close()
    time.sleep(0.5)
    good_item(deploy, key, addr, 43)
    report_stop(proc)


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
    source.reports.wait("connecting")
    time.sleep(0.3)
    sink = start(dir, "sink")
    got = line_within(sink.stdout, "item at the sink") + line_within(sink.stdout, "second item at the sink")
    print("source running:", source.poll() is None)
    code, out, err = stop(sink)
    print("sink exit:", code)
    sys.stdout.write(got + out)
    stop(source)
    # Stopped (SIGTERM) while still retrying: it exits at once, without error.
    waiting = start(dir, "source")
    waiting.reports.wait("connecting")
    time.sleep(0.3)
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
    warning = line_within(stray.stderr, "warning")
    print("stray:", (warning + stop(stray)[2]).strip())
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
    elif mode in ("halfsent", "fds"):
        globals()[mode](build(dfirc, "pipe.dfir", os.path.join(tmp, "pipe"), port))
    elif mode == "hostile":
        hostile(build(dfirc, "hostile.dfir", os.path.join(tmp, "hostile"), port))
    elif mode == "mismatch":
        mismatch(build(dfirc, "pipe.dfir", os.path.join(tmp, "v1"), port),
                 build(dfirc, "pipe_str.dfir", os.path.join(tmp, "v2"), port))
    elif mode == "orphan":
        orphan(build(dfirc, "pipe.dfir", os.path.join(tmp, "pipe"), port))
    elif mode == "late":
        late(build(dfirc, "pipe.dfir", os.path.join(tmp, "pipe"), port))
    else:
        killed(dfirc, build(dfirc, "ticker.dfir", os.path.join(tmp, "ticker"), 0))
