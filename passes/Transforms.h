//===- Transforms.h - The transforms of Passes.def -------------------------===//
//
// What every transform is given and how it answers. A transform first
// checks its options against the program: an option that names nothing
// (an unknown location, channel or operator) is a usage error, returned in
// `usage` with the candidates. Then it either refuses, reporting an error
// at the option (in the `<command line>` buffer) with notes at the user's
// text, or rewrites the IR completely and returns true. It never leaves
// the IR half rewritten.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "passes/PassManager.h"
#include "support/Diagnostics.h"

#include <string>

namespace dfir::passes {

struct TransformContext {
  DiagnosticEngine &diags;
  AnalysisManager &analyses;
  std::string usage; // set, with false returned, for a usage error
};

/// Checks that `inv` has only the options in `known` (space-separated
/// keys, a trailing `?` marking an optional one) and all the required ones;
/// sets `ctx.usage` otherwise.
bool checkOptionKeys(const PassInvocation &inv, const char *known, TransformContext &ctx);

/// Option `o` of transform `pass` as a decimal number from `lo` to `hi`;
/// sets `ctx.usage` (naming it `what`) otherwise.
bool numberOption(const char *pass, const PassOption &o, uint64_t lo, uint64_t hi, const char *what, uint64_t &value,
                  TransformContext &ctx);

/// The location option `o` of transform `pass` names; none (with
/// `ctx.usage` naming the candidates) if it names none.
ir::LocId locationOption(const ir::Program &p, const char *pass, const PassOption &o, TransformContext &ctx);

bool runDecouple(ir::Program &p, const PassInvocation &inv, TransformContext &ctx);
bool runBatch(ir::Program &p, const PassInvocation &inv, TransformContext &ctx);
bool runPartition(ir::Program &p, const PassInvocation &inv, TransformContext &ctx);

} // namespace dfir::passes
