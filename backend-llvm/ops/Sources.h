//===- Sources.h - source_iter, source_file, initialize, source_stdin, ... -===//
//
// Part of ops/Ops.cpp (OpGen.h). Sources push in the `Sources` phase of
// their stratum: bounded ones (source_iter, source_file, initialize) in the
// first tick only; source_stdin, recv and source_interval whatever arrived
// since the last tick.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"

namespace dfir::backend::ops {

/// The items of a bounded source, in the first tick only.
inline void firstTickOnly(Site &x, llvm::Value *firstTick, const std::function<void()> &items) {
  llvm::BasicBlock *run = x.block("source"), *done = x.block("after.source");
  x.b.CreateCondBr(firstTick, run, done);
  x.b.SetInsertPoint(run);
  items();
  x.b.CreateBr(done);
  x.b.SetInsertPoint(done);
}

template <> struct OpGen<OpKind::SourceIter> : Source {
  static void pull(Site &x, Phase phase, llvm::Value *firstTick) {
    if (phase != Phase::Sources) return;
    firstTickOnly(x, firstTick, [&] {
      auto &b = x.b;
      const Expr &arg = *x.op.args[0];
      ExprCodegen gen = x.gen();
      auto each = [&](llvm::Value *i) { x.emit(0, i); };
      if (arg.kind == Expr::Range) {
        llvm::Value *lo = gen.value(*arg.kids[0]);
        llvm::Value *hi = gen.value(*arg.kids[1]);
        bool isSigned = arg.kids[0]->type->isSigned;
        x.g.releasingEachItem(b, x.id, [&] { x.g.loop(b, lo, hi, each, isSigned); });
      } else if (arg.kind == Expr::List) {
        // Each element is made just before it is emitted.
        x.g.releasingEachItem(b, x.id, [&] {
          for (auto &element : arg.kids) x.emit(0, gen.value(*element));
        });
      } else if (arg.type->kind == Type::Range) {
        llvm::Value *range = gen.value(arg);
        x.g.releasingEachItem(b, x.id, [&] {
          x.g.loop(b, b.CreateExtractValue(range, {0}), b.CreateExtractValue(range, {1}), each,
                   arg.type->elems[0]->isSigned);
        });
      } else {
        llvm::Value *list = gen.value(arg);
        x.g.releasingEachItem(b, x.id, [&] { x.g.emitElements(b, gen, x.state, x.id, list, x.op.outTypes[0]); });
      }
    });
  }
};

template <> struct OpGen<OpKind::SourceFile> : Source {
  static void pull(Site &x, Phase phase, llvm::Value *firstTick) {
    if (phase != Phase::Sources) return;
    firstTickOnly(x, firstTick, [&] {
      auto &b = x.b;
      const Program &p = x.g.program();
      ExprCodegen gen = x.gen();
      llvm::Value *path = gen.value(*x.op.args[0]);
      llvm::Value *itemsSlot = x.g.entryAlloca(b, b.getPtrTy());
      llvm::Value *countSlot = x.g.entryAlloca(b, b.getInt64Ty());
      b.CreateCall(x.g.rt().readLines(), {b.CreateExtractValue(path, {0}), b.CreateExtractValue(path, {1}), itemsSlot,
                                          countSlot, x.g.rt().bytes(x.op.info().name), b.getInt32(x.g.lineOf(x.op))});
      llvm::Value *list = makePair(x, p.types->list(p.types->strType()), b.CreateLoad(b.getPtrTy(), itemsSlot),
                                   b.CreateLoad(b.getInt64Ty(), countSlot));
      x.g.releasingEachItem(b, x.id, [&] { x.g.emitElements(b, gen, x.state, x.id, list, x.op.outTypes[0]); });
    });
  }
};

template <> struct OpGen<OpKind::Initialize> : Source {
  static void pull(Site &x, Phase phase, llvm::Value *firstTick) {
    if (phase != Phase::Sources) return;
    firstTickOnly(x, firstTick,
                  [&] { x.emit(0, llvm::ConstantStruct::get(llvm::StructType::get(x.g.context()), {})); });
  }
};

template <> struct OpGen<OpKind::SourceStdin> : Source {
  static constexpr bool kMakesItems = true;
  /// This tick's lines of standard input.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Sources) return;
    auto &b = x.b;
    llvm::Value *ptrSlot = x.g.entryAlloca(b, b.getPtrTy());
    llvm::Value *lenSlot = x.g.entryAlloca(b, b.getInt64Ty());
    x.g.releasingEachItem(b, x.id, [&] {
      x.g.whileMore(
          b, "stdin",
          [&] { return b.CreateICmpNE(b.CreateCall(x.g.rt().stdinNext(), {ptrSlot, lenSlot}), b.getInt32(0)); },
          [&] {
            llvm::Value *line = b.CreateInsertValue(llvm::UndefValue::get(x.g.types().strType()),
                                                    b.CreateLoad(b.getPtrTy(), ptrSlot), {0});
            x.emit(0, b.CreateInsertValue(line, b.CreateLoad(b.getInt64Ty(), lenSlot), {1}));
          });
    });
  }
};

/// acc: firings so far; has: the timer's id.
template <> struct OpGen<OpKind::SourceInterval> : Source {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.acc = g.addField(llvm::Type::getInt64Ty(g.context()));
    s.has = g.addField(llvm::Type::getInt32Ty(g.context()));
  }
  static void init(Site &x) {
    llvm::Value *period = x.b.CreateZExtOrTrunc(x.gen().value(*x.op.args[0]), x.b.getInt64Ty());
    x.b.CreateStore(x.b.CreateCall(x.g.rt().timerAdd(), {period}), x.field(x.st.has));
  }
  /// One item per period that ended since the last tick: the firing count.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Sources) return;
    auto &b = x.b;
    llvm::Value *timer = b.CreateLoad(b.getInt32Ty(), x.field(x.st.has));
    llvm::Value *n = b.CreateCall(x.g.rt().timerTake(), {timer});
    llvm::Value *countSlot = x.field(x.st.acc);
    x.g.loop(b, b.getInt64(0), n, [&](llvm::Value *) {
      llvm::Value *count = b.CreateLoad(b.getInt64Ty(), countSlot);
      b.CreateStore(b.CreateAdd(count, b.getInt64(1)), countSlot);
      x.emit(0, count);
    });
  }
};

template <> struct OpGen<OpKind::Recv> : Source {
  static constexpr bool kMakesItems = true;
  /// This tick's messages on a channel; from a cluster, tagged with the
  /// sender's member id.
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Sources) return;
    auto &b = x.b;
    const Program &p = x.g.program();
    const Channel &ch = p.channels[x.op.channel];
    ExprCodegen gen = x.gen();
    llvm::Value *bytesSlot = x.g.entryAlloca(b, b.getPtrTy());
    llvm::Value *lenSlot = x.g.entryAlloca(b, b.getInt64Ty());
    llvm::Value *senderSlot = x.g.entryAlloca(b, b.getInt32Ty());
    x.g.releasingEachItem(b, x.id, [&] {
      x.g.whileMore(
          b, "recv",
          [&] {
            llvm::Value *got =
                b.CreateCall(x.g.rt().recv(), {b.getInt32(x.op.channel), bytesSlot, lenSlot, senderSlot});
            return b.CreateICmpNE(got, b.getInt32(0));
          },
          [&] {
            llvm::Value *v = gen.decode(b.CreateLoad(b.getPtrTy(), bytesSlot), ch.elem);
            if (p.locations[ch.from].isCluster)
              v = makePair(x, x.op.outTypes[0], b.CreateLoad(b.getInt32Ty(), senderSlot), v);
            x.emit(0, v);
          });
    });
  }
};

template <> struct OpGen<OpKind::SourceStream> : Source {
  static constexpr bool kMakesItems = true;
  /// What the host pushed since the last tick, in order (none without a
  /// host).
  static void pull(Site &x, Phase phase, llvm::Value *) {
    if (phase != Phase::Sources) return;
    auto &b = x.b;
    ExprCodegen gen = x.gen();
    llvm::Value *bytesSlot = x.g.entryAlloca(b, b.getPtrTy());
    llvm::Value *lenSlot = x.g.entryAlloca(b, b.getInt64Ty());
    x.g.releasingEachItem(b, x.id, [&] {
      x.g.whileMore(
          b, "stream",
          [&] {
            llvm::Value *got =
                b.CreateCall(x.g.rt().streamNext(), {b.getInt32(x.g.hostIndex(x.id)), bytesSlot, lenSlot});
            return b.CreateICmpNE(got, b.getInt32(0));
          },
          [&] { x.emit(0, gen.decode(b.CreateLoad(b.getPtrTy(), bytesSlot), x.op.outTypes[0])); });
    });
  }
};

} // namespace dfir::backend::ops
