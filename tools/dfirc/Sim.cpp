//===- Sim.cpp - dfirc sim: schedules explored, counterexamples kept --------===//
#include "tools/dfirc/Sim.h"

#include "support/Json.h"
#include "dfir_rt.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef DFIRC_HAVE_LIBFUZZER
// libFuzzer's entry points (libclang_rt.fuzzer_no_main): its driver, and
// the registration of coverage counters, which are ours here.
extern "C" int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
extern "C" void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop);
extern "C" void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop);
#endif

namespace dfir::driver {

namespace {

std::string hex16(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// What one run under a schedule did.
struct Outcome {
  bool failed = false;
  std::string why; // what it printed on standard error, or how it died
  std::vector<uint32_t> choices, arities; // as the run numbered them (reduced or not)
  std::vector<uint32_t> raw, rawArities;  // numbered without the reduction
  uint64_t ticks = 0;
  uint32_t faults = 0;
  int32_t blocked = 0, bounded = 0;
  uint64_t crashesDone = 0;
};

int resultFd = -1;

void writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

/// In the child: the choices made, for the parent.
void writeRecorded() {
  const uint32_t *choices = nullptr, *arities = nullptr;
  uint32_t len = 0;
  uint64_t ticks = 0;
  dfir_rt_schedule_recorded(&choices, &arities, &len, &ticks);
  dfir_sim_outcome o;
  dfir_rt_sim_outcome(&o);
  writeAll(resultFd, &ticks, sizeof ticks);
  writeAll(resultFd, &o.crashes_done, sizeof o.crashes_done);
  writeAll(resultFd, &o.faults, sizeof o.faults);
  writeAll(resultFd, &o.blocked, sizeof o.blocked);
  writeAll(resultFd, &o.bounded, sizeof o.bounded);
  writeAll(resultFd, &len, sizeof len);
  writeAll(resultFd, choices, len * sizeof(uint32_t));
  writeAll(resultFd, arities, len * sizeof(uint32_t));
  writeAll(resultFd, &o.raw_len, sizeof o.raw_len);
  writeAll(resultFd, o.raw_choices, o.raw_len * sizeof(uint32_t));
  writeAll(resultFd, o.raw_arities, o.raw_len * sizeof(uint32_t));
}

/// Reads what writeRecorded wrote; false if it is cut short (the child
/// died before writing it all).
bool readRecorded(const std::string &bytes, Outcome &o) {
  size_t at = 0;
  auto take = [&](void *to, size_t n) {
    if (bytes.size() - at < n) return false;
    if (n) std::memcpy(to, bytes.data() + at, n); // `to` is null for an empty vector
    at += n;
    return true;
  };
  auto takeChoices = [&](std::vector<uint32_t> &c, std::vector<uint32_t> &a) {
    uint32_t len = 0;
    if (!take(&len, sizeof len) || (bytes.size() - at) / (2 * sizeof(uint32_t)) < len) return false;
    c.resize(len);
    a.resize(len);
    return take(c.data(), len * sizeof(uint32_t)) && take(a.data(), len * sizeof(uint32_t));
  };
  return take(&o.ticks, sizeof o.ticks) && take(&o.crashesDone, sizeof o.crashesDone) &&
         take(&o.faults, sizeof o.faults) && take(&o.blocked, sizeof o.blocked) &&
         take(&o.bounded, sizeof o.bounded) && takeChoices(o.choices, o.arities) && takeChoices(o.raw, o.rawArities);
}

/// The runtime stopped the run (`exit`): a failed assertion, a runtime
/// error. The choices go to the parent, and the child ends here, without
/// the compiler's own exit handlers.
void onRuntimeExit() {
  writeRecorded();
  ::_exit(3);
}

std::string readFile(std::FILE *f) {
  std::string out;
  std::rewind(f);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

Outcome runOnce(const SystemRun &run, uint64_t seed, const std::vector<uint32_t> &prefix, bool thenFirst,
                uint64_t limit, const dfir_sim_options &options) {
  Outcome o;
  std::FILE *result = std::tmpfile(), *err = std::tmpfile();
  if (!result || !err) {
    o.failed = true;
    o.why = "dfirc sim: cannot create a temporary file: " + std::string(std::strerror(errno));
    return o;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(fileno(err), 2);
    resultFd = fileno(result);
    dfir_rt_seed_random(seed);
    dfir_rt_simulate(&options);
    dfir_rt_schedule_use(prefix.data(), static_cast<uint32_t>(prefix.size()), thenFirst,
                         static_cast<uint32_t>(limit));
    std::atexit(onRuntimeExit);
    int status = run(seed);
    writeRecorded();
    ::_exit(status);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0) {
    o.failed = true;
    o.why = "dfirc sim: cannot run a schedule: " + std::string(std::strerror(errno));
  } else {
    o.failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    o.why = readFile(err);
    if (WIFSIGNALED(status)) o.why += "killed by signal " + std::to_string(WTERMSIG(status)) + "\n";
    Outcome recorded;
    if (readRecorded(readFile(result), recorded)) {
      recorded.failed = o.failed;
      recorded.why = std::move(o.why);
      o = std::move(recorded);
    }
  }
  std::fclose(result);
  std::fclose(err);
  return o;
}

/// The last non-empty line of what a run printed on standard error.
std::string lastLine(const std::string &text) {
  size_t end = text.find_last_not_of("\n");
  if (end == std::string::npos) return "(it printed nothing on standard error)";
  size_t start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

constexpr uint32_t kCoverageSize = 1u << 16;

class Explorer;
#ifdef DFIRC_HAVE_LIBFUZZER
Explorer *fuzzing = nullptr; // the explorer libFuzzer's callback runs for
#endif

class Explorer {
public:
  Explorer(uint64_t fingerprint, const std::string &input, const SimOptions &sim, const SimSetup &setup,
           const SystemRun &run)
      : fingerprint_(fingerprint), input_(input), sim_(sim), setup_(setup), run_(run) {}
  int explore();

private:
  int fuzz();
  static int fuzzOne(const uint8_t *data, size_t size);
  [[noreturn]] void fuzzDone() {
    uint64_t stats[5] = {runs_, choices_, ticks_, faults_, 0};
    writeAll(fuzzOut_, stats, sizeof stats);
    ::_exit(0);
  }
  /// One run; `reduce`: under the sleep-set reduction (its choices then
  /// numbered among the alternatives not asleep).
  Outcome attempt(const std::vector<uint32_t> &prefix, bool thenFirst, uint64_t seed, bool reduce = false,
                  uint64_t limit = 0) {
    ++runs_;
    dfir_sim_options options = setup_.options(reduce);
    options.lenient = 1; // a minimizing (or fuzzer's) prefix may outlast the alternatives it changed
    options.coverage = coverage_;
    options.coverage_size = coverage_ ? kCoverageSize : 0;
    Outcome o = runOnce(run_, seed, prefix, thenFirst, limit ? limit : sim_.maxSteps, options);
    choices_ += o.choices.size();
    ticks_ += o.ticks;
    faults_ += o.faults;
    blocked_ += o.blocked != 0;
    crashesSeen_ |= o.crashesDone;
    bounded_ = bounded_ || o.bounded;
    return o;
  }
  int counterexample(const Outcome &failing, uint64_t seed, bool thenFirst, uint64_t schedule);
  void summary(const char *verdict);

  uint64_t fingerprint_;
  const std::string &input_;
  const SimOptions &sim_;
  const SimSetup &setup_;
  const SystemRun &run_;
  uint64_t runs_ = 0, choices_ = 0, ticks_ = 0, faults_ = 0, blocked_ = 0, crashesSeen_ = 0;
  uint8_t *coverage_ = nullptr; // --fuzz: counters shared with the runs
  int fuzzOut_ = -1;            // --fuzz: where the fuzzing process reports a failing schedule
  bool bounded_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void Explorer::summary(const char *verdict) {
  // A crash or restart that no run reached did not happen: say so.
  for (size_t i = 0; i < setup_.crashes.size(); ++i) {
    const dfir_crash &c = setup_.crashes[i];
    if (!(crashesSeen_ & (1ull << (2 * i))))
      std::printf("dfirc sim: note: no run reached step %llu, so `%s` never crashed\n",
                  static_cast<unsigned long long>(c.step), setup_.crashNames[i].c_str());
    else if (c.restart_step && !(crashesSeen_ & (1ull << (2 * i + 1))))
      std::printf("dfirc sim: note: `%s` never restarted (no run got that far)\n", setup_.crashNames[i].c_str());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string faults = setup_.faults.empty() ? "" : ", " + std::to_string(faults_) + " faults injected";
  std::printf("dfirc sim: %llu run%s (%llu scheduler choices, %llu ticks%s) in %.2f s, %.0f runs/s: %s\n",
              static_cast<unsigned long long>(runs_), runs_ == 1 ? "" : "s", static_cast<unsigned long long>(choices_),
              static_cast<unsigned long long>(ticks_), faults.c_str(), seconds, seconds > 0 ? runs_ / seconds : 0.0,
              verdict);
}

int Explorer::counterexample(const Outcome &failing, uint64_t seed, bool thenFirst, uint64_t schedule) {
  std::printf("dfirc sim: schedule %llu (seed %llu) fails: %s\n", static_cast<unsigned long long>(schedule),
              static_cast<unsigned long long>(seed), lastLine(failing.why).c_str());
  // Every choice before the failure is in the record (numbered without the
  // reduction, which the minimizing runs do not use): as a prefix, then the
  // first alternatives, it fails again; then the shortest prefix that
  // still fails, then each choice made the first alternative if it still
  // fails, from the last.
  std::vector<uint32_t> c = failing.raw;
  constexpr uint64_t kBudget = 300;
  uint64_t before = runs_;
  // Numbered without the reduction, the failing run made more choices than
  // it counted: the bound leaves room for all of them.
  uint64_t limit = std::max<uint64_t>(sim_.maxSteps, failing.raw.size() + 1);
  auto fails = [&](const std::vector<uint32_t> &p) {
    return runs_ - before < kBudget && attempt(p, true, seed, false, limit).failed;
  };
  bool minimal = fails(c);
  if (!minimal) {
    thenFirst = false; // it needs the generator's later choices too: kept as it was
  } else {
    size_t lo = 0, hi = c.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (fails(std::vector<uint32_t>(c.begin(), c.begin() + static_cast<long>(mid)))) hi = mid;
      else lo = mid + 1;
    }
    c.resize(hi);
    for (size_t i = c.size(); i-- > 0;) {
      if (c[i] == 0) continue;
      std::vector<uint32_t> t = c;
      t[i] = 0;
      if (fails(t)) c = t;
    }
    while (!c.empty() && c.back() == 0) c.pop_back();
    thenFirst = true;
  }
  Outcome last = attempt(c, thenFirst, seed, false, limit);
  if (!last.failed) { // the budget ran out mid-way: keep the failing record
    c = failing.raw;
    thenFirst = false;
    last = failing;
  } else if (thenFirst) { // the choices as that run made them (each within its alternatives)
    c = last.raw;
    while (!c.empty() && c.back() == 0) c.pop_back();
  }
  ScheduleFile f;
  f.fingerprint = fingerprint_;
  f.seed = seed;
  f.thenFirst = thenFirst;
  f.choices = c;
  f.faults = sim_.faults;
  std::string out = sim_.output;
  if (out.empty()) {
    std::string stem = input_.substr(input_.find_last_of('/') + 1);
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".dfir") == 0) stem.resize(stem.size() - 5);
    out = stem + ".schedule.json";
  }
  std::string error;
  if (!writeSchedule(out, f, error)) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    return kExitUserError;
  }
  size_t moved = static_cast<size_t>(std::count_if(c.begin(), c.end(), [](uint32_t x) { return x != 0; }));
  std::string faults =
      setup_.faults.empty() ? "" : ", " + std::to_string(last.faults) + (last.faults == 1 ? " fault" : " faults");
  std::printf("  minimized to %zu choice%s (%zu not the first alternative), %llu ticks%s, from %zu choices and %llu "
              "ticks\n",
              c.size(), c.size() == 1 ? "" : "s", moved, static_cast<unsigned long long>(last.ticks), faults.c_str(), failing.raw.size(),
              static_cast<unsigned long long>(failing.ticks));
  std::printf("  it prints: %s\n", lastLine(last.why).c_str());
  std::printf("  schedule written to %s; replay it with: dfirc run %s --schedule %s --trace\n", out.c_str(),
              input_.c_str(), out.c_str());
  summary("a violation found");
  return kExitUserError;
}

int Explorer::explore() {
  if (sim_.fuzz) return fuzz();
  if (!sim_.exhaustive) {
    for (uint64_t i = 0; i < sim_.random; ++i) {
      uint64_t seed = sim_.run.seed + i;
      Outcome o = attempt({}, false, seed);
      if (o.failed) return counterexample(o, seed, false, i + 1);
    }
    summary(bounded_ ? "no violation found within these bounds (some runs stopped at --max-steps or --max-ticks)"
                     : "no violation found within these bounds");
    return kExitOk;
  }
  // Depth first: each run follows `prefix`, then takes the first
  // alternative of every choice; the next schedule changes its last choice
  // that has an untried alternative. Under the reduction the choices are
  // numbered among the alternatives not asleep, so the same walk skips the
  // rest.
  const char *why = nullptr;
  if (sim_.noReduction) why = "--no-reduction";
  else if (!setup_.crashes.empty()) why = "a crash at a step depends on the order of every tick";
  else if (setup_.maxInFlight) why = "--max-in-flight makes every instance's tick depend on the others'";
  if (why) std::printf("dfirc sim: no reduction (%s)\n", why);
  bool reduce = !why && !setup_.dependent.empty();
  std::vector<uint32_t> prefix;
  for (uint64_t schedule = 1;; ++schedule) {
    Outcome o = attempt(prefix, true, sim_.run.seed, reduce);
    if (o.failed) return counterexample(o, sim_.run.seed, true, schedule);
    size_t i = o.choices.size();
    while (i > 0 && o.choices[i - 1] + 1 >= o.arities[i - 1]) --i;
    bool more = i > 0;
    if (!more || schedule >= sim_.maxSchedules) {
      if (reduce)
        std::printf("dfirc sim: reduction: persistent and sleep sets (ticks of two instances that no channel joins "
                    "commute); %llu of "
                    "the runs stopped as repeats of an explored schedule\n",
                    static_cast<unsigned long long>(blocked_));
      if (more) summary("no violation found within these bounds (stopped at --max-schedules; more schedules remain)");
      else if (bounded_)
        summary("no violation found within these bounds (every schedule of at most --max-steps choices or "
                "--max-ticks ticks; longer runs were cut there)");
      else if (setup_.maxInFlight)
        summary("no violation found within these bounds (every schedule of the scheduler's choices in which no "
                "instance runs --max-in-flight messages ahead while another can tick)");
      else summary("no violation found within these bounds (every schedule of the scheduler's choices)");
      return kExitOk;
    }
    prefix.assign(o.choices.begin(), o.choices.begin() + static_cast<long>(i));
    ++prefix.back();
  }
}

} // namespace

bool readSchedule(const std::string &path, ScheduleFile &out, std::string &error) {
  std::string text;
  if (!readWholeFile(path, text, error)) return false;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) {
    error = "`" + path + "` is not a schedule: " + llvm::toString(parsed.takeError());
    return false;
  }
  const llvm::json::Object *o = parsed->getAsObject();
  auto bad = [&](const std::string &what) {
    error = "`" + path + "` is not a schedule: " + what;
    return false;
  };
  if (!o || o->getInteger("dfir_schedule") != 1) return bad("no `\"dfir_schedule\": 1`");
  std::optional<llvm::StringRef> fp = o->getString("fingerprint");
  if (!fp || fp->size() != 16 || fp->find_first_not_of("0123456789abcdef") != llvm::StringRef::npos)
    return bad("expected `fingerprint` to be 16 hexadecimal digits");
  out.fingerprint = std::stoull(fp->str(), nullptr, 16);
  std::optional<int64_t> seed = o->getInteger("seed");
  if (!seed || *seed < 0) return bad("expected `seed` to be a non-negative integer");
  out.seed = static_cast<uint64_t>(*seed);
  std::optional<llvm::StringRef> after = o->getString("after");
  if (!after || (*after != "first" && *after != "random")) return bad("expected `after` to be \"first\" or \"random\"");
  out.thenFirst = *after == "first";
  const llvm::json::Array *choices = o->getArray("choices");
  if (!choices) return bad("expected `choices` to be an array");
  if (choices->size() > 100000000) return bad("more than 100000000 choices");
  out.choices.clear();
  for (const llvm::json::Value &v : *choices) {
    std::optional<int64_t> c = v.getAsInteger();
    if (!c || *c < 0 || *c > UINT32_MAX) return bad("a choice is not a number from 0 to 4294967295");
    out.choices.push_back(static_cast<uint32_t>(*c));
  }
  // Faults and crashes (absent: none), checked against the program when
  // the schedule is used.
  out.faults = SimFaults();
  auto strings = [&](const char *key, std::vector<std::string> &to) {
    const llvm::json::Value *v = o->get(key);
    if (!v) return true;
    const llvm::json::Array *a = v->getAsArray();
    if (!a || a->size() > 4096) return bad(std::string("expected `") + key + "` to be an array of strings");
    for (const llvm::json::Value &e : *a) {
      std::optional<llvm::StringRef> str = e.getAsString();
      if (!str) return bad(std::string("expected `") + key + "` to be an array of strings");
      to.push_back(str->str());
    }
    return true;
  };
  auto count = [&](const char *key, uint32_t &to, int64_t hi) {
    const llvm::json::Value *v = o->get(key);
    if (!v) return true;
    std::optional<int64_t> n = v->getAsInteger();
    if (!n || *n < 0 || *n > hi)
      return bad(std::string("expected `") + key + "` to be a number from 0 to " + std::to_string(hi));
    to = static_cast<uint32_t>(*n);
    return true;
  };
  return strings("faults", out.faults.faults) && strings("crashes", out.faults.crashes) &&
         strings("restarts", out.faults.restarts) && count("max_faults", out.faults.maxFaults, kMaxFaults) &&
         count("max_in_flight", out.faults.maxInFlight, kMaxInFlight);
}

bool writeSchedule(const std::string &path, const ScheduleFile &s, std::string &error) {
  std::string choices;
  for (size_t i = 0; i < s.choices.size(); ++i) choices += (i ? ", " : "") + std::to_string(s.choices[i]);
  auto list = [](const std::vector<std::string> &v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + jsonText(jsonString(v[i]));
    return "[" + out + "]";
  };
  std::string faults;
  if (!s.faults.faults.empty())
    faults += ",\n  \"faults\": " + list(s.faults.faults) + ",\n  \"max_faults\": " + std::to_string(s.faults.maxFaults);
  if (!s.faults.crashes.empty()) faults += ",\n  \"crashes\": " + list(s.faults.crashes);
  if (!s.faults.restarts.empty()) faults += ",\n  \"restarts\": " + list(s.faults.restarts);
  if (s.faults.maxInFlight) faults += ",\n  \"max_in_flight\": " + std::to_string(s.faults.maxInFlight);
  std::string text = "{\n  \"dfir_schedule\": 1,\n  \"fingerprint\": \"" + hex16(s.fingerprint) +
                     "\",\n  \"seed\": " + std::to_string(s.seed) + ",\n  \"after\": \"" +
                     (s.thenFirst ? "first" : "random") + "\"" + faults + ",\n  \"choices\": [" + choices + "]\n}\n";
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) {
    error = "cannot write `" + path + "`: " + std::strerror(errno);
    return false;
  }
  return true;
}

#ifdef DFIRC_HAVE_LIBFUZZER
bool fuzzAvailable() { return true; }

/// libFuzzer's callback: its bytes are the choices (each taken modulo the
/// alternatives there are; after them, the first alternatives). A failing
/// run ends the fuzzing process with its bytes reported.
int Explorer::fuzzOne(const uint8_t *data, size_t size) {
  Explorer &e = *fuzzing;
  std::vector<uint32_t> prefix(data, data + size);
  Outcome o = e.attempt(prefix, true, e.sim_.run.seed);
  if (o.failed) {
    uint64_t stats[5] = {e.runs_, e.choices_, e.ticks_, e.faults_, o.raw.size()};
    writeAll(e.fuzzOut_, stats, sizeof stats);
    writeAll(e.fuzzOut_, o.raw.data(), o.raw.size() * sizeof(uint32_t));
    ::_exit(1);
  }
  return 0;
}

/// `--fuzz N`: libFuzzer chooses N schedules, in a process of its own
/// (it keeps state, and a failure ends it), guided by counters that the
/// runs raise for what the program did.
int Explorer::fuzz() {
  std::FILE *report = std::tmpfile(), *log = std::tmpfile();
  void *shared = ::mmap(nullptr, kCoverageSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (!report || !log || shared == MAP_FAILED) {
    std::fprintf(stderr, "dfirc: error: cannot set up fuzzing: %s\n", std::strerror(errno));
    return kExitUserError;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fileno(log), 2);
    coverage_ = static_cast<uint8_t *>(shared);
    fuzzOut_ = fileno(report);
    fuzzing = this;
    // Every counter is a "PC" to libFuzzer; none is a function entry.
    static std::vector<uintptr_t> pcs(2 * kCoverageSize);
    for (uint32_t i = 0; i < kCoverageSize; ++i) pcs[2 * i] = i + 1;
    __sanitizer_cov_8bit_counters_init(coverage_, coverage_ + kCoverageSize);
    __sanitizer_cov_pcs_init(pcs.data(), pcs.data() + pcs.size());
    std::vector<std::string> args = {"dfirc-sim",
                                     "-runs=" + std::to_string(sim_.fuzz),
                                     "-seed=" + std::to_string(sim_.run.seed % 4000000000u + 1),
                                     "-max_len=" + std::to_string(std::min<uint64_t>(sim_.maxSteps, 4096)),
                                     "-timeout=0",
                                     "-rss_limit_mb=0",
                                     "-print_final_stats=0"};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int argc = static_cast<int>(args.size());
    char **argvp = argv.data();
    // libFuzzer ends the process with `exit` after its last run.
    std::atexit([] { fuzzing->fuzzDone(); });
    LLVMFuzzerRunDriver(&argc, &argvp, &Explorer::fuzzOne);
    fuzzDone();
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0) {
    std::fprintf(stderr, "dfirc: error: cannot run the fuzzer: %s\n", std::strerror(errno));
    return kExitUserError;
  }
  std::string bytes = readFile(report);
  uint64_t stats[5] = {0, 0, 0, 0, 0};
  if (bytes.size() < sizeof stats || !WIFEXITED(status) || WEXITSTATUS(status) > 1) {
    std::string why = lastLine(readFile(log));
    std::fprintf(stderr, "dfirc: error: the fuzzer stopped before it was done: %s\n", why.c_str());
    return kExitUserError;
  }
  std::memcpy(stats, bytes.data(), sizeof stats);
  runs_ = stats[0];
  choices_ = stats[1];
  ticks_ = stats[2];
  faults_ = stats[3];
  ::munmap(shared, kCoverageSize);
  if (WEXITSTATUS(status) == 0) {
    summary("no violation found within these bounds (the schedules libFuzzer chose)");
    return kExitOk;
  }
  std::vector<uint32_t> failing(std::min<uint64_t>(stats[4], (bytes.size() - sizeof stats) / sizeof(uint32_t)));
  if (!failing.empty())
    std::memcpy(failing.data(), bytes.data() + sizeof stats, failing.size() * sizeof(uint32_t));
  Outcome o = attempt(failing, true, sim_.run.seed);
  if (!o.failed) {
    std::fprintf(stderr, "dfirc: error: the schedule the fuzzer found failing passes when run again (does the "
                         "program depend on time or on outside state?)\n");
    return kExitUserError;
  }
  return counterexample(o, sim_.run.seed, true, runs_);
}
#else
bool fuzzAvailable() { return false; }
int Explorer::fuzzOne(const uint8_t *, size_t) { return 0; }
int Explorer::fuzz() { return kExitUsage; }
#endif

dfir_sim_options SimSetup::options(bool reduce) const {
  dfir_sim_options o;
  std::memset(&o, 0, sizeof o);
  o.faults = faults.empty() ? nullptr : faults.data();
  o.max_faults = maxFaults;
  o.crashes = crashes.empty() ? nullptr : crashes.data();
  o.ncrashes = static_cast<uint32_t>(crashes.size());
  o.dependent = reduce && !dependent.empty() ? dependent.data() : nullptr;
  o.max_ticks = maxTicks;
  o.max_in_flight = maxInFlight;
  return o;
}

namespace {
/// `LOC/ID@STEP` (or `LOC@STEP` for a process) against the program.
bool parseMember(const std::string &spec, const char *option, const SimProgram &p, uint32_t &loc, uint32_t &member,
                 uint64_t &step, std::string &error) {
  size_t at = spec.find('@'), slash = spec.find('/');
  std::string name = spec.substr(0, std::min(at, slash));
  std::string id = slash < at ? spec.substr(slash + 1, at - slash - 1) : "0";
  std::string when = at == std::string::npos ? "" : spec.substr(at + 1);
  auto number = [](const std::string &t, uint64_t hi, uint64_t &v) {
    if (t.empty() || t.size() > 10 || t.find_first_not_of("0123456789") != std::string::npos) return false;
    v = std::stoull(t);
    return v <= hi;
  };
  auto it = std::find(p.locations.begin(), p.locations.end(), name);
  uint64_t m = 0;
  if (it == p.locations.end() || !number(when, 1000000000, step) || !number(id, 4095, m)) {
    std::string names;
    for (auto &l : p.locations) names += (names.empty() ? "" : ", ") + l;
    error = std::string("`") + option + " " + spec + "`: expected LOCATION/ID@STEP with LOCATION one of " + names +
            " and STEP from 0 to 1000000000";
    return false;
  }
  loc = static_cast<uint32_t>(it - p.locations.begin());
  if (m >= p.counts[loc]) {
    error = std::string("`") + option + " " + spec + "`: `" + name + "` has " + std::to_string(p.counts[loc]) +
            " member" + (p.counts[loc] == 1 ? "" : "s") + " (ids 0 to " + std::to_string(p.counts[loc] - 1) + ")";
    return false;
  }
  member = static_cast<uint32_t>(m);
  return true;
}
} // namespace

bool resolveFaults(const SimFaults &given, const SimProgram &p, SimSetup &out, std::string &error) {
  out = SimSetup();
  out.maxFaults = given.maxFaults;
  out.maxInFlight = given.maxInFlight;
  if (!given.faults.empty()) out.faults.assign(p.channels.size(), 0);
  for (const std::string &spec : given.faults) {
    size_t eq = spec.find('=');
    std::string name = spec.substr(0, eq);
    auto it = std::find(p.channels.begin(), p.channels.end(), name);
    if (it == p.channels.end()) {
      std::string names;
      for (auto &c : p.channels) names += (names.empty() ? "" : ", ") + c;
      error = "`--faults " + spec + "`: expected CHANNEL=FAULT[,FAULT...] with CHANNEL one of " +
              (names.empty() ? std::string("(the program has no channels)") : names);
      return false;
    }
    uint8_t &bits = out.faults[static_cast<size_t>(it - p.channels.begin())];
    if (bits) {
      error = "`--faults " + spec + "`: channel `" + name + "` is given twice (list its faults once: " + name +
              "=lose,dup)";
      return false;
    }
    std::string kinds = eq == std::string::npos ? "" : spec.substr(eq + 1);
    for (size_t start = 0; start <= kinds.size();) {
      size_t comma = kinds.find(',', start);
      std::string k = kinds.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      uint8_t bit = k == "lose" ? DFIR_FAULT_LOSE : k == "dup" ? DFIR_FAULT_DUP : k == "delay" ? DFIR_FAULT_DELAY : 0;
      if (!bit) {
        error = "`--faults " + spec + "`: expected faults among lose, dup and delay, found `" + k + "`";
        return false;
      }
      bits |= bit;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (given.crashes.size() > 32) {
    error = "`--crash`: at most 32 crashes, found " + std::to_string(given.crashes.size());
    return false;
  }
  for (const std::string &spec : given.crashes) {
    dfir_crash c{};
    if (!parseMember(spec, "--crash", p, c.location, c.member, c.step, error)) return false;
    for (const dfir_crash &d : out.crashes)
      if (d.location == c.location && d.member == c.member) {
        error = "`--crash " + spec + "`: that member already crashes once (a member crashes at most once)";
        return false;
      }
    out.crashes.push_back(c);
    out.crashNames.push_back(spec);
  }
  for (const std::string &spec : given.restarts) {
    uint32_t loc = 0, member = 0;
    uint64_t step = 0;
    if (!parseMember(spec, "--restart", p, loc, member, step, error)) return false;
    auto it = std::find_if(out.crashes.begin(), out.crashes.end(),
                           [&](const dfir_crash &c) { return c.location == loc && c.member == member; });
    if (it == out.crashes.end() || step <= it->step || it->restart_step) {
      error = "`--restart " + spec + "`: expected a restart after a `--crash` of the same member at an earlier step";
      return false;
    }
    it->restart_step = step;
  }
  // Ticks of two locations commute unless a channel joins them or both
  // touch state every instance shares.
  size_t n = p.locations.size();
  out.dependent.assign(n * n, 0);
  for (auto [from, to] : p.ends) out.dependent[from * n + to] = out.dependent[to * n + from] = 1;
  for (size_t a = 0; a < n; ++a)
    for (size_t b = 0; b < n; ++b)
      if (p.shared[a] && p.shared[b]) out.dependent[a * n + b] = 1;
  return true;
}

int exploreSchedules(uint64_t fingerprint, const std::string &input, const SimOptions &sim, const SimSetup &setup,
                     const SystemRun &run) {
  Explorer e(fingerprint, input, sim, setup, run);
  return e.explore();
}

} // namespace dfir::driver
