//===- Sinks.h - null, for_each, dest_sink, dest_file, send ---------------===//
//
// Part of ops/Ops.cpp (OpGen.h). Where items leave the dataflow.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"

namespace dfir::backend::ops {

/// `null` drops what it is given; as a source it gives nothing.
template <> struct OpGen<OpKind::Null> : Stream {
  static void push(Site &, unsigned, llvm::Value *) {}
};

template <> struct OpGen<OpKind::ForEach> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) { x.gen().call(*x.op.args[0], {item}); }
};

/// To the host's callback, laid out as the generated header says; without
/// one, printed as `println` would.
template <> struct OpGen<OpKind::DestSink> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    llvm::Value *slot = x.g.entryAlloca(b, item->getType());
    b.CreateStore(item, slot);
    llvm::Value *taken = b.CreateCall(x.g.rt().sink(), {b.getInt32(x.g.hostIndex(x.id)), slot});
    x.g.ifThen(b, b.CreateICmpEQ(taken, b.getInt32(0)), [&] { x.gen().printLine(1, item, x.op.inTypes[0]); });
  }
};

/// acc: the open file.
template <> struct OpGen<OpKind::DestFile> : Stream {
  static void layout(LocationCodegen &g, const Operator &, OpState &s) {
    s.acc = g.addField(llvm::PointerType::getUnqual(g.context()));
  }
  static void init(Site &x) {
    auto &b = x.b;
    llvm::Value *path = x.gen().value(*x.op.args[0]);
    llvm::Value *file = b.CreateCall(x.g.rt().fileOpen(), {b.CreateExtractValue(path, {0}), b.CreateExtractValue(path, {1}),
                                                           x.g.rt().bytes(x.op.info().name), b.getInt32(x.g.lineOf(x.op))});
    b.CreateStore(file, x.field(x.st.acc));
  }
  static void fini(Site &x) {
    x.b.CreateCall(x.g.rt().fileClose(), {x.b.CreateLoad(x.b.getPtrTy(), x.field(x.st.acc))});
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    llvm::Value *file = b.CreateLoad(b.getPtrTy(), x.field(x.st.acc));
    b.CreateCall(x.g.rt().fileWrite(), {file, b.CreateExtractValue(item, {0}), b.CreateExtractValue(item, {1})});
  }
};

/// To a cluster by default the item is (member, T); broadcast and hash(f)
/// pick members themselves; to a process it is just T. When every item goes
/// to the same members (a process, or all of a cluster), the tick's items
/// are framed into one batch (cur: the frames; acc: how many) handed to the
/// runtime at the end of the tick.
template <> struct OpGen<OpKind::Send> : Stream {
  static bool sendsBatches(LocationCodegen &g, const Operator &op) {
    const Channel &ch = g.program().channels[op.channel];
    return !g.program().locations[ch.to].isCluster || ch.mode == ChannelMode::Broadcast;
  }
  static void layout(LocationCodegen &g, const Operator &op, OpState &s) {
    if (!sendsBatches(g, op)) return;
    s.cur = g.addVecField();
    s.acc = g.addField(llvm::Type::getInt64Ty(g.context()));
  }
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    const Channel &ch = x.g.program().channels[x.op.channel];
    ExprCodegen gen = x.gen();
    if (sendsBatches(x.g, x.op)) {
      appendToBatch(x, gen, item, ch.elem);
      return;
    }
    auto send = [&](llvm::Value *member, llvm::Value *v) {
      auto [bytes, len] = gen.encode(v, ch.elem, 0);
      b.CreateCall(x.g.rt().send(), {b.getInt32(x.op.channel), x.g.rt().bytes("send(" + ch.name + ")"),
                                     b.getInt32(x.g.lineOf(x.op)), b.getInt32(ch.to), member, bytes, len});
    };
    // To one member of a cluster: the item's own, or by hash.
    if (ch.mode == ChannelMode::Direct) {
      send(b.CreateZExt(b.CreateExtractValue(item, {0}), b.getInt64Ty()), b.CreateExtractValue(item, {1}));
    } else {
      llvm::Value *size = b.CreateZExt(b.CreateCall(x.g.rt().clusterSize(), {b.getInt32(ch.to)}), b.getInt64Ty());
      const Type *keyType = ch.hashFn->kids[0]->type;
      llvm::Value *key = gen.call(*ch.hashFn, {item});
      auto [kb, kl] = gen.encode(key, keyType, 1);
      llvm::Value *h = b.CreateCall(x.g.rt().hashBytes(), {kb, kl});
      send(b.CreateURem(h, size), item);
    }
  }
  /// Appends an item to the batch as the wire frames it: a 4-byte length,
  /// then the encoding written in place.
  static void appendToBatch(Site &x, ExprCodegen &gen, llvm::Value *item, const Type *t) {
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    llvm::Value *vec = x.field(x.st.cur);
    llvm::Value *lenSlot = b.CreateStructGEP(rt.vecType(), vec, 1);
    llvm::Value *size = gen.encodedLength(item, t);
    llvm::Value *need = b.CreateAdd(size, b.getInt64(4));
    llvm::Value *cap = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt.vecType(), vec, 2));
    x.g.ifThen(b, b.CreateICmpUGT(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), lenSlot), need), cap),
               [&] { b.CreateCall(rt.vecReserve(), {vec, need}); });
    llvm::Value *used = b.CreateLoad(b.getInt64Ty(), lenSlot);
    llvm::Value *at =
        b.CreateGEP(b.getInt8Ty(), b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0)), {used});
    b.CreateAlignedStore(b.CreateTrunc(size, b.getInt32Ty()), at, llvm::MaybeAlign(1));
    gen.encodeInto(b.CreateGEP(b.getInt8Ty(), at, {b.getInt64(4)}), item, t);
    b.CreateStore(b.CreateAdd(used, need), lenSlot);
    llvm::Value *countSlot = x.field(x.st.acc);
    b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), countSlot), b.getInt64(1)), countSlot);
  }
  /// The end of a tick: the batch goes to the runtime.
  static llvm::Value *tickEnd(Site &x) {
    if (!sendsBatches(x.g, x.op)) return nullptr;
    auto &b = x.b;
    Runtime &rt = x.g.rt();
    const Channel &ch = x.g.program().channels[x.op.channel];
    llvm::Value *vec = x.field(x.st.cur);
    llvm::Value *lenSlot = b.CreateStructGEP(rt.vecType(), vec, 1);
    llvm::Value *countSlot = x.field(x.st.acc);
    llvm::Value *count = b.CreateLoad(b.getInt64Ty(), countSlot);
    x.g.ifThen(b, b.CreateICmpNE(count, b.getInt64(0)), [&] {
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt.vecType(), vec, 0));
      b.CreateCall(rt.sendBatch(), {b.getInt32(x.op.channel), rt.bytes("send(" + ch.name + ")"),
                                    b.getInt32(x.g.lineOf(x.op)), b.getInt32(ch.to), data,
                                    b.CreateLoad(b.getInt64Ty(), lenSlot), count});
      b.CreateStore(b.getInt64(0), lenSlot);
      b.CreateStore(b.getInt64(0), countSlot);
    });
    return nullptr;
  }
};

} // namespace dfir::backend::ops
