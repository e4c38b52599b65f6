//===- RewriteRules.h - What transforms ask of operators -------------------===//
//
// Facts about operators and names that more than one transform needs:
// how an operator is spelled in a diagnostic, whether its state is
// `'static`, whether its output shows how many ticks its location runs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "support/SourceManager.h"

#include <string>
#include <vector>

namespace dfir::passes {

/// `a, b, c`, or the first `max` and how many there are in all.
std::string listOf(const std::vector<std::string> &names, size_t max = 20);
/// Whether `s` can name a location (an identifier, not a keyword).
bool isIdentifier(const std::string &s);
/// `fold::<'static>`, `join::<'tick, 'static>`: the operator as written.
std::string spelled(const ir::Operator &op);
/// Every lifetime it takes is `'static` (the default is `'tick`).
bool allStatic(const ir::Operator &op);
/// Whether everything operator `id` emits reaches a `unique::<'static>()`
/// (or `null()`, or an input of a join whose other input gates it: see
/// RewriteRules.cpp, `gated`) through pure per-item operators only, so
/// that repeats are dropped before anything can see them.
bool dedupedDownstream(const ir::Program &p, int id);
/// For a lattice operator with `'static` state (`lattice_fold`, ...), whose
/// output only grows: why its output could show other intermediate values
/// after decoupling (empty when it cannot). Each path from it must pass
/// only monotone thresholds (`filter`s whose predicate, once true, stays
/// true) until a pure per-item operator drops the lattice parts (`map(|_|
/// ...)`), and then reach `unique::<'static>()` through pure per-item
/// operators (`null()`, or a gated join input, as for dedupedDownstream).
std::string latticeUnsettled(const ir::Program &p, int id);
/// Whether an operator emits in a tick in which nothing reaches it (or
/// remembers that such a tick passed), so that how many ticks its location
/// runs shows in the program's output.
bool seesEmptyTicks(const ir::Program &p, int id);
/// `line N`, where operator `id` is written (or `the command line`).
std::string lineOf(const SourceManager &sm, const ir::Operator &op);

} // namespace dfir::passes
