//===- AutoRewrite.h - Rewrites chosen from a profile ----------------------===//
//
// `--auto-rewrite --use-profile P --extra-processes N` (docs/passes.md):
// candidate rewrites of the program (`decouple` at each operator,
// `partition` of each location by each count the budget allows, `batch` of
// each channel that sends small frames) are tried with the real transforms,
// so a candidate is legal exactly when the transform accepts it; the legal
// ones are compared by the load passes/CostModel.h predicts for the busiest
// instance. Sequences of up to three rewrites are searched: every single
// rewrite, then the best few extended by another, twice (a beam search;
// exhaustive for one rewrite). The choice is printed as the flags that
// reproduce it, with the predicted load per location before and after and
// why the other candidates were not chosen.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "passes/CostModel.h"
#include "passes/Profile.h"

#include <functional>
#include <memory>
#include <string>

namespace dfir::driver {

/// A candidate pipeline compiled: the program, or why a transform refused.
struct Trial {
  std::unique_ptr<ir::Program> program;
  std::string refusal;
};
using TrialFn = std::function<Trial(const std::string &pipeline)>;

struct AutoChoice {
  std::string pipeline; // `--passes` text; empty: nothing helps
  std::string report;   // for standard error
  double speedup = 1.0;
};

/// `extra`: how many processes the rewrites may add.
AutoChoice chooseRewrites(const ir::Program &base, const passes::Profile &profile, uint64_t extra,
                          const TrialFn &trial);

} // namespace dfir::driver
