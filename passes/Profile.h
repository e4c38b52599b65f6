//===- Profile.h - Profiles of runs, read back -----------------------------===//
//
// A profile (docs/profiling.md) is what the runtime measured in a run of a
// program built with profiling: per instance its ticks and busy time, per
// operator the items in and out and the CPU samples charged to it, per
// channel what the instance sent. `dfirc run --profile` writes one file for
// the whole system; `dfirc launch --profile-dir` one per instance. This
// reads them (validating everything: a profile is input like any other),
// merges several, and sums them per location and per operator for `dfirc
// profile show`, `dfirc graph --profile` and `--auto-rewrite`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dfir::passes {

struct ProfileOp {
  std::string name, op;
  unsigned line = 0;
  uint64_t in = 0, out = 0, samples = 0;
};

struct ProfileChannel {
  std::string name;
  uint64_t items = 0, bytes = 0, frames = 0;
};

struct ProfileInstance {
  std::string location;
  uint32_t member = 0;
  uint64_t ticks = 0, busyNs = 0, tickSamples = 0;
  /// CPU time of its process outside its ticks (receiving, framing and
  /// writing messages, waiting), when it ran as a process of its own
  /// (launched); 0 when not known.
  uint64_t outsideNs = 0;
  std::vector<ProfileOp> ops;
  std::vector<ProfileChannel> channels; // what this instance sent
};

/// Totals of one location over its instances.
struct LocationProfile {
  std::string name;
  unsigned instances = 0;
  uint64_t ticks = 0, busyNs = 0, samples = 0; // samples: its operators' and its ticks'
  std::vector<ProfileOp> ops;                  // summed by name, in the location's order
};

struct Profile {
  uint64_t fingerprint = 0;
  uint32_t sampleUs = 0;
  uint64_t wallNs = 0, runtimeSamples = 0;
  bool deployed = false; // measured as launched processes (frames as sent over TCP)
  std::vector<ProfileInstance> instances;

  /// Per location (first-seen order), summed over instances.
  std::vector<LocationProfile> locations() const;
  /// Per channel, summed over senders (by name).
  std::vector<ProfileChannel> channels() const;
};

/// Reads one profile file, or every `*.json` of a directory (merged: they
/// must be of one build). False with `error` naming the file and the
/// problem for anything that is not a complete profile.
bool readProfile(const std::string &path, Profile &out, std::string &error);
/// Parses the text of one profile; `name` is for messages.
bool parseProfile(const std::string &text, const std::string &name, Profile &out, std::string &error);

} // namespace dfir::passes
