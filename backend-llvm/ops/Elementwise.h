//===- Elementwise.h - map, filter, filter_map, flat_map, flatten, ... ----===//
//
// Part of ops/Ops.cpp (OpGen.h). Operators that work on one item at a time:
// the fused chains of the generated code. `enumerate` and `unique` keep a
// counter or a set, and still pass each item on as it comes.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/FixedSet.h"
#include "backend-llvm/ops/OpGen.h"
#include "ir/ExprAnalysis.h"

namespace dfir::backend::ops {

template <> struct OpGen<OpKind::Map> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) { x.emit(0, x.gen().call(*x.op.args[0], {item})); }
};

template <> struct OpGen<OpKind::Filter> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    llvm::Value *keep = x.gen().call(*x.op.args[0], {item});
    x.g.ifThen(x.b, keep, [&] { x.emit(0, item); });
  }
};

template <> struct OpGen<OpKind::FilterMap> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    llvm::Value *o = x.gen().call(*x.op.args[0], {item});
    x.g.ifThen(x.b, x.b.CreateExtractValue(o, {0}), [&] { x.emit(0, x.b.CreateExtractValue(o, {1})); });
  }
};

template <> struct OpGen<OpKind::FlatMap> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    ExprCodegen gen = x.gen();
    const Expr &fn = *x.op.args[0];
    auto each = [&](llvm::Value *i) { x.emit(0, i); };
    if (fn.kind == Expr::Lambda && fn.kids[0]->kind == Expr::Range) {
      // `|x| lo..hi`: loop in place, no list.
      const Expr &range = *fn.kids[0];
      std::vector<llvm::Value *> bounds;
      for (auto &k : range.kids) bounds.push_back(gen.callWith(fn, {item}, *k));
      x.g.loop(b, bounds[0], bounds[1], each, range.kids[0]->type->isSigned);
    } else if (fn.kind == Expr::Lambda && fn.kids[0]->kind == Expr::List && isPure(*fn.kids[0])) {
      // `|x| [a, b]`: each element emitted as it is made, no list.
      for (auto &element : fn.kids[0]->kids) x.emit(0, gen.callWith(fn, {item}, *element));
    } else if (fn.kind == Expr::Lambda && fn.kids[0]->type->kind == Type::Range) {
      // A range computed by the closure (`if c { 0..x } else { 0..1 }`).
      llvm::Value *range = gen.call(fn, {item});
      x.g.loop(b, b.CreateExtractValue(range, {0}), b.CreateExtractValue(range, {1}), each,
               fn.kids[0]->type->elems[0]->isSigned);
    } else {
      x.g.emitElements(b, gen, x.state, x.id, gen.call(fn, {item}), x.op.outTypes[0]);
    }
  }
};

template <> struct OpGen<OpKind::Flatten> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    if (x.op.inTypes[0]->kind == Type::Option) {
      x.g.ifThen(b, b.CreateExtractValue(item, {0}), [&] { x.emit(0, b.CreateExtractValue(item, {1})); });
    } else {
      ExprCodegen gen = x.gen();
      x.g.emitElements(b, gen, x.state, x.id, item, x.op.outTypes[0]);
    }
  }
};

template <> struct OpGen<OpKind::Inspect> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    x.gen().call(*x.op.args[0], {item});
    x.emit(0, item);
  }
};

template <> struct OpGen<OpKind::Identity> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) { x.emit(0, item); }
};

template <> struct OpGen<OpKind::Assert> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    ExprCodegen gen = x.gen();
    gen.runtimeError(x.b.CreateNot(gen.call(*x.op.args[0], {item})), "assertion failed");
    x.emit(0, item);
  }
};

/// acc: the next index; from 0 every tick unless 'static.
template <> struct OpGen<OpKind::Enumerate> : Stateful {
  static constexpr bool kStreams = true;
  static bool keepsPointers(LocationCodegen &, const Operator &, unsigned) { return false; }
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.acc = g.addField(llvm::Type::getInt64Ty(g.context()));
  }
  static void tickStart(Site &x) {
    if (!LocationCodegen::isStatic(x.op)) x.b.CreateStore(x.b.getInt64(0), x.field(x.st.acc));
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    llvm::Value *slot = x.field(x.st.acc);
    llvm::Value *n = b.CreateLoad(b.getInt64Ty(), slot);
    b.CreateStore(b.CreateAdd(n, b.getInt64(1)), slot);
    x.emit(0, makePair(x, x.op.outTypes[0], n, item));
  }
  static void pull(Site &, Phase, llvm::Value *) {}
};

/// t0: per key, the next index (8 bytes); from 0 every tick unless 'static.
template <> struct OpGen<OpKind::EnumerateKeyed> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) { s.t0 = g.addTableField(); }
  static void tickStart(Site &x) { clearUnlessStatic(x, x.st.t0); }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    llvm::Value *key = b.CreateExtractValue(item, {0});
    auto [kb, kl] = x.gen().encode(key, x.op.inTypes[0]->elems[0], 0);
    llvm::Value *entry = b.CreateCall(rt.mapFind(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.t0)), kb, kl});
    llvm::Value *known = b.CreateICmpNE(rt.entryCount(b, entry), b.getInt64(0));
    llvm::Value *slot = x.g.entryAlloca(b, b.getInt64Ty());
    b.CreateStore(b.getInt64(0), slot);
    x.g.ifThen(b, known, [&] {
      b.CreateStore(b.CreateAlignedLoad(b.getInt64Ty(), rt.entryValue(b, entry, b.getInt64(0)), llvm::MaybeAlign(1)),
                    slot);
    });
    llvm::Value *n = b.CreateLoad(b.getInt64Ty(), slot);
    b.CreateStore(b.CreateAdd(n, b.getInt64(1)), slot);
    // Stored before the item goes on: what it sets off may reuse the scratch of the key.
    b.CreateCall(rt.mapPut(), {x.field(x.st.t0), kb, kl, slot, b.getInt64(8)});
    const Type *out = x.op.outTypes[0];
    x.emit(0, makePair(x, out, key, makePair(x, out->elems[1], n, b.CreateExtractValue(item, {1}))));
  }
  static void pull(Site &, Phase, llvm::Value *) {}
};

/// t0: the items seen (this tick, or ever when 'static).
/// t0: the items seen, a set of fixed-width keys (ops/FixedSet.h) for
/// integers and pairs of them, a table of encoded items otherwise.
template <> struct OpGen<OpKind::Unique> : Stateful {
  static bool fixed(const Operator &op) { return fixedKeyWords(op.inTypes[0]) != 0; }
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    s.t0 = fixed(op) ? g.addFsetField(FixedSet::wordsOf(op.inTypes[0])) : g.addTableField();
  }
  static void tickStart(Site &x) {
    if (!fixed(x.op)) return clearUnlessStatic(x, x.st.t0);
    if (!LocationCodegen::isStatic(x.op)) FixedSet(x, x.st.t0, x.op.inTypes[0]).clear();
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    if (fixed(x.op)) {
      x.g.ifThen(b, FixedSet(x, x.st.t0, x.op.inTypes[0]).insert(item), [&] { x.emit(0, item); });
      return;
    }
    auto [bytes, len] = x.gen().encode(item, x.op.inTypes[0], 0);
    llvm::Value *added = b.CreateCall(x.g.rt().setInsert(), {x.field(x.st.t0), bytes, len});
    x.g.ifThen(b, b.CreateICmpNE(added, b.getInt32(0)), [&] { x.emit(0, item); });
  }
  static void pull(Site &, Phase, llvm::Value *) {}
};

} // namespace dfir::backend::ops
