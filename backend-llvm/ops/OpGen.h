//===- OpGen.h - The code generator's room for each operator -------------===//
//
// Every row of ir/Operators.def has a specialization `OpGen<OpKind::Id>` in
// one of the family headers of this directory, with the hooks that
// LocationCodegen calls (LocationCodegen.h says when):
//
//   static void layout(LocationCodegen &, const ir::Operator &, OpState &);
//   static void init(Site &);  static void fini(Site &);
//   static void tickStart(Site &);
//   static void push(Site &, unsigned port, llvm::Value *item);
//   static void pull(Site &, Phase, llvm::Value *firstTick);
//   static llvm::Value *tickEnd(Site &);
//   static bool keepsPointers(LocationCodegen &, const ir::Operator &, unsigned port);
//   static constexpr bool kStreams, kMakesItems;
//
// ops/Ops.cpp dispatches with one exhaustive switch per hook, generated from
// Operators.def: a row without its specialization is an incomplete type
// there, and a specialization without a hook is a missing member, so neither
// builds. The bases below give the hooks that a kind of operator does not
// need; what they leave out, each operator must write:
//
//   Stream     per-item, no state: writes `push`
//   Source     no inputs: writes `pull` (and `layout`, `init` if it has state)
//   Stateful   writes `layout`, `tickStart`, `push` and `pull`
//
// The family headers are part of ops/Ops.cpp's translation unit (one heavy
// LLVM unit for all operators), included nowhere else.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/LocationCodegen.h"
#include "ir/Check.h"

namespace dfir::backend::ops {

using namespace ir;

template <OpKind K> struct OpGen; // one specialization per operator, in the family headers

/// Hooks that do nothing: for operators without that kind of work.
struct NoTickWork {
  static void init(Site &) {}
  static void fini(Site &) {}
  static void tickStart(Site &) {}
  static llvm::Value *tickEnd(Site &) { return nullptr; }
};

/// Per-item operators without state: items pass through `push` only.
struct Stream : NoTickWork {
  static constexpr bool kStreams = true;
  static constexpr bool kMakesItems = false;
  static void layout(LocationCodegen &, const Operator &, OpState &) {}
  static void pull(Site &, Phase, llvm::Value *) {}
  static bool keepsPointers(LocationCodegen &, const Operator &, unsigned) { return false; }
};

/// Operators with no inputs: items start in `pull`.
struct Source : NoTickWork {
  static constexpr bool kStreams = false;
  static constexpr bool kMakesItems = false;
  static void layout(LocationCodegen &, const Operator &, OpState &) {}
  static void push(Site &, unsigned, llvm::Value *) { DFIR_CHECK(false, "an item pushed into a source"); }
  static bool keepsPointers(LocationCodegen &, const Operator &, unsigned) { return false; }
};

/// Operators that keep items (or values made from them) across pushes.
struct Stateful {
  static constexpr bool kStreams = false;
  static constexpr bool kMakesItems = false;
  static void init(Site &) {}
  static void fini(Site &) {}
  static llvm::Value *tickEnd(Site &) { return nullptr; }
  static bool keepsPointers(LocationCodegen &g, const Operator &op, unsigned port) {
    return g.holdsPointers(op.inTypes[port]);
  }
};

/// Empties a table at the start of a tick, unless the operator is 'static.
inline void clearUnlessStatic(Site &x, int table) {
  if (!LocationCodegen::isStatic(x.op))
    x.b.CreateCall(x.g.rt().tableClear(), {x.b.CreateLoad(x.b.getPtrTy(), x.field(table))});
}

/// Empties each side's table (t0 for [0], t1 for [1]) at the start of a
/// tick, unless that side is 'static.
inline void clearSidesUnlessStatic(Site &x) {
  for (int side = 0; side < 2; ++side)
    if (!LocationCodegen::sideStatic(x.op, side))
      x.b.CreateCall(x.g.rt().tableClear(), {x.b.CreateLoad(x.b.getPtrTy(), x.field(side == 0 ? x.st.t0 : x.st.t1))});
}

/// A struct of two values, as a pair or (key, value) tuple is lowered.
inline llvm::Value *makePair(Site &x, const Type *t, llvm::Value *first, llvm::Value *second) {
  llvm::Value *out = llvm::UndefValue::get(x.g.types().lower(t));
  return x.b.CreateInsertValue(x.b.CreateInsertValue(out, first, {0}), second, {1});
}

} // namespace dfir::backend::ops
