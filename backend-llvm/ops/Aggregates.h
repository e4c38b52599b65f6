//===- Aggregates.h - fold, reduce, scan, fold_keyed, reduce_keyed, sort ---===//
//
// Part of ops/Ops.cpp (OpGen.h). Operators that combine the items of a tick
// (or of all ticks, when 'static). The blocking ones emit in the `Blocking`
// phase of their stratum, once all their input has arrived.
//
// A 'static accumulator whose value holds strings or lists is kept encoded
// in a table (t0) between ticks: tick memory would not outlive it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/FixedSet.h"
#include "backend-llvm/ops/OpGen.h"

namespace dfir::backend::ops {

/// acc (and t0 for a 'static accumulator that points into memory).
inline void layoutAccumulator(LocationCodegen &g, const Operator &op, OpState &s) {
  s.acc = g.addField(g.types().lower(op.outTypes[0]));
  if (LocationCodegen::keepsAcrossTicks(op) && g.holdsPointers(op.outTypes[0])) s.t0 = g.addTableField();
}

inline bool savesAccumulator(Site &x) { return LocationCodegen::keepsAcrossTicks(x.op) && x.st.t0 >= 0; }

inline void restoreAccumulator(Site &x) {
  auto &b = x.b;
  Runtime &rt = x.g.rt();
  llvm::Value *table = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
  llvm::Value *entry = b.CreateCall(rt.mapFind(), {table, rt.bytes(""), b.getInt64(0)});
  x.g.ifThen(b, b.CreateICmpNE(rt.entryCount(b, entry), b.getInt64(0)), [&] {
    llvm::Value *acc = x.gen().decode(rt.entryValue(b, entry, b.getInt64(0)), x.op.outTypes[0]);
    b.CreateStore(acc, x.field(x.st.acc));
  });
}

inline void saveAccumulator(Site &x) {
  auto &b = x.b;
  llvm::Value *acc = b.CreateLoad(x.g.types().lower(x.op.outTypes[0]), x.field(x.st.acc));
  auto [bytes, len] = x.gen().encode(acc, x.op.outTypes[0], 1);
  b.CreateCall(x.g.rt().mapPut(), {x.field(x.st.t0), x.g.rt().bytes(""), b.getInt64(0), bytes, len});
}

/// The initial accumulator (`init` or `|| init`).
inline llvm::Value *initialValue(Site &x) { return x.gen().call(*x.op.args[0], {}); }

/// fold and scan: acc starts from the initial value when the location
/// starts, and every tick unless 'static.
struct FoldLike : Stateful {
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) { layoutAccumulator(g, op, s); }
  static void init(Site &x) { x.b.CreateStore(initialValue(x), x.field(x.st.acc)); }
  static void tickStart(Site &x) {
    if (savesAccumulator(x))
      restoreAccumulator(x);
    else if (!LocationCodegen::isStatic(x.op))
      x.b.CreateStore(initialValue(x), x.field(x.st.acc));
  }
  static llvm::Value *tickEnd(Site &x) {
    if (savesAccumulator(x)) saveAccumulator(x);
    return nullptr;
  }
};

/// A fold whose closure only grows its accumulator, `|m, x| insert(m, k, v)`
/// of a map or `|l, x| l + more` of a list, updates it in place: the
/// accumulator's entries live in a buffer of the operator (cur) that grows
/// as a vector does, instead of being copied by every item (which made such
/// folds quadratic). Nothing else sees the buffer: what the fold emits is a
/// copy, and an accumulator from elsewhere (the initial value, last tick's)
/// is copied in by the first update.
enum class InPlace { None, MapInsert, ListAppend };

inline InPlace inPlaceUpdate(const Operator &op) {
  const Expr &f = *op.args[1];
  if (f.kind != Expr::Lambda || f.params.size() != 2 || f.params[0]->kind != Pattern::Bind) return InPlace::None;
  const Expr &body = *f.kids[0];
  auto isAcc = [&](const Expr &e) { return e.kind == Expr::Local && e.slot == f.params[0]->slot; };
  if (body.kind == Expr::Builtin && body.builtin == BuiltinId::Insert && isAcc(*body.kids[0])) return InPlace::MapInsert;
  if (body.kind == Expr::Binary && body.binop == BinOp::Add && body.type->kind == Type::List && isAcc(*body.kids[0]))
    return InPlace::ListAppend;
  return InPlace::None;
}

inline llvm::Value *foldValue(Site &x);

/// An accumulator (a list or map value `acc` of `size`-byte entries) from
/// elsewhere is copied into the operator's buffer (cur) before it is
/// updated in place there; one already in the buffer is left as it is.
inline void adoptIntoBuffer(Site &x, llvm::Value *acc, uint64_t size) {
  auto &b = x.b;
  Runtime &rt = x.g.rt();
  llvm::Value *vec = x.field(x.st.cur);
  llvm::Value *dataSlot = b.CreateStructGEP(rt.vecType(), vec, 0), *lenSlot = b.CreateStructGEP(rt.vecType(), vec, 1);
  x.g.ifThen(b, b.CreateICmpNE(b.CreateExtractValue(acc, {0}), b.CreateLoad(b.getPtrTy(), dataSlot)), [&] {
    llvm::Value *bytes = b.CreateMul(b.CreateExtractValue(acc, {1}), b.getInt64(size));
    b.CreateStore(b.getInt64(0), lenSlot);
    b.CreateCall(rt.vecReserve(), {vec, bytes});
    b.CreateMemCpy(b.CreateLoad(b.getPtrTy(), dataSlot), llvm::MaybeAlign(1), b.CreateExtractValue(acc, {0}),
                   llvm::MaybeAlign(1), bytes);
    b.CreateStore(bytes, lenSlot);
  });
}

template <> struct OpGen<OpKind::Fold> : FoldLike {
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    layoutAccumulator(g, op, s);
    if (inPlaceUpdate(op) != InPlace::None) s.cur = g.addVecField();
  }
  static bool keepsPointers(LocationCodegen &g, const Operator &op, unsigned) {
    return g.holdsPointers(op.outTypes[0]);
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    llvm::Value *slot = x.field(x.st.acc);
    llvm::Type *t = x.g.types().lower(x.op.outTypes[0]);
    InPlace how = inPlaceUpdate(x.op);
    if (how == InPlace::None) {
      x.b.CreateStore(x.gen().call(*x.op.args[1], {x.b.CreateLoad(t, slot), item}), slot);
      return;
    }
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    const Type *accType = x.op.outTypes[0];
    llvm::Type *entry = x.g.types().lower(accType->kind == Type::Map ? accType->elems[2]->elems[0] : accType->elems[0]);
    uint64_t size = x.g.dataLayout().getTypeAllocSize(entry);
    llvm::Value *vec = x.field(x.st.cur);
    llvm::Value *dataSlot = b.CreateStructGEP(rt.vecType(), vec, 0), *lenSlot = b.CreateStructGEP(rt.vecType(), vec, 1);
    llvm::Value *acc = b.CreateLoad(t, slot);
    llvm::Value *n = b.CreateExtractValue(acc, {1});
    adoptIntoBuffer(x, acc, size);
    auto owned = [&](llvm::Value *count) {
      return makePair(x, accType, b.CreateLoad(b.getPtrTy(), dataSlot), count);
    };
    acc = owned(n);
    const Expr &f = *x.op.args[1];
    const Expr &body = *f.kids[0];
    auto grow = [&](llvm::Value *more) { // room for `more` entries after the n there
      b.CreateCall(rt.vecReserve(), {vec, b.CreateMul(more, b.getInt64(size))});
      b.CreateStore(b.CreateMul(b.CreateAdd(n, more), b.getInt64(size)), lenSlot);
    };
    if (how == InPlace::ListAppend) {
      llvm::Value *more = gen.callWith(f, {acc, item}, *body.kids[1]);
      llvm::Value *m = b.CreateExtractValue(more, {1});
      grow(m);
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), dataSlot);
      b.CreateMemCpy(b.CreateGEP(entry, data, {n}), llvm::MaybeAlign(1), b.CreateExtractValue(more, {0}),
                     llvm::MaybeAlign(1), b.CreateMul(m, b.getInt64(size)));
      b.CreateStore(owned(b.CreateAdd(n, m)), slot);
      return;
    }
    llvm::Value *key = gen.callWith(f, {acc, item}, *body.kids[1]);
    llvm::Value *i = gen.mapFind(acc, key, accType);
    // `insert(m, k, ... get(m, k) ...)`: the one search serves both.
    if (body.kids[1]->kind == Expr::Local) gen.knowFind(f.params[0]->slot, body.kids[1]->slot, i);
    llvm::Value *value = gen.callWith(f, {acc, item}, *body.kids[2]);
    gen.forgetFind();
    llvm::Value *kv = makePair(x, accType->elems[2]->elems[0], key, value);
    llvm::BasicBlock *hit = x.block("insert.hit"), *miss = x.block("insert.miss"), *done = x.block("inserted");
    b.CreateCondBr(b.CreateICmpSGE(i, b.getInt64(0)), hit, miss);
    b.SetInsertPoint(hit);
    b.CreateStore(kv, b.CreateGEP(entry, b.CreateLoad(b.getPtrTy(), dataSlot), {i}));
    b.CreateStore(owned(n), slot);
    b.CreateBr(done);
    b.SetInsertPoint(miss);
    llvm::Value *pos = b.CreateSub(b.getInt64(-1), i);
    grow(b.getInt64(1));
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), dataSlot);
    b.CreateMemMove(b.CreateGEP(entry, data, {b.CreateAdd(pos, b.getInt64(1))}), llvm::MaybeAlign(1),
                    b.CreateGEP(entry, data, {pos}), llvm::MaybeAlign(1),
                    b.CreateMul(b.CreateSub(n, pos), b.getInt64(size)));
    b.CreateStore(kv, b.CreateGEP(entry, data, {pos}));
    b.CreateStore(owned(b.CreateAdd(n, b.getInt64(1))), slot);
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    x.emit(0, foldValue(x));
  }
};

/// A fold's value as it emits it (and `#name` reads it): the accumulator,
/// copied to tick memory when it is updated in place (the buffer changes
/// with the next update).
inline llvm::Value *foldValue(Site &x) {
  auto &b = x.b;
  const Type *accType = x.op.outTypes[0];
  llvm::Value *acc = b.CreateLoad(x.g.types().lower(accType), x.field(x.st.acc));
  if (inPlaceUpdate(x.op) == InPlace::None) return acc;
  llvm::Type *entry = x.g.types().lower(accType->kind == Type::Map ? accType->elems[2]->elems[0] : accType->elems[0]);
  llvm::Value *bytes = b.CreateMul(b.CreateExtractValue(acc, {1}), b.getInt64(x.g.dataLayout().getTypeAllocSize(entry)));
  llvm::Value *copy = b.CreateCall(x.g.rt().alloc(), {bytes});
  b.CreateMemCpy(copy, llvm::MaybeAlign(1), b.CreateExtractValue(acc, {0}), llvm::MaybeAlign(1), bytes);
  return b.CreateInsertValue(acc, copy, {0});
}

/// Emits every running value. A closure that returns `Option` stops the
/// scan with `None`: `has` then says it stopped (until the next tick, or
/// for good when 'static).
template <> struct OpGen<OpKind::Scan> : FoldLike {
  static bool stops(const Operator &op) { return op.args[1]->type != op.outTypes[0]; }
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    layoutAccumulator(g, op, s);
    if (stops(op)) s.has = g.addField(llvm::Type::getInt8Ty(g.context()));
  }
  static void tickStart(Site &x) {
    FoldLike::tickStart(x);
    if (stops(x.op) && !LocationCodegen::isStatic(x.op)) x.b.CreateStore(x.b.getInt8(0), x.field(x.st.has));
  }
  static bool keepsPointers(LocationCodegen &g, const Operator &op, unsigned) {
    return g.holdsPointers(op.args[0]->type) || g.holdsPointers(op.outTypes[0]);
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    llvm::Value *slot = x.field(x.st.acc);
    llvm::Type *t = x.g.types().lower(x.op.outTypes[0]);
    if (!stops(x.op)) {
      llvm::Value *acc = x.gen().call(*x.op.args[1], {b.CreateLoad(t, slot), item});
      b.CreateStore(acc, slot);
      x.emit(0, acc);
      return;
    }
    llvm::Value *stopped = b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), x.field(x.st.has)), b.getInt8(0));
    x.g.ifThen(b, b.CreateNot(stopped), [&] {
      llvm::Value *next = x.gen().call(*x.op.args[1], {b.CreateLoad(t, slot), item});
      llvm::BasicBlock *go = x.block("scan.go"), *stop = x.block("scan.stop"), *done = x.block("scan.done");
      b.CreateCondBr(b.CreateExtractValue(next, {0}), go, stop);
      b.SetInsertPoint(go);
      llvm::Value *acc = b.CreateExtractValue(next, {1});
      b.CreateStore(acc, slot);
      x.emit(0, acc);
      b.CreateBr(done);
      b.SetInsertPoint(stop);
      b.CreateStore(b.getInt8(1), x.field(x.st.has));
      b.CreateBr(done);
      b.SetInsertPoint(done);
    });
  }
  static void pull(Site &, Phase, llvm::Value *) {}
};

/// acc, and has: whether acc holds a value yet.
template <> struct OpGen<OpKind::Reduce> : Stateful {
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    layoutAccumulator(g, op, s);
    s.has = g.addField(llvm::Type::getInt8Ty(g.context()));
  }
  static void tickStart(Site &x) {
    if (savesAccumulator(x))
      restoreAccumulator(x);
    else if (!LocationCodegen::isStatic(x.op))
      x.b.CreateStore(x.b.getInt8(0), x.field(x.st.has));
  }
  static llvm::Value *has(Site &x) {
    return x.b.CreateICmpNE(x.b.CreateLoad(x.b.getInt8Ty(), x.field(x.st.has)), x.b.getInt8(0));
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    pushWith(x, item, [&](llvm::Value *acc) { return x.gen().call(*x.op.args[0], {acc, item}); });
  }
  /// The first item is the value; each later one is combined into it.
  static void pushWith(Site &x, llvm::Value *item, const std::function<llvm::Value *(llvm::Value *)> &combined) {
    auto &b = x.b;
    llvm::Value *slot = x.field(x.st.acc);
    llvm::Type *t = x.g.types().lower(x.op.outTypes[0]);
    llvm::BasicBlock *combine = x.block("combine"), *first = x.block("first"), *done = x.block("done");
    b.CreateCondBr(has(x), combine, first);
    b.SetInsertPoint(combine);
    b.CreateStore(combined(b.CreateLoad(t, slot)), slot);
    b.CreateBr(done);
    b.SetInsertPoint(first);
    b.CreateStore(item, slot);
    b.CreateStore(b.getInt8(1), x.field(x.st.has));
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    x.g.ifThen(x.b, has(x), [&] { x.emit(0, x.b.CreateLoad(x.g.types().lower(x.op.outTypes[0]), x.field(x.st.acc))); });
  }
  static llvm::Value *tickEnd(Site &x) {
    if (savesAccumulator(x)) x.g.ifThen(x.b, has(x), [&] { saveAccumulator(x); });
    return nullptr;
  }
};

/// singleton: passes each item through and holds it for `#name`. acc: the
/// value; has: 0 none, 1 one from an earlier tick ('static), 2 one from
/// this tick (a second one is a runtime error); with 'static and a value
/// that points into memory, kept encoded in t0 between ticks.
template <> struct OpGen<OpKind::Singleton> : Stateful {
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    layoutAccumulator(g, op, s);
    s.has = g.addField(llvm::Type::getInt8Ty(g.context()));
  }
  static void tickStart(Site &x) {
    auto &b = x.b;
    llvm::Value *has = x.field(x.st.has);
    if (!LocationCodegen::isStatic(x.op)) {
      b.CreateStore(b.getInt8(0), has);
      return;
    }
    if (savesAccumulator(x)) restoreAccumulator(x);
    b.CreateStore(b.CreateSelect(b.CreateICmpEQ(b.CreateLoad(b.getInt8Ty(), has), b.getInt8(2)), b.getInt8(1),
                                 b.CreateLoad(b.getInt8Ty(), has)),
                  has);
  }
  static llvm::Value *has(Site &x) {
    return x.b.CreateICmpNE(x.b.CreateLoad(x.b.getInt8Ty(), x.field(x.st.has)), x.b.getInt8(0));
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    llvm::Value *has = x.field(x.st.has);
    x.gen().runtimeError(b.CreateICmpEQ(b.CreateLoad(b.getInt8Ty(), has), b.getInt8(2)),
                         "a second item in one tick (a singleton holds one value per tick)");
    b.CreateStore(item, x.field(x.st.acc));
    b.CreateStore(b.getInt8(2), has);
    x.emit(0, item);
  }
  static void pull(Site &, Phase, llvm::Value *) {}
  static llvm::Value *tickEnd(Site &x) {
    if (savesAccumulator(x)) x.g.ifThen(x.b, has(x), [&] { saveAccumulator(x); });
    return nullptr;
  }
};

/// t0: each key's accumulator, encoded. With keys of integers (or pairs)
/// and accumulators that point nowhere, instead: cur, the (key,
/// accumulator) pairs in the order their keys came, updated in place; t0,
/// a fixed-width map from each key to its pair's index (ops/FixedSet.h).
struct Keyed : Stateful {
  static const Type *keyType(const Operator &op) { return op.inTypes[0]->elems[0]; }
  static bool fixedMap(LocationCodegen &g, const Operator &op) {
    return fixedKeyWords(keyType(op)) != 0 && !g.holdsPointers(op.outTypes[0]->elems[1]);
  }
  static FixedSet index(Site &x) { return FixedSet(x, x.st.t0, keyType(x.op), 1); }
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    if (!fixedMap(g, op)) {
      s.t0 = g.addTableField();
      return;
    }
    s.t0 = g.addFsetField(FixedSet::wordsOf(keyType(op), 1));
    s.cur = g.addVecField();
  }
  static void tickStart(Site &x) {
    if (!fixedMap(x.g, x.op)) return clearUnlessStatic(x, x.st.t0);
    if (LocationCodegen::isStatic(x.op)) return;
    index(x).clear();
    x.b.CreateStore(x.b.getInt64(0), x.b.CreateStructGEP(x.g.rt().vecType(), x.field(x.st.cur), 1));
  }
  /// `combine` is the closure argument that merges a value into an
  /// accumulator; `first` makes the accumulator of a new key.
  static void update(Site &x, llvm::Value *item, const Expr &combine,
                     const std::function<llvm::Value *(ExprCodegen &, llvm::Value *)> &first) {
    if (fixedMap(x.g, x.op)) return updateInPlace(x, item, combine, first);
    update(x, x.st.t0, x.op.inTypes[0]->elems[0], x.op.outTypes[0]->elems[1], item,
           [&](ExprCodegen &gen, llvm::Value *acc, llvm::Value *val) { return gen.call(combine, {acc, val}); }, first);
  }
  /// The same for the table in field `tableField`, keys of `keyType` and
  /// accumulators of `accType`, combined by `combineFn`.
  static void update(Site &x, int tableField, const Type *keyType, const Type *accType, llvm::Value *item,
                     const std::function<llvm::Value *(ExprCodegen &, llvm::Value *, llvm::Value *)> &combineFn,
                     const std::function<llvm::Value *(ExprCodegen &, llvm::Value *)> &first) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    llvm::Value *key = b.CreateExtractValue(item, {0});
    llvm::Value *val = b.CreateExtractValue(item, {1});
    llvm::Value *table = x.field(tableField);
    auto [kb, kl] = gen.encode(key, keyType, 0);
    llvm::Value *entry = b.CreateCall(rt.mapFind(), {b.CreateLoad(b.getPtrTy(), table), kb, kl});
    llvm::Value *known = b.CreateICmpNE(rt.entryCount(b, entry), b.getInt64(0));
    llvm::BasicBlock *old = x.block("stored"), *fresh = x.block("fresh"), *join = x.block("update");
    b.CreateCondBr(known, old, fresh);
    b.SetInsertPoint(old);
    llvm::Value *storedBytes = rt.entryValue(b, entry, b.getInt64(0));
    llvm::Value *combined = combineFn(gen, gen.decode(storedBytes, accType), val);
    if (gen.fixedEncodedSize(accType)) {
      // Same size: updated in place in the table.
      gen.encodeInto(storedBytes, combined, accType);
      b.CreateBr(join);
      b.SetInsertPoint(fresh);
      llvm::Value *initial = first(gen, val);
      auto [kb2, kl2] = gen.encode(key, keyType, 0);
      auto [vb, vl] = gen.encode(initial, accType, 1);
      b.CreateCall(rt.mapPut(), {table, kb2, kl2, vb, vl});
      b.CreateBr(join);
      b.SetInsertPoint(join);
      return;
    }
    llvm::BasicBlock *oldEnd = b.GetInsertBlock();
    b.CreateBr(join);
    b.SetInsertPoint(fresh);
    llvm::Value *initial = first(gen, val);
    llvm::BasicBlock *freshEnd = b.GetInsertBlock();
    b.CreateBr(join);
    b.SetInsertPoint(join);
    llvm::PHINode *acc = b.CreatePHI(combined->getType(), 2);
    acc->addIncoming(combined, oldEnd);
    acc->addIncoming(initial, freshEnd);
    // Re-encode the key: the scratch slot may have been reused by the closure.
    auto [kb2, kl2] = gen.encode(key, keyType, 0);
    auto [vb, vl] = gen.encode(acc, accType, 1);
    b.CreateCall(rt.mapPut(), {table, kb2, kl2, vb, vl});
  }
  /// A key's pair found through the index, its accumulator combined where
  /// it lies; a new key (rare: the table may have to grow and the vector
  /// to get room) is added in a cold function of its own.
  static void updateInPlace(Site &x, llvm::Value *item, const Expr &combine,
                            const std::function<llvm::Value *(ExprCodegen &, llvm::Value *)> &first) {
    auto &b = x.b;
    llvm::Value *key = b.CreateExtractValue(item, {0});
    llvm::Value *val = b.CreateExtractValue(item, {1});
    auto [at, found] = index(x).find(key);
    llvm::BasicBlock *known = x.block("keyed.known"), *fresh = x.block("keyed.fresh"), *done = x.block("keyed.done");
    b.CreateCondBr(found, known, fresh);
    b.SetInsertPoint(known);
    combineAt(x, at, val, combine);
    b.CreateBr(done);
    b.SetInsertPoint(fresh);
    llvm::Function *add = x.g.coldFunction(x.id, "add", {key->getType(), val->getType()},
                                           [&](Site &s, llvm::Function *f) { addKey(s, f->getArg(1), f->getArg(2), first); });
    b.CreateCall(add, {x.state, key, val});
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  /// Combines `val` into the accumulator of the pair at index `at`.
  static void combineAt(Site &x, llvm::Value *at, llvm::Value *val, const Expr &combine) {
    auto &b = x.b;
    llvm::Type *pairTy = x.g.types().lower(x.op.outTypes[0]);
    llvm::Value *vec = x.field(x.st.cur);
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(x.g.rt().vecType(), vec, 0));
    llvm::Value *accPtr = b.CreateStructGEP(pairTy, b.CreateGEP(pairTy, data, {at}), 1);
    llvm::Type *accTy = x.g.types().lower(x.op.outTypes[0]->elems[1]);
    // The pairs are the vector's items (LocationCodegen::pushVec).
    llvm::MDNode *items = x.g.rt().aliasTag("items");
    llvm::LoadInst *acc = b.CreateLoad(accTy, accPtr);
    acc->setMetadata(llvm::LLVMContext::MD_tbaa, items);
    b.CreateStore(x.gen().call(combine, {acc, val}), accPtr)->setMetadata(llvm::LLVMContext::MD_tbaa, items);
  }
  /// Adds `key`, which the index does not have: its pair appended to the
  /// vector, its index in the vector the key's payload in the index.
  static void addKey(Site &x, llvm::Value *key, llvm::Value *val,
                     const std::function<llvm::Value *(ExprCodegen &, llvm::Value *)> &first) {
    auto &b = x.b;
    llvm::Value *vec = x.field(x.st.cur);
    index(x).addMissing(key, b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(x.g.rt().vecType(), vec, 1)));
    ExprCodegen gen = x.gen();
    x.g.pushVec(b, x.state, x.st.cur, makePair(x, x.op.outTypes[0], key, first(gen, val)));
  }
  /// Every (key, accumulator), emitted when the stratum's input is complete.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    auto &b = x.b;
    if (fixedMap(x.g, x.op)) {
      // In the order the keys came; kept for later ticks when 'static.
      Runtime &rt = x.g.rt();
      llvm::Type *pairTy = x.g.types().lower(x.op.outTypes[0]);
      llvm::Value *vec = x.field(x.st.cur);
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 1));
      countedLoop(
          b, b.getInt64(0), len, false,
          [&](llvm::Value *i) {
            llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
            x.emit(0, b.CreateLoad(pairTy, b.CreateGEP(pairTy, data, {i})));
          },
          true);
      return;
    }
    ExprCodegen gen = x.gen();
    llvm::Value *table = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
    llvm::Value *lenSlot = x.g.entryAlloca(b, b.getInt64Ty());
    x.g.forEachEntry(b, table, "keyed", [&](llvm::Value *entry) {
      const Type *out = x.op.outTypes[0];
      llvm::Value *key = gen.decode(b.CreateCall(x.g.rt().entryKey(), {entry, lenSlot}), out->elems[0]);
      llvm::Value *acc = gen.decode(x.g.rt().entryValue(b, entry, b.getInt64(0)), out->elems[1]);
      x.emit(0, makePair(x, out, key, acc));
    });
  }
};

template <> struct OpGen<OpKind::FoldKeyed> : Keyed {
  static void push(Site &x, unsigned, llvm::Value *item) {
    const Expr &init = *x.op.args[0], &combine = *x.op.args[1];
    update(x, item, combine, [&](ExprCodegen &gen, llvm::Value *val) { return gen.call(combine, {gen.call(init, {}), val}); });
  }
};

template <> struct OpGen<OpKind::ReduceKeyed> : Keyed {
  static void push(Site &x, unsigned, llvm::Value *item) {
    update(x, item, *x.op.args[0], [](ExprCodegen &, llvm::Value *val) { return val; });
  }
};

/// cur: the tick's items, sorted and emitted when they are all there.
struct Sorted : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) { s.cur = g.addVecField(); }
  static void tickStart(Site &) {}
  static void push(Site &x, unsigned, llvm::Value *item) { x.g.pushVec(x.b, x.state, x.st.cur, item); }
  static void sortAndEmit(Site &x, llvm::Function *comparator) {
    llvm::Type *t = x.g.types().lower(x.op.inTypes[0]);
    x.b.CreateCall(x.g.rt().sort(), {x.field(x.st.cur), x.g.sizeOf(t), comparator});
    x.g.emitVec(x.b, x.state, x.id, x.st.cur, x.op.inTypes[0]);
  }
  /// A comparator `int cmp(const void *a, const void *b)` of items ordered
  /// by `order`.
  static llvm::Function *comparator(Site &x, const std::function<llvm::Value *(ExprCodegen &, llvm::IRBuilder<> &,
                                                                               llvm::Value *, llvm::Value *)> &order) {
    llvm::LLVMContext &ctx = x.g.context();
    auto *ptr = llvm::PointerType::getUnqual(ctx);
    llvm::Function *f = x.g.newFunction(llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx), {ptr, ptr}, false),
                                        "cmp." + x.op.name, false);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
    ExprCodegen gen = x.g.exprGen(b, x.op);
    llvm::Type *t = x.g.types().lower(x.op.inTypes[0]);
    b.CreateRet(order(gen, b, b.CreateLoad(t, f->getArg(0)), b.CreateLoad(t, f->getArg(1))));
    return f;
  }
};

template <> struct OpGen<OpKind::Sort> : Sorted {
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    const Type *it = x.op.inTypes[0];
    if (it->kind == Type::Int && it->bits == 64) {
      x.b.CreateCall(x.g.rt().sortI64(), {x.field(x.st.cur), x.b.getInt32(it->isSigned)});
      x.g.emitVec(x.b, x.state, x.id, x.st.cur, it);
      return;
    }
    sortAndEmit(x, comparator(x, [&](ExprCodegen &gen, llvm::IRBuilder<> &, llvm::Value *a, llvm::Value *c) {
                  return gen.order(a, c, it);
                }));
  }
};

template <> struct OpGen<OpKind::SortByKey> : Sorted {
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    const Expr &key = *x.op.args[0];
    sortAndEmit(x, comparator(x, [&](ExprCodegen &gen, llvm::IRBuilder<> &, llvm::Value *a, llvm::Value *c) {
                  return gen.order(gen.call(key, {a}), gen.call(key, {c}), key.kids[0]->type);
                }));
  }
};

} // namespace dfir::backend::ops
