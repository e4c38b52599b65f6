"""Checks the structure of what `dfirc deploy k8s` wrote (test/cli/deploy_k8s.test), against the deploy file and key
that `dfirc build` wrote: every object Kubernetes needs, with names, labels, ports and probes that fit together.

usage: check_k8s.py BUILD_DIR YAML NAMESPACE

Prints facts, one per line, for FileCheck; fails loudly on anything malformed."""
import json
import os
import stat
import sys

import yaml

build, path, ns = sys.argv[1:4]
deploy = json.load(open(os.path.join(build, "deploy.json")))
key = open(os.path.join(build, deploy["key_file"])).read().strip()
docs = [d for d in yaml.safe_load_all(open(path)) if d]
print("private:", stat.S_IMODE(os.stat(path).st_mode) == 0o600)
print("objects:", " ".join("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs))
by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
for d in docs:
    assert d["metadata"]["namespace"] == ns, d["metadata"]
    assert d["metadata"]["labels"]["app.kubernetes.io/name"] == deploy["program"]

config = json.loads(by[("ConfigMap", deploy["program"] + "-deploy")]["data"]["deploy.json"])
print("deploy data without key_file:", "key_file" not in config)
print("same build:", config["fingerprint"] == deploy["fingerprint"], config["channels"] == deploy["channels"])
secret = by[("Secret", deploy["program"] + "-key")]
print("secret holds the key:", secret["stringData"]["key"] == key)

for loc, original in zip(config["locations"], deploy["locations"]):
    name = loc["name"]
    addresses = [i["address"] for i in loc["instances"]]
    expected = ["%s-%d.%s.%s.svc:7400" % (name, i, name, ns) for i in range(len(original["instances"]))]
    assert addresses == expected, addresses
    assert all(i["listen"] == "0.0.0.0:7400" for i in loc["instances"])
    service, sset = by[("Service", name)], by[("StatefulSet", name)]
    spec = service["spec"]
    assert spec["clusterIP"] == "None" and spec["publishNotReadyAddresses"] is True
    assert {p["name"]: p["port"] for p in spec["ports"]} == {"peers": 7400, "metrics": 9400}
    s = sset["spec"]
    assert s["serviceName"] == name and s["podManagementPolicy"] == "Parallel"
    assert s["selector"]["matchLabels"] == s["template"]["metadata"]["labels"] == spec["selector"]
    (c,) = s["template"]["spec"]["containers"]
    assert c["image"] == "localhost/%s:%s" % (deploy["program"], deploy["fingerprint"]), c["image"]
    assert c["command"] == ["/dfir/" + original["executable"]]
    assert c["args"] == ["--deploy", "/etc/dfir/deploy.json", "--location", name, "--id", "$(POD_NAME)",
                         "--metrics-port", "9400"], c["args"]
    env = {e["name"]: e for e in c["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["DFIR_DEPLOY_KEY"]["valueFrom"]["secretKeyRef"] == {"name": deploy["program"] + "-key", "key": "key"}
    assert int(env["DFIR_RECONNECT_MS"]["value"]) > 0 and int(env["DFIR_CONNECT_TIMEOUT_MS"]["value"]) > 0
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"peers": 7400, "metrics": 9400}
    probes = {k: (c[k]["httpGet"]["path"], c[k]["httpGet"]["port"])
              for k in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes == {"startupProbe": ("/healthz", "metrics"), "livenessProbe": ("/healthz", "metrics"),
                      "readinessProbe": ("/readyz", "metrics")}, probes
    mount, = c["volumeMounts"]
    volume, = s["template"]["spec"]["volumes"]
    assert mount["name"] == volume["name"] and mount["mountPath"] == "/etc/dfir"
    assert volume["configMap"]["name"] == deploy["program"] + "-deploy"
    print("%s: replicas %d of %d, %s" % (name, s["replicas"], len(original["instances"]),
                                         "cluster" if original["cluster"] else "process"))
print("all locations checked")
