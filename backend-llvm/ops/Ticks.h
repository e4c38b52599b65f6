//===- Ticks.h - defer_tick, defer_tick_lazy, defer_signal, persist, ... --===//
//
// Part of ops/Ops.cpp (OpGen.h). Operators that hold items for later: the
// next tick, the end of the stratum, a signal, or every later tick.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"
#include "ir/GraphAlgo.h"

namespace dfir::backend::ops {

/// cur: the items delivered this tick; next: the items for the next one.
/// They are delivered in the stratum of the operator they go to, those
/// bound for a blocking input before the others.
struct Deferring : Stateful {
  static constexpr bool kMakesItems = true;
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.cur = g.addVecField();
    s.next = g.addVecField();
  }
  static void tickStart(Site &x) { x.b.CreateCall(x.g.rt().vecSwap(), {x.field(x.st.cur), x.field(x.st.next)}); }
  static void push(Site &x, unsigned, llvm::Value *item) { x.g.pushVec(x.b, x.state, x.st.next, item); }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::DeferredBlocking && phase != Phase::Deferred) return;
    const Program &p = x.g.program();
    int out = x.op.outputs.empty() ? kNone : x.op.outputs[0];
    if (out == kNone) return;
    const Edge &e = p.edges[out];
    if (p.ops[e.to].info().isBlocking(e.toPort) == (phase == Phase::DeferredBlocking)) drain(x, out);
  }
  static void drain(Site &x, int out) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    const Program &p = x.g.program();
    const Type *type = x.op.outTypes[0];
    llvm::Type *t = x.g.types().lower(type);
    llvm::Value *vec = x.field(x.st.cur);
    // Straight into another defer (a chain of defer_tick): the whole batch
    // moves at once, by swapping buffers when the next one is empty.
    if (movesBatch(x.g, x.id)) {
      b.CreateCall(rt.vecMove(), {x.field(x.g.stateOf(p.edges[out].to).next), vec, x.g.sizeOf(t)});
      return;
    }
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 1));
    ExprCodegen gen = x.gen();
    x.g.releasingEachItem(b, x.id, [&] {
      x.g.loop(b, b.getInt64(0), len, [&](llvm::Value *i) {
        llvm::Value *item = b.CreateLoad(t, b.CreateGEP(t, data, {i}));
        // Strings point into last tick's memory: copy them into this tick's,
        // so an item deferred again stays valid.
        if (x.g.holdsPointers(type)) item = gen.copyToTick(item, type);
        x.emit(0, item);
      });
    });
    b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt.vecType(), vec, 1));
    // The last of a chain: its buffer, just read, goes to the first for
    // this tick's new items when that one has none yet. (An emptied buffer
    // otherwise moves back up the chain one defer a tick, and the new items
    // go to one untouched for as many ticks as the chain is long.)
    int head = chainHead(x.g, x.id);
    if (head != x.id) b.CreateCall(rt.vecTradeEmpty(), {vec, x.field(x.g.stateOf(head).next)});
  }
  /// Whether defer `id` hands its items to the next defer as a whole batch.
  static bool movesBatch(LocationCodegen &g, int id) {
    const Program &p = g.program();
    const Operator &op = p.ops[id];
    int out = op.outputs.empty() ? kNone : op.outputs[0];
    return out != kNone && !g.isBuffered(out) && !g.holdsPointers(op.outTypes[0]) &&
           crossesTick(p.ops[p.edges[out].to].kind);
  }
  /// The first defer of the chain of whole-batch moves that ends at `id`.
  static int chainHead(LocationCodegen &g, int id) {
    const Program &p = g.program();
    for (int steps = 0; steps < static_cast<int>(p.ops.size()); ++steps) {
      const Operator &op = p.ops[id];
      int in = op.inputs.empty() ? kNone : op.inputs[0];
      if (in == kNone) break;
      int from = p.edges[in].from;
      bool deferring = p.ops[from].kind == OpKind::DeferTick || p.ops[from].kind == OpKind::DeferTickLazy;
      if (!deferring || p.ops[from].location != op.location || !movesBatch(g, from)) break;
      id = from;
    }
    return id;
  }
};

/// Items for the next tick make the location run it.
template <> struct OpGen<OpKind::DeferTick> : Deferring {
  static llvm::Value *tickEnd(Site &x) {
    auto &b = x.b;
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(x.g.rt().vecType(), x.field(x.st.next), 1));
    return b.CreateICmpNE(len, b.getInt64(0));
  }
};

/// Items for the next tick wait for something else to make it run.
template <> struct OpGen<OpKind::DeferTickLazy> : Deferring {};

/// t0: the items held; has: whether a signal came this tick.
template <> struct OpGen<OpKind::DeferSignal> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.t0 = g.addTableField();
    s.has = g.addField(llvm::Type::getInt8Ty(g.context()));
  }
  static void tickStart(Site &x) { x.b.CreateStore(x.b.getInt8(0), x.field(x.st.has)); }
  static void push(Site &x, unsigned port, llvm::Value *item) {
    auto &b = x.b;
    if (port == 1) {
      b.CreateStore(b.getInt8(1), x.field(x.st.has));
      return;
    }
    auto [bytes, len] = x.gen().encode(item, x.op.inTypes[0], 1);
    b.CreateCall(x.g.rt().mapInsert(), {x.field(x.st.t0), bytes, b.getInt64(0), bytes, len, b.getInt32(1)});
  }
  /// After the stratum: what it holds goes out if a signal came.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Release) return;
    auto &b = x.b;
    x.g.ifThen(b, b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), x.field(x.st.has)), b.getInt8(0)), [&] {
      x.g.emitStored(b, x.state, x.id, x.st.t0, x.op.inTypes[0]);
      b.CreateCall(x.g.rt().tableClear(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.t0))});
    });
  }
};

/// t0: the items stored; acc: how many of them were stored before this
/// tick. Those are re-emitted (History); this tick's items are stored and
/// passed on as they arrive, including what an upstream `persist` re-emits.
template <> struct OpGen<OpKind::Persist> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.t0 = g.addTableField();
    s.acc = g.addField(llvm::Type::getInt64Ty(g.context()));
  }
  static void tickStart(Site &x) {
    auto &b = x.b;
    clearUnlessStatic(x, x.st.t0);
    llvm::Value *table = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
    llvm::Value *entry = b.CreateCall(x.g.rt().mapFind(), {table, x.g.rt().bytes(""), b.getInt64(0)});
    b.CreateStore(x.g.rt().entryCount(b, entry), x.field(x.st.acc));
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    auto [bytes, len] = x.gen().encode(item, x.op.inTypes[0], 1);
    b.CreateCall(x.g.rt().mapInsert(), {x.field(x.st.t0), bytes, b.getInt64(0), bytes, len, b.getInt32(1)});
    x.emit(0, item);
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::History) return;
    auto &b = x.b;
    llvm::Value *count = b.CreateLoad(b.getInt64Ty(), x.field(x.st.acc));
    x.g.emitStored(x.b, x.state, x.id, x.st.t0, x.op.inTypes[0], count);
  }
};

/// `persist_mut` and `persist_mut_keyed` (always `'static`). t0 maps each
/// stored value to one unit per copy (`persist_mut`), or each key to its
/// values (`persist_mut_keyed`); `Delete` removes the entry. Its input is
/// blocking: the tick's changes are all applied before it emits.
struct PersistMutable : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) { s.t0 = g.addTableField(); }
  static void tickStart(Site &) {}
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    const Type *en = x.op.inTypes[0];
    const EnumInfo &info = x.g.program().types->enumInfo(en->id);
    unsigned persist = static_cast<unsigned>(info.variantIndex("Persist"));
    unsigned remove = static_cast<unsigned>(info.variantIndex("Delete"));
    bool keyed = x.op.kind == OpKind::PersistMutKeyed;
    llvm::Value *tag = b.CreateExtractValue(item, {0});
    llvm::BasicBlock *store = x.block("persist"), *drop = x.block("delete"), *done = x.block("persisted");
    b.CreateCondBr(b.CreateICmpEQ(tag, b.getInt32(persist)), store, drop);
    b.SetInsertPoint(store);
    llvm::Value *fields = gen.variantFields(item, en, persist);
    const auto &pf = info.variants[persist].fields;
    auto [kb, kl] = gen.encode(b.CreateExtractValue(fields, {0}), pf[0], 0);
    if (keyed) {
      auto [vb, vl] = gen.encode(b.CreateExtractValue(fields, {1}), pf[1], 1);
      b.CreateCall(rt.mapInsert(), {x.field(x.st.t0), kb, kl, vb, vl, b.getInt32(1)});
    } else {
      b.CreateCall(rt.mapInsert(), {x.field(x.st.t0), kb, kl, rt.bytes(""), b.getInt64(0), b.getInt32(1)});
    }
    b.CreateBr(done);
    b.SetInsertPoint(drop);
    llvm::Value *gone = gen.variantFields(item, en, remove);
    auto [db, dl] = gen.encode(b.CreateExtractValue(gone, {0}), info.variants[remove].fields[0], 0);
    b.CreateCall(rt.tableRemove(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.t0)), db, dl});
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
  /// Everything stored, grouped by value (or key) in the order each was
  /// first stored.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    auto &b = x.b;
    ExprCodegen gen = x.gen();
    const Type *out = x.op.outTypes[0];
    bool keyed = x.op.kind == OpKind::PersistMutKeyed;
    llvm::Value *table = b.CreateLoad(b.getPtrTy(), x.field(x.st.t0));
    llvm::Value *lenSlot = x.g.entryAlloca(b, b.getInt64Ty());
    x.g.forEachEntry(b, table, "stored", [&](llvm::Value *entry) {
      llvm::Value *key = gen.decode(b.CreateCall(x.g.rt().entryKey(), {entry, lenSlot}), keyed ? out->elems[0] : out);
      x.g.loop(b, b.getInt64(0), x.g.rt().entryCount(b, entry), [&](llvm::Value *i) {
        if (!keyed) {
          x.emit(0, key);
          return;
        }
        llvm::Value *value = gen.decode(x.g.rt().entryValue(b, entry, i), out->elems[1]);
        x.emit(0, makePair(x, out, key, value));
      });
    });
  }
};
template <> struct OpGen<OpKind::PersistMut> : PersistMutable {};
template <> struct OpGen<OpKind::PersistMutKeyed> : PersistMutable {};

/// Its input edge is buffered into the next stratum; it passes items on.
template <> struct OpGen<OpKind::NextStratum> : Stateful {
  static void layout(LocationCodegen &, const Operator &, OpState &) {}
  static void tickStart(Site &) {}
  static void push(Site &x, unsigned, llvm::Value *item) { x.emit(0, item); }
  static void pull(Site &, Phase, llvm::Value *) {}
};

/// t0: this tick's count of each item; t1: the last tick's. An item passes
/// when this tick has seen it more often than the last.
template <> struct OpGen<OpKind::MultisetDelta> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.t0 = g.addTableField();
    s.t1 = g.addTableField();
  }
  /// Last tick's counts become the ones to compare with.
  static void tickStart(Site &x) {
    auto &b = x.b;
    llvm::Value *cur = x.field(x.st.t0), *prev = x.field(x.st.t1);
    llvm::Value *c = b.CreateLoad(b.getPtrTy(), cur), *pv = b.CreateLoad(b.getPtrTy(), prev);
    b.CreateStore(pv, cur);
    b.CreateStore(c, prev);
    b.CreateCall(x.g.rt().tableClear(), {pv});
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    // Plain variables: lambdas below capture them (C++17 cannot capture bindings).
    llvm::Value *kb, *kl;
    std::tie(kb, kl) = x.gen().encode(item, x.op.inTypes[0], 0);
    auto countOf = [&](int table) {
      llvm::Value *entry = b.CreateCall(rt.mapFind(), {b.CreateLoad(b.getPtrTy(), x.field(table)), kb, kl});
      llvm::Value *has = b.CreateICmpNE(rt.entryCount(b, entry), b.getInt64(0));
      llvm::BasicBlock *read = x.block("count"), *from = b.GetInsertBlock(), *done = x.block("counted");
      b.CreateCondBr(has, read, done);
      b.SetInsertPoint(read);
      llvm::Value *n = b.CreateAlignedLoad(b.getInt64Ty(), rt.entryValue(b, entry, b.getInt64(0)), llvm::MaybeAlign(1));
      llvm::BasicBlock *readEnd = b.GetInsertBlock();
      b.CreateBr(done);
      b.SetInsertPoint(done);
      llvm::PHINode *phi = b.CreatePHI(b.getInt64Ty(), 2);
      phi->addIncoming(b.getInt64(0), from);
      phi->addIncoming(n, readEnd);
      return static_cast<llvm::Value *>(phi);
    };
    llvm::Value *now = b.CreateAdd(countOf(x.st.t0), b.getInt64(1));
    llvm::Value *before = countOf(x.st.t1);
    llvm::Value *countSlot = x.g.entryAlloca(b, b.getInt64Ty());
    b.CreateStore(now, countSlot);
    b.CreateCall(rt.mapPut(), {x.field(x.st.t0), kb, kl, countSlot, b.getInt64(8)});
    x.g.ifThen(b, b.CreateICmpUGT(now, before), [&] { x.emit(0, item); });
  }
  static void pull(Site &, Phase, llvm::Value *) {}
};

/// [0] passes at once; cur: [1], which follows all of [0] after the stratum.
template <> struct OpGen<OpKind::Chain> : Stateful {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) { s.cur = g.addVecField(); }
  static void tickStart(Site &) {}
  static void push(Site &x, unsigned port, llvm::Value *item) {
    if (port == 0)
      x.emit(0, item);
    else
      x.g.pushVec(x.b, x.state, x.st.cur, item);
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase == Phase::Release) x.g.emitVec(x.b, x.state, x.id, x.st.cur, x.op.inTypes[1]);
  }
};

} // namespace dfir::backend::ops
