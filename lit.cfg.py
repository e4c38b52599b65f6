# lit configuration for dfirc's test suites (test/*/). Tests are discovered
# by suffix; nothing is registered by hand.
import os
import lit.formats

config.name = "dfirc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".dfir", ".test"]
config.excludes = ["Inputs", "unit", "CMakeLists.txt", "lit.site.cfg.py.in", "RuntimeTest.cpp"]

src_root = getattr(config, "dfirc_src_root", os.path.dirname(os.path.abspath(__file__)))
config.test_source_root = os.path.join(src_root, "test")
obj_root = getattr(config, "dfirc_obj_root", os.path.join(src_root, "build"))
config.test_exec_root = os.path.join(obj_root, "test")

bin_dir = getattr(config, "dfirc_bin_dir", os.path.join(obj_root, "bin"))
llvm_bin = "/usr/lib/llvm-19/bin"
config.environment["PATH"] = os.pathsep.join(
    [bin_dir, llvm_bin, config.environment.get("PATH", os.environ.get("PATH", ""))])
# Diagnostics in tests are never coloured and never depend on the terminal.
config.environment["NO_COLOR"] = "1"
# Set by test/run-lit.py: where dfirc records the diagnostic kinds it reports.
if "DFIRC_DIAG_LOG" in os.environ:
    config.environment["DFIRC_DIAG_LOG"] = os.environ["DFIRC_DIAG_LOG"]
config.substitutions.append(("%dfirc", os.path.join(bin_dir, "dfirc")))
# DFIR_MEMCHECK=1 runs the e2e executables under valgrind's memcheck: any
# invalid read or write, or use of an uninitialised value, fails the test.
memcheck = "valgrind -q --error-exitcode=97 --leak-check=no" if os.environ.get("DFIR_MEMCHECK") else ""
config.substitutions.append(("%memcheck", memcheck))
if "DFIR_MEMCHECK" in os.environ:
    config.environment["DFIR_MEMCHECK"] = os.environ["DFIR_MEMCHECK"]
config.substitutions.append(("%python", getattr(config, "python_executable", "python3")))
# `asan`: dfirc, its runtime and the executables it builds are instrumented
# with AddressSanitizer (tools/dev.sh sanitize). Memory and CPU figures mean
# nothing there, and valgrind cannot run them: %valgrind then runs the
# executable alone (its own instrumentation checks the same errors).
# `libfuzzer`: dfirc was linked with libFuzzer (`dfirc sim --fuzz`).
if getattr(config, "dfirc_libfuzzer", False):
    config.available_features.add("libfuzzer")
if getattr(config, "dfirc_sanitized", False):
    config.available_features.add("asan")
    config.substitutions.append(("%valgrind", ""))
else:
    config.substitutions.append(("%valgrind", "valgrind -q --error-exitcode=9"))
config.substitutions.append(("%src_root", src_root))
config.substitutions.append(("%obj_root", obj_root))
# A C compiler that links with this build's runtime archive (instrumented in
# a sanitizer build): %cc_compiler alone, %cc with the flags the archive
# needs, %cmake_cc the same for a CMake project, %cxx a C++ compiler with
# those flags. Longest names first.
c_compiler = getattr(config, "dfirc_c_compiler", "") or "cc"
cxx_compiler = getattr(config, "dfirc_cxx_compiler", "") or "c++"
c_flags = "-fsanitize=address,undefined" if getattr(config, "dfirc_sanitized", False) else ""
config.substitutions.append(("%cc_compiler", c_compiler))
config.substitutions.append(("%cmake_cc", "-DCMAKE_C_COMPILER=%s '-DCMAKE_C_FLAGS=%s' -DCMAKE_CXX_COMPILER=%s "
                              "'-DCMAKE_CXX_FLAGS=%s'" % (c_compiler, c_flags, cxx_compiler, c_flags)))
config.substitutions.append(("%cc", (c_compiler + " " + c_flags).strip()))
config.substitutions.append(("%cxx", (cxx_compiler + " " + c_flags).strip()))

# `netns`: this run may create network namespaces (root, with `ip`): the
# deployment test across namespaces needs it and is UNSUPPORTED otherwise.
def _can_make_netns():
    import shutil, subprocess
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("ip"):
        return False
    name = "dfirc-probe-%d" % os.getpid()
    ok = subprocess.run(["ip", "netns", "add", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if ok:
        subprocess.run(["ip", "netns", "del", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ok

if _can_make_netns():
    config.available_features.add("netns")
else:
    lit_config.note("network namespaces unavailable (needs root and `ip`): netns tests are unsupported")

# `strace`: strace can trace a process here (a container may forbid ptrace).
def _can_strace():
    import shutil, subprocess
    return bool(shutil.which("strace")) and subprocess.run(
        ["strace", "-f", "-o", "/dev/null", "true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

if _can_strace():
    config.available_features.add("strace")
else:
    lit_config.note("strace cannot trace here: the system-call count test is unsupported")

# `podman`: podman can build an image and run a container here (with the
# settings of test/e2e/multi/Inputs/containers.conf); the probe builds a
# static program into an image FROM scratch and runs it. Where it cannot,
# the container tests are unsupported, and the note says why.
def _podman_works():
    import shutil, subprocess, tempfile
    if not shutil.which("podman"):
        return "podman is not installed (Debian packages podman, runc, catatonit)"
    env = dict(os.environ, CONTAINERS_CONF=_containers_conf)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "probe.c"), "w") as f:
            f.write("int main(void) { return 0; }\n")
        with open(os.path.join(d, "Containerfile"), "w") as f:
            f.write("FROM scratch\nCOPY probe /probe\n")
        steps = [["cc", "-static", "-o", os.path.join(d, "probe"), os.path.join(d, "probe.c")],
                 ["podman", "build", "-q", "-t", "localhost/dfirc-lit-probe", d],
                 ["podman", "run", "--rm", "localhost/dfirc-lit-probe", "/probe"]]
        for step in steps:
            r = subprocess.run(step, env=env, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                return "`%s` failed: %s" % (" ".join(step[:2]), (r.stderr.strip().splitlines() or [""])[-1])
        subprocess.run(["podman", "rmi", "-f", "localhost/dfirc-lit-probe"], env=env, capture_output=True)
    return None

_containers_conf = os.path.join(config.test_source_root, "e2e", "multi", "Inputs", "containers.conf")
_podman_problem = _podman_works()
if _podman_problem is None:
    config.available_features.add("podman")
    config.environment["CONTAINERS_CONF"] = _containers_conf
else:
    lit_config.note("this machine cannot run containers (%s): the podman tests are unsupported" % _podman_problem)

# `promtool`: Prometheus' checker of the metrics text format.
import shutil as _shutil
if _shutil.which("promtool"):
    config.available_features.add("promtool")
else:
    lit_config.note("promtool not found (Debian package prometheus): the metrics format check is unsupported")

# `ipv6`: the loopback has an IPv6 address (::1).
def _has_ipv6_loopback():
    import socket
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False

if _has_ipv6_loopback():
    config.available_features.add("ipv6")
else:
    lit_config.note("no IPv6 loopback: ipv6 tests are unsupported")
