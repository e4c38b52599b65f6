//===- Loops.h - batch, all_once, repeat_n, next_iteration, ... -----------===//
//
// Part of ops/Ops.cpp (OpGen.h). The operators of loop blocks, and the
// hooks that LocationCodegen::emitLoop calls at a loop's boundaries:
//
//   loopStart       when a run of the loop begins ('loop state afresh)
//   iterationStart  when each iteration begins ('none state afresh; what
//                   `next_iteration` held becomes this iteration's)
//   loopEnd         when the run is over (what entered it is let go)
//
// An operator of a loop keeps its other hooks: its `tickStart` is what
// these call when its state starts afresh.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"
#include "backend-llvm/ops/Ticks.h"

namespace dfir::backend::ops {

/// Empties a vector field (its items are plain values of this tick).
inline void clearVec(Site &x, int vecField) {
  x.b.CreateStore(x.b.getInt64(0), x.b.CreateStructGEP(x.g.rt().vecType(), x.field(vecField), 1));
}

/// batch(), all_once(), repeat_n(n): cur holds what entered the loop (in
/// this tick, or this iteration of the loop around it); the items go out,
/// in order, in the iterations the operator says, and are let go when the
/// loop's run ends.
struct LoopEntry : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) { s.cur = g.addVecField(); }
  static void tickStart(Site &) {}
  static void push(Site &x, unsigned, llvm::Value *item) { x.g.pushVec(x.b, x.state, x.st.cur, item); }
  /// Emits every item held, keeping them for later iterations.
  static void emitHeld(Site &x) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    llvm::Type *t = x.g.types().lower(x.op.inTypes[0]);
    llvm::Value *vec = x.field(x.st.cur);
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 1));
    x.g.releasingEachItem(b, x.id, [&] {
      x.g.loop(b, b.getInt64(0), len, [&](llvm::Value *i) { x.emit(0, b.CreateLoad(t, b.CreateGEP(t, data, {i}))); });
    });
  }
};

/// In the first iteration only.
struct EntryOnce : LoopEntry {
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Sources) return;
    llvm::Value *iter = x.g.iteration(x.b, x.state, x.op.loop);
    x.g.ifThen(x.b, x.b.CreateICmpEQ(iter, x.b.getInt64(0)), [&] { emitHeld(x); });
  }
};
template <> struct OpGen<OpKind::Batch> : EntryOnce {};
template <> struct OpGen<OpKind::AllOnce> : EntryOnce {};

/// The count `repeat_n` asks for (a negative one is an error at run time).
llvm::Value *repeatCount(Site &x) {
  llvm::Value *n = x.gen().value(*x.op.args[0]);
  x.gen().runtimeError(x.b.CreateICmpSLT(n, x.b.getInt64(0)), "`repeat_n` was given a negative count",
                       x.op.args[0].get());
  return n;
}

/// In each of the first n iterations.
template <> struct OpGen<OpKind::RepeatN> : LoopEntry {
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Sources) return;
    llvm::Value *iter = x.g.iteration(x.b, x.state, x.op.loop);
    llvm::Value *n = x.gen().value(*x.op.args[0]);
    x.g.ifThen(x.b, x.b.CreateICmpSLT(iter, n), [&] { emitHeld(x); });
  }
};

/// cur: the items of this iteration, next: those for the next one (the
/// buffers of `defer_tick`, swapped per iteration instead of per tick).
template <> struct OpGen<OpKind::NextIteration> : Deferring {
  static void tickStart(Site &) {}
};

/// all_iterations(), last_iteration(): cur collects what leaves the loop,
/// which goes on once the loop's run is over (`last_iteration` forgets
/// each iteration's items when the next begins).
template <> struct OpGen<OpKind::AllIterations> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) { s.cur = g.addVecField(); }
  static void tickStart(Site &) {}
  static void push(Site &x, unsigned, llvm::Value *item) { x.g.pushVec(x.b, x.state, x.st.cur, item); }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase == Phase::Blocking) x.g.emitVec(x.b, x.state, x.id, x.st.cur, x.op.inTypes[0]);
  }
};
template <> struct OpGen<OpKind::LastIteration> : OpGen<OpKind::AllIterations> {};

/// `'loop` state starts afresh ('none state does at each iteration).
void loopStart(Site &x) {
  switch (x.op.kind) {
  case OpKind::NextIteration:
    clearVec(x, x.st.cur);
    clearVec(x, x.st.next);
    return;
  case OpKind::MultisetDelta:
    // It compares with the iteration before; the first of a run with
    // nothing: both tables emptied (each start swaps them, emptying one).
    tickStart(x);
    tickStart(x);
    return;
  case OpKind::DeferSignal:
    // What waited for a signal in the run before is let go.
    x.b.CreateCall(x.g.rt().tableClear(), {x.b.CreateLoad(x.b.getPtrTy(), x.field(x.st.t0))});
    return;
  default: break;
  }
  bool keepsOverRun = false;
  for (Persistence p : x.op.persistence) keepsOverRun = keepsOverRun || p == Persistence::Loop;
  if (!keepsOverRun) return;
  LocationCodegen::FreshRun fresh;
  tickStart(x);
}

/// An iteration is to a loop's operators what a tick is to the others:
/// `'none` state starts afresh, `'loop` state goes on as `'static` does.
void iterationStart(Site &x) {
  switch (x.op.kind) {
  case OpKind::NextIteration:
    x.b.CreateCall(x.g.rt().vecSwap(), {x.field(x.st.cur), x.field(x.st.next)});
    clearVec(x, x.st.next);
    return;
  case OpKind::LastIteration: clearVec(x, x.st.cur); return;
  case OpKind::AllIterations: return;
  default: tickStart(x);
  }
}

void loopEnd(Site &x) {
  if (entersLoop(x.op.kind)) clearVec(x, x.st.cur);
}

} // namespace dfir::backend::ops
