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
#include "dfir_rt.h"

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
  SimFaults faults; // the faults and crashes the choices were made under
};

bool readSchedule(const std::string &path, ScheduleFile &out, std::string &error);
bool writeSchedule(const std::string &path, const ScheduleFile &s, std::string &error);

/// What faults and crashes may name, and what the reduction needs to know:
/// the locations (with their instance counts), the channels (with their
/// ends), and the locations whose ticks touch state shared by all
/// instances (rand_u64(), extern fns, standard input).
struct SimProgram {
  std::vector<std::string> locations;
  std::vector<uint32_t> counts;
  std::vector<std::string> channels;
  std::vector<std::pair<uint32_t, uint32_t>> ends; // per channel: from, to
  std::vector<bool> shared;
};

/// Faults and crashes resolved against a program, as the runtime takes
/// them, and the locations whose ticks do not commute.
struct SimSetup {
  std::vector<uint8_t> faults; // per channel: DFIR_FAULT_* bits
  std::vector<dfir_crash> crashes;
  std::vector<std::string> crashNames; // as given, per crash
  std::vector<uint8_t> dependent;      // locations x locations
  uint32_t maxFaults = 0, maxInFlight = 0;
  uint64_t maxTicks = 0;
  /// The runtime's options; `reduce`: with the sleep-set reduction.
  dfir_sim_options options(bool reduce) const;
};

/// Checks faults and crashes against the program; false with `error` (the
/// option and what was expected) when one does not fit.
bool resolveFaults(const SimFaults &given, const SimProgram &program, SimSetup &out, std::string &error);

/// Runs the system once in the calling (child) process, under the schedule
/// the runtime was given; returns its exit status.
using SystemRun = std::function<int(uint64_t seed)>;

/// Whether this dfirc can run `dfirc sim --fuzz` (it was linked with
/// libFuzzer).
bool fuzzAvailable();

/// Explores schedules as `sim` says; prints the report on standard output.
/// Returns 0 when no run failed, 1 when one did (its schedule written).
int exploreSchedules(uint64_t fingerprint, const std::string &input, const SimOptions &sim, const SimSetup &setup,
                     const SystemRun &run);

} // namespace dfir::driver
