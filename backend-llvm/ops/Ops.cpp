//===- Ops.cpp - The operators' hooks, dispatched by kind -----------------===//
//
// One exhaustive switch per hook, generated from ir/Operators.def: each case
// calls the hook of `OpGen<OpKind::Id>` (OpGen.h). A row of Operators.def
// without its OpGen specialization, or a specialization without one of the
// hooks, does not compile (test/backend/op_hooks.test shows it).
//
//===----------------------------------------------------------------------===//
#include "backend-llvm/ops/Aggregates.h"
#include "backend-llvm/ops/Binary.h"
#include "backend-llvm/ops/Elementwise.h"
#include "backend-llvm/ops/Lattices.h"
#include "backend-llvm/ops/Loops.h"
#include "backend-llvm/ops/Routing.h"
#include "backend-llvm/ops/Sinks.h"
#include "backend-llvm/ops/Sources.h"
#include "backend-llvm/ops/Ticks.h"
#include "backend-llvm/ops/Windows.h"

namespace dfir::backend {

void Site::emit(unsigned port, llvm::Value *value) { g.emit(b, state, id, port, value); }
llvm::Value *Site::field(int index) { return g.field(b, state, index); }
ExprCodegen Site::gen() {
  ExprCodegen e = g.exprGen(b, op);
  e.setStateReader([&g = g, &b = b, state = state](int target) { return g.readState(b, state, target); });
  if (op.loop != ir::kNone)
    e.setIterationReader([&g = g, &b = b, state = state, loop = op.loop] { return g.iteration(b, state, loop); });
  return e;
}

std::pair<llvm::Value *, llvm::Value *> LocationCodegen::readState(llvm::IRBuilder<> &b, llvm::Value *state,
                                                                   int target) {
  const ir::Operator &t = p_.ops[target];
  Site x{*this, b, state, target, t, stateOf(target)};
  llvm::Type *type = types().lower(t.outTypes[0]);
  llvm::Value *acc = b.CreateLoad(type, x.field(x.st.acc));
  if (stateRead(t.kind) == StateRead::Optional) {
    // Without a value the payload is zero, as `None`'s is (what `acc`
    // held may point into freed tick memory).
    llvm::Value *has = t.kind == OpKind::Singleton ? ops::OpGen<OpKind::Singleton>::has(x) : ops::OpGen<OpKind::Reduce>::has(x);
    return {b.CreateSelect(has, acc, llvm::Constant::getNullValue(type)), has};
  }
  DFIR_CHECK(stateRead(t.kind) == StateRead::Value, "`#name` of an operator without state");
  // The fold has taken its last item of the tick: its value (in place, its
  // buffer) stays as it is until the next tick, which no value outlives.
  return {acc, nullptr};
}

namespace ops {

void layout(LocationCodegen &g, const Operator &op, OpState &s) {
  switch (op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::layout(g, op, s);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

void init(Site &site) {
  switch (site.op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::init(site);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

void fini(Site &site) {
  switch (site.op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::fini(site);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

void tickStart(Site &site) {
  switch (site.op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::tickStart(site);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

void push(Site &site, unsigned port, llvm::Value *item) {
  switch (site.op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::push(site, port, item);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

void pull(Site &site, Phase phase, llvm::Value *firstTick) {
  switch (site.op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::pull(site, phase, firstTick);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

llvm::Value *tickEnd(Site &site) {
  switch (site.op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::tickEnd(site);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

bool ownFunction(LocationCodegen &g, const Operator &op) {
  return (op.kind == OpKind::FoldKeyed || op.kind == OpKind::ReduceKeyed) && Keyed::fixedMap(g, op);
}

bool streams(OpKind kind) {
  switch (kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::kStreams;
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

bool makesItems(OpKind kind) {
  switch (kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::kMakesItems;
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

bool keepsPointers(LocationCodegen &g, const Operator &op, unsigned port) {
  switch (op.kind) {
#define OP(ID, ...)                                                                                                 \
  case OpKind::ID: return OpGen<OpKind::ID>::keepsPointers(g, op, port);
#include "ir/Operators.def"
  }
  DFIR_CHECK(false, "an operator kind outside Operators.def");
}

} // namespace ops
} // namespace dfir::backend
