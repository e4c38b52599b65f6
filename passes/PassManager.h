//===- PassManager.h - Analyses on demand, transforms in a pipeline -------===//
//
// Analyses (stratify, subgraphs) are computed when something asks for them,
// from the IR as it is then, and forgotten when a transform changes it: no
// stage can read an analysis that was not computed, or one of an older IR.
//
// Transforms run in the order of a pipeline: MLIR-style text
// (`--passes='decouple{location=a select=x new=b},batch{channel=c count=64}'`)
// or the flags that spell one transform each (`--decouple`, `--batch`).
// Each takes options, checks them against the program (a wrong name is a
// usage error), and either rewrites the IR or refuses with diagnostics at
// the user's text; nothing is ever half applied. The verifier runs after
// each transform when asked (`--verify-each`; always in builds with
// assertions).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "passes/Analyses.h"
#include "support/Diagnostics.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace dfir::passes {

struct AnalysisInfo {
  const char *name;
  const char *description;
};
struct TransformInfo {
  const char *name;
  const char *description;
  const char *options;
};
const std::vector<AnalysisInfo> &allAnalyses();
const std::vector<TransformInfo> &allTransforms();
std::vector<std::string> analysisNames();
std::vector<std::string> transformNames();

/// Computes analyses of one program on demand and keeps them until
/// `invalidate()`, which every transform that changes the IR calls.
class AnalysisManager {
public:
  explicit AnalysisManager(const ir::Program &p) : p_(p) {}
  const Strata &strata();
  const Subgraphs &subgraphs();
  void invalidate();
  /// The printed result of the analysis named `name` (--print-analysis).
  std::string print(const std::string &name);

private:
  const ir::Program &p_;
  std::optional<Strata> strata_;
  std::optional<Subgraphs> subgraphs_;
};

/// One option of a transform, with where the user wrote its value (in a
/// `<command line>` buffer of the source manager) for diagnostics.
struct PassOption {
  std::string key, value;
  SourceRange range;
};

/// One run of a transform with its options.
struct PassInvocation {
  std::string name;
  std::vector<PassOption> options;
  SourceRange range; // the whole flag or pipeline element
  /// The value of option `key`, or null.
  const PassOption *find(const std::string &key) const;
  /// `name{key=value ...}`: how --print-ir-after and errors show it.
  std::string text() const;
};

/// Parses pipeline text: `name{key=value key=value},name,...`. `base` is
/// where `text` starts in the source manager (for ranges). Returns false
/// with `error` set on malformed text or an unknown transform.
bool parsePipeline(const std::string &text, SourceLoc base, std::vector<PassInvocation> &out, std::string &error);

struct PassOptions {
  bool verifyEach = false;
  std::vector<PassInvocation> pipeline;
  std::set<std::string> printAnalysis; // printed for the final IR, before it
  std::set<std::string> disabled;      // transforms left out of the pipeline
  std::set<std::string> printIrBefore, printIrAfter;
  bool printIrAfterAll = false;
};

enum class PassStatus {
  Ok,
  Refused,      // a transform refused: diagnostics were reported (exit 1)
  UsageError,   // an option names nothing in the program, ...: `error` says what (exit 2)
  InternalError // the verifier found a broken invariant: `error` names the pass
};

/// Runs the pipeline on `p`, appending requested printouts to `out`.
PassStatus runPasses(ir::Program &p, const PassOptions &opts, AnalysisManager &am, DiagnosticEngine &diags,
                     std::string &out, std::string &error);

} // namespace dfir::passes
