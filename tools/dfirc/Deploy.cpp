//===- Deploy.cpp - dfirc deploy k8s: Kubernetes manifests of a build ----===//
//
// Reads what `dfirc build` wrote (DIR/deploy.json and its key) and writes
// the YAML that runs it on Kubernetes (docs/deployment.md, "Kubernetes"):
// the deploy data in a ConfigMap (every instance at its pod's stable DNS
// name, listening on all its pod's interfaces), the key in a Secret, and
// per location a headless Service and a StatefulSet whose pods learn their
// instance id from their ordinal (`--id $(POD_NAME)`), with probes on the
// instance's metrics endpoint. The file is written whole or not at all.
//
//===----------------------------------------------------------------------===//
#include "tools/dfirc/Driver.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>
#include <string>
#include <vector>

namespace dfir::driver {
namespace {

/// A DNS-1123 label (what Kubernetes names and Service DNS names are).
bool isDnsLabel(const std::string &s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
      return false;
  return true;
}

/// A location's or program's name as a DNS label: lower case, `_` as `-`.
std::string dnsName(const std::string &name) {
  std::string out;
  for (char c : name) out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A YAML double-quoted scalar.
std::string quoted(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

/// Whether `path` is an ELF executable that loads no shared library (no
/// program interpreter): what runs in an image `FROM scratch`.
bool isStaticElf(const std::string &path, std::string &why) {
  std::string bytes;
  if (!readFile(path, bytes)) {
    why = "cannot be read";
    return false;
  }
  auto u16 = [&](size_t at) { return at + 2 <= bytes.size() ? static_cast<unsigned>(static_cast<unsigned char>(bytes[at]) | static_cast<unsigned char>(bytes[at + 1]) << 8) : 0u; };
  auto u64 = [&](size_t at) {
    uint64_t v = 0;
    for (int i = 7; i >= 0 && at + 8 <= bytes.size(); --i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  if (bytes.size() < 64 || bytes.compare(0, 4, "\x7f" "ELF") != 0 || bytes[4] != 2 || bytes[5] != 1) {
    why = "is not a 64-bit little-endian ELF executable";
    return false;
  }
  uint64_t phoff = u64(32);
  unsigned phentsize = u16(54), phnum = u16(56);
  for (unsigned i = 0; i < phnum; ++i) {
    uint64_t at = phoff + static_cast<uint64_t>(i) * phentsize;
    if (at + 4 > bytes.size()) break;
    if (u16(at) == 3 /* PT_INTERP */) {
      why = "is linked dynamically (build it with `dfirc build --static`)";
      return false;
    }
  }
  return true;
}

bool onPath(const std::string &program) {
  const char *path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t at = 0; at <= dirs.size();) {
    size_t end = dirs.find(':', at);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(at, end - at);
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    at = end + 1;
  }
  return false;
}

/// Writes `text` to `path` whole or not at all, with `mode`.
bool writeWhole(const std::string &path, const std::string &text, int mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  bool written = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) written = ::close(fd) == 0 && written;
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

struct Location {
  std::string name, dns, executable;
  bool cluster = false;
  size_t count = 0;
};

int fail(const std::string &message) {
  std::fprintf(stderr, "dfirc: error: %s\n", message.c_str());
  return kExitUserError;
}

/// The deploy data that `dfirc build` wrote in a directory, for `dfirc
/// deploy COMMAND`.
struct Build {
  std::string path; // DIR/deploy.json
  llvm::json::Value data = nullptr;
  llvm::json::Object *root = nullptr;
  llvm::json::Array *locations = nullptr;
  std::string program, fingerprint;
};

/// Reads it; an error message when it cannot.
std::string readBuild(const std::string &dir, const char *command, Build &b) {
  b.path = dir + "/deploy.json";
  std::string text;
  if (!readFile(b.path, text))
    return "cannot read `" + b.path + "`: `dfirc deploy " + command + "` takes the directory that `dfirc build` wrote";
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) return "`" + b.path + "` is not a deploy file: " + llvm::toString(parsed.takeError());
  b.data = std::move(*parsed);
  b.root = b.data.getAsObject();
  b.locations = b.root ? b.root->getArray("locations") : nullptr;
  std::optional<llvm::StringRef> program = b.root ? b.root->getString("program") : std::nullopt;
  std::optional<llvm::StringRef> fingerprint = b.root ? b.root->getString("fingerprint") : std::nullopt;
  if (!b.locations || !program || !fingerprint)
    return "`" + b.path + "` is not a deploy file: it needs `program`, `fingerprint` and `locations`";
  b.program = program->str();
  b.fingerprint = fingerprint->str();
  return "";
}

} // namespace

int runDeployK8s(const DeployK8sOptions &opts) {
  Build b;
  if (std::string why = readBuild(opts.dir, "k8s", b); !why.empty()) return fail(why);
  const std::string &deployPath = b.path, &programName = b.program, &build = b.fingerprint;
  llvm::json::Object *root = b.root;
  llvm::json::Array *locations = b.locations;
  if (!isDnsLabel(opts.ns))
    return fail("namespace `" + opts.ns + "` is not a Kubernetes name (lower-case letters, digits and `-`, at most 63)");
  if (opts.port == 0 || opts.port > 65535 || opts.metricsPort == 0 || opts.metricsPort > 65535 ||
      opts.port == opts.metricsPort)
    return fail("`--port` and `--metrics-port` must be two different ports from 1 to 65535");
  std::string app = dnsName(programName);
  if (!isDnsLabel(app) || app.size() > 50)
    return fail("program name `" + programName + "` does not make a Kubernetes name (`" + app + "`)");
  // The key: the Secret's, given to each instance as DFIR_DEPLOY_KEY.
  std::string key;
  std::optional<llvm::StringRef> keyFile = root->getString("key_file");
  std::string keyPath = keyFile ? (keyFile->starts_with("/") ? keyFile->str() : opts.dir + "/" + keyFile->str()) : "";
  if (!keyFile || !readFile(keyPath, key))
    return fail("cannot read the deployment key of `" + deployPath + "`" + (keyFile ? " (`" + keyPath + "`)" : ""));
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  if (key.size() != 64 || key.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return fail("`" + keyPath + "` does not hold a key of 64 hexadecimal digits");

  std::vector<Location> locs;
  unsigned instanceCount = 0;
  for (llvm::json::Value &l : *locations) {
    llvm::json::Object *obj = l.getAsObject();
    std::optional<llvm::StringRef> name = obj ? obj->getString("name") : std::nullopt;
    std::optional<llvm::StringRef> exe = obj ? obj->getString("executable") : std::nullopt;
    llvm::json::Array *instances = obj ? obj->getArray("instances") : nullptr;
    if (!name || !exe || !instances || instances->empty())
      return fail("`" + deployPath + "`: every location needs `name`, `executable` and `instances`");
    Location loc{name->str(), dnsName(name->str()), exe->str(), obj->getBoolean("cluster").value_or(false),
                 instances->size()};
    if (!isDnsLabel(loc.dns) || loc.dns.size() > 52)
      return fail("location `" + loc.name + "` does not make a Kubernetes name (`" + loc.dns +
                  "`): rename it (letters, digits and `_`, starting with a letter)");
    for (const Location &other : locs)
      if (other.dns == loc.dns)
        return fail("locations `" + other.name + "` and `" + loc.name + "` make the same Kubernetes name `" + loc.dns +
                    "`: rename one");
    // Member i of location L: pod L-i of StatefulSet L, through the headless
    // Service L; it listens on every interface of its pod. Local: the
    // containers of one pod share its loopback, each at its own port.
    for (size_t i = 0; i < instances->size(); ++i) {
      llvm::json::Object *instance = (*instances)[i].getAsObject();
      if (!instance) return fail("`" + deployPath + "`: an instance is not an object");
      if (opts.local) {
        (*instance)["address"] = "127.0.0.1:" + std::to_string(opts.port + instanceCount);
      } else {
        (*instance)["address"] = loc.dns + "-" + std::to_string(i) + "." + loc.dns + "." + opts.ns + ".svc:" +
                                 std::to_string(opts.port);
        (*instance)["listen"] = "0.0.0.0:" + std::to_string(opts.port);
      }
      ++instanceCount;
    }
    locs.push_back(loc);
  }
  root->erase("key_file"); // the key comes from the Secret
  std::string deployJson;
  {
    llvm::raw_string_ostream os(deployJson);
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(*root)));
  }
  std::string image = opts.image.empty() ? "localhost/" + app + ":" + build : opts.image;
  std::string port = std::to_string(opts.port), metrics = std::to_string(opts.metricsPort);

  std::ostringstream y;
  y << "# Kubernetes manifests of `" << programName << "`, written by `dfirc deploy k8s` from its build "
    << build << ".\n";
  if (opts.local)
    y << "# Run on this machine with `podman kube play`: one pod, a container per instance, sharing its network\n"
      << "# (instance k at 127.0.0.1:" << port << "+k, its metrics at port " << metrics
      << "+k). The image holds the executables in /dfir.\n";
  else
    y << "# Apply with `kubectl apply -f` (namespace `" << opts.ns << "` must exist). Member i of location L is\n"
      << "# pod L-i of StatefulSet L, reachable at L-i.L." << opts.ns << ".svc:" << port
      << "; each pod serves /metrics, /healthz and\n# /readyz on port " << metrics
      << ". The image holds the executables in /dfir (`dfirc deploy image`).\n";
  auto labels = [&](const std::string &indent, const std::string *component) {
    y << indent << "app.kubernetes.io/name: " << quoted(app) << "\n";
    if (component) y << indent << "app.kubernetes.io/component: " << quoted(*component) << "\n";
    y << indent << "app.kubernetes.io/managed-by: dfirc\n";
  };
  auto metadata = [&](const std::string &name, const std::string *component) {
    y << "metadata:\n  name: " << quoted(name) << "\n  namespace: " << quoted(opts.ns) << "\n  labels:\n";
    labels("    ", component);
  };
  y << "---\napiVersion: v1\nkind: ConfigMap\n";
  metadata(app + "-deploy", nullptr);
  y << "data:\n  deploy.json: |\n";
  std::istringstream lines(deployJson);
  for (std::string line; std::getline(lines, line);) y << "    " << line << "\n";
  if (opts.local) {
    if (opts.port + instanceCount > 65536 || opts.metricsPort + instanceCount > 65536)
      return fail("the instances' ports go past 65535: give lower `--port` and `--metrics-port`");
    // One pod, a container per instance, for `podman kube play` on one
    // machine: the same image and arguments, with the id written out (podman
    // does not expand `$(POD_NAME)`) and the key in the environment.
    y << "---\napiVersion: v1\nkind: Pod\n";
    metadata(app, nullptr);
    // As in a cluster, a failed instance is started again and its peers
    // wait for it; one that ends well stays ended (a finite program).
    y << "spec:\n  restartPolicy: OnFailure # a failed instance starts again; its peers reconnect to it\n"
      << "  containers:\n";
    unsigned g = 0;
    for (const Location &loc : locs)
      for (size_t i = 0; i < loc.count; ++i, ++g) {
        std::string pod = loc.dns + "-" + std::to_string(i);
        y << "  - name: " << quoted(pod) << "\n"
          << "    image: " << quoted(image) << "\n"
          << "    command: [" << quoted("/dfir/" + loc.executable) << "]\n"
          << "    args: [\"--deploy\", \"/etc/dfir/deploy.json\", \"--location\", " << quoted(loc.name)
          << ", \"--id\", " << quoted(pod) << ", \"--metrics-port\", " << quoted(std::to_string(opts.metricsPort + g))
          << "]\n"
          << "    env:\n    - name: DFIR_DEPLOY_KEY\n      value: " << quoted(key) << "\n"
          << "    - name: DFIR_RECONNECT_MS\n      value: \"60000\"\n"
          << "    volumeMounts:\n    - name: deploy\n      mountPath: /etc/dfir\n      readOnly: true\n";
      }
    y << "  volumes:\n  - name: deploy\n    configMap:\n      name: " << quoted(app + "-deploy") << "\n";
    std::string out = opts.output.empty() ? opts.dir + "/k8s-local.yaml" : opts.output;
    if (!writeWhole(out, y.str(), 0600)) return fail("cannot write `" + out + "`");
    std::fprintf(stderr, "dfirc: wrote %s (image %s)\n", out.c_str(), image.c_str());
    return kExitOk;
  }
  y << "---\napiVersion: v1\nkind: Secret\n";
  metadata(app + "-key", nullptr);
  y << "type: Opaque\nstringData:\n  key: " << quoted(key) << "\n";
  for (const Location &loc : locs) {
    y << "---\napiVersion: v1\nkind: Service\n";
    metadata(loc.dns, &loc.dns);
    y << "spec:\n"
      << "  clusterIP: None # headless: a DNS name per pod\n"
      << "  publishNotReadyAddresses: true # peers connect before they are ready\n"
      << "  selector:\n";
    labels("    ", &loc.dns);
    y << "  ports:\n  - name: peers\n    port: " << port << "\n  - name: metrics\n    port: " << metrics << "\n";
    y << "---\napiVersion: apps/v1\nkind: StatefulSet\n";
    metadata(loc.dns, &loc.dns);
    y << "spec:\n  serviceName: " << quoted(loc.dns) << "\n";
    if (loc.cluster)
      y << "  # replicas must stay " << loc.count << ": the program was built for a cluster of " << loc.count
        << " members\n  # (its member ids and cluster_size() come from the deploy data, which lists " << loc.count
        << "); to change\n  # it, change the cluster's size in the program and build and deploy again.\n";
    else
      y << "  # replicas must stay 1: `" << loc.name << "` is a process, one instance.\n";
    y << "  replicas: " << loc.count << "\n"
      << "  podManagementPolicy: Parallel # all members start together and connect to each other\n"
      << "  selector:\n    matchLabels:\n";
    labels("      ", &loc.dns);
    y << "  template:\n    metadata:\n      labels:\n";
    labels("        ", &loc.dns);
    y << "    spec:\n"
      << "      containers:\n"
      << "      - name: " << quoted(loc.dns) << "\n"
      << "        image: " << quoted(image) << "\n"
      << "        command: [" << quoted("/dfir/" + loc.executable) << "]\n"
      << "        args: [\"--deploy\", \"/etc/dfir/deploy.json\", \"--location\", " << quoted(loc.name)
      << ", \"--id\", \"$(POD_NAME)\", \"--metrics-port\", " << quoted(metrics) << "]\n"
      << "        env:\n"
      << "        - name: POD_NAME # the instance id is the pod's ordinal\n"
      << "          valueFrom:\n            fieldRef:\n              fieldPath: metadata.name\n"
      << "        - name: DFIR_DEPLOY_KEY\n"
      << "          valueFrom:\n            secretKeyRef:\n              name: " << quoted(app + "-key")
      << "\n              key: key\n"
      << "        - name: DFIR_CONNECT_TIMEOUT_MS # peers may take long to be scheduled\n"
      << "          value: \"600000\"\n"
      << "        - name: DFIR_RECONNECT_MS # a restarted peer is waited for, not a failure\n"
      << "          value: \"600000\"\n"
      << "        ports:\n"
      << "        - name: peers\n          containerPort: " << port << "\n"
      << "        - name: metrics\n          containerPort: " << metrics << "\n"
      << "        startupProbe: # answers once the instance has connected to its peers and runs\n"
      << "          httpGet:\n            path: /healthz\n            port: metrics\n"
      << "          periodSeconds: 5\n          failureThreshold: 120\n"
      << "        livenessProbe: # answers while the instance's loop runs\n"
      << "          httpGet:\n            path: /healthz\n            port: metrics\n"
      << "          periodSeconds: 10\n          failureThreshold: 3\n"
      << "        readinessProbe: # connected to every peer it sends to\n"
      << "          httpGet:\n            path: /readyz\n            port: metrics\n"
      << "          periodSeconds: 2\n"
      << "        volumeMounts:\n        - name: deploy\n          mountPath: /etc/dfir\n          readOnly: true\n"
      << "      volumes:\n      - name: deploy\n        configMap:\n          name: " << quoted(app + "-deploy") << "\n";
  }

  // Whole or not at all, private to its owner (it holds the key).
  std::string out = opts.output.empty() ? opts.dir + "/k8s.yaml" : opts.output;
  if (!writeWhole(out, y.str(), 0600)) return fail("cannot write `" + out + "`");
  std::fprintf(stderr, "dfirc: wrote %s (image %s)\n", out.c_str(), image.c_str());
  return kExitOk;
}

} // namespace dfir::driver

namespace dfir::driver {

int runDeployImage(const DeployImageOptions &opts) {
  Build b;
  if (std::string why = readBuild(opts.dir, "image", b); !why.empty()) return fail(why);
  const std::string &deployPath = b.path;
  const llvm::json::Array *locations = b.locations;
  std::string app = dnsName(b.program);
  std::string image = opts.name.empty() ? "localhost/" + app + ":" + b.fingerprint : opts.name;
  // Every executable must run with nothing else in the image.
  std::string files;
  for (const llvm::json::Value &l : *locations) {
    const llvm::json::Object *obj = l.getAsObject();
    std::optional<llvm::StringRef> exe = obj ? obj->getString("executable") : std::nullopt;
    if (!exe || exe->empty() || exe->contains('/') || exe->starts_with("."))
      return fail("`" + deployPath + "`: every location needs an `executable` in the build directory");
    std::string why;
    if (!isStaticElf(opts.dir + "/" + exe->str(), why))
      return fail("`" + opts.dir + "/" + exe->str() + "` " + why + ": an image `FROM scratch` holds nothing else");
    files += " " + exe->str();
  }
  bool build = !opts.noBuild;
  if (build && !onPath("podman"))
    return fail("podman is not installed (Debian package `podman`): nothing was written; `--no-build` writes only "
                "the Containerfile");
  std::string containerfile = "# The image of `" + b.program + "` (build " + b.fingerprint +
                              "), written by `dfirc deploy image`: its executables,\n"
                              "# statically linked, in /dfir, and nothing else (no shell). `dfirc deploy k8s` runs "
                              "them from it.\nFROM scratch\nCOPY" +
                              files + " /dfir/\n";
  std::string path = opts.dir + "/Containerfile";
  if (!writeWhole(path, containerfile, 0644)) return fail("cannot write `" + path + "`");
  if (!build) {
    std::fprintf(stderr, "dfirc: wrote %s (build it with `podman build -t %s %s`)\n", path.c_str(), image.c_str(),
                 opts.dir.c_str());
    return kExitOk;
  }
  int rc = runCommand({"podman", "build", "--quiet", "-t", image, "-f", path, opts.dir});
  if (rc != 0) return fail("`podman build` of `" + path + "` failed" + (rc < 0 ? " to start" : ""));
  std::fprintf(stderr, "dfirc: built image %s from %s\n", image.c_str(), path.c_str());
  return kExitOk;
}

} // namespace dfir::driver
