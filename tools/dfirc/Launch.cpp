//===- Launch.cpp - dfirc launch: every instance of a deploy file --------===//
//
// Starts each instance of a deploy file as its own process (its output
// prefixed with `[location/id]`), and stops them all once the system is
// quiescent. Each instance has a control socket (fd 3): it reports `idle
// SENT RECEIVED` whenever it becomes idle, and answers a probe `?` with its
// state at that moment. When the reports look quiescent, two waves of
// probes decide (Mattern's four-counter method): every instance idle in
// both waves, and the items received by the second wave equal the items
// sent by the first, so nothing was in flight at the end of the first. An
// instance that exits on its own before that is an error naming it; one
// that exits because launch stopped it (the timeout, another instance's
// failure, a SIGINT/SIGTERM/SIGHUP forwarded to it) is not. Ports given as
// 0 are replaced by free loopback ports in a private copy of the deploy
// file.
//
//===----------------------------------------------------------------------===//
#include "tools/dfirc/Driver.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace dfir::driver {
namespace {

/// What an instance was doing, from its reports on the control socket.
enum class Phase { Starting, Connecting, Running };

struct Instance {
  std::string label; // location/id
  pid_t pid = -1;
  Phase phase = Phase::Starting;
  int out = -1, err = -1, control = -1; // our ends of its pipes
  std::string outLine, errLine, controlLine;
  std::string errTail; // the end of what it wrote to stderr
  bool idle = false, exited = false;
  int status = 0;         // once exited
  bool killed = false;    // launch sent it SIGKILL
  unsigned long long sent = 0, received = 0;
  bool answered = false, probeIdle = false; // this wave's answer
  unsigned long long probeSent = 0, probeReceived = 0;
  std::string program;           // what runs it, and how: again after a failure (--restart)
  std::vector<std::string> args;
  unsigned restarts = 0;
};

/// Starts `in` (its program and arguments): its standard input /dev/null,
/// its output and the control socket (fd 3) ours. Returns an error message.
std::string spawnInstance(Instance &in) {
  int out[2], err[2], control[2];
  if (pipe(out) != 0 || pipe(err) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, control) != 0)
    return "cannot create pipes";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_adddup2(&actions, control[1], 3);
  for (int fd : {out[0], out[1], err[0], err[1], control[0], control[1]})
    if (fd > 3) posix_spawn_file_actions_addclose(&actions, fd);
  std::vector<char *> argv;
  for (auto &a : in.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e)
    if (std::strncmp(*e, "DFIR_CONTROL_FD=", 16) != 0 && std::strncmp(*e, "DFIR_RESTARTS=", 14) != 0)
      env.push_back(*e);
  env.push_back("DFIR_CONTROL_FD=3");
  if (in.restarts) env.push_back("DFIR_RESTARTS=" + std::to_string(in.restarts));
  std::vector<char *> envp;
  for (auto &e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&in.pid, in.program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  close(control[1]);
  if (rc != 0) {
    for (int fd : {out[0], err[0], control[0]}) close(fd);
    return "cannot start `" + in.program + "`: " + std::strerror(rc);
  }
  in.out = out[0];
  in.err = err[0];
  in.control = control[0];
  for (int fd : {in.out, in.err, in.control}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  in.exited = false;
  in.idle = false;
  in.phase = Phase::Starting;
  in.sent = in.received = 0;
  return "";
}

uint64_t nowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

/// A loopback port for an instance, below the kernel's ephemeral range
/// (32768 and up, where other processes' outgoing connections take their
/// local ports), reserved until the launch ends: `*reservation` is bound to
/// it without SO_REUSEADDR (so the bind fails if anything else holds it,
/// and anyone else's later bind fails too), then marked SO_REUSEADDR so that
/// the instance, which binds with SO_REUSEADDR, can listen on it.
int freePort(int *reservation) {
  static uint64_t seed = nowMs() ^ (static_cast<uint64_t>(getpid()) << 20);
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    int port = 20000 + static_cast<int>((seed >> 33) % 12000);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) {
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      *reservation = fd;
      return port;
    }
    close(fd);
  }
  return -1;
}

/// Writes complete lines of `pending` + `data` with the instance's prefix.
void forward(FILE *to, const std::string &label, std::string &pending, const char *data, size_t n) {
  pending.append(data, n);
  size_t start = 0, nl;
  while ((nl = pending.find('\n', start)) != std::string::npos) {
    std::fprintf(to, "[%s] %.*s\n", label.c_str(), static_cast<int>(nl - start), pending.data() + start);
    start = nl + 1;
  }
  pending.erase(0, start);
  std::fflush(to);
}

void handleControl(Instance &in, const char *data, size_t n) {
  in.controlLine.append(data, n);
  size_t nl;
  while ((nl = in.controlLine.find('\n')) != std::string::npos) {
    unsigned long long s = 0, r = 0;
    char state[16] = "";
    if (in.controlLine.compare(0, nl, "connecting") == 0) {
      in.phase = Phase::Connecting;
    } else if (in.controlLine.compare(0, nl, "running") == 0) {
      in.phase = Phase::Running;
    } else if (std::sscanf(in.controlLine.c_str(), "idle %llu %llu", &s, &r) == 2) {
      in.phase = Phase::Running;
      in.idle = true;
      in.sent = s;
      in.received = r;
    } else if (std::sscanf(in.controlLine.c_str(), "probe-%15s %llu %llu", state, &s, &r) == 3) {
      in.answered = true;
      in.probeIdle = std::strcmp(state, "idle") == 0;
      in.probeSent = s;
      in.probeReceived = r;
    }
    in.controlLine.erase(0, nl + 1);
  }
}

/// Reads what is available on fd; false at end of file.
bool drain(int fd, const std::function<void(const char *, size_t)> &sink) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      sink(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

/// The signal (SIGINT, SIGTERM or SIGHUP) that asked launch to stop, or 0.
volatile sig_atomic_t stopSignal = 0;

void onStopSignal(int sig) { stopSignal = sig; }

/// Stops on SIGINT, SIGTERM and SIGHUP by ending the wait (no SA_RESTART:
/// poll returns EINTR) so that the instances are stopped and the temporary
/// files removed.
void catchStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

/// What each instance was doing when launch gave up on it, as a note.
std::string describePhases(const std::vector<Instance> &all) {
  std::string note;
  for (auto &in : all) {
    if (in.exited) continue;
    const char *what = in.phase == Phase::Starting     ? "was starting"
                       : in.phase == Phase::Connecting ? "was connecting to its peers"
                       : in.idle                       ? "was idle"
                                                       : "was running";
    note += (note.empty() ? "" : ", ") + in.label + " " + what;
  }
  return note;
}

/// Stops every instance still running: SIGTERM, then SIGKILL for any that
/// has not exited 10 s later (an instance gives itself 5 s to deliver what
/// it has made: docs/deployment.md). Their exits are launch's doing, not
/// failures.
void stopAll(std::vector<Instance> &all) {
  for (auto &in : all)
    if (!in.exited) kill(in.pid, SIGTERM);
  uint64_t deadline = nowMs() + 10000;
  for (auto &in : all) {
    while (!in.exited) {
      pid_t r = waitpid(in.pid, &in.status, WNOHANG);
      if (r == in.pid || r < 0) {
        in.exited = true;
        break;
      }
      if (nowMs() > deadline && !in.killed) {
        kill(in.pid, SIGKILL);
        in.killed = true;
      }
      usleep(2000);
    }
  }
}

std::string describeExit(int status) {
  if (WIFSIGNALED(status)) {
    const char *name = strsignal(WTERMSIG(status));
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + (name ? std::string(" (") + name + ")" : "");
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

} // namespace

bool readFile(const std::string &path, std::string &text) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return true;
}


int runLaunch(const LaunchOptions &opts) {
  std::string text;
  struct stat st;
  if (stat(opts.deployFile.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "dfirc: error: `%s` is a directory; give its deploy file (`%s/deploy.json`)\n",
                 opts.deployFile.c_str(), opts.deployFile.c_str());
    return kExitUserError;
  }
  if (!readFile(opts.deployFile, text)) {
    std::fprintf(stderr, "dfirc: error: cannot read `%s`: %s\n", opts.deployFile.c_str(), std::strerror(errno));
    return kExitUserError;
  }
  // The deploy data, read and edited as data (instances themselves read the
  // file with the runtime's own parser).
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  std::string why;
  if (!parsed) why = llvm::toString(parsed.takeError());
  llvm::json::Object *root = parsed ? parsed->getAsObject() : nullptr;
  llvm::json::Array *locations = root ? root->getArray("locations") : nullptr;
  if (!locations) {
    std::fprintf(stderr, "dfirc: error: `%s` is not a deploy file: %s\n", opts.deployFile.c_str(),
                 !why.empty() ? why.c_str() : root ? "it has no `locations` array" : "it is not a JSON object");
    return kExitUserError;
  }
  std::string dir = opts.deployFile.find('/') == std::string::npos
                        ? "."
                        : opts.deployFile.substr(0, opts.deployFile.find_last_of('/'));
  // Instance addresses with port 0: free ports, in a private copy of the file.
  std::string deployPath = opts.deployFile;
  bool rewritten = false;
  std::vector<int> reservations; // held until the instances are stopped
  for (llvm::json::Value &l : *locations) {
    llvm::json::Array *instances = l.getAsObject() ? l.getAsObject()->getArray("instances") : nullptr;
    if (!instances) continue;
    for (llvm::json::Value &i : *instances) {
      llvm::json::Object *instance = i.getAsObject();
      std::optional<llvm::StringRef> address = instance ? instance->getString("address") : std::nullopt;
      if (!address || !address->ends_with(":0")) continue;
      int reservation = -1;
      int port = freePort(&reservation);
      reservations.push_back(reservation);
      if (port < 0) {
        std::fprintf(stderr, "dfirc: error: no free loopback port for an instance\n");
        return kExitUserError;
      }
      (*instance)["address"] = address->drop_back(1).str() + std::to_string(port);
      rewritten = true;
    }
  }
  // The copy lives elsewhere: a key file named relative to the original is
  // named by its full path in the copy.
  std::optional<llvm::StringRef> keyFile = root->getString("key_file");
  if (rewritten && keyFile && !keyFile->starts_with("/")) {
    char *real = realpath(dir.c_str(), nullptr);
    if (real) (*root)["key_file"] = std::string(real) + "/" + keyFile->str();
    std::free(real);
  }
  std::string resolved;
  if (rewritten) {
    llvm::raw_string_ostream os(resolved);
    os << llvm::formatv("{0:2}", *parsed) << "\n";
  }
  // The copy with the picked ports goes to $TMPDIR (or /tmp).
  const char *tmpDir = std::getenv("TMPDIR");
  std::string tmpName = std::string(tmpDir && *tmpDir ? tmpDir : "/tmp") + "/dfirc-deploy-XXXXXX";
  std::vector<char> tmpBuf(tmpName.begin(), tmpName.end());
  tmpBuf.push_back('\0');
  char *tmpPath = tmpBuf.data();
  if (rewritten) {
    int fd = mkstemp(tmpPath);
    if (fd < 0 || write(fd, resolved.data(), resolved.size()) != static_cast<ssize_t>(resolved.size())) {
      std::fprintf(stderr, "dfirc: error: cannot write a temporary deploy file\n");
      return kExitUserError;
    }
    close(fd);
    deployPath = tmpPath;
  }
  // The temporary copy goes whichever way this returns.
  struct Unlink {
    const char *path;
    ~Unlink() {
      if (path) unlink(path);
    }
  } removeCopy{rewritten ? tmpPath : nullptr};

  if (!opts.profileDir.empty()) {
    std::optional<bool> profiling = root->getBoolean("profiling");
    if (!profiling || !*profiling) {
      std::fprintf(stderr,
                   "dfirc: error: `--profile-dir`: the executables of `%s` were built without profiling; build them "
                   "with `dfirc build --profiling`\n",
                   opts.deployFile.c_str());
      return kExitUsage;
    }
    // Each instance's profile is named after its location: a name that is
    // not an identifier (`../x`) would put it elsewhere.
    for (const llvm::json::Value &l : *locations) {
      std::optional<llvm::StringRef> name = l.getAsObject() ? l.getAsObject()->getString("name") : std::nullopt;
      bool identifier = name && !name->empty() && !std::isdigit(static_cast<unsigned char>(name->front()));
      for (char c : name ? *name : llvm::StringRef())
        identifier = identifier && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!identifier) {
        std::fprintf(stderr, "dfirc: error: `--profile-dir`: `%s` has a location whose name is not an identifier (%s)\n",
                     opts.deployFile.c_str(), name ? ("`" + name->str() + "`").c_str() : "none");
        return kExitUserError;
      }
    }
    mkdir(opts.profileDir.c_str(), 0777);
    struct stat dirStat;
    if (stat(opts.profileDir.c_str(), &dirStat) != 0 || !S_ISDIR(dirStat.st_mode)) {
      std::fprintf(stderr, "dfirc: error: cannot create the directory `%s`\n", opts.profileDir.c_str());
      return kExitUserError;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  catchStopSignals();
  // With restarts, instances keep what they have for a failed peer and
  // reconnect to it when it is back, rather than failing too.
  if (opts.restartLimit) setenv("DFIR_RECONNECT_MS", "30000", 0);
  std::vector<Instance> all;
  for (uint32_t l = 0; l < locations->size(); ++l) {
    const llvm::json::Object *loc = (*locations)[l].getAsObject();
    std::optional<llvm::StringRef> name = loc ? loc->getString("name") : std::nullopt;
    std::optional<llvm::StringRef> exe = loc ? loc->getString("executable") : std::nullopt;
    const llvm::json::Array *instances = loc ? loc->getArray("instances") : nullptr;
    if (!name || !exe || !instances) {
      std::fprintf(stderr, "dfirc: error: `%s`: location %u needs `name`, `executable` and `instances`\n",
                   opts.deployFile.c_str(), l);
      stopAll(all);
      return kExitUserError;
    }
    std::string program = exe->starts_with("/") ? exe->str() : dir + "/" + exe->str();
    for (uint32_t i = 0; i < instances->size(); ++i) {
      if (stopSignal) { // interrupted while starting them
        stopAll(all);
        return 128 + stopSignal;
      }
      Instance in;
      in.label = name->str() + "/" + std::to_string(i);
      std::string id = std::to_string(i);
      std::vector<std::string> args = {program, "--deploy", deployPath, "--location", name->str(), "--id", id};
      if (!opts.profileDir.empty())
        args.insert(args.end(), {"--profile", opts.profileDir + "/" + name->str() + "-" + id + ".json"});
      if (opts.metrics) {
        int reservation = -1;
        int port = freePort(&reservation);
        reservations.push_back(reservation);
        const llvm::json::Object *instance = (*instances)[i].getAsObject();
        std::optional<llvm::StringRef> address = instance ? instance->getString("address") : std::nullopt;
        if (port < 0 || !address || address->rfind(':') == llvm::StringRef::npos) {
          std::fprintf(stderr, "dfirc: error: %s\n",
                       port < 0 ? "no free loopback port for an instance's metrics" : "an instance without an address");
          stopAll(all);
          return kExitUserError;
        }
        args.insert(args.end(), {"--metrics-port", std::to_string(port)});
        std::fprintf(stderr, "dfirc: metrics of %s: http://%s:%d/metrics\n", in.label.c_str(),
                     address->substr(0, address->rfind(':')).str().c_str(), port);
      }
      in.program = program;
      in.args = std::move(args);
      if (std::string why = spawnInstance(in); !why.empty()) {
        std::fprintf(stderr, "dfirc: error: %s\n", why.c_str());
        stopAll(all);
        return kExitUserError;
      }
      all.push_back(std::move(in));
    }
  }

  uint64_t deadline = opts.timeoutSeconds ? nowMs() + opts.timeoutSeconds * 1000ull : 0;
  auto readAll = [&](Instance &in) {
    if (in.out >= 0 && !drain(in.out, [&](const char *d, size_t n) { forward(stdout, in.label, in.outLine, d, n); })) {
      close(in.out);
      in.out = -1;
    }
    if (in.err >= 0 && !drain(in.err, [&](const char *d, size_t n) {
          forward(stderr, in.label, in.errLine, d, n);
          in.errTail.append(d, n);
          if (in.errTail.size() > 1024) in.errTail.erase(0, in.errTail.size() - 1024);
        })) {
      close(in.err);
      in.err = -1;
    }
    if (in.control >= 0 && !drain(in.control, [&](const char *d, size_t n) { handleControl(in, d, n); })) {
      close(in.control);
      in.control = -1;
    }
  };
  int result = kExitOk;
  auto stopRequested = [&] {
    if (!stopSignal) return false;
    std::fprintf(stderr, "dfirc: interrupted by %s; stopping every instance\n",
                 stopSignal == SIGINT ? "SIGINT" : stopSignal == SIGTERM ? "SIGTERM" : "SIGHUP");
    result = 128 + stopSignal;
    return true;
  };
  int wave = 0; // 0: watching reports; 1, 2: waiting for a wave's answers
  uint64_t waveStart = 0;
  unsigned long long firstWaveSent = 0, firstWaveReceived = 0;
  // After a restart, items were lost with the failed instance: the counts
  // cannot balance, and quiescence is two waves in which nothing moved.
  bool lossy = false;
  for (;;) {
    std::vector<pollfd> fds;
    for (auto &in : all)
      for (int fd : {in.out, in.err, in.control})
        if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    poll(fds.data(), fds.size(), 50);
    if (stopRequested()) break;
    for (auto &in : all) {
      // A report of idleness is only as fresh as the last message: any new
      // output or report is read before deciding.
      readAll(in);
    }
    // Quiescence: reports first, then two waves of probes.
    bool quiet = true, answered = true, allIdle = true;
    unsigned long long sent = 0, received = 0, waveSent = 0, waveReceived = 0;
    for (auto &in : all) {
      quiet = quiet && in.idle;
      sent += in.sent;
      received += in.received;
      answered = answered && in.answered;
      allIdle = allIdle && in.probeIdle;
      waveSent += in.probeSent;
      waveReceived += in.probeReceived;
    }
    auto probe = [&] {
      for (auto &in : all) {
        in.answered = false;
        if (write(in.control, "?", 1) != 1) in.answered = true; // it exited: seen below
      }
      waveStart = nowMs();
    };
    if (wave == 0 && quiet && (sent == received || lossy) && nowMs() >= waveStart + 20) {
      probe();
      wave = 1;
    } else if (wave == 1 && answered) {
      firstWaveSent = waveSent;
      firstWaveReceived = waveReceived;
      wave = allIdle ? 2 : 0;
      if (allIdle) probe();
    } else if (wave == 2 && answered) {
      bool balanced = waveReceived == firstWaveSent && waveSent == waveReceived;
      bool still = waveSent == firstWaveSent && waveReceived == firstWaveReceived;
      if (allIdle && (balanced || (lossy && still))) break;
      wave = 0;
    }
    // An instance that ends on its own, before that, is a failure. Of
    // several seen at once, one that lost a connection is named after the
    // others: it stopped because a peer did.
    bool failed = false;
    std::vector<std::pair<Instance *, int>> ended;
    auto reap = [&] {
      for (auto &in : all) {
        int status;
        if (in.exited || waitpid(in.pid, &status, WNOHANG) != in.pid) continue;
        in.exited = true;
        readAll(in);
        ended.push_back({&in, status});
      }
    };
    auto consequence = [](const Instance *in) {
      return in->errTail.find("lost the connection") != std::string::npos ||
             in->errTail.find("ended in the middle of a frame") != std::string::npos;
    };
    reap();
    // Only instances that lost a peer: the peer is exiting too (its
    // sockets close before it is gone); give it a moment to be seen.
    if (!ended.empty() && std::all_of(ended.begin(), ended.end(), [&](auto &e) { return consequence(e.first); }))
      for (int i = 0; i < 100 && ended.size() < all.size(); ++i) {
        usleep(10 * 1000);
        size_t before = ended.size();
        reap();
        if (ended.size() > before) break;
      }
    std::stable_sort(ended.begin(), ended.end(),
                     [&](const auto &a, const auto &b) { return !consequence(a.first) && consequence(b.first); });
    for (auto &[in, status] : ended) {
      if (in->restarts < opts.restartLimit) {
        // --restart on-failure: the same program and arguments again; its
        // peers reconnect to it (DFIR_RECONNECT_MS).
        ++in->restarts;
        lossy = true;
        wave = 0;
        std::fprintf(stderr, "dfirc: instance %s %s; restarting it (%u of %u)\n", in->label.c_str(),
                     describeExit(status).c_str(), in->restarts, opts.restartLimit);
        for (int *fd : {&in->out, &in->err, &in->control})
          if (*fd >= 0) {
            close(*fd);
            *fd = -1;
          }
        if (std::string why = spawnInstance(*in); !why.empty()) {
          std::fprintf(stderr, "dfirc: error: %s\n", why.c_str());
          failed = true;
        }
        continue;
      }
      std::fprintf(stderr, "dfirc: error: instance %s %s%s\n", in->label.c_str(), describeExit(status).c_str(),
                   in->restarts ? (" (after " + std::to_string(in->restarts) + " restarts)").c_str() : "");
      failed = true;
    }
    if (failed) {
      result = kExitUserError;
      break;
    }
    if (deadline && nowMs() > deadline) {
      std::fprintf(stderr, "dfirc: error: the system was not quiescent after %u s; stopping it\n",
                   opts.timeoutSeconds);
      std::fprintf(stderr, "dfirc: note: at that moment %s\n", describePhases(all).c_str());
      result = kExitUserError;
      break;
    }
  }
  // Output written before the last reports is in the pipes: show it, then
  // stop everything, and show what the instances wrote while stopping.
  for (auto &in : all) readAll(in);
  bool quiescent = result == kExitOk;
  std::vector<bool> running;
  for (auto &in : all) running.push_back(!in.exited);
  stopAll(all);
  for (auto &in : all) {
    readAll(in);
    if (!in.outLine.empty()) forward(stdout, in.label, in.outLine, "\n", 1);
    if (!in.errLine.empty()) forward(stderr, in.label, in.errLine, "\n", 1);
  }
  // After quiescence, an instance must stop cleanly: one that reports a
  // loss while stopping (exit 1), or does not stop in time, is an error.
  for (size_t i = 0; quiescent && i < all.size(); ++i) {
    const Instance &in = all[i];
    if (!running[i] || (WIFEXITED(in.status) && WEXITSTATUS(in.status) == 0)) continue;
    std::fprintf(stderr, "dfirc: error: instance %s %s while stopping\n", in.label.c_str(),
                 in.killed ? "did not exit within 10 s of SIGTERM and was killed" : describeExit(in.status).c_str());
    result = kExitUserError;
  }
  for (auto &in : all)
    for (int fd : {in.out, in.err, in.control})
      if (fd >= 0) close(fd);
  for (int fd : reservations) close(fd);
  return result;
}

} // namespace dfir::driver
