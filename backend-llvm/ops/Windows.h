//===- Windows.h - window, session_window, event_window, ... --------------===//
//
// Part of ops/Ops.cpp (OpGen.h). A window operator hands each item to the
// runtime's window store (runtime/rt_window.c, in acc), stamped with its
// time: the location's tick, or the event time its closure reads. Once the
// tick's items are in (it is blocking), the windows that are complete fire:
// each of their items is emitted as ((start, end), item), by window then
// arrival. Over ticks, the location keeps ticking while windows are open;
// over event time, a window still open when nothing else is left to do
// fires in the runtime's flush tick.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"

namespace dfir::backend::ops {

struct Windowed : Stateful {
  static bool event(const Operator &op) {
    return op.kind == OpKind::EventWindow || op.kind == OpKind::EventSessionWindow;
  }
  static bool session(const Operator &op) {
    return op.kind == OpKind::SessionWindow || op.kind == OpKind::EventSessionWindow;
  }
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.acc = g.addField(llvm::PointerType::getUnqual(g.context()));
  }
  static void tickStart(Site &) {}
  static bool keepsPointers(LocationCodegen &, const Operator &, unsigned) { return false; } // items are copied
  static llvm::Value *tick(Site &x) { return x.b.CreateLoad(x.b.getInt64Ty(), x.field(0)); }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    ExprCodegen gen = x.gen();
    const Operator &op = x.op;
    size_t first = event(op) ? 1 : 0;
    auto arg = [&](size_t i) { return gen.value(*op.args[i]); };
    llvm::Value *size = arg(first);
    llvm::Value *slide = session(op) ? size : arg(first + 1);
    llvm::Value *positive = b.CreateAnd(b.CreateICmpSGT(size, b.getInt64(0)), b.CreateICmpSGT(slide, b.getInt64(0)));
    // At most 65536 windows per item (each holds a copy): size / slide, once both are positive.
    llvm::Value *ratio = b.CreateSDiv(size, b.CreateSelect(positive, slide, b.getInt64(1)));
    llvm::Value *bad = b.CreateOr(b.CreateNot(positive),
                                  b.CreateOr(b.CreateICmpSGT(slide, size), b.CreateICmpSGT(ratio, b.getInt64(65536))));
    gen.runtimeError(bad, session(op) ? "a window's gap must be at least 1"
                                      : "a window's size and slide must be at least 1, the slide at most the size, and "
                                        "the size at most 65536 slides");
    llvm::Value *lateness = event(op) ? arg(op.args.size() - 1) : b.getInt64(-1);
    if (event(op)) gen.runtimeError(b.CreateICmpSLT(lateness, b.getInt64(0)), "a window's lateness must not be negative");
    llvm::Value *time = tick(x);
    if (event(op)) {
      const Type *tt = op.args[0]->type;
      llvm::Value *t = gen.call(*op.args[0], {item});
      time = tt->isSigned ? b.CreateSExtOrTrunc(t, b.getInt64Ty()) : b.CreateZExtOrTrunc(t, b.getInt64Ty());
    }
    llvm::Value *kb = llvm::ConstantPointerNull::get(b.getPtrTy()), *kl = b.getInt64(0);
    if (session(op)) std::tie(kb, kl) = gen.encode(b.CreateExtractValue(item, {0}), op.inTypes[0]->elems[0], 0);
    auto [ib, il] = gen.encode(item, op.inTypes[0], 1);
    b.CreateCall(x.g.rt().windowAdd(), {x.field(x.st.acc), b.getInt32(session(op) ? 1 : 0), size, slide, lateness,
                                        time, kb, kl, ib, il});
  }
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Blocking) return;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    ExprCodegen gen = x.gen();
    // Over ticks, every time up to this tick is complete.
    llvm::Value *complete = b.CreateAdd(tick(x), b.getInt64(1));
    llvm::Value *outSlot = x.g.entryAlloca(b, b.getPtrTy());
    llvm::Value *n = b.CreateCall(rt.windowFire(), {x.field(x.st.acc), complete, b.CreateCall(rt.flushing(), {}), outSlot});
    llvm::StructType *rec = llvm::StructType::get(b.getContext(), {b.getInt64Ty(), b.getInt64Ty(), b.getPtrTy(), b.getInt64Ty()});
    llvm::Value *records = b.CreateLoad(b.getPtrTy(), outSlot);
    const Type *out = x.op.outTypes[0];
    x.g.loop(b, b.getInt64(0), n, [&](llvm::Value *i) {
      llvm::Value *r = b.CreateLoad(rec, b.CreateGEP(rec, records, {i}));
      llvm::Value *window = makePair(x, out->elems[0], b.CreateExtractValue(r, {0}), b.CreateExtractValue(r, {1}));
      x.emit(0, makePair(x, out, window, gen.decode(b.CreateExtractValue(r, {2}), x.op.inTypes[0])));
    });
  }
  /// Over ticks: more ticks while windows are open. Over event time: the
  /// runtime hears that they are, for its flush tick.
  static llvm::Value *tickEnd(Site &x) {
    auto &b = x.b;
    llvm::Value *open =
        b.CreateICmpNE(b.CreateCall(x.g.rt().windowOpen(), {b.CreateLoad(b.getPtrTy(), x.field(x.st.acc))}), b.getInt64(0));
    if (!event(x.op)) return open;
    x.g.ifThen(b, open, [&] { b.CreateCall(x.g.rt().windowPending(), {}); });
    return nullptr;
  }
  static void init(Site &) {}
  static void fini(Site &x) {
    x.b.CreateCall(x.g.rt().windowFree(),
                   {x.field(x.st.acc), x.g.rt().bytes(x.op.info().name), x.b.getInt32(x.g.lineOf(x.op)),
                    x.g.rt().bytes(x.g.program().locations[x.op.location].name)});
  }
};

template <> struct OpGen<OpKind::Window> : Windowed {};
template <> struct OpGen<OpKind::SessionWindow> : Windowed {};
template <> struct OpGen<OpKind::EventWindow> : Windowed {};
template <> struct OpGen<OpKind::EventSessionWindow> : Windowed {};

} // namespace dfir::backend::ops
