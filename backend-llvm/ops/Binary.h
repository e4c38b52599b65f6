//===- Binary.h - joins, cross joins, difference, anti_join, zip, ... -----===//
//
// Part of ops/Ops.cpp (OpGen.h). Operators of two inputs that keep what
// each side has seen (in t0 and t1, or in vectors) to match it with the
// other side.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/FixedSet.h"
#include "backend-llvm/ops/OpGen.h"

namespace dfir::backend::ops {

/// Symmetric hash joins, `join` on keys and `cross_join` on the empty key:
/// t0 and t1 store each side (cleared every tick unless that side is
/// 'static); a new item pairs with everything stored on the other side.
template <bool Keyed, bool Multiset> struct HashJoin : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.t0 = g.addTableField();
    s.t1 = g.addTableField();
  }
  static void tickStart(Site &x) { clearSidesUnlessStatic(x); }
  /// The value a side stores, and its type.
  static const Type *valueType(const Operator &op, unsigned port) {
    return Keyed ? op.inTypes[port]->elems[1] : op.inTypes[port];
  }
  /// An output item from a value of [0], one of [1], and the key.
  static llvm::Value *output(Site &x, llvm::Value *key, llvm::Value *left, llvm::Value *right) {
    const Type *out = x.op.outTypes[0];
    if (!Keyed) return makePair(x, out, left, right);
    return makePair(x, out, key, makePair(x, out->elems[1], left, right));
  }
  static void push(Site &x, unsigned port, llvm::Value *item) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    llvm::Value *key = Keyed ? b.CreateExtractValue(item, {0}) : nullptr;
    llvm::Value *val = Keyed ? b.CreateExtractValue(item, {1}) : item;
    const Type *other = valueType(x.op, 1 - port);
    // Plain variables: lambdas below capture them (C++17 cannot capture bindings).
    llvm::Value *kb = nullptr, *kl = b.getInt64(0), *vb, *vl;
    if (Keyed) std::tie(kb, kl) = gen.encode(key, x.op.inTypes[0]->elems[0], 0);
    std::tie(vb, vl) = gen.encode(val, valueType(x.op, port), 1);
    if (!Keyed) kb = vb; // any pointer: the key is empty
    llvm::Value *added = b.CreateCall(rt.mapInsert(), {x.field(port == 0 ? x.st.t0 : x.st.t1), kb, kl, vb, vl,
                                                       b.getInt32(Multiset)});
    x.g.ifThen(b, b.CreateICmpNE(added, b.getInt32(0)), [&] {
      llvm::Value *otherTable = b.CreateLoad(b.getPtrTy(), x.field(port == 0 ? x.st.t1 : x.st.t0));
      llvm::Value *entry = b.CreateCall(rt.mapFind(), {otherTable, kb, kl});
      x.g.loop(b, b.getInt64(0), rt.entryCount(b, entry), [&](llvm::Value *i) {
        llvm::Value *theirs = gen.decode(rt.entryValue(b, entry, i), other);
        x.emit(0, output(x, key, port == 0 ? val : theirs, port == 0 ? theirs : val));
      });
    });
  }
  /// Both sides 'static: every pair of stored items, before this tick's.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::History || !LocationCodegen::sideStatic(x.op, 0) || !LocationCodegen::sideStatic(x.op, 1))
      return;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    llvm::Value *left = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
    llvm::Value *right = b.CreateLoad(b.getPtrTy(), x.field(x.st.t1));
    llvm::Value *klen = x.g.entryAlloca(b, b.getInt64Ty());
    x.g.forEachEntry(b, left, "history", [&](llvm::Value *entry) {
      llvm::Value *keyBytes = b.CreateCall(rt.entryKey(), {entry, klen});
      llvm::Value *other = b.CreateCall(rt.mapFind(), {right, keyBytes, b.CreateLoad(b.getInt64Ty(), klen)});
      llvm::Value *key = Keyed ? gen.decode(keyBytes, x.op.inTypes[0]->elems[0]) : nullptr;
      x.g.loop(b, b.getInt64(0), rt.entryCount(b, entry), [&](llvm::Value *i) {
        llvm::Value *a = gen.decode(rt.entryValue(b, entry, i), valueType(x.op, 0));
        x.g.loop(b, b.getInt64(0), rt.entryCount(b, other), [&](llvm::Value *j) {
          x.emit(0, output(x, key, a, gen.decode(rt.entryValue(b, other, j), valueType(x.op, 1))));
        });
      });
    });
  }
};

template <> struct OpGen<OpKind::Join> : HashJoin<true, false> {};
template <> struct OpGen<OpKind::JoinMultiset> : HashJoin<true, true> {};
template <> struct OpGen<OpKind::CrossJoin> : HashJoin<false, false> {};
template <> struct OpGen<OpKind::CrossJoinMultiset> : HashJoin<false, true> {};

/// `difference` ([pos] items whose value is not in [neg]) and `anti_join`
/// (whose key is not). t0: [neg]'s keys (kept across ticks when [neg] is
/// 'static). With a 'static [pos], t1 stores [pos]'s items and acc counts
/// those stored before this tick, re-emitted once [neg] is complete.
template <bool ByKey> struct Negation : Stateful {
  /// [neg]'s keys in a set of fixed-width keys (ops/FixedSet.h).
  static bool fixed(const Operator &op) { return fixedKeyWords(op.inTypes[1]) != 0; }
  static FixedSet negSet(Site &x) { return FixedSet(x, x.st.t0, x.op.inTypes[1]); }
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    s.t0 = fixed(op) ? g.addFsetField(FixedSet::wordsOf(op.inTypes[1])) : g.addTableField();
    if (LocationCodegen::sideStatic(op, 0)) {
      s.t1 = g.addTableField();
      s.acc = g.addField(llvm::Type::getInt64Ty(g.context()));
    }
  }
  static void tickStart(Site &x) {
    auto &b = x.b;
    // A `'loop` [pos] starts afresh with its loop's run.
    if (x.st.t1 >= 0 && !LocationCodegen::sideStatic(x.op, 0))
      b.CreateCall(x.g.rt().tableClear(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.t1))});
    if (x.st.t1 >= 0) {
      llvm::Value *history = b.CreateLoad(b.getPtrTy(), x.field(x.st.t1));
      llvm::Value *entry = b.CreateCall(x.g.rt().mapFind(), {history, x.g.rt().bytes(""), b.getInt64(0)});
      b.CreateStore(x.g.rt().entryCount(b, entry), x.field(x.st.acc));
    }
    if (LocationCodegen::sideStatic(x.op, 1)) return;
    if (fixed(x.op))
      negSet(x).clear();
    else
      b.CreateCall(x.g.rt().tableClear(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.t0))});
  }
  static llvm::Value *keyOf(Site &x, llvm::Value *item) { return ByKey ? x.b.CreateExtractValue(item, {0}) : item; }
  static void push(Site &x, unsigned port, llvm::Value *item) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    bool isNeg = port == 1;
    if (fixed(x.op)) {
      if (isNeg) {
        negSet(x).insert(item);
        return;
      }
      keepPos(x, gen, item);
      x.g.ifThen(b, b.CreateNot(negSet(x).contains(keyOf(x, item))), [&] { x.emit(0, item); });
      return;
    }
    auto [bytes, len] = gen.encode(isNeg ? item : keyOf(x, item), x.op.inTypes[1], 0);
    llvm::Value *table = x.field(x.st.t0);
    if (isNeg) {
      b.CreateCall(rt.setInsert(), {table, bytes, len});
      return;
    }
    keepPos(x, gen, item);
    llvm::Value *found = b.CreateCall(rt.setContains(), {b.CreateLoad(b.getPtrTy(), table), bytes, len});
    x.g.ifThen(b, b.CreateICmpEQ(found, b.getInt32(0)), [&] { x.emit(0, item); });
  }
  /// A 'static [pos] keeps its items for later ticks, duplicates included.
  static void keepPos(Site &x, ExprCodegen &gen, llvm::Value *item) {
    if (x.st.t1 < 0) return;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    auto [ib, il] = gen.encode(item, x.op.inTypes[0], 1);
    b.CreateCall(rt.mapInsert(), {x.field(x.st.t1), rt.bytes(""), b.getInt64(0), ib, il, b.getInt32(1)});
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::PosHistory || x.st.t1 < 0) return;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    llvm::Value *history = b.CreateLoad(b.getPtrTy(), x.field(x.st.t1));
    llvm::Value *entry = b.CreateCall(rt.mapFind(), {history, rt.bytes(""), b.getInt64(0)});
    x.g.loop(b, b.getInt64(0), b.CreateLoad(b.getInt64Ty(), x.field(x.st.acc)), [&](llvm::Value *i) {
      llvm::Value *item = gen.decode(rt.entryValue(b, entry, i), x.op.inTypes[0]);
      if (fixed(x.op)) {
        x.g.ifThen(b, b.CreateNot(negSet(x).contains(keyOf(x, item))), [&] { x.emit(0, item); });
        return;
      }
      auto [kb, kl] = gen.encode(keyOf(x, item), x.op.inTypes[1], 0);
      llvm::Value *neg = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
      x.g.ifThen(b, b.CreateICmpEQ(b.CreateCall(rt.setContains(), {neg, kb, kl}), b.getInt32(0)),
                 [&] { x.emit(0, item); });
    });
  }
};

template <> struct OpGen<OpKind::Difference> : Negation<false> {};
template <> struct OpGen<OpKind::AntiJoin> : Negation<true> {};

/// Pairs the n-th item of [0] with the n-th of [1]. cur and next hold the
/// unmatched items of each side; acc and has the next unread one of each.
/// `zip_longest` pairs them as `Some`s, and once the stratum's input is
/// complete (Release) pairs what is left of the longer side with `None`.
template <bool Longest> struct Zipper : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.cur = g.addVecField();
    s.next = g.addVecField();
    s.acc = g.addField(llvm::Type::getInt64Ty(g.context()));
    s.has = g.addField(llvm::Type::getInt64Ty(g.context()));
  }
  static void tickStart(Site &x) {
    auto &b = x.b;
    if (LocationCodegen::isStatic(x.op)) {
      compact(x);
      return;
    }
    for (int v : {x.st.cur, x.st.next}) b.CreateStore(b.getInt64(0), b.CreateStructGEP(x.g.rt().vecType(), x.field(v), 1));
    for (int h : {x.st.acc, x.st.has}) b.CreateStore(b.getInt64(0), x.field(h));
  }
  /// 'static: each side's unmatched items move to the front of its vector,
  /// so paired items do not pile up.
  static void compact(Site &x) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    for (int side = 0; side < 2; ++side) {
      const Type *type = x.op.inTypes[side];
      llvm::Type *lt = x.g.types().lower(type);
      llvm::Value *vec = x.field(side == 0 ? x.st.cur : x.st.next);
      llvm::Value *headSlot = x.field(side == 0 ? x.st.acc : x.st.has);
      llvm::Value *lenSlot = b.CreateStructGEP(rt.vecType(), vec, 1);
      llvm::Value *head = b.CreateLoad(b.getInt64Ty(), headSlot);
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), lenSlot);
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
      llvm::Value *left = b.CreateSub(len, head);
      x.g.ifThen(b, b.CreateICmpNE(left, b.getInt64(0)), [&] {
        b.CreateMemMove(data, llvm::MaybeAlign(1), b.CreateGEP(lt, data, {head}), llvm::MaybeAlign(1),
                        b.CreateMul(left, x.g.sizeOf(lt)));
      });
      b.CreateStore(left, lenSlot);
      b.CreateStore(b.getInt64(0), headSlot);
      // Strings and lists of waiting items point into last tick's memory:
      // copy them into this tick's, as deferred items are.
      if (x.g.holdsPointers(type)) {
        ExprCodegen gen = x.gen();
        x.g.loop(b, b.getInt64(0), left, [&](llvm::Value *i) {
          llvm::Value *at = b.CreateGEP(lt, data, {i});
          b.CreateStore(gen.copyToTick(b.CreateLoad(lt, at), type), at);
        });
      }
    }
  }
  /// Pairs the item with the oldest unmatched item of the other side, or waits.
  static void push(Site &x, unsigned port, llvm::Value *item) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    int mineVec = port == 0 ? x.st.cur : x.st.next, otherVec = port == 0 ? x.st.next : x.st.cur;
    llvm::Type *ot = x.g.types().lower(x.op.inTypes[1 - port]);
    llvm::Value *vec = x.field(otherVec);
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 1));
    llvm::Value *headSlot = x.field(port == 0 ? x.st.has : x.st.acc);
    llvm::Value *head = b.CreateLoad(b.getInt64Ty(), headSlot);
    llvm::BasicBlock *pair = x.block("pair"), *wait = x.block("wait"), *done = x.block("zipped");
    b.CreateCondBr(b.CreateICmpULT(head, len), pair, wait);
    b.SetInsertPoint(pair);
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
    llvm::Value *other = b.CreateLoad(ot, b.CreateGEP(ot, data, {head}));
    b.CreateStore(b.CreateAdd(head, b.getInt64(1)), headSlot);
    llvm::Value *first = port == 0 ? item : other, *second = port == 0 ? other : item;
    if (Longest) {
      first = optional(x, 0, first);
      second = optional(x, 1, second);
    }
    x.emit(0, makePair(x, x.op.outTypes[0], first, second));
    b.CreateBr(done);
    b.SetInsertPoint(wait);
    x.g.pushVec(b, x.state, mineVec, item);
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  /// `Some(v)` as element `side` of the output pair, or `None` for null.
  static llvm::Value *optional(Site &x, unsigned side, llvm::Value *v) {
    llvm::Type *t = x.g.types().lower(x.op.outTypes[0]->elems[side]);
    if (!v) return llvm::Constant::getNullValue(t);
    return x.b.CreateInsertValue(x.b.CreateInsertValue(llvm::UndefValue::get(t), x.b.getTrue(), {0}), v, {1});
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (!Longest || phase != Phase::Release) return;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    for (unsigned side = 0; side < 2; ++side) {
      llvm::Type *lt = x.g.types().lower(x.op.inTypes[side]);
      llvm::Value *vec = x.field(side == 0 ? x.st.cur : x.st.next);
      llvm::Value *headSlot = x.field(side == 0 ? x.st.acc : x.st.has);
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 1));
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
      x.g.loop(b, b.CreateLoad(b.getInt64Ty(), headSlot), len, [&](llvm::Value *i) {
        llvm::Value *v = optional(x, side, b.CreateLoad(lt, b.CreateGEP(lt, data, {i})));
        llvm::Value *none = optional(x, 1 - side, nullptr);
        x.emit(0, makePair(x, x.op.outTypes[0], side == 0 ? v : none, side == 0 ? none : v));
      });
      b.CreateStore(len, headSlot);
    }
  }
};

template <> struct OpGen<OpKind::Zip> : Zipper<false> {};
template <> struct OpGen<OpKind::ZipLongest> : Zipper<true> {};

/// Pairs each [input] item with the first [single] item of the tick
/// (acc; has: whether it came).
/// acc: the single value; has: whether acc holds one; next: whether one
/// came in this tick (the first of a tick wins). With 'static the value
/// stays until a later tick brings another; t0 keeps it encoded between
/// ticks when it points into tick memory.
template <> struct OpGen<OpKind::CrossSingleton> : Stateful {
  static const Type *single(const Operator &op) { return op.inTypes[1]; }
  static bool saves(Site &x) { return LocationCodegen::keepsAcrossTicks(x.op) && x.st.t0 >= 0; }
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    s.acc = g.addField(g.types().lower(single(op)));
    s.has = g.addField(llvm::Type::getInt8Ty(g.context()));
    s.next = g.addField(llvm::Type::getInt8Ty(g.context()));
    if (LocationCodegen::keepsAcrossTicks(op) && g.holdsPointers(single(op))) s.t0 = g.addTableField();
  }
  static void tickStart(Site &x) {
    auto &b = x.b;
    b.CreateStore(b.getInt8(0), x.field(x.st.next));
    if (!LocationCodegen::isStatic(x.op)) {
      b.CreateStore(b.getInt8(0), x.field(x.st.has));
      return;
    }
    if (!saves(x)) return;
    Runtime &rt = x.g.rt();
    llvm::Value *entry = b.CreateCall(rt.mapFind(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.t0)), rt.bytes(""),
                                                     b.getInt64(0)});
    x.g.ifThen(b, b.CreateICmpNE(rt.entryCount(b, entry), b.getInt64(0)), [&] {
      b.CreateStore(x.gen().decode(rt.entryValue(b, entry, b.getInt64(0)), single(x.op)), x.field(x.st.acc));
    });
  }
  static void push(Site &x, unsigned port, llvm::Value *item) {
    auto &b = x.b;
    if (port == 1) {
      llvm::Value *fresh = b.CreateLoad(b.getInt8Ty(), x.field(x.st.next));
      x.g.ifThen(b, b.CreateICmpEQ(fresh, b.getInt8(0)), [&] {
        b.CreateStore(item, x.field(x.st.acc));
        b.CreateStore(b.getInt8(1), x.field(x.st.has));
        b.CreateStore(b.getInt8(1), x.field(x.st.next));
      });
      return;
    }
    llvm::Value *has = b.CreateLoad(b.getInt8Ty(), x.field(x.st.has));
    x.g.ifThen(b, b.CreateICmpNE(has, b.getInt8(0)), [&] {
      llvm::Value *value = b.CreateLoad(x.g.types().lower(single(x.op)), x.field(x.st.acc));
      x.emit(0, makePair(x, x.op.outTypes[0], item, value));
    });
  }
  static void pull(Site &, Phase, llvm::Value *) {}
  static llvm::Value *tickEnd(Site &x) {
    if (!saves(x)) return nullptr;
    auto &b = x.b;
    x.g.ifThen(b, b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), x.field(x.st.next)), b.getInt8(0)), [&] {
      llvm::Value *value = b.CreateLoad(x.g.types().lower(single(x.op)), x.field(x.st.acc));
      auto [bytes, len] = x.gen().encode(value, single(x.op), 1);
      b.CreateCall(x.g.rt().mapPut(), {x.field(x.st.t0), x.g.rt().bytes(""), b.getInt64(0), bytes, len});
    });
    return nullptr;
  }
};

} // namespace dfir::backend::ops
