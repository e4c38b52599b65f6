//===- Driver.h - What each dfirc subcommand does, without the CLI --------===//
//
// main.cpp parses the command line (CLI11 lives only there) and calls these.
// Each returns the process exit code; exit codes are decided only in tools/.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace dfir::driver {

enum ExitCode : int {
  kExitOk = 0,
  kExitUserError = 1,  // diagnostics were reported, or verification failed
  kExitUsage = 2,      // bad command line
  kExitInternal = 70,  // a compiler bug (EX_SOFTWARE)
};

struct DiagOptions {
  bool noColor = false;
  std::string format = "text"; // text | json
  bool warningsAsErrors = false;
  bool verify = false;
  bool splitInputFile = false;
};

struct CheckOptions {
  std::string input;
  std::string emit; // "" | tokens | ast
  DiagOptions diag;
};

int runCheck(const CheckOptions &opts);

/// Options of the pass pipeline shared by `build`, `run`, `opt` and `graph`.
struct PipelineOptions {
  bool verifyEach = false;
  std::vector<std::string> printAnalysis, disablePass, printIrBefore, printIrAfter;
  bool printIrAfterAll = false;
  // Transforms, run in this order: each `--passes` pipeline, then every
  // `--decouple LOC:SEL[,SEL...]=NEW`, then every `--partition LOC=K` (with
  // every `--replicate CHAN`), then every `--batch CHAN=N[/MICROS]`.
  std::vector<std::string> passes, decouple, partition, replicate, batch;
  // `--auto-rewrite`: rewrites chosen from the profile `profileIn`
  // (`--profile`/`--use-profile`) within `extraProcesses` more processes.
  bool autoRewrite = false;
  std::string profileIn;
  long long extraProcesses = 1;
};

struct BuildOptions {
  std::string input;
  std::string output;       // -o; none: the current directory, or standard output for text
  std::string emit;         // ir | ir-opt | llvm
  unsigned optLevel = 2;
  std::vector<std::string> link; // extra inputs of the link (objects, archives, C files, -lNAME)
  unsigned basePort = 7400;       // deploy.json: instance k listens on basePort + k (0: chosen at launch)
  std::string runtimeDir;         // where libdfir_rt.a is (default: $DFIR_RUNTIME_DIR, or next to dfirc)
  std::string linker;             // what links executables (default: $CC, or cc)
  std::string location;           // --emit: only this location
  std::string prefix;             // --emit=obj|asm: the descriptor is `<prefix>_location`
  bool depfile = false;           // -MD: write a make-style depfile
  bool debugInfo = false;         // -g: DWARF line tables at the program's lines
  std::string depfileName;        // -MF FILE: its name (default: the output's, plus `.d`)
  bool profiling = false;         // --profiling: executables count and sample (`--profile FILE`)
  bool staticLink = false;        // --static: executables that load no shared library (libcrypto linked in)
  unsigned codegenUnits = 0;      // --codegen-units: parts compiled on threads of their own (0: by size)
  DiagOptions diag;
  PipelineOptions pipeline;
};

struct GraphOptions {
  std::string input;
  std::string output = "-";
  std::string format = "mermaid"; // mermaid | dot | json
  std::string profile;            // colour operators by the CPU time this profile gives them
  DiagOptions diag;
  PipelineOptions pipeline;
};

/// `dfirc opt`: DFIR text in, the passes, canonical DFIR text out.
struct OptOptions {
  std::string input;
  std::string output = "-";
  DiagOptions diag;
  PipelineOptions pipeline;
};

/// Faults, crashes and a bound on messages in flight for simulated runs
/// (docs/simulation.md), as the user wrote them; a schedule file keeps
/// them too, so that `dfirc run --schedule` replays them.
constexpr uint32_t kMaxFaults = 1000;     // --max-faults
constexpr uint32_t kMaxInFlight = 1000000; // --max-in-flight
struct SimFaults {
  std::vector<std::string> faults;   // CHAN=lose,dup,delay
  std::vector<std::string> crashes;  // LOC/ID@STEP
  std::vector<std::string> restarts; // LOC/ID@STEP, after a crash of the same member
  uint32_t maxFaults = 1;            // faults injected per run at most
  uint32_t maxInFlight = 0;          // 0: no bound
  bool any() const { return !faults.empty() || !crashes.empty() || maxInFlight; }
};

struct RunOptions {
  std::string input;
  unsigned optLevel = 2;
  uint64_t seed = 0;
  bool prefix = false;    // label output lines with [location/id]
  bool seedGiven = false; // also seeds rand_u64()/rand_f64(), which are random otherwise
  std::vector<std::string> clusterSizes; // NAME=N
  std::vector<std::string> load;         // shared libraries providing extern fns
  std::string profileOut;                // --profile FILE: write a profile of the run
  std::string schedule;                  // --schedule FILE: replay a schedule (docs/simulation.md)
  std::string trace;                     // --trace[=text|json]: print each tick and its deliveries
  DiagOptions diag;
  PipelineOptions pipeline;
};

struct LaunchOptions {
  std::string deployFile;
  unsigned timeoutSeconds = 0; // 0: none
  std::string profileDir;      // --profile-dir: each instance writes DIR/<location>-<id>.json
  bool metrics = false;        // --metrics: each instance serves /metrics on a free port
  unsigned restartLimit = 0;   // --restart on-failure[:N]: restarts of an instance that fails (0: never)
};

/// Runs a command; returns its exit status (or -1 if it could not start).
/// With `quiet`, the lines of its standard error that `quiet` accepts are
/// not shown (with the line before each, which says where it comes from).
int runCommand(const std::vector<std::string> &argv,
               const std::function<bool(const std::string &)> &quiet = nullptr);
/// Reads a whole file; false if it cannot be opened.
bool readFile(const std::string &path, std::string &text);

/// `dfirc deploy k8s DIR`: Kubernetes manifests of a build (Deploy.cpp).
struct DeployK8sOptions {
  std::string dir;              // what `dfirc build` wrote
  std::string image;            // the image with the executables in /dfir (default localhost/<program>:<fingerprint>)
  std::string ns = "default";   // --namespace
  unsigned port = 7400;         // every instance's port, in its own pod
  unsigned metricsPort = 9400;  // its metrics endpoint (and probes)
  std::string output;           // default DIR/k8s.yaml
  bool local = false;           // --local: one pod of every instance, for `podman kube play` (DIR/k8s-local.yaml)
};
int runDeployK8s(const DeployK8sOptions &opts);

/// `dfirc deploy image DIR`: a Containerfile of a static build, built with
/// podman (Deploy.cpp).
struct DeployImageOptions {
  std::string dir;      // what `dfirc build --static` wrote
  std::string name;     // the image's name (default localhost/<program>:<fingerprint>)
  bool noBuild = false; // only write DIR/Containerfile
};
int runDeployImage(const DeployImageOptions &opts);

/// `dfirc profile show`: a profile's hottest operators, locations and channels.
struct ProfileShowOptions {
  std::vector<std::string> inputs; // files, or directories of them (merged)
  unsigned top = 10;
};
int runProfileShow(const ProfileShowOptions &opts);

/// `dfirc sim`: runs the embedded system under many schedules, looking for
/// a run that fails (an `assert`, a runtime error) (docs/simulation.md).
struct SimOptions {
  RunOptions run;             // the program, its options, --seed (the first schedule's)
  uint64_t random = 0;        // --random N: N schedules drawn at random
  bool exhaustive = false;    // --exhaustive: every schedule, depth first
  uint64_t fuzz = 0;          // --fuzz N: N schedules chosen by libFuzzer, guided by coverage
  uint64_t maxSteps = 100000; // choices a run may make
  uint64_t maxSchedules = 100000;
  uint64_t maxTicks = 1000000; // ticks a run may take
  bool noReduction = false;   // --exhaustive without the sleep-set reduction
  SimFaults faults;
  std::string output;         // the counterexample's schedule file
};
int runSim(const SimOptions &opts);

int runBuild(const BuildOptions &opts);
/// Starts every instance of a deploy file as its own process and waits for
/// the whole system to be quiescent (docs/deployment.md).
int runLaunch(const LaunchOptions &opts);
/// Compiles every location with the JIT and runs the program in this process.
int runRun(const RunOptions &opts);
int runGraph(const GraphOptions &opts);
int runOpt(const OptOptions &opts);
/// Names of the analyses and of the transforms (for option checks).
std::vector<std::string> analysisNames();
std::vector<std::string> transformNames();
int listDiagnosticKinds();

/// Installs handlers that turn crashes into an "internal compiler error"
/// message and exit code kExitInternal.
void installCrashHandlers();
[[noreturn]] void internalError(const std::string &message);

} // namespace dfir::driver
