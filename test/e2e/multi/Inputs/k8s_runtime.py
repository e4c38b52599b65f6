"""What a deploy file written for Kubernetes asks of an instance (test/e2e/multi/k8s_runtime.test), with
Inputs/metrics.dfir: a `listen` address apart from the address peers use, an id given as a pod's name, and a
peer whose name does not resolve (yet).

usage: k8s_runtime.py MODE DFIRC TMPDIR, MODE one of
  listen      every instance listens on 0.0.0.0 (`listen`) and is reached at 127.0.0.1 (`address`), its id given
              as a pod name (`--id dst-0`): the items arrive, and the metrics endpoint listens there too
  badlisten   a `listen` that is not HOST:PORT: a clear error
  badid       an id that is neither N nor a name ending in -N: a usage error; a pod beyond the location's size:
              an error saying how many it has
  unresolved  a peer whose name does not resolve: retried, then an error naming it

Prints what happened, one fact per line, for FileCheck."""
import json
import os
import subprocess
import sys
import urllib.request

from faults import build, free_port, line_within, stop, PATIENCE

def edit(dir, change):
    path = os.path.join(dir, "deploy.json")
    deploy = json.load(open(path))
    change({l["name"]: l["instances"][0] for l in deploy["locations"]})
    json.dump(deploy, open(path, "w"))


def run(dir, loc, id, *extra, env=None):
    return subprocess.Popen([os.path.join(dir, loc), "--deploy", os.path.join(dir, "deploy.json"), "--location", loc,
                             "--id", id] + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **(env or {})))


def listen(dir):
    ports = {}

    def change(instances):
        for name, i in instances.items():
            ports[name] = int(i["address"].rsplit(":", 1)[1])
            i["listen"] = "0.0.0.0:%d" % ports[name]
    edit(dir, change)
    metrics = free_port()
    dst = run(dir, "dst", "dst-0", "--metrics-port", str(metrics))
    src = run(dir, "src", "src-0")
    print("dst:", line_within(dst.stdout, "the last item").strip())
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics, timeout=PATIENCE).read().decode()
    print("metrics:", [l for l in text.splitlines() if l.startswith("dfir_instance_info")][0].split(",fingerprint")[0])
    for p in (src, dst):
        code, out, err = stop(p)
        print("exit:", code, repr(err))


def badlisten(dir):
    edit(dir, lambda instances: instances["dst"].update(listen="everywhere"))
    out, err = run(dir, "dst", "0").communicate(timeout=PATIENCE)
    print(err.strip())


def badid(dir):
    # Not an id; then the pod of a StatefulSet whose replicas were raised past the program's size.
    for id in ("dst-zero", "dst-1"):
        p = run(dir, "dst", id)
        out, err = p.communicate(timeout=PATIENCE)
        print("exit:", p.returncode)
        print(err.splitlines()[0])


def unresolved(dir):
    edit(dir, lambda instances: instances["dst"].update(address="dst-0.dst.nowhere.invalid:7400"))
    p = run(dir, "src", "0", env={"DFIR_CONNECT_TIMEOUT_MS": "300"})
    out, err = p.communicate(timeout=PATIENCE * 2)
    print("exit:", p.returncode)
    print(err.strip())


if __name__ == "__main__":
    mode, dfirc, tmp = sys.argv[1:4]
    os.makedirs(tmp, exist_ok=True)
    out = build(dfirc, "metrics.dfir", os.path.join(tmp, "out"), free_port())
    {"listen": listen, "badlisten": badlisten, "badid": badid, "unresolved": unresolved}[mode](out)
