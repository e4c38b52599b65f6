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

/// A set or map accumulator (`SetUnion`, `MapUnion`) is merged in place:
/// its elements (entries) live in the operator's buffer (cur), sorted, and
/// each element of an item is inserted at its place found by binary search
/// (a key there already: its value merged), instead of a new merged copy
/// per item, which would make tick memory grow with the square of the
/// items. Nothing else sees the buffer: what the operator emits is a copy,
/// and an accumulator from elsewhere (the initial value, a first item, last
/// tick's) is copied in by the first merge.
inline bool mergesInPlace(const Operator &op) {
  const Type *t = op.outTypes[0];
  return t->isLattice() && (t->name == "SetUnion" || t->name == "MapUnion");
}

inline void layoutLattice(LocationCodegen &g, const Operator &op, OpState &s) {
  if (mergesInPlace(op)) s.cur = g.addVecField();
}

/// The accumulator in `slot` merged with `item`.
inline void mergeInto(Site &x, llvm::Value *slot, llvm::Value *item) {
  auto &b = x.b;
  const Type *t = x.op.outTypes[0];
  ExprCodegen gen = x.gen();
  llvm::Type *lt = x.g.types().lower(t);
  if (!mergesInPlace(x.op)) {
    b.CreateStore(gen.mergeValues(b.CreateLoad(lt, slot), item, t), slot);
    return;
  }
  Runtime &rt = x.g.rt();
  bool isMap = t->name == "MapUnion";
  const Type *listType = isMap ? t->repr()->elems[2] : t->repr();
  const Type *elemType = listType->elems[0];
  llvm::Type *elem = x.g.types().lower(elemType);
  uint64_t size = x.g.dataLayout().getTypeAllocSize(elem);
  llvm::Value *vec = x.field(x.st.cur);
  llvm::Value *dataSlot = b.CreateStructGEP(rt.vecType(), vec, 0), *lenSlot = b.CreateStructGEP(rt.vecType(), vec, 1);
  llvm::Value *acc = b.CreateLoad(lt, slot);
  llvm::Value *n = b.CreateExtractValue(acc, {1});
  x.g.ifThen(b, b.CreateICmpNE(b.CreateExtractValue(acc, {0}), b.CreateLoad(b.getPtrTy(), dataSlot)), [&] {
    llvm::Value *bytes = b.CreateMul(n, b.getInt64(size));
    b.CreateStore(b.getInt64(0), lenSlot);
    b.CreateCall(rt.vecReserve(), {vec, bytes});
    b.CreateMemCpy(b.CreateLoad(b.getPtrTy(), dataSlot), llvm::MaybeAlign(1), b.CreateExtractValue(acc, {0}),
                   llvm::MaybeAlign(1), bytes);
    b.CreateStore(bytes, lenSlot);
  });
  llvm::Value *count = x.g.entryAlloca(b, b.getInt64Ty());
  b.CreateStore(n, count);
  auto current = [&] {
    llvm::Value *l = b.CreateInsertValue(llvm::UndefValue::get(lt), b.CreateLoad(b.getPtrTy(), dataSlot), {0});
    return b.CreateInsertValue(l, b.CreateLoad(b.getInt64Ty(), count), {1});
  };
  llvm::Value *items = b.CreateExtractValue(item, {0});
  x.g.loop(b, b.getInt64(0), b.CreateExtractValue(item, {1}), [&](llvm::Value *j) {
    llvm::Value *e = b.CreateLoad(elem, b.CreateGEP(elem, items, {j}));
    llvm::Value *i = isMap ? gen.sortedFind(current(), b.CreateExtractValue(e, {0}), listType, t->elems[0], true)
                           : gen.sortedFind(current(), e, listType, elemType, false);
    llvm::BasicBlock *there = x.block("merge.there"), *absent = x.block("merge.absent"), *done = x.block("merged");
    b.CreateCondBr(b.CreateICmpSGE(i, b.getInt64(0)), there, absent);
    b.SetInsertPoint(there);
    if (isMap) { // the key's value merged, in place
      llvm::Value *at = b.CreateGEP(elem, b.CreateLoad(b.getPtrTy(), dataSlot), {i});
      llvm::Value *old = b.CreateLoad(elem, at);
      llvm::Value *merged = gen.mergeValues(b.CreateExtractValue(old, {1}), b.CreateExtractValue(e, {1}), t->elems[1]);
      b.CreateStore(b.CreateInsertValue(old, merged, {1}), b.CreateGEP(elem, b.CreateLoad(b.getPtrTy(), dataSlot), {i}));
    }
    b.CreateBr(done);
    b.SetInsertPoint(absent);
    llvm::Value *pos = b.CreateSub(b.getInt64(-1), i);
    llvm::Value *k = b.CreateLoad(b.getInt64Ty(), count);
    b.CreateCall(rt.vecReserve(), {vec, b.getInt64(size)});
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), dataSlot);
    b.CreateMemMove(b.CreateGEP(elem, data, {b.CreateAdd(pos, b.getInt64(1))}), llvm::MaybeAlign(1),
                    b.CreateGEP(elem, data, {pos}), llvm::MaybeAlign(1), b.CreateMul(b.CreateSub(k, pos), b.getInt64(size)));
    b.CreateStore(e, b.CreateGEP(elem, data, {pos}));
    b.CreateStore(b.CreateAdd(k, b.getInt64(1)), count);
    b.CreateStore(b.CreateMul(b.CreateAdd(k, b.getInt64(1)), b.getInt64(size)), lenSlot);
    b.CreateBr(done);
    b.SetInsertPoint(done);
  });
  b.CreateStore(current(), slot);
}

/// What it emits: the accumulator, copied to tick memory when it lives in
/// the buffer (which the next merge changes).
inline llvm::Value *latticeValue(Site &x) {
  auto &b = x.b;
  const Type *t = x.op.outTypes[0];
  llvm::Value *acc = b.CreateLoad(x.g.types().lower(t), x.field(x.st.acc));
  if (!mergesInPlace(x.op)) return acc;
  const Type *listType = t->name == "MapUnion" ? t->repr()->elems[2] : t->repr();
  uint64_t size = x.g.dataLayout().getTypeAllocSize(x.g.types().lower(listType->elems[0]));
  llvm::Value *bytes = b.CreateMul(b.CreateExtractValue(acc, {1}), b.getInt64(size));
  llvm::Value *copy = b.CreateCall(x.g.rt().alloc(), {bytes});
  b.CreateMemCpy(copy, llvm::MaybeAlign(1), b.CreateExtractValue(acc, {0}), llvm::MaybeAlign(1), bytes);
  return b.CreateInsertValue(acc, copy, {0});
}

/// Like `fold` with `|acc, x| merge(acc, x)`.
template <> struct OpGen<OpKind::LatticeFold> : FoldLike {
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    layoutAccumulator(g, op, s);
    layoutLattice(g, op, s);
  }
  static bool keepsPointers(LocationCodegen &g, const Operator &op, unsigned) {
    return g.holdsPointers(op.outTypes[0]);
  }
  static void push(Site &x, unsigned, llvm::Value *item) { mergeInto(x, x.field(x.st.acc), item); }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase == Phase::Blocking) x.emit(0, latticeValue(x));
  }
};

/// Like `reduce` with `|acc, x| merge(acc, x)`.
template <> struct OpGen<OpKind::LatticeReduce> : OpGen<OpKind::Reduce> {
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    OpGen<OpKind::Reduce>::layout(g, op, s);
    layoutLattice(g, op, s);
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    llvm::BasicBlock *combine = x.block("combine"), *first = x.block("first"), *done = x.block("done");
    b.CreateCondBr(has(x), combine, first);
    b.SetInsertPoint(combine);
    mergeInto(x, x.field(x.st.acc), item);
    b.CreateBr(done);
    b.SetInsertPoint(first);
    b.CreateStore(item, x.field(x.st.acc));
    b.CreateStore(b.getInt8(1), x.field(x.st.has));
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase == Phase::Blocking) x.g.ifThen(x.b, has(x), [&] { x.emit(0, latticeValue(x)); });
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
