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
  adoptIntoBuffer(x, acc, size);
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
/// unless that side is 'static), encoded. The tick's items wait in cur
/// ([0]) and next ([1]); once both sides are complete, each side's items
/// are sorted by key and each key's values merged at once (with what the
/// table holds), so that many items of one key cost n log n, not a decoded
/// and re-merged copy per item. Then every key that both sides have is
/// emitted once with the two merged values.
template <> struct OpGen<OpKind::LatticeJoin> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.t0 = g.addTableField();
    s.t1 = g.addTableField();
    s.cur = g.addVecField();
    s.next = g.addVecField();
  }
  static void tickStart(Site &x) { clearSidesUnlessStatic(x); }
  static void push(Site &x, unsigned port, llvm::Value *item) {
    x.g.pushVec(x.b, x.state, port == 0 ? x.st.cur : x.st.next, item);
  }
  /// A side's waiting items, merged into its table.
  static void absorb(Site &x, unsigned port) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    const Type *itemType = x.op.inTypes[port], *keyType = itemType->elems[0], *valueType = itemType->elems[1];
    llvm::Type *it = x.g.types().lower(itemType), *vt = x.g.types().lower(valueType);
    llvm::Value *vec = x.field(port == 0 ? x.st.cur : x.st.next);
    llvm::LLVMContext &ctx = x.g.context();
    auto *ptr = llvm::PointerType::getUnqual(ctx);
    llvm::Function *cmp = x.g.newFunction(llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx), {ptr, ptr}, false),
                                          "cmp." + x.op.name + "." + std::to_string(port), false);
    {
      llvm::IRBuilder<> cb(llvm::BasicBlock::Create(ctx, "entry", cmp));
      ExprCodegen cg = x.g.exprGen(cb, x.op);
      cb.CreateRet(cg.order(cb.CreateExtractValue(cb.CreateLoad(it, cmp->getArg(0)), {0}),
                            cb.CreateExtractValue(cb.CreateLoad(it, cmp->getArg(1)), {0}), keyType));
    }
    b.CreateCall(rt.sort(), {vec, x.g.sizeOf(it), cmp});
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
    llvm::Value *n = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 1));
    llvm::Value *table = x.field(port == 0 ? x.st.t0 : x.st.t1);
    llvm::Value *start = x.g.entryAlloca(b, b.getInt64Ty());
    b.CreateStore(b.getInt64(0), start);
    auto key = [&](llvm::Value *i) { return b.CreateExtractValue(b.CreateLoad(it, b.CreateGEP(it, data, {i})), {0}); };
    x.g.loop(b, b.getInt64(0), n, [&](llvm::Value *i) {
      llvm::Value *next = b.CreateAdd(i, b.getInt64(1));
      llvm::BasicBlock *check = x.block("run.check"), *end = x.block("run.end"), *on = x.block("run.on");
      b.CreateCondBr(b.CreateICmpULT(next, n), check, end);
      b.SetInsertPoint(check);
      b.CreateCondBr(b.CreateICmpEQ(gen.order(key(i), key(next), keyType), b.getInt32(0)), on, end);
      b.SetInsertPoint(end);
      // Items [start, i] share a key: their values, and the table's.
      llvm::Value *s = b.CreateLoad(b.getInt64Ty(), start);
      llvm::Value *k = key(i);
      auto [kb, kl] = gen.encode(k, keyType, 0);
      llvm::Value *entry = b.CreateCall(rt.mapFind(), {b.CreateLoad(b.getPtrTy(), table), kb, kl});
      llvm::Value *stored = b.CreateICmpNE(rt.entryCount(b, entry), b.getInt64(0));
      llvm::Value *count = b.CreateAdd(b.CreateSub(next, s), b.CreateZExt(stored, b.getInt64Ty()));
      llvm::Value *values = b.CreateCall(rt.alloc(), {b.CreateMul(count, x.g.sizeOf(vt))});
      x.g.loop(b, s, next, [&](llvm::Value *j) {
        llvm::Value *v = b.CreateExtractValue(b.CreateLoad(it, b.CreateGEP(it, data, {j})), {1});
        b.CreateStore(v, b.CreateGEP(vt, values, {b.CreateSub(j, s)}));
      });
      x.g.ifThen(b, stored, [&] {
        llvm::Value *old = gen.decode(rt.entryValue(b, entry, b.getInt64(0)), valueType);
        b.CreateStore(old, b.CreateGEP(vt, values, {b.CreateSub(next, s)}));
      });
      llvm::Value *merged = gen.mergeAll(values, count, valueType);
      auto [kb2, kl2] = gen.encode(k, keyType, 0); // the scratch slot may have been reused
      auto [vb, vl] = gen.encode(merged, valueType, 1);
      b.CreateCall(rt.mapPut(), {table, kb2, kl2, vb, vl});
      b.CreateStore(next, start);
      b.CreateBr(on);
      b.SetInsertPoint(on);
    });
    b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt.vecType(), vec, 1));
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    absorb(x, 0);
    absorb(x, 1);
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
