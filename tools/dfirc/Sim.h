//===- Sim.h - dfirc sim: schedules explored, counterexamples kept ----------===//
//
// `dfirc sim` (docs/simulation.md) runs a program's embedded system many
// times, each under another schedule (the choices of the scheduler: which
// ready instance ticks next, whose message is delivered next), each run in
// a child process so that a failing one (an `assert`, a runtime error, a
// crash) cannot take the others with it. A failing schedule is minimized
// and written as a schedule file, which `dfirc run --schedule` replays.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "tools/dfirc/Driver.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dfir::driver {

/// A schedule file: the choices of a run, for the build whose fingerprint
/// it names; after them the run takes the first alternative of every
/// choice, or (`thenFirst` false) draws them from `seed`, which also seeds
/// `rand_u64()` and `rand_f64()`.
struct ScheduleFile {
  uint64_t fingerprint = 0;
  uint64_t seed = 0;
  bool thenFirst = true;
  std::vector<uint32_t> choices;
};

bool readSchedule(const std::string &path, ScheduleFile &out, std::string &error);
bool writeSchedule(const std::string &path, const ScheduleFile &s, std::string &error);

/// Runs the system once in the calling (child) process, under the schedule
/// the runtime was given; returns its exit status.
using SystemRun = std::function<int(uint64_t seed)>;

/// Explores schedules as `sim` says; prints the report on standard output.
/// Returns 0 when no run failed, 1 when one did (its schedule written).
int exploreSchedules(uint64_t fingerprint, const std::string &input, const SimOptions &sim, const SystemRun &run);

} // namespace dfir::driver
