//===- main.cpp - The dfirc command line ----------------------------------===//
//
// The only translation unit that includes CLI11. It parses arguments and
// hands over to Driver.cpp. The work runs on a thread with a large stack so
// that deeply nested (but accepted) input cannot overflow it.
//
//===----------------------------------------------------------------------===//
#include "tools/dfirc/Driver.h"

#include <CLI/CLI.hpp>

#include <cstring>
#include <functional>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>

using namespace dfir::driver;

namespace {

void addDiagOptions(CLI::App *cmd, DiagOptions &d) {
  cmd->add_flag("--no-color", d.noColor, "Do not colour diagnostics (also: NO_COLOR set)");
  cmd->add_option("--diagnostics-format", d.format, "Diagnostics as text or JSON lines")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option_function<std::string>(
         "-W", [&d](const std::string &w) { d.warningsAsErrors = d.warningsAsErrors || w == "error"; },
         "-Werror: treat warnings as errors")
      ->check(CLI::IsMember({"error"}));
}

/// `dfirc check` only: the other commands compile one program.
void addVerifyOptions(CLI::App *cmd, DiagOptions &d) {
  cmd->add_flag("--verify-diagnostics", d.verify,
                "Check diagnostics against `// expected-error@+N {{text}}` comments");
  cmd->add_flag("--split-input-file", d.splitInputFile,
                "Treat `// -----` lines as boundaries between independent inputs");
}

void addPipelineOptions(CLI::App *cmd, PipelineOptions &p) {
  auto analyses = CLI::IsMember(analysisNames());
  auto transforms = CLI::IsMember(transformNames());
  cmd->add_flag("--verify-each", p.verifyEach, "Verify the IR after lowering and after every pass");
  // One value per occurrence (comma-separated lists allowed), so a pass
  // option never swallows the input file that follows it.
  auto list = [&](const char *name, std::vector<std::string> &to, const char *help, const CLI::Validator &names) {
    cmd->add_option(name, to, help)
        ->check(names)->delimiter(',')->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  list("--print-analysis", p.printAnalysis, "Print an analysis of the program as compiled (stratify, subgraphs)",
       analyses);
  list("--disable-pass", p.disablePass, "Do not run a transform, even if asked for", transforms);
  list("--print-ir-before", p.printIrBefore, "Print the IR before a transform", transforms);
  list("--print-ir-after", p.printIrAfter, "Print the IR after a transform", transforms);
  cmd->add_flag("--print-ir-after-all", p.printIrAfterAll, "Print the IR after every transform");
  auto each = [&](const char *name, std::vector<std::string> &to, const char *help) {
    cmd->add_option(name, to, help)->expected(1)->allow_extra_args(false)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
  };
  each("--passes", p.passes, "Run transforms: 'decouple{location=L select=S new=N},batch{channel=C count=N}'");
  each("--decouple", p.decouple,
       "LOC:SEL[,SEL...]=NEW: move the selected operators of LOC (names or @LINE) and all downstream of them to a "
       "new location NEW");
  each("--partition", p.partition,
       "LOC=K: make LOC K instances (per member), routing what it receives by a key the compiler finds");
  each("--replicate", p.replicate, "CHAN: with --partition, send channel CHAN's items to every instance");
  each("--batch", p.batch, "CHAN=N[/MICROS]: frame channel CHAN's items by N, or after MICROS us (default 1000)");
  cmd->add_flag("--auto-rewrite", p.autoRewrite,
                "Choose decouple, partition and batch rewrites from a profile (--use-profile) within --extra-processes");
  cmd->add_option("--use-profile", p.profileIn, "FILE|DIR: the profile --auto-rewrite uses");
  cmd->add_option("--extra-processes", p.extraProcesses,
                  "N: processes --auto-rewrite may add (default 1; 0 allows only batching)");
}

void addOptLevel(CLI::App *cmd, unsigned &level) {
  cmd->add_option_function<std::string>(
         "-O", [&level](const std::string &l) { level = static_cast<unsigned>(std::stoul(l)); },
         "Optimization level: -O0, -O1, -O2 (default; a bare -O too), -O3")
      ->check(CLI::IsMember({"0", "1", "2", "3"}));
}

struct Job {
  std::function<int()> fn;
  int result = kExitInternal;
};

void *runJob(void *p) {
  auto *job = static_cast<Job *>(p);
  job->result = job->fn();
  return nullptr;
}

int runWithBigStack(std::function<int()> fn) {
#ifdef __GLIBC__
  // A thread's heap in glibc grows a few pages at a time, one mprotect
  // each; the main heap grows in large steps. The compiler allocates a few
  // hundred bytes per byte of a large input, so this is about 7% of
  // `dfirc check` on a 1 MB program.
  mallopt(M_ARENA_MAX, 1);
#endif
  Job job{std::move(fn)};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, size_t(512) << 20);
  pthread_t thread;
  if (pthread_create(&thread, &attr, runJob, &job) != 0) return job.fn();
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  return job.result;
}

} // namespace

int main(int argc, char **argv) {
  installCrashHandlers();
  // As for clang: a bare `-O` is `-O2`; gcc's `-MD` and `-MF` (CLI11 takes
  // one letter after a single dash).
  static char o2[] = "-O2", md[] = "--MD", mf[] = "--MF";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-O") == 0) argv[i] = o2;
    if (std::strcmp(argv[i], "-MD") == 0) argv[i] = md;
    if (std::strcmp(argv[i], "-MF") == 0) argv[i] = mf;
  }
  CLI::App app{"dfirc: a compiler for DFIR dataflow programs", "dfirc"};
  app.set_version_flag("--version", std::string("dfirc ") + DFIRC_VERSION);
  app.require_subcommand(1);

  CheckOptions check;
  CLI::App *checkCmd = app.add_subcommand("check", "Parse and check a program; report diagnostics");
  checkCmd->add_option("file", check.input, "The .dfir file")->required();
  checkCmd->add_option("--emit", check.emit, "Print a stage instead of checking")
      ->check(CLI::IsMember({"tokens", "ast"}));
  addDiagOptions(checkCmd, check.diag);
  addVerifyOptions(checkCmd, check.diag);
  bool crashForTesting = false;
  checkCmd->add_flag("--internal-error-for-testing", crashForTesting)->group("");

  BuildOptions build;
  CLI::App *buildCmd = app.add_subcommand("build", "Compile a program: an object and an executable per location, and deploy.json");
  buildCmd->add_option("file", build.input, "The .dfir file")->required();
  buildCmd->add_option("-o", build.output, "Output directory, or file with --emit (`-`: standard output)");
  buildCmd->add_option("--emit", build.emit,
                       "ir: the program as compiled (after the passes) as canonical DFIR text; ir-opt: the same; llvm: the optimized "
                       "LLVM IR; asm, obj: assembly or an object file; header: the C header of a location for a host program "
                       "(default: DIR/<location>.o and an executable)")
      ->check(CLI::IsMember({"ir", "ir-opt", "llvm", "asm", "obj", "header"}));
  buildCmd->add_option("--link", build.link,
                       "FILE: also link this object, archive, C source or -lNAME into the executable (extern fns)")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  buildCmd->add_option("--base-port", build.basePort,
                       "deploy.json: instance k of the program listens on 127.0.0.1:(N + k); 0: ports chosen by "
                       "`dfirc launch` (default 7400)")
      ->check(CLI::Range(0, 65535));
  buildCmd->add_option("--location", build.location, "NAME: with --emit, only this location");
  buildCmd->add_flag("-g", build.debugInfo, "Emit DWARF line tables: each operator's code at its line of the source");
  buildCmd->add_option("--prefix", build.prefix,
                       "P: with --emit=obj, asm or header, the location's descriptor is `P_location` and the header's names "
                       "start with `P_` (default: "
                       "<file>_<location>; with several locations, P_<location>)");
  // `-MD` and `-MF` as gcc spells them (turned into these before parsing).
  buildCmd->add_flag("--MD", build.depfile, "-MD: also write a make-style depfile: the output's name plus `.d`");
  buildCmd->add_option("--MF", build.depfileName, "-MF FILE: write the depfile here (implies -MD)");
  buildCmd->add_option("--runtime-dir", build.runtimeDir,
                       "DIR: where libdfir_rt.a is (default: $DFIR_RUNTIME_DIR, or the lib directory next to dfirc's)");
  buildCmd->add_option("--linker", build.linker,
                       "CMD: the C compiler that links executables (default: $CC, or cc)");
  buildCmd->add_flag("--static", build.staticLink,
                     "Link executables statically, libcrypto included: they load no shared library (for an image "
                     "`FROM scratch`, `dfirc deploy image`)");
  buildCmd->add_option("--codegen-units", build.codegenUnits,
                       "N: compile each location's object in at most N parts, on threads of their own, joined by a "
                       "relocatable link (default: by size, 1 to 8; 1: one part, no link)")
      ->check(CLI::Range(1u, 64u));
  buildCmd->add_flag("--profiling", build.profiling,
                     "Executables count and sample each operator: run them with --profile FILE (dfirc launch "
                     "--profile-dir)");
  buildCmd->add_option("--profile", build.pipeline.profileIn, "FILE|DIR: with --auto-rewrite, the profile to use");
  addOptLevel(buildCmd, build.optLevel);
  addDiagOptions(buildCmd, build.diag);
  addPipelineOptions(buildCmd, build.pipeline);

  GraphOptions graph;
  CLI::App *graphCmd = app.add_subcommand("graph", "Draw the operator graph");
  graphCmd->add_option("file", graph.input, "The .dfir file")->required();
  graphCmd->add_option("-o", graph.output, "Output file (`-` for standard output)");
  graphCmd->add_option("--format", graph.format, "mermaid, dot or json")
      ->check(CLI::IsMember({"mermaid", "dot", "json"}));
  graphCmd->add_option("--profile", graph.profile, "FILE|DIR: colour each operator by its share of CPU time in this profile");
  addDiagOptions(graphCmd, graph.diag);
  addPipelineOptions(graphCmd, graph.pipeline);

  OptOptions opt;
  CLI::App *optCmd = app.add_subcommand("opt", "Run passes on a program and print it as canonical DFIR text");
  optCmd->add_option("file", opt.input, "The .dfir file")->required();
  optCmd->add_option("-o", opt.output, "Output file (`-` for standard output)");
  addDiagOptions(optCmd, opt.diag);
  optCmd->add_option("--profile", opt.pipeline.profileIn, "FILE|DIR: with --auto-rewrite, the profile to use");
  optCmd->add_flag("--verify-diagnostics", opt.diag.verify,
                   "Check diagnostics against `// expected-error@+N {{text}}` comments (`@cli`: at a flag); print "
                   "nothing else");
  addPipelineOptions(optCmd, opt.pipeline);

  RunOptions run;
  CLI::App *runCmd = app.add_subcommand("run", "Compile a program with the JIT and run it");
  runCmd->add_option("file", run.input, "The .dfir file")->required();
  addOptLevel(runCmd, run.optLevel);
  CLI::Option *seedOpt = runCmd->add_option(
      "--seed", run.seed, "Seed of the scheduler of an embedded run (default 0) and of rand_u64()/rand_f64()");
  // Digits only, within 64 bits (CLI11 alone would wrap `-1` and saturate overflows).
  seedOpt->check(CLI::Validator(
      [](std::string &v) -> std::string {
        bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || (v.size() == 20 && v > "18446744073709551615"))
          return "expected an integer from 0 to 18446744073709551615, found " + v;
        return "";
      },
      "UINT"));
  runCmd->add_flag("--prefix", run.prefix, "Label every output line with the instance that wrote it: [location/id]");
  runCmd->add_option("--cluster", run.clusterSizes, "NAME=N: run N members of cluster NAME")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  runCmd->add_option("--load", run.load, "LIB.so: a shared library providing extern fns")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  runCmd->add_option("--profile", run.profileOut,
                     "FILE: write a profile of the run (items and CPU time per operator, per channel, per instance)");
  runCmd->add_option("--schedule", run.schedule, "FILE: replay the scheduler's choices of a schedule file (dfirc sim)");
  bool traceText = false, traceJson = false;
  runCmd->add_flag("--trace", traceText, "Print each tick and what it receives from whom, on standard error");
  runCmd->add_flag("--trace-json", traceJson, "The same as JSON lines");
  addDiagOptions(runCmd, run.diag);
  addPipelineOptions(runCmd, run.pipeline);

  LaunchOptions launch;
  CLI::App *launchCmd = app.add_subcommand("launch", "Run every instance of a deploy file as its own process");
  launchCmd->add_option("deploy", launch.deployFile, "The deploy file (DIR/deploy.json from `dfirc build`)")->required();
  launchCmd->add_option("--timeout", launch.timeoutSeconds,
                        "Stop with an error when the system is not quiescent after this many seconds");
  launchCmd->add_option("--profile-dir", launch.profileDir,
                        "DIR: each instance writes its profile to DIR/<location>-<id>.json (executables built with "
                        "`dfirc build --profiling`)");
  std::string restartPolicy = "never";
  launchCmd->add_option("--restart", restartPolicy,
                        "never (default), or on-failure[:N]: start an instance that fails again, at most N times "
                        "(default 5); its peers reconnect to it");
  launchCmd->add_flag("--metrics", launch.metrics,
                      "Each instance serves /metrics (Prometheus), /healthz and /readyz on a free port of its host; "
                      "the addresses are printed first");

  SimOptions sim;
  CLI::App *simCmd = app.add_subcommand("sim", "Run the embedded system under many schedules, looking for a failing one");
  simCmd->add_option("file", sim.run.input, "The .dfir file")->required();
  auto bounded = [](uint64_t hi) {
    return CLI::Validator(
        [hi](std::string &v) -> std::string {
          bool digits = !v.empty() && v.size() <= 12 && v.find_first_not_of("0123456789") == std::string::npos;
          if (!digits || std::stoull(v) == 0 || std::stoull(v) > hi)
            return "expected a number from 1 to " + std::to_string(hi) + ", found " + v;
          return "";
        },
        "1.." + std::to_string(hi));
  };
  simCmd->add_option("--random", sim.random, "N: run N schedules drawn at random (the default, with N = 100)")
      ->check(bounded(10000000));
  simCmd->add_flag("--exhaustive", sim.exhaustive, "Run every schedule, depth first, within the bounds");
  simCmd->add_option("--fuzz", sim.fuzz, "N: run N schedules that libFuzzer chooses, guided by what the program did")
      ->check(bounded(100000000));
  simCmd->add_option("--max-steps", sim.maxSteps, "K: a run makes at most K scheduler choices (default 100000)")
      ->check(bounded(10000000));
  simCmd->add_option("--max-schedules", sim.maxSchedules,
                     "M: --exhaustive stops after M schedules (default 100000)")
      ->check(bounded(100000000));
  simCmd->add_option("--max-ticks", sim.maxTicks, "T: a run takes at most T ticks (default 1000000)")
      ->check(bounded(10000000));
  simCmd->add_flag("--no-reduction", sim.noReduction,
                   "--exhaustive without the sleep-set reduction (every order of independent ticks is run)");
  simCmd->add_option("--faults", sim.faults.faults,
                     "CHAN=lose,dup,delay: deliveries on CHAN may be lost, duplicated or delayed past later ones")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  simCmd->add_option("--max-faults", sim.faults.maxFaults, "K: at most K faults per run (default 1)")
      ->check(bounded(kMaxFaults));
  simCmd->add_option("--crash", sim.faults.crashes,
                     "LOC/ID@STEP: member ID of LOC crashes before the system's STEP-th tick (messages to it are lost)")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  simCmd->add_option("--restart", sim.faults.restarts,
                     "LOC/ID@STEP: a crashed member starts again from its initial state at STEP")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  simCmd->add_option("--max-in-flight", sim.faults.maxInFlight,
                     "K: an instance with K messages waiting on one of its channels does not tick while others can")
      ->check(bounded(kMaxInFlight));
  simCmd->add_option("--seed", sim.run.seed, "The first schedule's seed (default 0); also seeds rand_u64()");
  simCmd->add_option("-o", sim.output, "FILE: where a failing schedule is written (default <file>.schedule.json)");
  simCmd->add_option("--cluster", sim.run.clusterSizes, "NAME=N: run N members of cluster NAME")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  simCmd->add_option("--load", sim.run.load, "LIB.so: a shared library providing extern fns")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  addOptLevel(simCmd, sim.run.optLevel);
  addDiagOptions(simCmd, sim.run.diag);
  addPipelineOptions(simCmd, sim.run.pipeline);

  ProfileShowOptions profileShow;
  CLI::App *profileCmd = app.add_subcommand("profile", "Read profiles");
  profileCmd->require_subcommand(1);
  CLI::App *showCmd = profileCmd->add_subcommand("show", "Print a profile's busiest locations, hottest operators and channels");
  showCmd->add_option("profile", profileShow.inputs, "Profile files, or directories of them (merged)")->required();
  showCmd->add_option("--top", profileShow.top, "How many operators to list (default 10)")->check(CLI::Range(1, 100000));

  DeployK8sOptions k8s;
  CLI::App *deployCmd = app.add_subcommand("deploy", "Package a build for a cluster manager");
  deployCmd->require_subcommand(1);
  CLI::App *k8sCmd = deployCmd->add_subcommand("k8s", "Write Kubernetes manifests of a build (DIR/k8s.yaml)");
  k8sCmd->add_option("dir", k8s.dir, "The directory that `dfirc build` wrote")->required();
  k8sCmd->add_option("--image", k8s.image,
                     "NAME: the image whose /dfir holds the executables (default localhost/<program>:<fingerprint>)");
  k8sCmd->add_option("--namespace", k8s.ns, "NS: the namespace of every object (default `default`)");
  k8sCmd->add_option("--port", k8s.port, "The port every instance listens on in its pod (default 7400)");
  k8sCmd->add_option("--metrics-port", k8s.metricsPort,
                     "The port of every instance's /metrics, /healthz and /readyz (default 9400)");
  k8sCmd->add_option("-o", k8s.output, "FILE: write the manifests here (default DIR/k8s.yaml)");
  k8sCmd->add_flag("--local", k8s.local,
                   "One pod holding every instance, sharing its network, for `podman kube play` on one machine "
                   "(default DIR/k8s-local.yaml)");

  DeployImageOptions image;
  CLI::App *imageCmd = deployCmd->add_subcommand("image", "Write a Containerfile of a static build and build it with podman");
  imageCmd->add_option("dir", image.dir, "The directory that `dfirc build --static` wrote")->required();
  imageCmd->add_option("--name", image.name, "NAME: the image's name (default localhost/<program>:<fingerprint>)");
  imageCmd->add_flag("--no-build", image.noBuild, "Only write DIR/Containerfile");

  bool listKinds = false;
  CLI::App *kindsCmd = app.add_subcommand("diagnostic-kinds", "List every diagnostic kind");
  kindsCmd->group("");
  (void)listKinds;

  // CLI11 takes an unknown word for a stray argument and says only that a
  // subcommand is required: name it. The top level has only flags, so the
  // first word that is not an option is the subcommand.
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    std::string word = argv[i], known;
    bool found = false;
    for (CLI::App *sub : app.get_subcommands([](CLI::App *) { return true; })) {
      found = found || sub->get_name() == word;
      if (!sub->get_group().empty()) known += (known.empty() ? "" : ", ") + sub->get_name();
    }
    if (found) break;
    std::fprintf(stderr, "dfirc: error: unknown subcommand `%s`; expected one of %s (see `dfirc --help`)\n",
                 word.c_str(), known.c_str());
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
    run.seedGiven = seedOpt->count() > 0;
  } catch (const CLI::ParseError &e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (*kindsCmd) return listDiagnosticKinds();
  if (crashForTesting) internalError("crash requested by --internal-error-for-testing");
  if (*buildCmd) return runWithBigStack([&] { return runBuild(build); });
  if (*graphCmd) return runWithBigStack([&] { return runGraph(graph); });
  if (*optCmd) return runWithBigStack([&] { return runOpt(opt); });
  if (*runCmd) {
    if (traceText && traceJson) {
      std::fprintf(stderr, "dfirc: error: `--trace` and `--trace-json` print the same trace two ways: give one\n");
      return kExitUsage;
    }
    run.trace = traceJson ? "json" : traceText ? "text" : "";
    return runWithBigStack([&] { return runRun(run); });
  }
  if (*simCmd) {
    if ((sim.exhaustive != 0) + (sim.random != 0) + (sim.fuzz != 0) > 1) {
      std::fprintf(stderr, "dfirc: error: `--random`, `--exhaustive` and `--fuzz` are three ways to explore: give one\n");
      return kExitUsage;
    }
    if (!sim.exhaustive && !sim.random && !sim.fuzz) sim.random = 100;
    sim.run.seedGiven = true;
    return runWithBigStack([&] { return runSim(sim); });
  }
  if (*launchCmd) {
    unsigned limit = 5;
    const std::string prefix = "on-failure";
    bool ok = restartPolicy == "never" || restartPolicy == prefix;
    if (restartPolicy == "never") limit = 0;
    if (!ok && restartPolicy.compare(0, prefix.size() + 1, prefix + ":") == 0) {
      std::string n = restartPolicy.substr(prefix.size() + 1);
      ok = !n.empty() && n.size() <= 6 && n.find_first_not_of("0123456789") == std::string::npos && std::stoul(n) > 0;
      if (ok) limit = static_cast<unsigned>(std::stoul(n));
    }
    if (!ok) {
      std::fprintf(stderr, "dfirc: error: `--restart %s`: expected `never`, `on-failure` or `on-failure:N` (N at least 1)\n",
                   restartPolicy.c_str());
      return kExitUsage;
    }
    launch.restartLimit = limit;
    return runLaunch(launch);
  }
  if (*profileCmd) return runProfileShow(profileShow);
  if (*imageCmd) return runDeployImage(image);
  if (*deployCmd) return runDeployK8s(k8s);
  return runWithBigStack([&] { return runCheck(check); });
}
