//===- Routing.h - union, tee, partition, demux_enum, unzip ---------------===//
//
// Part of ops/Ops.cpp (OpGen.h). Operators that only choose where an item
// goes: several inputs into one output, or one input to several outputs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"

namespace dfir::backend::ops {

template <> struct OpGen<OpKind::Union> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) { x.emit(0, item); }
};

template <> struct OpGen<OpKind::Tee> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    for (unsigned out = 0; out < x.op.outputs.size(); ++out) x.emit(out, item);
  }
};

/// The closure picks the output; an index with no connected output is a
/// runtime error.
template <> struct OpGen<OpKind::Partition> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    ExprCodegen gen = x.gen();
    llvm::Value *index = gen.call(*x.op.args[0], {item});
    const Type *it = x.op.args[0]->kids[0]->type;
    llvm::Value *wide =
        it->isSigned ? b.CreateSExtOrTrunc(index, b.getInt64Ty()) : b.CreateZExtOrTrunc(index, b.getInt64Ty());
    llvm::BasicBlock *bad = x.block("no.output"), *done = x.block("partitioned");
    llvm::SwitchInst *sw = b.CreateSwitch(wide, bad);
    for (unsigned out = 0; out < x.op.outputs.size(); ++out) {
      if (x.op.outputs[out] == kNone) continue;
      llvm::BasicBlock *to = x.block("output");
      sw->addCase(b.getInt64(out), to);
      b.SetInsertPoint(to);
      x.emit(out, item);
      b.CreateBr(done);
    }
    b.SetInsertPoint(bad);
    gen.runtimeError(b.getTrue(), "the index chosen by `partition` has no connected output");
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }
};

/// Each variant's payload to its port: the field, a tuple of fields, or ().
template <> struct OpGen<OpKind::DemuxEnum> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    auto &b = x.b;
    ExprCodegen gen = x.gen();
    const Type *en = x.op.inTypes[0];
    const EnumInfo &info = x.g.program().types->enumInfo(en->id);
    llvm::BasicBlock *done = x.block("demuxed");
    llvm::SwitchInst *sw = b.CreateSwitch(b.CreateExtractValue(item, {0}), done);
    for (unsigned k = 0; k < info.variants.size(); ++k) {
      if (k >= x.op.outputs.size() || x.op.outputs[k] == kNone) continue; // unconnected: dropped
      llvm::BasicBlock *bb = x.block("variant");
      sw->addCase(b.getInt32(k), bb);
      b.SetInsertPoint(bb);
      const auto &fieldTypes = info.variants[k].fields;
      llvm::Value *payload;
      if (fieldTypes.empty()) {
        payload = llvm::ConstantStruct::get(llvm::StructType::get(x.g.context()), {});
      } else {
        llvm::Value *fields = gen.variantFields(item, en, k);
        payload = fieldTypes.size() == 1 ? b.CreateExtractValue(fields, {0}) : fields;
      }
      x.emit(k, payload);
      b.CreateBr(done);
    }
    b.SetInsertPoint(done);
  }
};

template <> struct OpGen<OpKind::Unzip> : Stream {
  static void push(Site &x, unsigned, llvm::Value *item) {
    x.emit(0, x.b.CreateExtractValue(item, {0}));
    x.emit(1, x.b.CreateExtractValue(item, {1}));
  }
};

} // namespace dfir::backend::ops
