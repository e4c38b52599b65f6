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
#include <sys/wait.h>
#include <unistd.h>

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
  std::vector<uint32_t> choices, arities;
  uint64_t ticks = 0;
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
  writeAll(resultFd, &len, sizeof len);
  writeAll(resultFd, &ticks, sizeof ticks);
  writeAll(resultFd, choices, len * sizeof(uint32_t));
  writeAll(resultFd, arities, len * sizeof(uint32_t));
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
                uint64_t limit) {
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
    std::string bytes = readFile(result);
    uint32_t len = 0;
    if (bytes.size() >= sizeof len + sizeof o.ticks) {
      std::memcpy(&len, bytes.data(), sizeof len);
      std::memcpy(&o.ticks, bytes.data() + sizeof len, sizeof o.ticks);
      size_t at = sizeof len + sizeof o.ticks;
      if (bytes.size() >= at + 2ull * len * sizeof(uint32_t)) {
        o.choices.resize(len);
        o.arities.resize(len);
        std::memcpy(o.choices.data(), bytes.data() + at, len * sizeof(uint32_t));
        std::memcpy(o.arities.data(), bytes.data() + at + len * sizeof(uint32_t), len * sizeof(uint32_t));
      }
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

class Explorer {
public:
  Explorer(uint64_t fingerprint, const std::string &input, const SimOptions &sim, const SystemRun &run)
      : fingerprint_(fingerprint), input_(input), sim_(sim), run_(run) {}
  int explore();

private:
  Outcome attempt(const std::vector<uint32_t> &prefix, bool thenFirst, uint64_t seed) {
    ++runs_;
    Outcome o = runOnce(run_, seed, prefix, thenFirst, sim_.maxSteps);
    choices_ += o.choices.size();
    ticks_ += o.ticks;
    bounded_ = bounded_ || o.choices.size() >= sim_.maxSteps;
    return o;
  }
  int counterexample(const Outcome &failing, uint64_t seed, bool thenFirst, uint64_t schedule);
  void summary(const char *verdict);

  uint64_t fingerprint_;
  const std::string &input_;
  const SimOptions &sim_;
  const SystemRun &run_;
  uint64_t runs_ = 0, choices_ = 0, ticks_ = 0;
  bool bounded_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void Explorer::summary(const char *verdict) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::printf("dfirc sim: %llu run%s (%llu scheduler choices, %llu ticks) in %.2f s, %.0f runs/s: %s\n",
              static_cast<unsigned long long>(runs_), runs_ == 1 ? "" : "s", static_cast<unsigned long long>(choices_),
              static_cast<unsigned long long>(ticks_), seconds, seconds > 0 ? runs_ / seconds : 0.0, verdict);
}

int Explorer::counterexample(const Outcome &failing, uint64_t seed, bool thenFirst, uint64_t schedule) {
  std::printf("dfirc sim: schedule %llu (seed %llu) fails: %s\n", static_cast<unsigned long long>(schedule),
              static_cast<unsigned long long>(seed), lastLine(failing.why).c_str());
  // Every choice before the failure is in the record: as a prefix, then
  // the first alternatives, it fails again; then the shortest prefix that
  // still fails, then each choice made the first alternative if it still
  // fails, from the last.
  std::vector<uint32_t> c = failing.choices;
  constexpr uint64_t kBudget = 300;
  uint64_t before = runs_;
  auto fails = [&](const std::vector<uint32_t> &p) { return runs_ - before < kBudget && attempt(p, true, seed).failed; };
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
  Outcome last = attempt(c, thenFirst, seed);
  if (!last.failed) { // the budget ran out mid-way: keep the failing record
    c = failing.choices;
    thenFirst = false;
    last = failing;
  }
  ScheduleFile f;
  f.fingerprint = fingerprint_;
  f.seed = seed;
  f.thenFirst = thenFirst;
  f.choices = c;
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
  std::printf("  minimized to %zu choices (%zu not the first alternative), %llu ticks, from %zu choices and %llu "
              "ticks\n",
              c.size(), moved, static_cast<unsigned long long>(last.ticks), failing.choices.size(),
              static_cast<unsigned long long>(failing.ticks));
  std::printf("  it prints: %s\n", lastLine(last.why).c_str());
  std::printf("  schedule written to %s; replay it with: dfirc run %s --schedule %s --trace\n", out.c_str(),
              input_.c_str(), out.c_str());
  summary("a violation found");
  return kExitUserError;
}

int Explorer::explore() {
  if (!sim_.exhaustive) {
    for (uint64_t i = 0; i < sim_.random; ++i) {
      uint64_t seed = sim_.run.seed + i;
      Outcome o = attempt({}, false, seed);
      if (o.failed) return counterexample(o, seed, false, i + 1);
    }
    summary(bounded_ ? "no violation found within these bounds (some runs stopped at --max-steps)"
                     : "no violation found within these bounds");
    return kExitOk;
  }
  // Depth first: each run follows `prefix`, then takes the first
  // alternative of every choice; the next schedule changes its last choice
  // that has an untried alternative.
  std::vector<uint32_t> prefix;
  for (uint64_t schedule = 1;; ++schedule) {
    Outcome o = attempt(prefix, true, sim_.run.seed);
    if (o.failed) return counterexample(o, sim_.run.seed, true, schedule);
    size_t i = o.choices.size();
    while (i > 0 && o.choices[i - 1] + 1 >= o.arities[i - 1]) --i;
    if (i == 0) {
      summary(bounded_ ? "no violation found within these bounds (every schedule of at most --max-steps choices; "
                         "longer runs were cut there)"
                       : "no violation found within these bounds (every schedule of the scheduler's choices)");
      return kExitOk;
    }
    if (schedule >= sim_.maxSchedules) {
      summary("no violation found within these bounds (stopped at --max-schedules; more schedules remain)");
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
  return true;
}

bool writeSchedule(const std::string &path, const ScheduleFile &s, std::string &error) {
  std::string choices;
  for (size_t i = 0; i < s.choices.size(); ++i) choices += (i ? ", " : "") + std::to_string(s.choices[i]);
  std::string text = "{\n  \"dfir_schedule\": 1,\n  \"fingerprint\": \"" + hex16(s.fingerprint) +
                     "\",\n  \"seed\": " + std::to_string(s.seed) + ",\n  \"after\": \"" +
                     (s.thenFirst ? "first" : "random") + "\",\n  \"choices\": [" + choices + "]\n}\n";
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fclose(f) != 0) {
    error = "cannot write `" + path + "`: " + std::strerror(errno);
    return false;
  }
  return true;
}

int exploreSchedules(uint64_t fingerprint, const std::string &input, const SimOptions &sim, const SystemRun &run) {
  Explorer e(fingerprint, input, sim, run);
  return e.explore();
}

} // namespace dfir::driver
