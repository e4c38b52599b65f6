//===- GraphAlgo.h - Graph algorithms shared by sema, verifier and passes -===//
#pragma once

#include <functional>

#include "ir/IR.h"

#include <vector>

namespace dfir {

/// Strongly connected components of a graph given as successor lists;
/// returns the component number of every vertex. Components are numbered in
/// reverse topological order (a component's successors have lower numbers).
/// Iterative, so deep graphs cannot overflow the stack.
std::vector<int> stronglyConnected(const std::vector<std::vector<int>> &succ);

/// True for operators whose output belongs to the next tick.
inline bool crossesTick(OpKind k) { return opInfo(k).crossesTick(); }

namespace ir {
/// Successor lists of the operator graph within one tick: edges leaving
/// `defer_tick`/`defer_tick_lazy` are left out, and every state reference
/// (`#name`) counts as an edge from the operator read to the reader.
std::vector<std::vector<int>> tickSuccessors(const Program &p);
/// Every state reference (`#name`) in the operators' arguments: (the
/// operator read, the operator whose closure reads it), once per pair.
std::vector<std::pair<int, int>> stateReferences(const Program &p);
/// Whether an argument of `op` reads another operator's state (`#name`).
bool readsState(const Operator &op);
/// Calls `f` on `e` and every expression inside it.
void forEachExpr(const Expr &e, const std::function<void(const Expr &)> &f);
void forEachExpr(Expr &e, const std::function<void(Expr &)> &f);
/// A blocking edge inside an in-tick cycle, or kNone.
int illegalCycleEdge(const Program &p, const std::vector<int> &scc);
} // namespace ir

} // namespace dfir
