"""The metrics endpoint of deployed instances (test/e2e/multi/metrics.test), with Inputs/metrics.dfir.

usage: metrics.py MODE DFIRC TMPDIR, MODE one of
  scrape     src sends dst 1000 items; both serve /metrics: the counters match what was sent, /healthz and /readyz
             answer, and bad requests (unknown paths and methods, garbage, an oversized request, a silent client,
             more clients than are served at once) get an error or are closed while the instance keeps serving;
             the scraped texts are left in TMPDIR/src.prom and TMPDIR/dst.prom
  profiling  the same built with --profiling: items into and out of each operator
  busy       the metrics port is taken: the instance says so and exits 1 before it runs
  launch     `dfirc launch --metrics` (ticker.dfir): it prints each instance's address, and each answers

Prints what happened, one fact per line, for FileCheck."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from faults import free_port, line_within, stop, PATIENCE

INPUTS = os.path.dirname(os.path.abspath(__file__))


def build(dfirc, name, out, *flags):
    subprocess.run([dfirc, "build", os.path.join(INPUTS, name), "-o", out, "--base-port", str(free_port())] +
                   list(flags), check=True)
    return out


def get(port, path, method="GET"):
    """(status, content type, body) of a request to the endpoint."""
    try:
        with urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method),
                                    timeout=PATIENCE) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(text):
    """{(name, labels): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.match(r'([a-z_]+)(\{[^}]*\})? (\S+)$', line)
        if not m:
            raise SystemExit("not a sample: " + line)
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def raw(port, data, read=True):
    """Sends `data` on a connection of its own; the status line of the answer (or what ended it)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    s.sendall(data)
    if not read:
        return s
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    return got.split(b"\r\n")[0].decode() if got else "closed"


def run_pair(dir):
    ports = {"src": free_port(), "dst": free_port()}
    procs = {}
    for loc in ("dst", "src"):
        procs[loc] = start_with(dir, loc, ports[loc])
    print("dst:", line_within(procs["dst"].stdout, "the last item").strip())
    return procs, ports


def start_with(dir, loc, port):
    return subprocess.Popen([os.path.join(dir, loc), "--deploy", os.path.join(dir, "deploy.json"), "--location", loc,
                             "--id", "0", "--metrics-port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def killing(procs, check):
    """Runs `check`; a failed one leaves nothing running (deployed instances never end by themselves)."""
    try:
        check()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()


def scrape(dir, tmp):
    procs, ports = run_pair(dir)
    killing(procs, lambda: scrape_pair(procs, ports, tmp))


def scrape_pair(procs, ports, tmp):
    got = {}
    for loc in ("src", "dst"):
        status, kind, body = get(ports[loc], "/metrics")
        print(loc, "metrics:", status, kind)
        with open(os.path.join(tmp, loc + ".prom"), "w") as f:
            f.write(body)
        got[loc] = samples(body)
    src, dst = got["src"], got["dst"]
    c = '{channel="c"}'
    print("items sent, received:", src[("dfir_channel_items_sent_total", c)],
          dst[("dfir_channel_items_received_total", c)])
    sent_bytes, received_bytes = src[("dfir_channel_bytes_sent_total", c)], dst[("dfir_channel_bytes_received_total", c)]
    print("bytes match:", sent_bytes == received_bytes and sent_bytes >= 1000 * 8, int(sent_bytes))
    frames = src[("dfir_channel_frames_sent_total", c)], dst[("dfir_channel_frames_received_total", c)]
    print("frames match:", frames[0] == frames[1] and frames[0] >= 1, frames)
    print("src ticks at least 10:", src[("dfir_ticks_total", "")] >= 10)
    print("connected:", src[("dfir_peer_connected", '{peer="dst/0",direction="out"}')],
          dst[("dfir_peer_connected", '{peer="src/0",direction="in"}')])
    print("queued, unsent:", dst[("dfir_channel_queued_bytes", c)], src[("dfir_peer_unsent_bytes", '{peer="dst/0"}')])
    print("info:", [k[1] for k in dst if k[0] == "dfir_instance_info"][0].split(",fingerprint")[0])
    port = ports["dst"]
    print("healthz:", get(port, "/healthz")[0], "readyz:", get(port, "/readyz")[0])
    print("head:", get(port, "/metrics", "HEAD")[0], "unknown path:", get(port, "/nope")[0],
          "post:", get(port, "/metrics", "POST")[0])
    print("garbage:", raw(port, b"\x16\x03\x01 hello\r\n\r\n"))
    print("oversized:", raw(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000))
    silent = raw(port, b"GET /metr", read=False)
    crowd = [socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) for _ in range(20)]
    time.sleep(0.2)
    refused = 0
    for s in crowd:  # beyond the 16 served at once, connections are closed at once
        s.settimeout(0.5)
        try:
            refused += s.recv(1) == b""
        except socket.timeout:
            pass
    print("closed beyond 16:", refused >= 4)
    for s in crowd:
        s.close()
    print("while a client is silent:", get(port, "/metrics")[0])
    started = time.monotonic()
    silent.settimeout(PATIENCE)
    print("the silent client is closed after its time:", silent.recv(100) == b"", time.monotonic() - started < 10)
    print("refused connections:", samples(get(port, "/metrics")[2])[("dfir_connections_refused_total", "")])
    for loc in ("src", "dst"):
        procs[loc].send_signal(signal.SIGTERM)
        out, err = procs[loc].communicate(timeout=PATIENCE)
        print(loc, "exit:", procs[loc].returncode, repr(err))


def profiling(dir):
    procs, ports = run_pair(dir)
    killing(procs, lambda: count_operators(procs, ports))


def count_operators(procs, ports):
    dst = samples(get(ports["dst"], "/metrics")[2])
    folds = [v for (name, labels), v in dst.items() if name == "dfir_operator_items_in_total" and 'op="fold"' in labels]
    print("fold in:", folds)
    sends = [v for (name, labels), v in samples(get(ports["src"], "/metrics")[2]).items()
             if name == "dfir_operator_items_in_total" and 'op="send"' in labels]
    print("send in:", sends)
    for p in procs.values():
        stop(p)


def busy(dir):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    p = start_with(dir, "dst", port)
    out, err = p.communicate(timeout=PATIENCE)
    print("exit:", p.returncode)
    print(err.strip().replace(str(port), "PORT"))


def launch(dfirc, dir):
    p = subprocess.Popen([dfirc, "launch", "--metrics", os.path.join(dir, "deploy.json")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        scrape_launched(p)
    finally:  # a failed check leaves nothing running
        if p.poll() is None:
            p.kill()


def scrape_launched(p):
    urls = {}
    while len(urls) < 3:
        line = line_within(p.stderr, "a metrics address")
        m = re.match(r"dfirc: metrics of (\S+): (http://127\.0\.0\.1:\d+/metrics)$", line.strip())
        if not m:
            raise SystemExit("unexpected: " + line)
        urls[m.group(1)] = m.group(2)
    print("instances:", sorted(urls))
    def fetch(url):  # printed before the instance listens: refused until it does
        while True:
            try:
                return samples(urllib.request.urlopen(url, timeout=PATIENCE).read().decode())
            except urllib.error.URLError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    deadline = time.monotonic() + PATIENCE
    while True:
        got = {k: fetch(u) for k, u in urls.items()}
        beats = got["leader/0"].get(("dfir_channel_items_received_total", '{channel="beats"}'), 0)
        if beats >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    print("leader heard beats:", beats >= 4)
    print("workers sent:", all(got["worker/%d" % i][("dfir_channel_items_sent_total", '{channel="beats"}')] > 0
                               for i in (0, 1)))
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=PATIENCE)
    print("launch exit:", p.returncode)


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    if mode == "scrape":
        scrape(build(dfirc, "metrics.dfir", os.path.join(tmp, "out")), tmp)
    elif mode == "profiling":
        profiling(build(dfirc, "metrics.dfir", os.path.join(tmp, "out"), "--profiling"))
    elif mode == "busy":
        busy(build(dfirc, "metrics.dfir", os.path.join(tmp, "out")))
    elif mode == "launch":
        launch(dfirc, build(dfirc, "ticker.dfir", os.path.join(tmp, "out")))
    else:
        raise SystemExit("unknown mode " + mode)
