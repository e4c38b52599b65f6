//===- PassManager.h - Runs the passes of Passes.def ----------------------===//
//
// Runs every enabled pass in the order of Passes.def, verifying the IR
// after each one when asked (`--verify-each`; always in debug builds), and
// prints what the command line asked for: analysis results
// (`--print-analysis=NAME`) and the IR before or after passes
// (`--print-ir-before=NAME`, `--print-ir-after=NAME`, `--print-ir-after-all`).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "passes/Analyses.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dfir::passes {

enum class PassKind { Analysis, Transform };

struct PassInfo {
  const char *name;
  PassKind kind;
  const char *description;
};
const std::vector<PassInfo> &allPasses();
bool isPass(const std::string &name);

struct PassOptions {
  bool verifyEach = false;
  std::set<std::string> printAnalysis;
  std::set<std::string> disabled;
  std::set<std::string> printIrBefore, printIrAfter;
  bool printIrAfterAll = false;
};

struct PassResults {
  std::optional<Strata> strata;
  std::optional<Subgraphs> subgraphs;
};

/// Runs the pipeline on `p`, appending requested printouts to `out`.
/// Returns false when the verifier finds a broken invariant (a compiler
/// bug); `error` then names the pass and the problems.
bool runPasses(ir::Program &p, const PassOptions &opts, PassResults &results, std::string &out,
               std::string &error);

} // namespace dfir::passes
