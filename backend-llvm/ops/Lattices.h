//===- Lattices.h - lattice_fold, lattice_reduce, lattice_join ------------===//
//
// Part of ops/Ops.cpp (OpGen.h). Operators that merge lattice values
// (docs/language.md, "Lattices"): the accumulators of fold, reduce and
// the keyed tables, combined by the lattice's merge instead of a closure.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/Aggregates.h"

namespace dfir::backend::ops {

/// Like `fold` with `|acc, x| merge(acc, x)`.
template <> struct OpGen<OpKind::LatticeFold> : FoldLike {
  static bool keepsPointers(LocationCodegen &g, const Operator &op, unsigned) {
    return g.holdsPointers(op.outTypes[0]);
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    llvm::Value *slot = x.field(x.st.acc);
    const Type *t = x.op.outTypes[0];
    x.b.CreateStore(x.gen().mergeValues(x.b.CreateLoad(x.g.types().lower(t), slot), item, t), slot);
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    x.emit(0, x.b.CreateLoad(x.g.types().lower(x.op.outTypes[0]), x.field(x.st.acc)));
  }
};

/// Like `reduce` with `|acc, x| merge(acc, x)`.
template <> struct OpGen<OpKind::LatticeReduce> : OpGen<OpKind::Reduce> {
  static void push(Site &x, unsigned, llvm::Value *item) {
    pushWith(x, item, [&](llvm::Value *acc) { return x.gen().mergeValues(acc, item, x.op.outTypes[0]); });
  }
};

/// t0 and t1: each side's values merged per key (cleared every tick
/// unless that side is 'static). When both sides are complete, every key
/// that both have is emitted once with the two merged values.
template <> struct OpGen<OpKind::LatticeJoin> : Keyed {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.t0 = g.addTableField();
    s.t1 = g.addTableField();
  }
  static void tickStart(Site &x) { clearSidesUnlessStatic(x); }
  static void push(Site &x, unsigned port, llvm::Value *item) {
    const Type *vt = x.op.inTypes[port]->elems[1];
    update(x, port == 0 ? x.st.t0 : x.st.t1, x.op.inTypes[port]->elems[0], vt, item,
           [&](ExprCodegen &gen, llvm::Value *acc, llvm::Value *val) { return gen.mergeValues(acc, val, vt); },
           [](ExprCodegen &, llvm::Value *val) { return val; });
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    const Type *out = x.op.outTypes[0];
    llvm::Value *left = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
    llvm::Value *right = b.CreateLoad(b.getPtrTy(), x.field(x.st.t1));
    llvm::Value *klen = x.g.entryAlloca(b, b.getInt64Ty());
    x.g.forEachEntry(b, left, "lattice.join", [&](llvm::Value *entry) {
      llvm::Value *keyBytes = b.CreateCall(rt.entryKey(), {entry, klen});
      llvm::Value *other = b.CreateCall(rt.mapFind(), {right, keyBytes, b.CreateLoad(b.getInt64Ty(), klen)});
      x.g.ifThen(b, b.CreateICmpNE(rt.entryCount(b, other), b.getInt64(0)), [&] {
        llvm::Value *key = gen.decode(keyBytes, out->elems[0]);
        llvm::Value *l = gen.decode(rt.entryValue(b, entry, b.getInt64(0)), out->elems[1]->elems[0]);
        llvm::Value *r = gen.decode(rt.entryValue(b, other, b.getInt64(0)), out->elems[1]->elems[1]);
        x.emit(0, makePair(x, out, key, makePair(x, out->elems[1], l, r)));
      });
    });
  }
};

} // namespace dfir::backend::ops
