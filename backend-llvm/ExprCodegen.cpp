//===- ExprCodegen.cpp - Closures, values and their encodings in LLVM IR --===//
//
// How types lower (TypeLowering), the runtime's declarations (Runtime), and
// the code of the closure language (ExprCodegen): expressions, patterns,
// display, comparison and the canonical byte encoding (docs/backend.md).
//
// Longer than the usual 800 lines on purpose: every translation unit that
// parses LLVM's IR headers costs seconds of build time, so the backend keeps
// them few (this one, Codegen.cpp, ops/Ops.cpp and the JIT and object
// emitters), and the expression code stays one unit rather than three. Its
// sections (types, runtime, supported, expressions, encoding, patterns,
// externs) are marked below.
//
//===----------------------------------------------------------------------===//
#include "backend-llvm/ExprCodegen.h"

#include "ir/Builtins.h"
#include "ir/Format.h"
#include "ir/Check.h"

#include "dfir_rt.h"

#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/MDBuilder.h"

namespace dfir::backend {

// --------------------------------------------------------------- types --

llvm::StructType *TypeLowering::variantType(const Type *en, unsigned variant) {
  std::vector<llvm::Type *> fields;
  for (const Type *f : types_.enumInfo(en->id).variants[variant].fields) {
    llvm::Type *l = lower(f);
    if (!l) return nullptr;
    fields.push_back(l);
  }
  return llvm::StructType::get(ctx_, fields);
}

llvm::StructType *TypeLowering::strType() {
  return llvm::StructType::get(ctx_, {llvm::PointerType::getUnqual(ctx_), llvm::Type::getInt64Ty(ctx_)});
}

llvm::Type *TypeLowering::lower(const Type *t) {
  switch (t->kind) {
  case Type::Bool: return llvm::Type::getInt1Ty(ctx_);
  case Type::Int: return llvm::IntegerType::get(ctx_, t->bits);
  case Type::Float: return t->bits == 32 ? llvm::Type::getFloatTy(ctx_) : llvm::Type::getDoubleTy(ctx_);
  case Type::Str: return strType();
  case Type::Unit: return llvm::StructType::get(ctx_);
  case Type::Tuple: {
    std::vector<llvm::Type *> elems;
    for (const Type *e : t->elems) {
      llvm::Type *l = lower(e);
      if (!l) return nullptr;
      elems.push_back(l);
    }
    return llvm::StructType::get(ctx_, elems);
  }
  case Type::Map: return lower(t->elems[2]); // its entries, a list
  case Type::Lattice: return lower(t->repr());
  case Type::List:
    // A pointer and a count whatever the element: this is also what lets a
    // struct contain a list of itself (`struct Tree { kids: [Tree] }`).
    return llvm::StructType::get(ctx_, {llvm::PointerType::getUnqual(ctx_), llvm::Type::getInt64Ty(ctx_)});
  case Type::Option: {
    llvm::Type *v = lower(t->elems[0]);
    return v ? llvm::StructType::get(ctx_, {llvm::Type::getInt1Ty(ctx_), v}) : nullptr;
  }
  case Type::Struct: {
    std::vector<llvm::Type *> fields;
    for (auto &[name, ft] : types_.structInfo(t->id).fields) {
      llvm::Type *l = lower(ft);
      if (!l) return nullptr;
      fields.push_back(l);
    }
    return llvm::StructType::get(ctx_, fields);
  }
  case Type::Enum: {
    // A tag, then room for the largest variant's fields (8-byte words).
    uint64_t words = 0;
    const EnumInfo &info = types_.enumInfo(t->id);
    for (unsigned v = 0; v < info.variants.size(); ++v) {
      llvm::StructType *payload = variantType(t, v);
      if (!payload) return nullptr;
      words = std::max<uint64_t>(words, (layout_.getTypeAllocSize(payload) + 7) / 8);
    }
    return llvm::StructType::get(ctx_, {llvm::Type::getInt32Ty(ctx_), llvm::ArrayType::get(llvm::Type::getInt64Ty(ctx_), words)});
  }
  case Type::Range: {
    // Its bounds: what `flat_map` and `source_iter` iterate.
    llvm::Type *bound = lower(t->elems[0]);
    return bound ? llvm::StructType::get(ctx_, {bound, bound}) : nullptr;
  }
  case Type::Var: return nullptr;
  }
  return nullptr;
}

// ------------------------------------------------------------- runtime --

llvm::FunctionCallee Runtime::declare(const char *name, llvm::Type *result, std::vector<llvm::Type *> params) {
  auto callee = m_.getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
  if (auto *f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) f->addFnAttr(llvm::Attribute::NoUnwind);
  return callee;
}

llvm::StructType *Runtime::vecType() {
  auto &ctx = m_.getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  return llvm::StructType::get(ctx, {llvm::PointerType::getUnqual(ctx), i64, i64});
}

llvm::StructType *Runtime::fsetType() {
  auto &ctx = m_.getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  return llvm::StructType::get(ctx, {llvm::PointerType::getUnqual(ctx), i64, i64, i64, i64});
}

#define DFIR_RT_FN(NAME, SYMBOL, RESULT, ...)                                                                 \
  llvm::FunctionCallee Runtime::NAME() {                                                                      \
    auto &ctx = m_.getContext();                                                                              \
    auto *Ptr = llvm::PointerType::getUnqual(ctx);                                                            \
    auto *I32 = llvm::Type::getInt32Ty(ctx);                                                                  \
    auto *I64 = llvm::Type::getInt64Ty(ctx);                                                                  \
    auto *F32 = llvm::Type::getFloatTy(ctx);                                                                  \
    auto *F64 = llvm::Type::getDoubleTy(ctx);                                                                 \
    auto *Void = llvm::Type::getVoidTy(ctx);                                                                  \
    (void)Ptr, (void)I32, (void)I64, (void)F32, (void)F64, (void)Void;                                        \
    return declare(#SYMBOL, RESULT, {__VA_ARGS__});                                                           \
  }
#include "backend-llvm/RuntimeCalls.def"

llvm::FunctionCallee Runtime::strFn(const std::string &name) {
  if (name == "contains") return strContains();
  if (name == "starts_with") return strStartsWith();
  if (name == "ends_with") return strEndsWith();
  if (name == "compare") return strCompare();
  if (name == "split") return strSplit();
  if (name == "concat") return strConcat();
  if (name == "trim") return strTrim();
  if (name == "lower") return strLower();
  DFIR_CHECK(name == "upper", "a string function missing from backend-llvm/RuntimeCalls.def");
  return strUpper();
}

llvm::MDNode *Runtime::aliasTag(const char *name) {
  llvm::MDBuilder md(m_.getContext());
  llvm::MDNode *root = md.createTBAARoot("dfir alias tags");
  llvm::MDNode *type = md.createTBAAScalarTypeNode(name, root);
  return md.createTBAAStructTagNode(type, type, 0);
}

llvm::MDNode *Runtime::bufferFieldsScope() {
  if (!bufferFields_) {
    llvm::MDBuilder md(m_.getContext());
    llvm::MDNode *scope = md.createAliasScope("buffer fields", md.createAliasScopeDomain("dfir buffers"));
    bufferFields_ = llvm::MDNode::get(m_.getContext(), {scope});
  }
  return bufferFields_;
}

llvm::Value *Runtime::entryCount(llvm::IRBuilder<> &b, llvm::Value *entry) {
  llvm::LoadInst *count =
      b.CreateLoad(b.getInt64Ty(), b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), entry, DFIR_RT_ENTRY_COUNT_OFFSET));
  count->setMetadata(llvm::LLVMContext::MD_tbaa, aliasTag("entry"));
  return count;
}

llvm::Value *Runtime::entryValue(llvm::IRBuilder<> &b, llvm::Value *entry, llvm::Value *index) {
  llvm::LoadInst *values =
      b.CreateLoad(b.getPtrTy(), b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), entry, DFIR_RT_ENTRY_VALUES_OFFSET));
  values->setMetadata(llvm::LLVMContext::MD_tbaa, aliasTag("entry"));
  llvm::LoadInst *value = b.CreateLoad(b.getPtrTy(), b.CreateInBoundsGEP(b.getPtrTy(), values, index));
  value->setMetadata(llvm::LLVMContext::MD_tbaa, aliasTag("entry"));
  return value;
}

llvm::Constant *Runtime::bytes(const std::string &text) {
  auto it = strings_.find(text);
  if (it != strings_.end()) return it->second;
  auto *init = llvm::ConstantDataArray::getString(m_.getContext(), text, true);
  auto *g = new llvm::GlobalVariable(m_, init->getType(), true, llvm::GlobalValue::PrivateLinkage, init, "dfir.str");
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  strings_[text] = g;
  return g;
}

// ---------------------------------------------------------- supported --

namespace {

/// A range is a value only by itself (what flat_map and source_iter
/// iterate), never inside another value.
bool lowerable(const Type *t, bool top = true) {
  if (!t) return false;
  switch (t->kind) {
  case Type::Range: return top;
  case Type::Bool:
  case Type::Int:
  case Type::Float:
  case Type::Str:
  case Type::Unit: return true;
  case Type::Tuple:
  case Type::List:
  case Type::Option:
  case Type::Map:
    for (const Type *e : t->elems)
      if (!lowerable(e, false)) return false;
    return true;
  case Type::Struct:
  case Type::Enum: return true; // their fields are types of the program, never ranges
  case Type::Lattice: return lowerable(t->repr(), false);
  default: return false;
  }
}
} // namespace

namespace {
/// Types an extern fn takes and returns by value (docs/language.md,
/// "Extern functions"); the others go through pointers.
bool isScalar(const Type *t) {
  return t->kind == Type::Int || t->kind == Type::Float || t->kind == Type::Bool || t->kind == Type::Str;
}
} // namespace

std::optional<std::pair<SourceRange, std::string>> ExprCodegen::unsupportedIn(const Expr &e, const ir::Program &p) {
  auto no = [&](const std::string &what) { return std::make_pair(e.range, what); };
  // Names of locations and channels are not values.
  if (e.kind == Expr::Location || e.kind == Expr::Channel) return std::nullopt;
  if (e.kind != Expr::Lambda && !lowerable(e.type)) return no("values of type `" + typeToString(e.type) + "`");
  for (auto &p : e.params)
    if (!lowerable(p->type)) return no("values of type `" + typeToString(p->type) + "`");
  for (auto &s : e.stmts)
    if (auto r = unsupportedIn(*s.expr, p)) return r;
  for (auto &a : e.arms)
    if (auto r = unsupportedIn(*a.body, p)) return r;
  for (auto &k : e.kids)
    if (auto r = unsupportedIn(*k, p)) return r;
  return std::nullopt;
}

// --------------------------------------------------------- expressions --

void ExprCodegen::bind(const Pattern &p, llvm::Value *v) {
  switch (p.kind) {
  case Pattern::Bind: setLocal(p.slot, v); return;
  case Pattern::Tuple:
    for (unsigned i = 0; i < p.elems.size(); ++i) bind(*p.elems[i], b_.CreateExtractValue(v, {i}));
    return;
  default: {
    // Struct and other irrefutable patterns: they cannot fail.
    llvm::BasicBlock *never = llvm::BasicBlock::Create(b_.getContext(), "irrefutable", b_.GetInsertBlock()->getParent());
    matchOrFail(p, v, never);
    llvm::BasicBlock *here = b_.GetInsertBlock();
    b_.SetInsertPoint(never);
    b_.CreateUnreachable();
    b_.SetInsertPoint(here);
    return;
  }
  }
}

void ExprCodegen::setLocal(int slot, llvm::Value *v) {
  std::vector<llvm::Value *> &frame = frames_.back();
  if (static_cast<size_t>(slot) >= frame.size()) frame.resize(slot + 1, nullptr);
  frame[slot] = v;
}

llvm::Value *ExprCodegen::call(const Expr &closure, const std::vector<llvm::Value *> &args) {
  if (closure.kind != Expr::Lambda) return value(closure);
  return callWith(closure, args, *closure.kids[0]);
}

llvm::Value *ExprCodegen::callWith(const Expr &closure, const std::vector<llvm::Value *> &args, const Expr &part) {
  // Each call has its own locals: the closure numbers its slots from 0.
  frames_.emplace_back(static_cast<size_t>(closure.slots), nullptr);
  for (size_t i = 0; i < closure.params.size() && i < args.size(); ++i) bind(*closure.params[i], args[i]);
  llvm::Value *result = value(part);
  frames_.pop_back();
  return result;
}

void ExprCodegen::runtimeError(llvm::Value *failed, const std::string &message, const Expr *at) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto &ctx = b_.getContext();
  llvm::BasicBlock *bad = llvm::BasicBlock::Create(ctx, "runtime.error", f);
  llvm::BasicBlock *ok = llvm::BasicBlock::Create(ctx, "ok", f);
  b_.CreateCondBr(failed, bad, ok, llvm::MDBuilder(ctx).createBranchWeights(1, 1 << 20));
  b_.SetInsertPoint(bad);
  unsigned line = at && lineOf_ ? lineOf_(at->range.begin) : line_;
  b_.CreateCall(rt_.error(), {rt_.bytes(op_), b_.getInt32(line), rt_.bytes(message)});
  b_.CreateUnreachable();
  b_.SetInsertPoint(ok);
}

llvm::Value *ExprCodegen::value(const Expr &e) {
  auto &ctx = b_.getContext();
  switch (e.kind) {
  case Expr::Int: return llvm::ConstantInt::get(types_.lower(e.type), e.intValue);
  case Expr::Float: return llvm::ConstantFP::get(types_.lower(e.type), e.floatValue);
  case Expr::Bool: return b_.getInt1(e.boolValue);
  case Expr::Unit: return llvm::ConstantStruct::get(llvm::StructType::get(ctx), {});
  case Expr::Str:
    return llvm::ConstantStruct::get(types_.strType(),
                                     {rt_.bytes(e.strValue), b_.getInt64(e.strValue.size())});
  case Expr::NoneValue: return optionValue(e.type, b_.getFalse(), nullptr);
  case Expr::Local: {
    llvm::Value *v = static_cast<size_t>(e.slot) < frames_.back().size() ? frames_.back()[e.slot] : nullptr;
    DFIR_CHECK(v, "a local variable used before the code that binds it");
    return v;
  }
  case Expr::Const: {
    // A constant's value is computed where it is used, with its own locals.
    frames_.emplace_back();
    llvm::Value *v = value(*p_.consts[e.index].value);
    frames_.pop_back();
    return v;
  }
  case Expr::Variant: {
    std::vector<llvm::Value *> fields;
    for (auto &k : e.kids) fields.push_back(value(*k));
    return makeEnum(e.type, static_cast<unsigned>(e.index), fields);
  }
  case Expr::Some: return optionValue(e.type, b_.getTrue(), value(*e.kids[0]));
  case Expr::StateRef: {
    DFIR_CHECK(readState_, "`#name` compiled outside an operator's closure");
    auto [v, has] = readState_(e.index);
    return has ? optionValue(e.type, has, v) : v;
  }
  case Expr::Extern: return externCall(p_.externs[e.index], e);
  case Expr::Function: return functionCall(e);
  case Expr::Builtin: return builtin(e);
  case Expr::Location:
  case Expr::Channel: break; // not values: read by their operator or builtin
  case Expr::Struct: {
    llvm::Value *v = llvm::UndefValue::get(types_.lower(e.type));
    for (size_t i = 0; i < e.kids.size(); ++i)
      v = b_.CreateInsertValue(v, value(*e.kids[i]), {static_cast<unsigned>(e.fields[i])});
    return v;
  }
  case Expr::Field: return b_.CreateExtractValue(value(*e.kids[0]), {static_cast<unsigned>(e.index)});
  case Expr::Match: return matchExpr(e);
  case Expr::Tuple: {
    llvm::Value *t = llvm::UndefValue::get(types_.lower(e.type));
    for (unsigned i = 0; i < e.kids.size(); ++i) t = b_.CreateInsertValue(t, value(*e.kids[i]), {i});
    return t;
  }
  case Expr::TupleIndex: return b_.CreateExtractValue(value(*e.kids[0]), {static_cast<unsigned>(e.index)});
  case Expr::Range: {
    llvm::Value *r = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(e.type)), value(*e.kids[0]), {0});
    return b_.CreateInsertValue(r, value(*e.kids[1]), {1});
  }
  case Expr::List: {
    // Elements in tick memory.
    llvm::Type *elem = types_.lower(e.type->elems[0]);
    uint64_t size = b_.GetInsertBlock()->getModule()->getDataLayout().getTypeAllocSize(elem);
    llvm::Value *data = b_.CreateCall(rt_.alloc(), {b_.getInt64(size * e.kids.size())});
    for (unsigned i = 0; i < e.kids.size(); ++i) b_.CreateStore(value(*e.kids[i]), b_.CreateGEP(elem, data, {b_.getInt64(i)}));
    llvm::Value *list = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(e.type)), data, {0});
    return b_.CreateInsertValue(list, b_.getInt64(e.kids.size()), {1});
  }
  case Expr::Index: {
    if (e.kids[1]->kind == Expr::Range) return slice(e);
    llvm::Value *list = value(*e.kids[0]);
    llvm::Value *raw = value(*e.kids[1]);
    const Type *it = e.kids[1]->type;
    // A negative signed index sign-extends to a huge unsigned one: out of bounds.
    llvm::Value *index = it->isSigned ? b_.CreateSExtOrTrunc(raw, b_.getInt64Ty()) : b_.CreateZExtOrTrunc(raw, b_.getInt64Ty());
    llvm::Value *count = b_.CreateExtractValue(list, {1});
    llvm::Value *bad = b_.CreateICmpUGE(index, count);
    runtimeError(bad, "list index out of bounds", &e);
    llvm::Type *elem = types_.lower(e.type);
    return b_.CreateLoad(elem, b_.CreateGEP(elem, b_.CreateExtractValue(list, {0}), {index}));
  }
  case Expr::Unary: {
    llvm::Value *v = value(*e.kids[0]);
    if (e.unop == UnOp::Not) return b_.CreateNot(v);
    return e.type->isFloat() ? b_.CreateFNeg(v) : b_.CreateNeg(v);
  }
  case Expr::Binary: return binary(e);
  case Expr::Cast: return cast(e);
  case Expr::If: return ifExpr(e);
  case Expr::Block: {
    for (auto &s : e.stmts) {
      llvm::Value *v = value(*s.expr);
      if (s.pattern) bind(*s.pattern, v);
    }
    return e.hasTail ? value(*e.kids[0]) : llvm::ConstantStruct::get(llvm::StructType::get(ctx), {});
  }
  case Expr::Lambda: return call(e, {});
  }
  DFIR_CHECK(false, "an expression the code generator accepted has no code");
  return nullptr;
}

llvm::Value *ExprCodegen::makeStr(llvm::Value *ptr, llvm::Value *len) {
  llvm::Value *s = b_.CreateInsertValue(llvm::UndefValue::get(types_.strType()), ptr, {0});
  return b_.CreateInsertValue(s, len, {1});
}

/// Calls a runtime string function on `strs` (each passed as pointer and
/// length); returns its `str` result, or its i32 result for predicates.
llvm::Value *ExprCodegen::strCall(const std::string &fn, const std::vector<llvm::Value *> &strs) {
  std::vector<llvm::Value *> args;
  for (llvm::Value *s : strs) {
    args.push_back(b_.CreateExtractValue(s, {0}));
    args.push_back(b_.CreateExtractValue(s, {1}));
  }
  llvm::FunctionCallee callee = rt_.strFn(fn);
  if (callee.getFunctionType()->getReturnType()->isIntegerTy()) return b_.CreateCall(callee, args);
  llvm::Value *ptrSlot = entryAlloca(b_.getPtrTy());
  llvm::Value *lenSlot = entryAlloca(b_.getInt64Ty());
  args.push_back(ptrSlot);
  args.push_back(lenSlot);
  b_.CreateCall(callee, args);
  return makeStr(b_.CreateLoad(b_.getPtrTy(), ptrSlot), b_.CreateLoad(b_.getInt64Ty(), lenSlot));
}

llvm::Value *ExprCodegen::strCompare(llvm::Value *a, llvm::Value *b) { return strCall("compare", {a, b}); }

llvm::MDNode *plainLoopMetadata(llvm::LLVMContext &c) {
  llvm::MDNode *noUnroll = llvm::MDNode::get(c, llvm::MDString::get(c, "llvm.loop.unroll.disable"));
  llvm::MDNode *noVector = llvm::MDNode::get(
      c, {llvm::MDString::get(c, "llvm.loop.vectorize.enable"),
          llvm::ConstantAsMetadata::get(llvm::ConstantInt::getFalse(c))});
  llvm::MDNode *self = llvm::MDNode::getDistinct(c, {nullptr, noUnroll, noVector});
  self->replaceOperandWith(0, self);
  return self;
}

void countedLoop(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi, bool isSigned,
                 const std::function<void(llvm::Value *)> &body, bool plain) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  auto &ctx = b.getContext();
  llvm::BasicBlock *before = b.GetInsertBlock();
  llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx, "loop", f);
  llvm::BasicBlock *bodyBlock = llvm::BasicBlock::Create(ctx, "loop.body", f);
  llvm::BasicBlock *exit = llvm::BasicBlock::Create(ctx, "loop.end", f);
  b.CreateBr(head);
  b.SetInsertPoint(head);
  llvm::PHINode *i = b.CreatePHI(lo->getType(), 2);
  i->addIncoming(lo, before);
  b.CreateCondBr(isSigned ? b.CreateICmpSLT(i, hi) : b.CreateICmpULT(i, hi), bodyBlock, exit);
  b.SetInsertPoint(bodyBlock);
  body(i);
  i->addIncoming(b.CreateAdd(i, llvm::ConstantInt::get(lo->getType(), 1)), b.GetInsertBlock());
  llvm::BranchInst *back = b.CreateBr(head);
  if (plain) back->setMetadata(llvm::LLVMContext::MD_loop, plainLoopMetadata(ctx));
  b.SetInsertPoint(exit);
}

void ExprCodegen::forEachIndex(llvm::Value *count, const std::function<void(llvm::Value *)> &body) {
  countedLoop(b_, b_.getInt64(0), count, false, body);
}

namespace {
/// -1, 0 or 1 as an i32 from two exclusive conditions.
llvm::Value *signOf(llvm::IRBuilder<> &b, llvm::Value *lt, llvm::Value *gt) {
  return b.CreateSub(b.CreateZExt(gt, b.getInt32Ty()), b.CreateZExt(lt, b.getInt32Ty()));
}

bool isComparison(BinOp op) {
  return op == BinOp::Eq || op == BinOp::Ne || op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt ||
         op == BinOp::Ge;
}
} // namespace

llvm::Value *ExprCodegen::order(llvm::Value *a, llvm::Value *b, const Type *t) {
  if (t->kind == Type::Map) return order(a, b, t->elems[2]); // as its sorted entries
  if (t->kind == Type::Lattice) return order(a, b, t->repr()); // the total order of its representation

  // Lexicographic over fields: the first that differs decides.
  auto fieldsOrder = [&](llvm::Value *fa, llvm::Value *fb, const std::vector<const Type *> &fields) {
    llvm::Value *result = b_.getInt32(0);
    for (unsigned i = fields.size(); i-- > 0;) {
      llvm::Value *c = order(b_.CreateExtractValue(fa, {i}), b_.CreateExtractValue(fb, {i}), fields[i]);
      result = b_.CreateSelect(b_.CreateICmpNE(c, b_.getInt32(0)), c, result);
    }
    return result;
  };
  switch (t->kind) {
  case Type::Int:
  case Type::Float:
  case Type::Bool: return signOf(b_, compare(BinOp::Lt, t, a, b), compare(BinOp::Gt, t, a, b));
  case Type::Str: return strCompare(a, b);
  case Type::Unit: return b_.getInt32(0);
  case Type::Tuple:
  case Type::Struct: return fieldsOrder(a, b, fieldTypes(t));
  case Type::Option: {
    // None sorts before Some; two Somes by their values.
    llvm::Value *ha = b_.CreateExtractValue(a, {0}), *hb = b_.CreateExtractValue(b, {0});
    llvm::Value *tags = signOf(b_, b_.CreateICmpULT(ha, hb), b_.CreateICmpUGT(ha, hb));
    llvm::Value *values = order(b_.CreateExtractValue(a, {1}), b_.CreateExtractValue(b, {1}), t->elems[0]);
    return b_.CreateSelect(b_.CreateAnd(ha, hb), values, tags);
  }
  case Type::Enum: {
    // Variants by declaration order, then the fields of equal variants.
    const EnumInfo &info = types_.context().enumInfo(t->id);
    llvm::Value *ta = b_.CreateExtractValue(a, {0}), *tb = b_.CreateExtractValue(b, {0});
    llvm::Value *result = entryAlloca(b_.getInt32Ty());
    b_.CreateStore(signOf(b_, b_.CreateICmpULT(ta, tb), b_.CreateICmpUGT(ta, tb)), result);
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *same = llvm::BasicBlock::Create(b_.getContext(), "same.variant", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "ordered", f);
    b_.CreateCondBr(b_.CreateICmpEQ(ta, tb), same, done);
    b_.SetInsertPoint(same);
    switchVariants(ta, t, "order.variant", done, [&](unsigned k) {
      b_.CreateStore(fieldsOrder(variantFields(a, t, k), variantFields(b, t, k), info.variants[k].fields), result);
    });
    return b_.CreateLoad(b_.getInt32Ty(), result);
  }
  case Type::List: return listOrder(a, b, t);
  default: DFIR_CHECK(false, "ordering values of a type the code generator does not lower");
  }
  return nullptr;
}

/// Lists compare element by element; a proper prefix sorts first.
llvm::Value *ExprCodegen::listOrder(llvm::Value *a, llvm::Value *b, const Type *t) {
  llvm::Type *lt = types_.lower(t);
  llvm::Function *fn = outlined("dfir.order." + typeToString(t), b_.getInt32Ty(), {lt, lt}, [&](llvm::Function *f) {
    auto &ctx = b_.getContext();
    llvm::Type *elem = types_.lower(t->elems[0]);
    llvm::Value *x = f->getArg(0), *y = f->getArg(1);
    llvm::Value *nx = b_.CreateExtractValue(x, {1}), *ny = b_.CreateExtractValue(y, {1});
    llvm::Value *n = b_.CreateSelect(b_.CreateICmpULT(nx, ny), nx, ny);
    llvm::BasicBlock *entry = b_.GetInsertBlock();
    llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx, "loop", f);
    llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx, "loop.body", f);
    llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx, "loop.next", f);
    llvm::BasicBlock *differ = llvm::BasicBlock::Create(ctx, "differ", f);
    llvm::BasicBlock *end = llvm::BasicBlock::Create(ctx, "prefix", f);
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::PHINode *i = b_.CreatePHI(b_.getInt64Ty(), 2);
    i->addIncoming(b_.getInt64(0), entry);
    b_.CreateCondBr(b_.CreateICmpULT(i, n), body, end);
    b_.SetInsertPoint(body);
    llvm::Value *ex = b_.CreateLoad(elem, b_.CreateGEP(elem, b_.CreateExtractValue(x, {0}), {i}));
    llvm::Value *ey = b_.CreateLoad(elem, b_.CreateGEP(elem, b_.CreateExtractValue(y, {0}), {i}));
    llvm::Value *c = order(ex, ey, t->elems[0]);
    b_.CreateCondBr(b_.CreateICmpNE(c, b_.getInt32(0)), differ, next);
    b_.SetInsertPoint(next);
    i->addIncoming(b_.CreateAdd(i, b_.getInt64(1)), next);
    b_.CreateBr(head);
    b_.SetInsertPoint(differ);
    b_.CreateRet(c);
    b_.SetInsertPoint(end);
    b_.CreateRet(signOf(b_, b_.CreateICmpULT(nx, ny), b_.CreateICmpUGT(nx, ny)));
  });
  return b_.CreateCall(fn, {a, b});
}

void ExprCodegen::switchVariants(llvm::Value *tag, const Type *en, const char *name, llvm::BasicBlock *done,
                                 const std::function<void(unsigned)> &body) {
  const EnumInfo &info = types_.context().enumInfo(en->id);
  llvm::SwitchInst *sw = b_.CreateSwitch(tag, done);
  for (unsigned k = 0; k < info.variants.size(); ++k) {
    if (info.variants[k].fields.empty()) continue;
    llvm::BasicBlock *bb = llvm::BasicBlock::Create(b_.getContext(), name, done->getParent());
    sw->addCase(b_.getInt32(k), bb);
    b_.SetInsertPoint(bb);
    body(k);
    b_.CreateBr(done);
  }
  b_.SetInsertPoint(done);
}

llvm::Function *ExprCodegen::outlined(const std::string &name, llvm::Type *result,
                                      const std::vector<llvm::Type *> &params,
                                      const std::function<void(llvm::Function *)> &body) {
  llvm::Module *m = b_.GetInsertBlock()->getModule();
  if (llvm::Function *f = m->getFunction(name)) return f;
  llvm::Function *f = llvm::Function::Create(llvm::FunctionType::get(result, params, false),
                                             llvm::GlobalValue::InternalLinkage, name, m);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilderBase::InsertPointGuard guard(b_);
  b_.SetInsertPoint(llvm::BasicBlock::Create(b_.getContext(), "entry", f));
  body(f);
  return f;
}

llvm::Value *ExprCodegen::compare(BinOp op, const Type *t, llvm::Value *l, llvm::Value *r) {
  if (t->kind == Type::Lattice && op != BinOp::Eq && op != BinOp::Ne && isComparison(op)) {
    // The lattice's partial order: `a < b` when `a <= b` and they differ.
    bool flip = op == BinOp::Gt || op == BinOp::Ge;
    llvm::Value *below = latticeLeq(flip ? r : l, flip ? l : r, t);
    if (op == BinOp::Le || op == BinOp::Ge) return below;
    return b_.CreateAnd(below, b_.CreateNot(equalValues(l, r, t)));
  }
  if (t->kind != Type::Int && t->kind != Type::Float && t->kind != Type::Bool) {
    if (!isComparison(op)) return nullptr;
    // Composite values: by the language's total order.
    llvm::Value *c = order(l, r, t), *zero = b_.getInt32(0);
    switch (op) {
    case BinOp::Eq: return b_.CreateICmpEQ(c, zero);
    case BinOp::Ne: return b_.CreateICmpNE(c, zero);
    case BinOp::Lt: return b_.CreateICmpSLT(c, zero);
    case BinOp::Le: return b_.CreateICmpSLE(c, zero);
    case BinOp::Gt: return b_.CreateICmpSGT(c, zero);
    default: return b_.CreateICmpSGE(c, zero);
    }
  }
  if (t->kind == Type::Float) {
    // The language's total order: NaN equals NaN and sorts after every number.
    llvm::Value *lnan = b_.CreateFCmpUNO(l, l), *rnan = b_.CreateFCmpUNO(r, r);
    auto eq = [&] { return b_.CreateOr(b_.CreateAnd(lnan, rnan), b_.CreateFCmpOEQ(l, r)); };
    auto lt = [&](llvm::Value *a, llvm::Value *an, llvm::Value *c, llvm::Value *cn) {
      return b_.CreateOr(b_.CreateAnd(b_.CreateNot(an), cn), b_.CreateFCmpOLT(a, c));
    };
    switch (op) {
    case BinOp::Eq: return eq();
    case BinOp::Ne: return b_.CreateNot(eq());
    case BinOp::Lt: return lt(l, lnan, r, rnan);
    case BinOp::Gt: return lt(r, rnan, l, lnan);
    case BinOp::Le: return b_.CreateNot(lt(r, rnan, l, lnan));
    case BinOp::Ge: return b_.CreateNot(lt(l, lnan, r, rnan));
    default: break;
    }
  }
  bool s = t->kind == Type::Int && t->isSigned;
  switch (op) {
  case BinOp::Eq: return b_.CreateICmpEQ(l, r);
  case BinOp::Ne: return b_.CreateICmpNE(l, r);
  case BinOp::Lt: return s ? b_.CreateICmpSLT(l, r) : b_.CreateICmpULT(l, r);
  case BinOp::Le: return s ? b_.CreateICmpSLE(l, r) : b_.CreateICmpULE(l, r);
  case BinOp::Gt: return s ? b_.CreateICmpSGT(l, r) : b_.CreateICmpUGT(l, r);
  case BinOp::Ge: return s ? b_.CreateICmpSGE(l, r) : b_.CreateICmpUGE(l, r);
  default: break;
  }
  return nullptr;
}

llvm::Value *ExprCodegen::arithmetic(const Expr &e, llvm::Value *l, llvm::Value *r) {
  const Type *t = e.kids[0]->type;
  if (t->isFloat()) {
    switch (e.binop) {
    case BinOp::Add: return b_.CreateFAdd(l, r);
    case BinOp::Sub: return b_.CreateFSub(l, r);
    case BinOp::Mul: return b_.CreateFMul(l, r);
    case BinOp::Div: return b_.CreateFDiv(l, r);
    case BinOp::Rem: return b_.CreateFRem(l, r);
    default: break;
    }
  }
  switch (e.binop) {
  case BinOp::Add: return b_.CreateAdd(l, r);
  case BinOp::Sub: return b_.CreateSub(l, r);
  case BinOp::Mul: return b_.CreateMul(l, r);
  case BinOp::BitAnd: return b_.CreateAnd(l, r);
  case BinOp::BitOr: return b_.CreateOr(l, r);
  case BinOp::BitXor: return b_.CreateXor(l, r);
  case BinOp::Shl:
  case BinOp::Shr: {
    // The shift amount wraps to the width, so every shift is defined.
    unsigned bits = l->getType()->getIntegerBitWidth();
    llvm::Value *amount = b_.CreateZExtOrTrunc(r, l->getType());
    amount = b_.CreateAnd(amount, llvm::ConstantInt::get(l->getType(), bits - 1));
    if (e.binop == BinOp::Shl) return b_.CreateShl(l, amount);
    return t->isSigned ? b_.CreateAShr(l, amount) : b_.CreateLShr(l, amount);
  }
  case BinOp::Div:
  case BinOp::Rem: {
    llvm::Value *zero = llvm::ConstantInt::get(r->getType(), 0);
    runtimeError(b_.CreateICmpEQ(r, zero), e.binop == BinOp::Div ? "division by zero" : "remainder by zero", &e);
    if (!t->isSigned) return e.binop == BinOp::Div ? b_.CreateUDiv(l, r) : b_.CreateURem(l, r);
    // MIN / -1 wraps to MIN (and MIN % -1 is 0) instead of trapping.
    llvm::Value *minusOne = b_.CreateICmpEQ(r, llvm::ConstantInt::getSigned(r->getType(), -1));
    llvm::Value *safe = b_.CreateSelect(minusOne, llvm::ConstantInt::get(r->getType(), 1), r);
    if (e.binop == BinOp::Div) return b_.CreateSelect(minusOne, b_.CreateNeg(l), b_.CreateSDiv(l, safe));
    return b_.CreateSelect(minusOne, zero, b_.CreateSRem(l, safe));
  }
  default: break;
  }
  return nullptr;
}

llvm::Value *ExprCodegen::shortCircuit(const Expr &e) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto &ctx = b_.getContext();
  llvm::Value *l = value(*e.kids[0]);
  llvm::BasicBlock *from = b_.GetInsertBlock();
  llvm::BasicBlock *rhs = llvm::BasicBlock::Create(ctx, "rhs", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx, "logic.end", f);
  if (e.binop == BinOp::And) b_.CreateCondBr(l, rhs, done);
  else b_.CreateCondBr(l, done, rhs);
  b_.SetInsertPoint(rhs);
  llvm::Value *r = value(*e.kids[1]);
  llvm::BasicBlock *rhsEnd = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  llvm::PHINode *phi = b_.CreatePHI(b_.getInt1Ty(), 2);
  phi->addIncoming(b_.getInt1(e.binop == BinOp::Or), from);
  phi->addIncoming(r, rhsEnd);
  return phi;
}

llvm::Value *ExprCodegen::binary(const Expr &e) {
  if (e.binop == BinOp::And || e.binop == BinOp::Or) return shortCircuit(e);
  llvm::Value *l = value(*e.kids[0]);
  llvm::Value *r = value(*e.kids[1]);
  if (e.kids[0]->type->kind == Type::Str && e.binop == BinOp::Add) return strCall("concat", {l, r});
  if (e.kids[0]->type->kind == Type::List && e.binop == BinOp::Add) return concatLists(l, r, e.type);
  if (llvm::Value *c = compare(e.binop, e.kids[0]->type, l, r)) return c;
  return arithmetic(e, l, r);
}

/// `l[a..b]`: the elements a to b-1 of `l`, sharing its memory (lists are
/// never changed in place); a bound below 0 or past the end, or `a > b`, is
/// a runtime error.
llvm::Value *ExprCodegen::slice(const Expr &e) {
  llvm::Value *list = value(*e.kids[0]);
  const Expr &range = *e.kids[1];
  const Type *bt = range.kids[0]->type;
  auto wide = [&](llvm::Value *v) {
    return bt->isSigned ? b_.CreateSExtOrTrunc(v, b_.getInt64Ty()) : b_.CreateZExtOrTrunc(v, b_.getInt64Ty());
  };
  llvm::Value *lo = wide(value(*range.kids[0])), *hi = wide(value(*range.kids[1]));
  llvm::Value *count = b_.CreateExtractValue(list, {1});
  // Unsigned compares: a negative bound is a huge one.
  llvm::Value *bad = b_.CreateOr(b_.CreateICmpUGT(hi, count), b_.CreateICmpUGT(lo, hi));
  runtimeError(bad, "list slice out of bounds", &e);
  llvm::Type *elem = types_.lower(e.type->elems[0]);
  llvm::Value *data = b_.CreateGEP(elem, b_.CreateExtractValue(list, {0}), {lo});
  llvm::Value *out = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(e.type)), data, {0});
  return b_.CreateInsertValue(out, b_.CreateSub(hi, lo), {1});
}

/// A sorted copy of `list` in tick memory (the runtime's stable merge sort,
/// in the language's order).
llvm::Value *ExprCodegen::sortedList(llvm::Value *list, const Type *listType) {
  const Type *et = listType->elems[0];
  llvm::Type *elem = types_.lower(et);
  uint64_t size = b_.GetInsertBlock()->getModule()->getDataLayout().getTypeAllocSize(elem);
  llvm::Value *n = b_.CreateExtractValue(list, {1});
  llvm::Value *bytes = b_.CreateMul(n, b_.getInt64(size));
  llvm::Value *data = b_.CreateCall(rt_.alloc(), {bytes});
  b_.CreateMemCpy(data, llvm::MaybeAlign(1), b_.CreateExtractValue(list, {0}), llvm::MaybeAlign(1), bytes);
  // The runtime sorts a vector in place: this one borrows the copy.
  llvm::Value *vec = entryAlloca(rt_.vecType());
  b_.CreateStore(data, b_.CreateStructGEP(rt_.vecType(), vec, 0));
  b_.CreateStore(n, b_.CreateStructGEP(rt_.vecType(), vec, 1));
  b_.CreateStore(n, b_.CreateStructGEP(rt_.vecType(), vec, 2));
  if (et->kind == Type::Int && et->bits == 64) {
    b_.CreateCall(rt_.sortI64(), {vec, b_.getInt32(et->isSigned)});
  } else {
    auto *ptr = b_.getPtrTy();
    // Not `dfir.order.`: that name is the by-value order of a list (listOrder).
    llvm::Function *cmp = outlined("dfir.cmp." + typeToString(et), b_.getInt32Ty(), {ptr, ptr}, [&](llvm::Function *f) {
      b_.CreateRet(order(b_.CreateLoad(elem, f->getArg(0)), b_.CreateLoad(elem, f->getArg(1)), et));
    });
    b_.CreateCall(rt_.sort(), {vec, b_.getInt64(size), cmp});
  }
  llvm::Value *out = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(listType)), data, {0});
  return b_.CreateInsertValue(out, n, {1});
}

/// Whether some element of `list` equals `v`.
llvm::Value *ExprCodegen::listContains(llvm::Value *list, llvm::Value *v, const Type *listType) {
  const Type *et = listType->elems[0];
  llvm::Type *elem = types_.lower(et);
  llvm::Value *found = entryAlloca(b_.getInt1Ty());
  b_.CreateStore(b_.getFalse(), found);
  llvm::Value *data = b_.CreateExtractValue(list, {0});
  forEachIndex(b_.CreateExtractValue(list, {1}), [&](llvm::Value *i) {
    llvm::Value *x = b_.CreateLoad(elem, b_.CreateGEP(elem, data, {i}));
    b_.CreateStore(b_.CreateOr(b_.CreateLoad(b_.getInt1Ty(), found), equalValues(x, v, et)), found);
  });
  return b_.CreateLoad(b_.getInt1Ty(), found);
}

/// Where key `k` is in a map: its index, or -(i + 1) where it would go at
/// index i (a binary search by the language's order).
llvm::Value *ExprCodegen::mapFind(llvm::Value *map, llvm::Value *k, const Type *mapType) {
  return sortedFind(map, k, mapType->elems[2], mapType->elems[0], true);
}

/// The same in a sorted list of `listType` without repeats: of its
/// elements (`keyed`: of their first fields, of `keyType`).
llvm::Value *ExprCodegen::sortedFind(llvm::Value *list, llvm::Value *k, const Type *listType, const Type *keyType,
                                     bool keyed) {
  llvm::Type *lt = types_.lower(listType);
  llvm::Type *kt = types_.lower(keyType);
  std::string name = "dfir.find." + typeToString(listType) + (keyed ? ".keyed" : "");
  llvm::Function *fn = outlined(name, b_.getInt64Ty(), {lt, kt}, [&](llvm::Function *self) {
    llvm::Type *entry = types_.lower(listType->elems[0]);
    llvm::Value *data = b_.CreateExtractValue(self->getArg(0), {0});
    llvm::Value *lo = entryAlloca(b_.getInt64Ty()), *hi = entryAlloca(b_.getInt64Ty());
    b_.CreateStore(b_.getInt64(0), lo);
    b_.CreateStore(b_.CreateExtractValue(self->getArg(0), {1}), hi);
    auto &ctx = b_.getContext();
    // A lower bound, one comparison and one branch per step (an exact
    // match does not end the search early: that would be a second
    // unpredictable branch per step), then the key at the bound compared.
    llvm::BasicBlock *test = llvm::BasicBlock::Create(ctx, "search", self);
    llvm::BasicBlock *probe = llvm::BasicBlock::Create(ctx, "probe", self);
    llvm::BasicBlock *below = llvm::BasicBlock::Create(ctx, "below", self);
    llvm::BasicBlock *notBelow = llvm::BasicBlock::Create(ctx, "not.below", self);
    llvm::BasicBlock *bound = llvm::BasicBlock::Create(ctx, "bound", self);
    llvm::BasicBlock *check = llvm::BasicBlock::Create(ctx, "check", self);
    llvm::BasicBlock *found = llvm::BasicBlock::Create(ctx, "found", self);
    llvm::BasicBlock *absent = llvm::BasicBlock::Create(ctx, "absent", self);
    auto keyAt = [&](llvm::Value *i) {
      llvm::Value *at = b_.CreateLoad(entry, b_.CreateGEP(entry, data, {i}));
      return keyed ? b_.CreateExtractValue(at, {0}) : at;
    };
    b_.CreateBr(test);
    b_.SetInsertPoint(test);
    llvm::Value *l = b_.CreateLoad(b_.getInt64Ty(), lo), *h = b_.CreateLoad(b_.getInt64Ty(), hi);
    b_.CreateCondBr(b_.CreateICmpULT(l, h), probe, bound);
    b_.SetInsertPoint(probe);
    llvm::Value *mid = b_.CreateAdd(l, b_.CreateLShr(b_.CreateSub(h, l), 1));
    llvm::Value *c = order(keyAt(mid), self->getArg(1), keyType);
    b_.CreateCondBr(b_.CreateICmpSLT(c, b_.getInt32(0)), below, notBelow);
    // A search is entered once per lookup and goes round a few times: a
    // plain loop (not unrolled, vectorized or padded to a 64-byte boundary).
    llvm::MDNode *plain = plainLoopMetadata(ctx);
    b_.SetInsertPoint(below);
    b_.CreateStore(b_.CreateAdd(mid, b_.getInt64(1)), lo);
    b_.CreateBr(test)->setMetadata(llvm::LLVMContext::MD_loop, plain);
    b_.SetInsertPoint(notBelow);
    b_.CreateStore(mid, hi);
    b_.CreateBr(test)->setMetadata(llvm::LLVMContext::MD_loop, plain);
    b_.SetInsertPoint(bound);
    llvm::Value *at = b_.CreateLoad(b_.getInt64Ty(), lo);
    b_.CreateCondBr(b_.CreateICmpULT(at, b_.CreateExtractValue(self->getArg(0), {1})), check, absent);
    b_.SetInsertPoint(check);
    b_.CreateCondBr(b_.CreateICmpEQ(order(keyAt(at), self->getArg(1), keyType), b_.getInt32(0)), found, absent);
    b_.SetInsertPoint(found);
    b_.CreateRet(at);
    b_.SetInsertPoint(absent);
    b_.CreateRet(b_.CreateSub(b_.getInt64(-1), at));
  });
  return b_.CreateCall(fn, {list, k});
}

/// A map read from bytes made elsewhere (a peer's message, a host's push)
/// may not be sorted by key, or may repeat a key: it is made a map, sorted
/// stably by key with the last entry of each key kept (as inserting the
/// entries in order would). A map that is one already (every map dfirc
/// made) costs a pass of comparisons.
llvm::Value *ExprCodegen::sortedMap(llvm::Value *map, const Type *mapType) {
  llvm::Type *lt = types_.lower(mapType);
  const Type *kt = mapType->elems[0];
  std::string name = "dfir.map.sorted." + typeToString(mapType);
  llvm::Function *fn = outlined(name, lt, {lt}, [&](llvm::Function *self) {
    llvm::Type *entry = types_.lower(mapType->elems[2]->elems[0]);
    uint64_t size = self->getParent()->getDataLayout().getTypeAllocSize(entry);
    llvm::Value *m = self->getArg(0);
    llvm::Value *data = b_.CreateExtractValue(m, {0}), *n = b_.CreateExtractValue(m, {1});
    auto key = [&](llvm::Value *base, llvm::Value *i) {
      return b_.CreateExtractValue(b_.CreateLoad(entry, b_.CreateGEP(entry, base, {i})), {0});
    };
    // Already a map: each key below the next.
    llvm::Value *bad = entryAlloca(b_.getInt1Ty());
    b_.CreateStore(b_.getFalse(), bad);
    llvm::Value *pairs = b_.CreateSelect(b_.CreateICmpUGT(n, b_.getInt64(1)), b_.CreateSub(n, b_.getInt64(1)), b_.getInt64(0));
    forEachIndex(pairs, [&](llvm::Value *i) {
      llvm::Value *c = order(key(data, i), key(data, b_.CreateAdd(i, b_.getInt64(1))), kt);
      b_.CreateStore(b_.CreateOr(b_.CreateLoad(b_.getInt1Ty(), bad), b_.CreateICmpSGE(c, b_.getInt32(0))), bad);
    });
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *fix = llvm::BasicBlock::Create(b_.getContext(), "map.fix", f);
    llvm::BasicBlock *fine = llvm::BasicBlock::Create(b_.getContext(), "map.fine", f);
    b_.CreateCondBr(b_.CreateLoad(b_.getInt1Ty(), bad), fix, fine);
    b_.SetInsertPoint(fine);
    b_.CreateRet(m);
    b_.SetInsertPoint(fix);
    // A copy, sorted stably by key; then of each run of equal keys the last.
    llvm::Value *bytes = b_.CreateMul(n, b_.getInt64(size));
    llvm::Value *copy = b_.CreateCall(rt_.alloc(), {bytes});
    b_.CreateMemCpy(copy, llvm::MaybeAlign(1), data, llvm::MaybeAlign(1), bytes);
    llvm::Value *vec = entryAlloca(rt_.vecType());
    b_.CreateStore(copy, b_.CreateStructGEP(rt_.vecType(), vec, 0));
    b_.CreateStore(n, b_.CreateStructGEP(rt_.vecType(), vec, 1));
    b_.CreateStore(n, b_.CreateStructGEP(rt_.vecType(), vec, 2));
    auto *ptr = b_.getPtrTy();
    llvm::Function *cmp =
        outlined("dfir.map.keyorder." + typeToString(mapType), b_.getInt32Ty(), {ptr, ptr}, [&](llvm::Function *c) {
          b_.CreateRet(order(b_.CreateExtractValue(b_.CreateLoad(entry, c->getArg(0)), {0}),
                             b_.CreateExtractValue(b_.CreateLoad(entry, c->getArg(1)), {0}), kt));
        });
    b_.CreateCall(rt_.sort(), {vec, b_.getInt64(size), cmp});
    llvm::Value *kept = entryAlloca(b_.getInt64Ty());
    b_.CreateStore(b_.getInt64(0), kept);
    forEachIndex(n, [&](llvm::Value *i) {
      llvm::Value *next = b_.CreateAdd(i, b_.getInt64(1));
      llvm::Function *g = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *check = llvm::BasicBlock::Create(b_.getContext(), "map.check", g);
      llvm::BasicBlock *keep = llvm::BasicBlock::Create(b_.getContext(), "map.keep", g);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "map.next", g);
      b_.CreateCondBr(b_.CreateICmpULT(next, n), check, keep);
      b_.SetInsertPoint(check);
      llvm::Value *same = b_.CreateICmpEQ(order(key(copy, i), key(copy, next), kt), b_.getInt32(0));
      b_.CreateCondBr(same, done, keep);
      b_.SetInsertPoint(keep);
      llvm::Value *w = b_.CreateLoad(b_.getInt64Ty(), kept);
      b_.CreateStore(b_.CreateLoad(entry, b_.CreateGEP(entry, copy, {i})), b_.CreateGEP(entry, copy, {w}));
      b_.CreateStore(b_.CreateAdd(w, b_.getInt64(1)), kept);
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
    });
    llvm::Value *out = b_.CreateInsertValue(llvm::UndefValue::get(lt), copy, {0});
    b_.CreateRet(b_.CreateInsertValue(out, b_.CreateLoad(b_.getInt64Ty(), kept), {1}));
  });
  return b_.CreateCall(fn, {map});
}

/// `insert`, `get`, `remove`, `keys`, `values`. A changed map is a new one
/// in tick memory (maps are values: the old one is unchanged).
llvm::Value *ExprCodegen::mapBuiltin(const Expr &e) {
  const Type *mt = e.kids[0]->type;
  const Type *entryType = mt->elems[2]->elems[0];
  llvm::Type *entry = types_.lower(entryType);
  uint64_t size = b_.GetInsertBlock()->getModule()->getDataLayout().getTypeAllocSize(entry);
  llvm::Value *map = value(*e.kids[0]);
  llvm::Value *data = b_.CreateExtractValue(map, {0}), *n = b_.CreateExtractValue(map, {1});
  auto bytes = [&](llvm::Value *count) { return b_.CreateMul(count, b_.getInt64(size)); };
  auto at = [&](llvm::Value *base, llvm::Value *i) { return b_.CreateGEP(entry, base, {i}); };
  auto makeMap = [&](llvm::Value *ptr, llvm::Value *count) {
    llvm::Value *m = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(mt)), ptr, {0});
    return b_.CreateInsertValue(m, count, {1});
  };
  auto copy = [&](llvm::Value *to, llvm::Value *from, llvm::Value *count) {
    b_.CreateMemCpy(to, llvm::MaybeAlign(1), from, llvm::MaybeAlign(1), bytes(count));
  };
  if (e.builtin == BuiltinId::Keys || e.builtin == BuiltinId::Values) {
    unsigned field = e.builtin == BuiltinId::Keys ? 0 : 1;
    llvm::Type *elem = types_.lower(mt->elems[field]);
    uint64_t esize = b_.GetInsertBlock()->getModule()->getDataLayout().getTypeAllocSize(elem);
    llvm::Value *out = b_.CreateCall(rt_.alloc(), {b_.CreateMul(n, b_.getInt64(esize))});
    forEachIndex(n, [&](llvm::Value *i) {
      b_.CreateStore(b_.CreateExtractValue(b_.CreateLoad(entry, at(data, i)), {field}), b_.CreateGEP(elem, out, {i}));
    });
    llvm::Value *list = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(e.type)), out, {0});
    return b_.CreateInsertValue(list, n, {1});
  }
  llvm::Value *k = value(*e.kids[1]);
  auto local = [](const Expr &x, int slot) { return x.kind == Expr::Local && x.slot == slot; };
  bool known = known_ && e.builtin == BuiltinId::Get && frames_.size() == known_->depth &&
               local(*e.kids[0], known_->mapSlot) && local(*e.kids[1], known_->keySlot);
  llvm::Value *i = known ? known_->index : mapFind(map, k, mt);
  llvm::Value *there = b_.CreateICmpSGE(i, b_.getInt64(0));
  if (e.builtin == BuiltinId::Get) {
    llvm::Value *slot = entryAlloca(types_.lower(e.type));
    b_.CreateStore(optionValue(e.type, b_.getFalse(), nullptr), slot);
    llvm::Value *index = i;
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *yes = llvm::BasicBlock::Create(b_.getContext(), "get.found", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "get.done", f);
    b_.CreateCondBr(there, yes, done);
    b_.SetInsertPoint(yes);
    llvm::Value *v = b_.CreateExtractValue(b_.CreateLoad(entry, at(data, index)), {1});
    b_.CreateStore(optionValue(e.type, b_.getTrue(), v), slot);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return b_.CreateLoad(types_.lower(e.type), slot);
  }
  llvm::Value *result = entryAlloca(types_.lower(mt));
  b_.CreateStore(map, result);
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::BasicBlock *hit = llvm::BasicBlock::Create(b_.getContext(), "map.hit", f);
  llvm::BasicBlock *miss = llvm::BasicBlock::Create(b_.getContext(), "map.miss", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "map.done", f);
  llvm::Value *kv = nullptr;
  if (e.builtin == BuiltinId::Insert) {
    kv = b_.CreateInsertValue(llvm::UndefValue::get(entry), k, {0});
    kv = b_.CreateInsertValue(kv, value(*e.kids[2]), {1});
  }
  b_.CreateCondBr(there, hit, miss);
  if (e.builtin == BuiltinId::Insert) {
    // Present: a copy with its value replaced.
    b_.SetInsertPoint(hit);
    llvm::Value *same = b_.CreateCall(rt_.alloc(), {bytes(n)});
    copy(same, data, n);
    b_.CreateStore(kv, at(same, i));
    b_.CreateStore(makeMap(same, n), result);
    b_.CreateBr(done);
    // Absent: one more entry, at its place.
    b_.SetInsertPoint(miss);
    llvm::Value *pos = b_.CreateSub(b_.getInt64(-1), i);
    llvm::Value *grown = b_.CreateCall(rt_.alloc(), {bytes(b_.CreateAdd(n, b_.getInt64(1)))});
    copy(grown, data, pos);
    b_.CreateStore(kv, at(grown, pos));
    copy(at(grown, b_.CreateAdd(pos, b_.getInt64(1))), at(data, pos), b_.CreateSub(n, pos));
    b_.CreateStore(makeMap(grown, b_.CreateAdd(n, b_.getInt64(1))), result);
    b_.CreateBr(done);
  } else { // Remove
    b_.SetInsertPoint(hit);
    llvm::Value *m1 = b_.CreateSub(n, b_.getInt64(1));
    llvm::Value *shrunk = b_.CreateCall(rt_.alloc(), {bytes(b_.CreateSelect(b_.CreateICmpEQ(m1, b_.getInt64(0)), b_.getInt64(1), m1))});
    copy(shrunk, data, i);
    copy(at(shrunk, i), at(data, b_.CreateAdd(i, b_.getInt64(1))), b_.CreateSub(m1, i));
    b_.CreateStore(makeMap(shrunk, m1), result);
    b_.CreateBr(done);
    b_.SetInsertPoint(miss);
    b_.CreateBr(done);
  }
  b_.SetInsertPoint(done);
  return b_.CreateLoad(types_.lower(mt), result);
}

// ------------------------------------------------------------ lattices --

namespace {
/// The branches of a lattice function: `cond` true goes to a new block
/// that returns what `then` makes; false continues in another.
void returnIf(llvm::IRBuilder<> &b, llvm::Value *cond, const std::function<llvm::Value *()> &then) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *yes = llvm::BasicBlock::Create(b.getContext(), "lattice.case", f);
  llvm::BasicBlock *no = llvm::BasicBlock::Create(b.getContext(), "lattice.next", f);
  b.CreateCondBr(cond, yes, no);
  b.SetInsertPoint(yes);
  b.CreateRet(then());
  b.SetInsertPoint(no);
}
} // namespace

/// A sorted copy of `list` without repeats (of equal elements the first).
llvm::Value *ExprCodegen::setFromList(llvm::Value *list, const Type *listType) {
  llvm::Type *lt = types_.lower(listType);
  llvm::Function *fn = outlined("dfir.set.from." + typeToString(listType), lt, {lt}, [&](llvm::Function *self) {
    const Type *et = listType->elems[0];
    llvm::Type *elem = types_.lower(et);
    // Already a set (every set dfirc made): each element below the next.
    llvm::Value *in = self->getArg(0);
    llvm::Value *n = b_.CreateExtractValue(in, {1});
    llvm::Value *bad = entryAlloca(b_.getInt1Ty());
    b_.CreateStore(b_.getFalse(), bad);
    llvm::Value *pairs = b_.CreateSelect(b_.CreateICmpUGT(n, b_.getInt64(1)), b_.CreateSub(n, b_.getInt64(1)), b_.getInt64(0));
    forEachIndex(pairs, [&](llvm::Value *i) {
      llvm::Value *at = b_.CreateGEP(elem, b_.CreateExtractValue(in, {0}), {i});
      llvm::Value *c = order(b_.CreateLoad(elem, at), b_.CreateLoad(elem, b_.CreateGEP(elem, at, {b_.getInt64(1)})), et);
      b_.CreateStore(b_.CreateOr(b_.CreateLoad(b_.getInt1Ty(), bad), b_.CreateICmpSGE(c, b_.getInt32(0))), bad);
    });
    returnIf(b_, b_.CreateNot(b_.CreateLoad(b_.getInt1Ty(), bad)), [&] { return in; });
    llvm::Value *sorted = sortedList(in, listType);
    llvm::Value *data = b_.CreateExtractValue(sorted, {0});
    llvm::Value *kept = entryAlloca(b_.getInt64Ty());
    b_.CreateStore(b_.getInt64(0), kept);
    forEachIndex(b_.CreateExtractValue(sorted, {1}), [&](llvm::Value *i) {
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *check = llvm::BasicBlock::Create(b_.getContext(), "set.check", f);
      llvm::BasicBlock *keep = llvm::BasicBlock::Create(b_.getContext(), "set.keep", f);
      llvm::BasicBlock *next = llvm::BasicBlock::Create(b_.getContext(), "set.next", f);
      llvm::Value *k = b_.CreateLoad(b_.getInt64Ty(), kept);
      llvm::Value *x = b_.CreateLoad(elem, b_.CreateGEP(elem, data, {i}));
      b_.CreateCondBr(b_.CreateICmpEQ(k, b_.getInt64(0)), keep, check);
      b_.SetInsertPoint(check);
      llvm::Value *last = b_.CreateLoad(elem, b_.CreateGEP(elem, data, {b_.CreateSub(k, b_.getInt64(1))}));
      b_.CreateCondBr(b_.CreateICmpEQ(order(last, x, et), b_.getInt32(0)), next, keep);
      b_.SetInsertPoint(keep);
      b_.CreateStore(x, b_.CreateGEP(elem, data, {k}));
      b_.CreateStore(b_.CreateAdd(k, b_.getInt64(1)), kept);
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    });
    b_.CreateRet(b_.CreateInsertValue(sorted, b_.CreateLoad(b_.getInt64Ty(), kept), {1}));
  });
  return b_.CreateCall(fn, {list});
}


llvm::Value *ExprCodegen::mergeValues(llvm::Value *a, llvm::Value *b, const Type *t) {
  llvm::Type *lt = types_.lower(t);
  llvm::Function *fn = outlined("dfir.merge." + typeToString(t), lt, {lt, lt}, [&](llvm::Function *self) {
    llvm::Value *x = self->getArg(0), *y = self->getArg(1);
    const std::string &k = t->name;
    if (k == "Max" || k == "Min") {
      llvm::Value *c = order(x, y, t->elems[0]);
      llvm::Value *takeY = k == "Max" ? b_.CreateICmpSLT(c, b_.getInt32(0)) : b_.CreateICmpSGT(c, b_.getInt32(0));
      b_.CreateRet(b_.CreateSelect(takeY, y, x));
      return;
    }
    auto field = [&](llvm::Value *v, unsigned i) { return b_.CreateExtractValue(v, {i}); };
    auto pair = [&](llvm::Value *first, llvm::Value *second) {
      return b_.CreateInsertValue(b_.CreateInsertValue(llvm::UndefValue::get(lt), first, {0}), second, {1});
    };
    if (k == "Pair") {
      b_.CreateRet(pair(mergeValues(field(x, 0), field(y, 0), t->elems[0]),
                        mergeValues(field(x, 1), field(y, 1), t->elems[1])));
      return;
    }
    if (k == "WithBot") { // bottom (None) below everything
      returnIf(b_, b_.CreateNot(field(x, 0)), [&] { return y; });
      returnIf(b_, b_.CreateNot(field(y, 0)), [&] { return x; });
      b_.CreateRet(b_.CreateInsertValue(x, mergeValues(field(x, 1), field(y, 1), t->elems[0]), {1}));
      return;
    }
    if (k == "DomPair") {
      // The greater key wins with its value; equal keys merge values;
      // incomparable keys merge both.
      const Type *kt = t->elems[0], *vt = t->elems[1];
      llvm::Value *kx = field(x, 0), *ky = field(y, 0);
      llvm::Value *le = latticeLeq(kx, ky, kt), *ge = latticeLeq(ky, kx, kt);
      returnIf(b_, b_.CreateAnd(le, ge), [&] { return pair(kx, mergeValues(field(x, 1), field(y, 1), vt)); });
      returnIf(b_, le, [&] { return y; });
      returnIf(b_, ge, [&] { return x; });
      b_.CreateRet(pair(mergeValues(kx, ky, kt), mergeValues(field(x, 1), field(y, 1), vt)));
      return;
    }
    // SetUnion, MapUnion: sorted lists merged in one walk.
    const Type *listType = t->repr()->kind == Type::Map ? t->repr()->elems[2] : t->repr();
    llvm::Type *elem = types_.lower(listType->elems[0]);
    uint64_t size = b_.GetInsertBlock()->getModule()->getDataLayout().getTypeAllocSize(elem);
    if (k == "SetUnion") {
      b_.CreateRet(mergeSorted(x, y, elem, size, -1, t->elems[0],
                               [](llvm::Value *ex, llvm::Value *) { return ex; }));
      return;
    }
    b_.CreateRet(mergeSorted(x, y, elem, size, 0, t->elems[0], [&](llvm::Value *ex, llvm::Value *ey) {
      return b_.CreateInsertValue(ex, mergeValues(field(ex, 1), field(ey, 1), t->elems[1]), {1});
    }));
  });
  return b_.CreateCall(fn, {a, b});
}

llvm::Value *ExprCodegen::mergeSorted(llvm::Value *x, llvm::Value *y, llvm::Type *elem, uint64_t size, int keyField,
                                      const Type *keyType,
                                      const std::function<llvm::Value *(llvm::Value *, llvm::Value *)> &both) {
  auto &b = b_;
  ExprCodegen &g = *this;
  auto &ctx = b.getContext();
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::Value *nx = b.CreateExtractValue(x, {1}), *ny = b.CreateExtractValue(y, {1});
  llvm::Value *dx = b.CreateExtractValue(x, {0}), *dy = b.CreateExtractValue(y, {0});
  llvm::Value *out = b.CreateCall(rt_.alloc(), {b.CreateMul(b.CreateAdd(nx, ny), b.getInt64(size))});
  llvm::Value *i = g.entryAlloca(b.getInt64Ty()), *j = g.entryAlloca(b.getInt64Ty()), *k = g.entryAlloca(b.getInt64Ty());
  for (llvm::Value *slot : {i, j, k}) b.CreateStore(b.getInt64(0), slot);
  llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx, "merge.loop", f);
  llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx, "merge.body", f);
  llvm::BasicBlock *takeX = llvm::BasicBlock::Create(ctx, "merge.x", f);
  llvm::BasicBlock *notX = llvm::BasicBlock::Create(ctx, "merge.notx", f);
  llvm::BasicBlock *takeY = llvm::BasicBlock::Create(ctx, "merge.y", f);
  llvm::BasicBlock *same = llvm::BasicBlock::Create(ctx, "merge.both", f);
  llvm::BasicBlock *rest = llvm::BasicBlock::Create(ctx, "merge.rest", f);
  auto load = [&](llvm::Value *slot) { return b.CreateLoad(b.getInt64Ty(), slot); };
  auto bump = [&](llvm::Value *slot) { b.CreateStore(b.CreateAdd(load(slot), b.getInt64(1)), slot); };
  auto put = [&](llvm::Value *v) {
    b.CreateStore(v, b.CreateGEP(elem, out, {load(k)}));
    bump(k);
  };
  b.CreateBr(head);
  b.SetInsertPoint(head);
  b.CreateCondBr(b.CreateAnd(b.CreateICmpULT(load(i), nx), b.CreateICmpULT(load(j), ny)), body, rest);
  b.SetInsertPoint(body);
  llvm::Value *ex = b.CreateLoad(elem, b.CreateGEP(elem, dx, {load(i)}));
  llvm::Value *ey = b.CreateLoad(elem, b.CreateGEP(elem, dy, {load(j)}));
  auto key = [&](llvm::Value *v) { return keyField < 0 ? v : b.CreateExtractValue(v, {unsigned(keyField)}); };
  llvm::Value *c = g.order(key(ex), key(ey), keyType);
  b.CreateCondBr(b.CreateICmpSLT(c, b.getInt32(0)), takeX, notX);
  b.SetInsertPoint(takeX);
  put(ex);
  bump(i);
  b.CreateBr(head);
  b.SetInsertPoint(notX);
  b.CreateCondBr(b.CreateICmpSGT(c, b.getInt32(0)), takeY, same);
  b.SetInsertPoint(takeY);
  put(ey);
  bump(j);
  b.CreateBr(head);
  b.SetInsertPoint(same);
  put(both(ex, ey));
  bump(i);
  bump(j);
  b.CreateBr(head);
  // What is left of either (one of them is done).
  b.SetInsertPoint(rest);
  for (auto [data, n, slot] : {std::tuple{dx, nx, i}, std::tuple{dy, ny, j}}) {
    llvm::Value *left = b.CreateSub(n, load(slot));
    b.CreateMemCpy(b.CreateGEP(elem, out, {load(k)}), llvm::MaybeAlign(1), b.CreateGEP(elem, data, {load(slot)}),
                   llvm::MaybeAlign(1), b.CreateMul(left, b.getInt64(size)));
    b.CreateStore(b.CreateAdd(load(k), left), k);
  }
  llvm::Value *list = b.CreateInsertValue(llvm::UndefValue::get(x->getType()), out, {0});
  return b.CreateInsertValue(list, load(k), {1});
}

llvm::Value *ExprCodegen::mergeAll(llvm::Value *values, llvm::Value *count, const Type *t) {
  llvm::Type *lt = types_.lower(t);
  llvm::Function *fn =
      outlined("dfir.mergeall." + typeToString(t), lt, {b_.getPtrTy(), b_.getInt64Ty()}, [&](llvm::Function *self) {
        auto &ctx = b_.getContext();
        llvm::Value *a = self->getArg(0);
        llvm::Value *n = entryAlloca(b_.getInt64Ty());
        b_.CreateStore(self->getArg(1), n);
        llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx, "round", self);
        llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx, "round.body", self);
        llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx, "merged", self);
        b_.CreateBr(head);
        b_.SetInsertPoint(head);
        llvm::Value *m = b_.CreateLoad(b_.getInt64Ty(), n);
        b_.CreateCondBr(b_.CreateICmpUGT(m, b_.getInt64(1)), body, done);
        b_.SetInsertPoint(body);
        llvm::Value *half = b_.CreateLShr(m, 1);
        auto at = [&](llvm::Value *i) { return b_.CreateGEP(lt, a, {i}); };
        forEachIndex(half, [&](llvm::Value *i) {
          llvm::Value *two = b_.CreateShl(i, 1);
          llvm::Value *merged = mergeValues(b_.CreateLoad(lt, at(two)), b_.CreateLoad(lt, at(b_.CreateAdd(two, b_.getInt64(1)))), t);
          b_.CreateStore(merged, at(i));
        });
        // An odd one out moves on to the next round as it is.
        llvm::Value *odd = b_.CreateAnd(m, b_.getInt64(1));
        llvm::Value *last = b_.CreateLoad(lt, at(b_.CreateSub(m, b_.getInt64(1))));
        llvm::Value *slot = at(half);
        b_.CreateStore(b_.CreateSelect(b_.CreateICmpNE(odd, b_.getInt64(0)), last, b_.CreateLoad(lt, slot)), slot);
        b_.CreateStore(b_.CreateAdd(half, odd), n);
        b_.CreateBr(head);
        b_.SetInsertPoint(done);
        b_.CreateRet(b_.CreateLoad(lt, a));
      });
  return b_.CreateCall(fn, {values, count});
}

llvm::Value *ExprCodegen::latticeLeq(llvm::Value *a, llvm::Value *b, const Type *t) {
  llvm::Type *lt = types_.lower(t);
  llvm::Function *fn = outlined("dfir.leq." + typeToString(t), b_.getInt1Ty(), {lt, lt}, [&](llvm::Function *self) {
    llvm::Value *x = self->getArg(0), *y = self->getArg(1);
    const std::string &k = t->name;
    auto field = [&](llvm::Value *v, unsigned i) { return b_.CreateExtractValue(v, {i}); };
    if (k == "Max" || k == "Min") {
      llvm::Value *c = order(x, y, t->elems[0]);
      b_.CreateRet(k == "Max" ? b_.CreateICmpSLE(c, b_.getInt32(0)) : b_.CreateICmpSGE(c, b_.getInt32(0)));
      return;
    }
    if (k == "Pair") {
      returnIf(b_, b_.CreateNot(latticeLeq(field(x, 0), field(y, 0), t->elems[0])), [&] { return b_.getFalse(); });
      b_.CreateRet(latticeLeq(field(x, 1), field(y, 1), t->elems[1]));
      return;
    }
    if (k == "WithBot") {
      returnIf(b_, b_.CreateNot(field(x, 0)), [&] { return b_.getTrue(); });
      returnIf(b_, b_.CreateNot(field(y, 0)), [&] { return b_.getFalse(); });
      b_.CreateRet(latticeLeq(field(x, 1), field(y, 1), t->elems[0]));
      return;
    }
    if (k == "DomPair") { // by key first; equal keys by value
      const Type *kt = t->elems[0];
      llvm::Value *kx = field(x, 0), *ky = field(y, 0);
      returnIf(b_, equalValues(kx, ky, kt), [&] { return latticeLeq(field(x, 1), field(y, 1), t->elems[1]); });
      b_.CreateRet(latticeLeq(kx, ky, kt));
      return;
    }
    // SetUnion: a subset; MapUnion: each key of x in y, its value below.
    bool isMap = k == "MapUnion";
    const Type *listType = isMap ? t->repr()->elems[2] : t->repr();
    llvm::Type *elem = types_.lower(listType->elems[0]);
    auto &ctx = b_.getContext();
    llvm::Value *nx = field(x, 1), *ny = field(y, 1);
    llvm::Value *i = entryAlloca(b_.getInt64Ty()), *j = entryAlloca(b_.getInt64Ty());
    b_.CreateStore(b_.getInt64(0), i);
    b_.CreateStore(b_.getInt64(0), j);
    auto load = [&](llvm::Value *slot) { return b_.CreateLoad(b_.getInt64Ty(), slot); };
    llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx, "leq.loop", self);
    llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx, "leq.body", self);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx, "leq.all", self);
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    b_.CreateCondBr(b_.CreateICmpULT(load(i), nx), body, done);
    b_.SetInsertPoint(body);
    returnIf(b_, b_.CreateICmpUGE(load(j), ny), [&] { return b_.getFalse(); });
    llvm::Value *ex = b_.CreateLoad(elem, b_.CreateGEP(elem, field(x, 0), {load(i)}));
    llvm::Value *ey = b_.CreateLoad(elem, b_.CreateGEP(elem, field(y, 0), {load(j)}));
    llvm::Value *c = isMap ? order(field(ex, 0), field(ey, 0), t->elems[0]) : order(ex, ey, t->elems[0]);
    returnIf(b_, b_.CreateICmpSLT(c, b_.getInt32(0)), [&] { return b_.getFalse(); }); // x's is missing from y
    llvm::BasicBlock *skip = llvm::BasicBlock::Create(ctx, "leq.skip", self);
    llvm::BasicBlock *match = llvm::BasicBlock::Create(ctx, "leq.match", self);
    b_.CreateCondBr(b_.CreateICmpSGT(c, b_.getInt32(0)), skip, match);
    b_.SetInsertPoint(skip);
    b_.CreateStore(b_.CreateAdd(load(j), b_.getInt64(1)), j);
    b_.CreateBr(head);
    b_.SetInsertPoint(match);
    if (isMap)
      returnIf(b_, b_.CreateNot(latticeLeq(field(ex, 1), field(ey, 1), t->elems[1])), [&] { return b_.getFalse(); });
    b_.CreateStore(b_.CreateAdd(load(i), b_.getInt64(1)), i);
    b_.CreateStore(b_.CreateAdd(load(j), b_.getInt64(1)), j);
    b_.CreateBr(head);
    b_.SetInsertPoint(done);
    b_.CreateRet(b_.getTrue());
  });
  return b_.CreateCall(fn, {a, b});
}

/// `a + b` of lists: a new list in tick memory with the elements of `a`,
/// then those of `b`.
llvm::Value *ExprCodegen::concatLists(llvm::Value *a, llvm::Value *b, const Type *listType) {
  llvm::Type *elem = types_.lower(listType->elems[0]);
  uint64_t size = b_.GetInsertBlock()->getModule()->getDataLayout().getTypeAllocSize(elem);
  llvm::Value *na = b_.CreateExtractValue(a, {1}), *nb = b_.CreateExtractValue(b, {1});
  llvm::Value *n = b_.CreateAdd(na, nb);
  llvm::Value *data = b_.CreateCall(rt_.alloc(), {b_.CreateMul(n, b_.getInt64(size))});
  b_.CreateMemCpy(data, llvm::MaybeAlign(1), b_.CreateExtractValue(a, {0}), llvm::MaybeAlign(1),
                  b_.CreateMul(na, b_.getInt64(size)));
  b_.CreateMemCpy(b_.CreateGEP(elem, data, {na}), llvm::MaybeAlign(1), b_.CreateExtractValue(b, {0}),
                  llvm::MaybeAlign(1), b_.CreateMul(nb, b_.getInt64(size)));
  llvm::Value *list = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(listType)), data, {0});
  return b_.CreateInsertValue(list, n, {1});
}

llvm::Value *ExprCodegen::cast(const Expr &e) {
  llvm::Value *v = value(*e.kids[0]);
  const Type *from = e.kids[0]->type, *to = e.type;
  llvm::Type *target = types_.lower(to);
  if (from->kind == Type::Bool) {
    v = b_.CreateZExt(v, b_.getInt8Ty());
    from = nullptr; // treated as an unsigned byte below
  }
  bool fromFloat = from && from->isFloat();
  bool fromSigned = from && from->isInt() && from->isSigned;
  if (to->isFloat()) {
    if (fromFloat) return b_.CreateFPCast(v, target);
    return fromSigned ? b_.CreateSIToFP(v, target) : b_.CreateUIToFP(v, target);
  }
  if (fromFloat) {
    // Saturating, NaN to 0.
    auto id = to->isSigned ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat;
    return b_.CreateIntrinsic(id, {target, v->getType()}, {v});
  }
  return fromSigned ? b_.CreateSExtOrTrunc(v, target) : b_.CreateZExtOrTrunc(v, target);
}

llvm::Value *ExprCodegen::ifExpr(const Expr &e) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto &ctx = b_.getContext();
  llvm::Value *cond = value(*e.kids[0]);
  llvm::BasicBlock *thenBlock = llvm::BasicBlock::Create(ctx, "then", f);
  llvm::BasicBlock *elseBlock = llvm::BasicBlock::Create(ctx, "else", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx, "if.end", f);
  b_.CreateCondBr(cond, thenBlock, elseBlock);
  b_.SetInsertPoint(thenBlock);
  llvm::Value *t = value(*e.kids[1]);
  llvm::BasicBlock *thenEnd = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(elseBlock);
  llvm::Value *el = e.kids.size() > 2 ? value(*e.kids[2]) : t;
  llvm::BasicBlock *elseEnd = b_.GetInsertBlock();
  b_.CreateBr(done);
  b_.SetInsertPoint(done);
  llvm::PHINode *phi = b_.CreatePHI(t->getType(), 2);
  phi->addIncoming(t, thenEnd);
  phi->addIncoming(el, elseEnd);
  return phi;
}

void ExprCodegen::writeText(int stream, const std::string &text) {
  b_.CreateCall(rt_.write(), {b_.getInt32(stream), rt_.bytes(text), b_.getInt64(text.size())});
}

/// The display format of the language: strings raw at top level and quoted
/// inside composites; floats shortest with `.0` when integral.
/// `open`, the elements of a list (or a map's entries, of type `elem`)
/// each shown by `show`, separated by ", ", then `close`: one outlined
/// function per type and stream.
void ExprCodegen::displayElements(int stream, llvm::Value *v, const Type *t, const Type *elem, const char *open,
                                  const char *close, const std::function<void(llvm::Value *)> &show) {
  llvm::Type *lt = types_.lower(t);
  std::string name = "dfir.display." + std::to_string(stream) + "." + typeToString(t);
  llvm::Function *fn = outlined(name, b_.getVoidTy(), {lt}, [&](llvm::Function *self) {
    llvm::Type *et = types_.lower(elem);
    llvm::Value *list = self->getArg(0);
    llvm::Value *data = b_.CreateExtractValue(list, {0});
    writeText(stream, open);
    forEachIndex(b_.CreateExtractValue(list, {1}), [&](llvm::Value *i) {
      llvm::Function *f = b_.GetInsertBlock()->getParent();
      llvm::BasicBlock *sep = llvm::BasicBlock::Create(b_.getContext(), "sep", f);
      llvm::BasicBlock *item = llvm::BasicBlock::Create(b_.getContext(), "item", f);
      b_.CreateCondBr(b_.CreateICmpNE(i, b_.getInt64(0)), sep, item);
      b_.SetInsertPoint(sep);
      writeText(stream, ", ");
      b_.CreateBr(item);
      b_.SetInsertPoint(item);
      show(b_.CreateLoad(et, b_.CreateGEP(et, data, {i})));
    });
    writeText(stream, close);
    b_.CreateRetVoid();
  });
  b_.CreateCall(fn, {v});
}

void ExprCodegen::display(int stream, llvm::Value *v, const Type *t, bool topLevel) {
  switch (t->kind) {
  case Type::Lattice: // `Max(3)`, `SetUnion([1, 2])`, `Pair(Max(1), Min(2))`
    writeText(stream, t->name + "(");
    if (t->name == "Pair" || t->name == "DomPair") {
      display(stream, b_.CreateExtractValue(v, {0}), t->elems[0], false);
      writeText(stream, ", ");
      display(stream, b_.CreateExtractValue(v, {1}), t->elems[1], false);
    } else {
      display(stream, v, t->elems.back(), false);
    }
    writeText(stream, ")");
    return;
  case Type::Int: {
    llvm::Value *wide = t->isSigned ? b_.CreateSExt(v, b_.getInt64Ty()) : b_.CreateZExt(v, b_.getInt64Ty());
    if (t->bits == 64) wide = v;
    b_.CreateCall(t->isSigned ? rt_.writeI64() : rt_.writeU64(), {b_.getInt32(stream), wide});
    return;
  }
  case Type::Float:
    // f32 prints its own shortest digits (0.1f32 is 0.1, not 0.10000000149011612).
    b_.CreateCall(t->bits == 32 ? rt_.writeF32() : rt_.writeF64(), {b_.getInt32(stream), v});
    return;
  case Type::Bool: {
    llvm::Value *text = b_.CreateSelect(v, rt_.bytes("true"), rt_.bytes("false"));
    llvm::Value *len = b_.CreateSelect(v, b_.getInt64(4), b_.getInt64(5));
    b_.CreateCall(rt_.write(), {b_.getInt32(stream), text, len});
    return;
  }
  case Type::Str: {
    llvm::Value *ptr = b_.CreateExtractValue(v, {0}), *len = b_.CreateExtractValue(v, {1});
    b_.CreateCall(topLevel ? rt_.write() : rt_.writeQuoted(), {b_.getInt32(stream), ptr, len});
    return;
  }
  case Type::Unit: writeText(stream, "()"); return;
  case Type::Option: {
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *some = llvm::BasicBlock::Create(b_.getContext(), "some", f);
    llvm::BasicBlock *none = llvm::BasicBlock::Create(b_.getContext(), "none", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "shown", f);
    b_.CreateCondBr(b_.CreateExtractValue(v, {0}), some, none);
    b_.SetInsertPoint(some);
    writeText(stream, "Some(");
    display(stream, b_.CreateExtractValue(v, {1}), t->elems[0], false);
    writeText(stream, ")");
    b_.CreateBr(done);
    b_.SetInsertPoint(none);
    writeText(stream, "None");
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    return;
  }
  case Type::Struct: {
    const StructInfo &info = types_.context().structInfo(t->id);
    writeText(stream, info.name + " {");
    for (unsigned i = 0; i < info.fields.size(); ++i) {
      writeText(stream, std::string(i ? ", " : " ") + info.fields[i].first + ": ");
      display(stream, b_.CreateExtractValue(v, {i}), info.fields[i].second, false);
    }
    writeText(stream, info.fields.empty() ? "}" : " }");
    return;
  }
  case Type::Enum: {
    const EnumInfo &info = types_.context().enumInfo(t->id);
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "shown", f);
    llvm::SwitchInst *sw = b_.CreateSwitch(b_.CreateExtractValue(v, {0}), done);
    for (unsigned k = 0; k < info.variants.size(); ++k) {
      llvm::BasicBlock *bb = llvm::BasicBlock::Create(b_.getContext(), "variant", f);
      sw->addCase(b_.getInt32(k), bb);
      b_.SetInsertPoint(bb);
      const VariantInfo &var = info.variants[k];
      writeText(stream, var.name);
      if (!var.fields.empty()) {
        llvm::Value *fields = variantFields(v, t, k);
        writeText(stream, "(");
        for (unsigned i = 0; i < var.fields.size(); ++i) {
          if (i) writeText(stream, ", ");
          display(stream, b_.CreateExtractValue(fields, {i}), var.fields[i], false);
        }
        writeText(stream, ")");
      }
      b_.CreateBr(done);
    }
    b_.SetInsertPoint(done);
    return;
  }
  case Type::List: {
    const Type *et = t->elems[0];
    displayElements(stream, v, t, et, "[", "]", [&](llvm::Value *x) { display(stream, x, et, false); });
    return;
  }
  case Type::Tuple:
    writeText(stream, "(");
    for (unsigned i = 0; i < t->elems.size(); ++i) {
      if (i) writeText(stream, ", ");
      display(stream, b_.CreateExtractValue(v, {i}), t->elems[i], false);
    }
    writeText(stream, t->elems.size() == 1 ? ",)" : ")");
    return;
  case Type::Map: // `{k: v, ...}`, by key
    displayElements(stream, v, t, t->elems[2]->elems[0], "{", "}", [&](llvm::Value *kv) {
      display(stream, b_.CreateExtractValue(kv, {0}), t->elems[0], false);
      writeText(stream, ": ");
      display(stream, b_.CreateExtractValue(kv, {1}), t->elems[1], false);
    });
    return;
  default: DFIR_CHECK(false, "display of a type the code generator does not lower");
  }
}

// ------------------------------------------------------------ encoding --

llvm::Value *ExprCodegen::encodedSize(llvm::Value *v, const Type *t) {
  if (t->kind == Type::Map) return encodedSize(v, t->elems[2]); // as its entries
  if (t->kind == Type::Lattice) return encodedSize(v, t->repr());

  switch (t->kind) {
  case Type::Bool: return b_.getInt64(1);
  case Type::Int:
  case Type::Float: return b_.getInt64(t->bits / 8);
  case Type::Unit: return b_.getInt64(0);
  case Type::Str: return b_.CreateAdd(b_.getInt64(8), b_.CreateExtractValue(v, {1}));
  case Type::Tuple:
  case Type::Struct: {
    std::vector<const Type *> fields = fieldTypes(t);
    llvm::Value *total = b_.getInt64(0);
    for (unsigned i = 0; i < fields.size(); ++i)
      total = b_.CreateAdd(total, encodedSize(b_.CreateExtractValue(v, {i}), fields[i]));
    return total;
  }
  case Type::Option: {
    // A tag byte, then the value (counted whether present or not: it is
    // zeroed when absent, as writeEncoded writes it).
    llvm::Value *inner = b_.CreateSelect(b_.CreateExtractValue(v, {0}), b_.CreateExtractValue(v, {1}),
                                         llvm::Constant::getNullValue(types_.lower(t->elems[0])));
    return b_.CreateAdd(b_.getInt64(1), encodedSize(inner, t->elems[0]));
  }
  case Type::Enum: {
    // A 4-byte tag, then the variant's fields: measured only for the
    // variant the value has (another variant's view of the payload may hold
    // pointers that are not pointers).
    const EnumInfo &info = types_.context().enumInfo(t->id);
    llvm::Value *tag = b_.CreateExtractValue(v, {0});
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "sized", b_.GetInsertBlock()->getParent());
    llvm::BasicBlock *from = b_.GetInsertBlock();
    std::vector<std::pair<llvm::Value *, llvm::BasicBlock *>> ends;
    switchVariants(tag, t, "size.variant", done, [&](unsigned k) {
      llvm::Value *fields = variantFields(v, t, k);
      llvm::Value *n = b_.getInt64(4);
      for (unsigned i = 0; i < info.variants[k].fields.size(); ++i)
        n = b_.CreateAdd(n, encodedSize(b_.CreateExtractValue(fields, {i}), info.variants[k].fields[i]));
      ends.push_back({n, b_.GetInsertBlock()});
    });
    llvm::PHINode *phi = b_.CreatePHI(b_.getInt64Ty(), static_cast<unsigned>(ends.size() + 1));
    phi->addIncoming(b_.getInt64(4), from);
    for (auto &[n, bb] : ends) phi->addIncoming(n, bb);
    return phi;
  }
  case Type::List: {
    // A count, then the elements.
    llvm::Value *n = b_.CreateExtractValue(v, {1});
    if (std::optional<uint64_t> k = fixedEncodedSize(t->elems[0]))
      return b_.CreateAdd(b_.getInt64(8), b_.CreateMul(n, b_.getInt64(*k)));
    llvm::Type *lt = types_.lower(t);
    llvm::Function *fn = outlined("dfir.encoded_size." + typeToString(t), b_.getInt64Ty(), {lt}, [&](llvm::Function *f) {
      llvm::Type *elem = types_.lower(t->elems[0]);
      llvm::Value *list = f->getArg(0), *data = b_.CreateExtractValue(list, {0});
      llvm::Value *total = entryAlloca(b_.getInt64Ty());
      b_.CreateStore(b_.getInt64(8), total);
      forEachIndex(b_.CreateExtractValue(list, {1}), [&](llvm::Value *i) {
        llvm::Value *size = encodedSize(b_.CreateLoad(elem, b_.CreateGEP(elem, data, {i})), t->elems[0]);
        b_.CreateStore(b_.CreateAdd(b_.CreateLoad(b_.getInt64Ty(), total), size), total);
      });
      b_.CreateRet(b_.CreateLoad(b_.getInt64Ty(), total));
    });
    return b_.CreateCall(fn, {v});
  }
  default: DFIR_CHECK(false, "encoding of a type the code generator does not lower");
  }
  return nullptr;
}

std::optional<uint64_t> ExprCodegen::fixedEncodedSize(const Type *t) {
  if (t->kind == Type::Map) return fixedEncodedSize(t->elems[2]);
  if (t->kind == Type::Lattice) return fixedEncodedSize(t->repr());

  switch (t->kind) {
  case Type::Bool: return 1;
  case Type::Int:
  case Type::Float: return t->bits / 8;
  case Type::Unit: return 0;
  case Type::Tuple:
  case Type::Struct: {
    uint64_t total = 0;
    for (const Type *f : fieldTypes(t)) {
      std::optional<uint64_t> k = fixedEncodedSize(f);
      if (!k) return std::nullopt;
      total += *k;
    }
    return total;
  }
  case Type::Option: {
    std::optional<uint64_t> k = fixedEncodedSize(t->elems[0]);
    return k ? std::optional<uint64_t>(1 + *k) : std::nullopt;
  }
  default: return std::nullopt; // strings, lists and enums vary
  }
}

std::vector<const Type *> ExprCodegen::fieldTypes(const Type *t) {
  if (t->kind == Type::Tuple) return t->elems;
  std::vector<const Type *> out;
  for (auto &[name, ft] : types_.context().structInfo(t->id).fields) out.push_back(ft);
  return out;
}

/// Writes `v` at base+offset; returns the offset after it. Integers and
/// floats are little-endian; floats are canonical (one NaN, +0.0 for -0.0)
/// so that values equal in the language encode equally.
llvm::Value *ExprCodegen::writeEncoded(llvm::Value *base, llvm::Value *offset, llvm::Value *v, const Type *t) {
  if (t->kind == Type::Map) return writeEncoded(base, offset, v, t->elems[2]);
  if (t->kind == Type::Lattice) return writeEncoded(base, offset, v, t->repr());

  llvm::Value *at = b_.CreateGEP(b_.getInt8Ty(), base, {offset});
  switch (t->kind) {
  case Type::Bool:
    b_.CreateStore(b_.CreateZExt(v, b_.getInt8Ty()), at);
    return b_.CreateAdd(offset, b_.getInt64(1));
  case Type::Int:
    b_.CreateAlignedStore(v, at, llvm::MaybeAlign(1));
    return b_.CreateAdd(offset, b_.getInt64(t->bits / 8));
  case Type::Float: {
    llvm::Value *zeroed = b_.CreateFAdd(v, llvm::ConstantFP::get(v->getType(), 0.0)); // -0.0 + 0.0 = +0.0
    llvm::Value *nan = b_.CreateFCmpUNO(v, v);
    llvm::Value *canon = b_.CreateSelect(nan, llvm::ConstantFP::getNaN(v->getType()), zeroed);
    b_.CreateAlignedStore(canon, at, llvm::MaybeAlign(1));
    return b_.CreateAdd(offset, b_.getInt64(t->bits / 8));
  }
  case Type::Unit: return offset;
  case Type::Str: {
    llvm::Value *len = b_.CreateExtractValue(v, {1});
    b_.CreateAlignedStore(len, at, llvm::MaybeAlign(1));
    llvm::Value *data = b_.CreateGEP(b_.getInt8Ty(), at, {b_.getInt64(8)});
    b_.CreateMemCpy(data, llvm::MaybeAlign(1), b_.CreateExtractValue(v, {0}), llvm::MaybeAlign(1), len);
    return b_.CreateAdd(offset, b_.CreateAdd(b_.getInt64(8), len));
  }
  case Type::Tuple:
  case Type::Struct: {
    std::vector<const Type *> fields = fieldTypes(t);
    for (unsigned i = 0; i < fields.size(); ++i) offset = writeEncoded(base, offset, b_.CreateExtractValue(v, {i}), fields[i]);
    return offset;
  }
  case Type::Option: {
    llvm::Value *has = b_.CreateExtractValue(v, {0});
    b_.CreateStore(b_.CreateZExt(has, b_.getInt8Ty()), at);
    // An absent value is encoded as the type's zero value, so all Nones are equal.
    llvm::Value *inner = b_.CreateSelect(has, b_.CreateExtractValue(v, {1}),
                                         llvm::Constant::getNullValue(types_.lower(t->elems[0])));
    return writeEncoded(base, b_.CreateAdd(offset, b_.getInt64(1)), inner, t->elems[0]);
  }
  case Type::Enum: {
    const EnumInfo &info = types_.context().enumInfo(t->id);
    llvm::Value *tag = b_.CreateExtractValue(v, {0});
    b_.CreateAlignedStore(tag, at, llvm::MaybeAlign(1));
    llvm::Value *start = b_.CreateAdd(offset, b_.getInt64(4));
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "encoded", b_.GetInsertBlock()->getParent());
    llvm::BasicBlock *from = b_.GetInsertBlock();
    std::vector<std::pair<llvm::Value *, llvm::BasicBlock *>> ends;
    switchVariants(tag, t, "encode.variant", done, [&](unsigned k) {
      llvm::Value *fields = variantFields(v, t, k);
      llvm::Value *o = start;
      for (unsigned i = 0; i < info.variants[k].fields.size(); ++i)
        o = writeEncoded(base, o, b_.CreateExtractValue(fields, {i}), info.variants[k].fields[i]);
      ends.push_back({o, b_.GetInsertBlock()});
    });
    llvm::PHINode *phi = b_.CreatePHI(b_.getInt64Ty(), static_cast<unsigned>(ends.size() + 1));
    phi->addIncoming(start, from);
    for (auto &[o, bb] : ends) phi->addIncoming(o, bb);
    return phi;
  }
  case Type::List: {
    llvm::Type *lt = types_.lower(t);
    llvm::Type *i64 = b_.getInt64Ty();
    llvm::Function *fn = outlined("dfir.encode." + typeToString(t), i64, {b_.getPtrTy(), i64, lt}, [&](llvm::Function *f) {
      llvm::Type *elem = types_.lower(t->elems[0]);
      llvm::Value *to = f->getArg(0), *list = f->getArg(2), *data = b_.CreateExtractValue(list, {0});
      llvm::Value *n = b_.CreateExtractValue(list, {1});
      b_.CreateAlignedStore(n, b_.CreateGEP(b_.getInt8Ty(), to, {f->getArg(1)}), llvm::MaybeAlign(1));
      llvm::Value *at = entryAlloca(i64);
      b_.CreateStore(b_.CreateAdd(f->getArg(1), b_.getInt64(8)), at);
      forEachIndex(n, [&](llvm::Value *i) {
        llvm::Value *item = b_.CreateLoad(elem, b_.CreateGEP(elem, data, {i}));
        b_.CreateStore(writeEncoded(to, b_.CreateLoad(i64, at), item, t->elems[0]), at);
      });
      b_.CreateRet(b_.CreateLoad(i64, at));
    });
    return b_.CreateCall(fn, {base, offset, v});
  }
  default: DFIR_CHECK(false, "encoding of a type the code generator does not lower");
  }
  return offset;
}

llvm::Value *ExprCodegen::readEncoded(llvm::Value *base, llvm::Value *&offset, const Type *t) {
  if (t->kind == Type::Map) return sortedMap(readEncoded(base, offset, t->elems[2]), t);
  if (t->kind == Type::Lattice) {
    // A set from elsewhere may be unsorted or repeat elements: made one.
    llvm::Value *v = readEncoded(base, offset, t->elems.back());
    return t->name == "SetUnion" ? setFromList(v, t->elems.back()) : v;
  }

  llvm::Value *at = b_.CreateGEP(b_.getInt8Ty(), base, {offset});
  switch (t->kind) {
  case Type::Bool:
    offset = b_.CreateAdd(offset, b_.getInt64(1));
    return b_.CreateICmpNE(b_.CreateLoad(b_.getInt8Ty(), at), b_.getInt8(0));
  case Type::Int:
  case Type::Float:
    offset = b_.CreateAdd(offset, b_.getInt64(t->bits / 8));
    return b_.CreateAlignedLoad(types_.lower(t), at, llvm::MaybeAlign(1));
  case Type::Unit: return llvm::ConstantStruct::get(llvm::StructType::get(b_.getContext()), {});
  case Type::Str: {
    // Copied to tick memory: table storage may be cleared while the string
    // is still travelling (e.g. through defer_tick).
    llvm::Value *len = b_.CreateAlignedLoad(b_.getInt64Ty(), at, llvm::MaybeAlign(1));
    llvm::Value *data = b_.CreateCall(rt_.alloc(), {len});
    b_.CreateMemCpy(data, llvm::MaybeAlign(1), b_.CreateGEP(b_.getInt8Ty(), at, {b_.getInt64(8)}), llvm::MaybeAlign(1),
                    len);
    offset = b_.CreateAdd(offset, b_.CreateAdd(b_.getInt64(8), len));
    llvm::Value *str = b_.CreateInsertValue(llvm::UndefValue::get(types_.strType()), data, {0});
    return b_.CreateInsertValue(str, len, {1});
  }
  case Type::Tuple:
  case Type::Struct: {
    std::vector<const Type *> fields = fieldTypes(t);
    llvm::Value *v = llvm::UndefValue::get(types_.lower(t));
    for (unsigned i = 0; i < fields.size(); ++i) v = b_.CreateInsertValue(v, readEncoded(base, offset, fields[i]), {i});
    return v;
  }
  case Type::Option: {
    llvm::Value *has = b_.CreateICmpNE(b_.CreateLoad(b_.getInt8Ty(), at), b_.getInt8(0));
    offset = b_.CreateAdd(offset, b_.getInt64(1));
    llvm::Value *inner = readEncoded(base, offset, t->elems[0]);
    return optionValue(t, has, inner);
  }
  case Type::Enum: {
    const EnumInfo &info = types_.context().enumInfo(t->id);
    llvm::Value *tag = b_.CreateAlignedLoad(b_.getInt32Ty(), at, llvm::MaybeAlign(1));
    llvm::Value *start = b_.CreateAdd(offset, b_.getInt64(4));
    llvm::Type *lt = types_.lower(t);
    llvm::Value *result = entryAlloca(lt);
    b_.CreateStore(makeEnum(t, 0, {}), result);
    b_.CreateStore(tag, b_.CreateStructGEP(lt, result, 0));
    llvm::Value *endSlot = entryAlloca(b_.getInt64Ty());
    b_.CreateStore(start, endSlot);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(b_.getContext(), "decoded", b_.GetInsertBlock()->getParent());
    switchVariants(tag, t, "decode.variant", done, [&](unsigned k) {
      std::vector<llvm::Value *> fields;
      llvm::Value *o = start;
      for (const Type *ft : info.variants[k].fields) fields.push_back(readEncoded(base, o, ft));
      b_.CreateStore(makeEnum(t, k, fields), result);
      b_.CreateStore(o, endSlot);
    });
    offset = b_.CreateLoad(b_.getInt64Ty(), endSlot);
    return b_.CreateLoad(lt, result);
  }
  case Type::List: {
    // Elements into tick memory, like strings.
    llvm::Type *lt = types_.lower(t);
    llvm::Type *i64 = b_.getInt64Ty();
    llvm::Function *fn = outlined("dfir.decode." + typeToString(t), lt, {b_.getPtrTy(), b_.getPtrTy()}, [&](llvm::Function *f) {
      llvm::Type *elem = types_.lower(t->elems[0]);
      uint64_t size = f->getParent()->getDataLayout().getTypeAllocSize(elem);
      llvm::Value *from = f->getArg(0), *at = f->getArg(1);
      llvm::Value *start = b_.CreateLoad(i64, at);
      llvm::Value *n = b_.CreateAlignedLoad(i64, b_.CreateGEP(b_.getInt8Ty(), from, {start}), llvm::MaybeAlign(1));
      b_.CreateStore(b_.CreateAdd(start, b_.getInt64(8)), at);
      llvm::Value *data = b_.CreateCall(rt_.alloc(), {b_.CreateMul(n, b_.getInt64(size))});
      forEachIndex(n, [&](llvm::Value *i) {
        llvm::Value *o = b_.CreateLoad(i64, at);
        llvm::Value *item = readEncoded(from, o, t->elems[0]);
        b_.CreateStore(o, at);
        b_.CreateStore(item, b_.CreateGEP(elem, data, {i}));
      });
      llvm::Value *list = b_.CreateInsertValue(llvm::UndefValue::get(lt), data, {0});
      b_.CreateRet(b_.CreateInsertValue(list, n, {1}));
    });
    llvm::Value *slot = entryAlloca(i64);
    b_.CreateStore(offset, slot);
    llvm::Value *list = b_.CreateCall(fn, {base, slot});
    offset = b_.CreateLoad(i64, slot);
    return list;
  }
  default: DFIR_CHECK(false, "decoding of a type the code generator does not lower");
  }
  return nullptr;
}

std::pair<llvm::Value *, llvm::Value *> ExprCodegen::encode(llvm::Value *v, const Type *t, unsigned slot) {
  if (std::optional<uint64_t> k = fixedEncodedSize(t)) {
    // A size known here: a stack buffer, no call.
    llvm::Value *buf = entryAlloca(llvm::ArrayType::get(b_.getInt8Ty(), *k ? *k : 1));
    writeEncoded(buf, b_.getInt64(0), v, t);
    return {buf, b_.getInt64(*k)};
  }
  llvm::Value *size = encodedSize(v, t);
  llvm::Value *buf = b_.CreateCall(rt_.scratch(), {b_.getInt32(slot), size});
  writeEncoded(buf, b_.getInt64(0), v, t);
  return {buf, size};
}

llvm::Value *ExprCodegen::decode(llvm::Value *bytes, const Type *t) {
  llvm::Value *offset = b_.getInt64(0);
  return readEncoded(bytes, offset, t);
}

llvm::Value *ExprCodegen::entryAlloca(llvm::Type *t) {
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
  return entry.CreateAlloca(t);
}

/// Collects what was written to the string builder (stream 3) as a `str`.
llvm::Value *ExprCodegen::takeString() {
  llvm::Value *ptrSlot = entryAlloca(b_.getPtrTy());
  llvm::Value *lenSlot = entryAlloca(b_.getInt64Ty());
  b_.CreateCall(rt_.takeString(), {ptrSlot, lenSlot});
  llvm::Value *s = b_.CreateInsertValue(llvm::UndefValue::get(types_.strType()), b_.CreateLoad(b_.getPtrTy(), ptrSlot), {0});
  return b_.CreateInsertValue(s, b_.CreateLoad(b_.getInt64Ty(), lenSlot), {1});
}

llvm::Value *ExprCodegen::optionValue(const Type *t, llvm::Value *has, llvm::Value *v) {
  llvm::Type *lt = types_.lower(t);
  llvm::Value *o = b_.CreateInsertValue(llvm::ConstantAggregateZero::get(lt), has, {0});
  return v ? b_.CreateInsertValue(o, v, {1}) : o;
}

llvm::Value *ExprCodegen::makeEnum(const Type *en, unsigned variant, const std::vector<llvm::Value *> &fields) {
  llvm::Type *lt = types_.lower(en);
  llvm::Value *slot = entryAlloca(lt);
  b_.CreateStore(llvm::ConstantAggregateZero::get(lt), slot);
  b_.CreateStore(b_.getInt32(variant), b_.CreateStructGEP(lt, slot, 0));
  llvm::StructType *payloadTy = types_.variantType(en, variant);
  llvm::Value *payload = llvm::UndefValue::get(payloadTy);
  for (unsigned i = 0; i < fields.size(); ++i) payload = b_.CreateInsertValue(payload, fields[i], {i});
  if (!fields.empty()) b_.CreateStore(payload, b_.CreateStructGEP(lt, slot, 1));
  return b_.CreateLoad(lt, slot);
}

llvm::Value *ExprCodegen::variantFields(llvm::Value *v, const Type *en, unsigned variant) {
  llvm::Type *lt = types_.lower(en);
  llvm::Value *slot = entryAlloca(lt);
  b_.CreateStore(v, slot);
  return b_.CreateLoad(types_.variantType(en, variant), b_.CreateStructGEP(lt, slot, 1));
}

llvm::Value *ExprCodegen::matchExpr(const Expr &e) {
  // Arms in order: the first whose pattern matches runs. The type checker
  // proved the match exhaustive, so falling off the end cannot happen.
  llvm::Value *v = value(*e.kids[0]);
  const Type *t = e.kids[0]->type;
  (void)t;
  llvm::Function *f = b_.GetInsertBlock()->getParent();
  auto &ctx = b_.getContext();
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx, "match.end", f);
  std::vector<std::pair<llvm::Value *, llvm::BasicBlock *>> results;
  for (auto &arm : e.arms) {
    llvm::BasicBlock *next = llvm::BasicBlock::Create(ctx, "arm.next", f);
    matchOrFail(*arm.pattern, v, next);
    llvm::Value *r = value(*arm.body);
    results.push_back({r, b_.GetInsertBlock()});
    b_.CreateBr(done);
    b_.SetInsertPoint(next);
  }
  b_.CreateUnreachable();
  b_.SetInsertPoint(done);
  llvm::PHINode *phi = b_.CreatePHI(types_.lower(e.type), static_cast<unsigned>(results.size()));
  for (auto &[r, block] : results) phi->addIncoming(r, block);
  return phi;
}

llvm::Value *ExprCodegen::equalValues(llvm::Value *a, llvm::Value *b, const Type *t) {
  if (t->kind == Type::Map) return equalValues(a, b, t->elems[2]);
  if (t->kind == Type::Lattice) return equalValues(a, b, t->repr());

  return compare(BinOp::Eq, t, a, b);
}

/// Continues in a new block when `cond` holds, jumps to `fail` otherwise.
void ExprCodegen::require(llvm::Value *cond, llvm::BasicBlock *fail) {
  llvm::BasicBlock *ok = llvm::BasicBlock::Create(b_.getContext(), "pattern.ok", b_.GetInsertBlock()->getParent());
  b_.CreateCondBr(cond, ok, fail);
  b_.SetInsertPoint(ok);
}

/// Tests `v` against `p`, jumping to `fail` as soon as a part does not
/// match (so a variant's fields are read only once its tag matched), and
/// binds the pattern's names on the way.
void ExprCodegen::matchOrFail(const Pattern &p, llvm::Value *v, llvm::BasicBlock *fail) {
  const Type *t = p.type;
  switch (p.kind) {
  case Pattern::Wildcard:
  case Pattern::Unit: return;
  case Pattern::Bind: setLocal(p.slot, v); return;
  case Pattern::Int: {
    llvm::Value *lit = llvm::ConstantInt::get(v->getType(), p.intValue);
    if (p.negative) lit = b_.CreateNeg(lit);
    require(b_.CreateICmpEQ(v, lit), fail);
    return;
  }
  case Pattern::Float: require(equalValues(v, llvm::ConstantFP::get(v->getType(), p.floatValue), t), fail); return;
  case Pattern::Bool: require(b_.CreateICmpEQ(v, b_.getInt1(p.boolValue)), fail); return;
  case Pattern::Str:
    require(equalValues(v, makeStr(rt_.bytes(p.strValue), b_.getInt64(p.strValue.size())), t), fail);
    return;
  case Pattern::Tuple:
    for (unsigned i = 0; i < p.elems.size(); ++i) matchOrFail(*p.elems[i], b_.CreateExtractValue(v, {i}), fail);
    return;
  case Pattern::None: require(b_.CreateNot(b_.CreateExtractValue(v, {0})), fail); return;
  case Pattern::Some:
    require(b_.CreateExtractValue(v, {0}), fail);
    matchOrFail(*p.elems[0], b_.CreateExtractValue(v, {1}), fail);
    return;
  case Pattern::Struct:
    for (size_t i = 0; i < p.elems.size(); ++i)
      matchOrFail(*p.elems[i], b_.CreateExtractValue(v, {static_cast<unsigned>(p.fields[i])}), fail);
    return;
  case Pattern::Variant: {
    unsigned variant = static_cast<unsigned>(p.index);
    require(b_.CreateICmpEQ(b_.CreateExtractValue(v, {0}), b_.getInt32(variant)), fail);
    if (p.elems.empty()) return;
    llvm::Value *fields = variantFields(v, t, variant);
    for (unsigned i = 0; i < p.elems.size(); ++i) matchOrFail(*p.elems[i], b_.CreateExtractValue(fields, {i}), fail);
    return;
  }
  }
}

/// A call of a C function: integers, floats and bool by value (small
/// integers extended as the C ABI asks), `str` as a pointer and a length,
/// and a `str` result as a `dfir_str` struct whose bytes are copied into
/// tick memory at once.
/// A `fn`: one internal function per module, made at its first call (so
/// recursion finds it), its parameters and result lowered as values. Its
/// entry checks the stack: a recursion that would overflow it stops the
/// program with a runtime error naming the function, not a signal.
llvm::Value *ExprCodegen::functionCall(const Expr &e) {
  const ir::FunctionDecl &fn = p_.functions[e.index];
  std::vector<llvm::Type *> params;
  for (auto &[name, t] : fn.params) params.push_back(types_.lower(t));
  llvm::Function *f = outlined("dfir.fn." + fn.name, types_.lower(fn.result), params, [&](llvm::Function *f) {
    std::string label = "fn " + fn.name;
    const char *op = op_;
    unsigned line = line_;
    op_ = label.c_str();
    line_ = lineOf_ ? lineOf_(fn.range.begin) : line_;
    llvm::Module &m = *f->getParent();
    auto *floorVar = m.getOrInsertGlobal("dfir_rt_stack_floor", b_.getInt64Ty());
    llvm::Value *frame = b_.CreateIntrinsic(llvm::Intrinsic::frameaddress, {b_.getPtrTy()}, {b_.getInt32(0)});
    llvm::Value *deep = b_.CreateICmpULT(b_.CreatePtrToInt(frame, b_.getInt64Ty()), b_.CreateLoad(b_.getInt64Ty(), floorVar));
    runtimeError(deep, "stack overflow: the calls of `" + fn.name + "` nest too deeply for the stack");
    std::vector<llvm::Value *> args;
    for (auto &a : f->args()) args.push_back(&a);
    // A new stack of closure frames: the function sees only its parameters.
    std::vector<std::vector<llvm::Value *>> outer;
    outer.swap(frames_);
    frames_.emplace_back();
    b_.CreateRet(callWith(*fn.body, args, *fn.body->kids[0]));
    frames_.swap(outer);
    op_ = op;
    line_ = line;
  });
  std::vector<llvm::Value *> args;
  for (auto &k : e.kids) args.push_back(value(*k));
  return b_.CreateCall(f, args);
}

llvm::Value *ExprCodegen::externCall(const ir::ExternDecl &x, const Expr &e) {
  llvm::LLVMContext &ctx = b_.getContext();
  std::vector<llvm::Type *> params;
  std::vector<llvm::Value *> args;
  std::vector<llvm::Attribute::AttrKind> extend;
  auto extension = [](const Type *t) {
    if (t->kind == Type::Bool) return llvm::Attribute::ZExt;
    if (t->kind == Type::Int && t->bits < 32) return t->isSigned ? llvm::Attribute::SExt : llvm::Attribute::ZExt;
    return llvm::Attribute::None;
  };
  for (size_t i = 0; i < x.params.size(); ++i) {
    const Type *t = x.params[i].second;
    llvm::Value *v = value(*e.kids[i]);
    if (t->kind == Type::Str) {
      for (unsigned k = 0; k < 2; ++k) {
        args.push_back(b_.CreateExtractValue(v, {k}));
        params.push_back(args.back()->getType());
        extend.push_back(llvm::Attribute::None);
      }
      continue;
    }
    if (!isScalar(t)) {
      // A composite: a pointer to a copy laid out as the C struct of its type.
      llvm::Value *slot = entryAlloca(v->getType());
      b_.CreateStore(v, slot);
      v = slot;
    }
    args.push_back(v);
    params.push_back(v->getType());
    extend.push_back(extension(t));
  }
  const Type *r = x.result;
  // A composite result is written through a last parameter `T *out`.
  llvm::Value *out = nullptr;
  if (!isScalar(r) && r->kind != Type::Unit) {
    out = entryAlloca(types_.lower(r));
    args.push_back(out);
    params.push_back(out->getType());
    extend.push_back(llvm::Attribute::None);
  }
  llvm::Type *result = r->kind == Type::Unit || out ? llvm::Type::getVoidTy(ctx) : types_.lower(r);
  llvm::Module &m = *b_.GetInsertBlock()->getModule();
  llvm::FunctionCallee callee = m.getOrInsertFunction(x.name, llvm::FunctionType::get(result, params, false));
  if (auto *f = llvm::dyn_cast<llvm::Function>(callee.getCallee())) {
    for (unsigned i = 0; i < extend.size(); ++i)
      if (extend[i] != llvm::Attribute::None) f->addParamAttr(i, extend[i]);
    if (llvm::Attribute::AttrKind ext = extension(r); ext != llvm::Attribute::None) f->addRetAttr(ext);
  }
  llvm::CallInst *call = b_.CreateCall(callee, args);
  // Strings and lists it returns may point into the C side's memory: copied.
  if (out) return copyToTick(b_.CreateLoad(types_.lower(r), out), r);
  if (r->kind == Type::Unit) return llvm::ConstantStruct::get(llvm::StructType::get(ctx), {});
  if (r->kind != Type::Str) return call;
  llvm::Value *len = b_.CreateExtractValue(call, {1});
  llvm::Value *copy = b_.CreateCall(rt_.alloc(), {len});
  b_.CreateMemCpy(copy, llvm::MaybeAlign(1), b_.CreateExtractValue(call, {0}), llvm::MaybeAlign(1), len);
  return b_.CreateInsertValue(call, copy, {0});
}

/// A call of a builtin of ir/Builtins.def: one case per row.
llvm::Value *ExprCodegen::builtin(const Expr &e) {
  auto unit = llvm::ConstantStruct::get(llvm::StructType::get(b_.getContext()), {});
  auto arg = [&](size_t i) { return value(*e.kids[i]); };
  switch (e.builtin) {
  case BuiltinId::MemberId: return b_.CreateCall(rt_.memberId(), {});
  case BuiltinId::LoopIteration:
    DFIR_CHECK(readIteration_ != nullptr, "`loop_iteration()` outside a loop block");
    return readIteration_();
  case BuiltinId::Assert: {
    // The message is made only when the assertion fails.
    llvm::Value *holds = arg(0);
    llvm::Function *f = b_.GetInsertBlock()->getParent();
    llvm::BasicBlock *failed = llvm::BasicBlock::Create(b_.getContext(), "assert.failed", f);
    llvm::BasicBlock *ok = llvm::BasicBlock::Create(b_.getContext(), "assert.ok", f);
    b_.CreateCondBr(holds, ok, failed, llvm::MDBuilder(b_.getContext()).createBranchWeights(1 << 20, 1));
    b_.SetInsertPoint(failed);
    llvm::Value *message = arg(1);
    unsigned line = lineOf_ ? lineOf_(e.range.begin) : line_;
    b_.CreateCall(rt_.assertFailed(), {rt_.bytes(op_), b_.getInt32(line), b_.CreateExtractValue(message, {0}),
                                       b_.CreateExtractValue(message, {1})});
    b_.CreateUnreachable();
    b_.SetInsertPoint(ok);
    return unit;
  }
  case BuiltinId::RandU64: return b_.CreateCall(rt_.randU64(), {});
  case BuiltinId::RandF64: return b_.CreateCall(rt_.randF64(), {});
  case BuiltinId::NowMs: return b_.CreateCall(rt_.nowMs(), {});
  case BuiltinId::NowUs: return b_.CreateCall(rt_.nowUs(), {});
  case BuiltinId::ClusterSize: return b_.CreateCall(rt_.clusterSize(), {b_.getInt32(e.kids[0]->index)});
  case BuiltinId::ParseI64:
  case BuiltinId::ParseF64: {
    bool isInt = e.builtin == BuiltinId::ParseI64;
    llvm::Value *s = arg(0);
    llvm::Type *vt = isInt ? static_cast<llvm::Type *>(b_.getInt64Ty()) : b_.getDoubleTy();
    llvm::Value *out = entryAlloca(vt);
    llvm::Value *ok = b_.CreateCall(isInt ? rt_.parseI64() : rt_.parseF64(),
                                    {b_.CreateExtractValue(s, {0}), b_.CreateExtractValue(s, {1}), out});
    return optionValue(e.type, b_.CreateICmpNE(ok, b_.getInt32(0)), b_.CreateLoad(vt, out));
  }
  case BuiltinId::ToStr:
    display(3, arg(0), e.kids[0]->type, true);
    return takeString();
  case BuiltinId::Format: {
    // Arguments first: a nested format completes before this one starts.
    std::vector<llvm::Value *> args;
    for (size_t i = 1; i < e.kids.size(); ++i) args.push_back(arg(i));
    std::vector<FormatPiece> pieces;
    std::string problem;
    DFIR_CHECK(parseFormat(e.kids[0]->strValue, pieces, problem), "a format string the checker accepted does not parse");
    size_t next = 0;
    for (const FormatPiece &p : pieces) {
      if (!p.hole) {
        writeText(3, p.text);
        continue;
      }
      const Type *t = e.kids[1 + next]->type;
      llvm::Value *v = args[next++];
      if (p.digits < 0) {
        display(3, v, t, true);
        continue;
      }
      if (t->bits == 32) v = b_.CreateFPExt(v, b_.getDoubleTy());
      b_.CreateCall(rt_.writeF64Fixed(), {b_.getInt32(3), v, b_.getInt32(p.digits)});
    }
    return takeString();
  }
  case BuiltinId::Print:
  case BuiltinId::Println:
  case BuiltinId::Eprintln: {
    int stream = e.builtin == BuiltinId::Eprintln ? 2 : 1;
    display(stream, arg(0), e.kids[0]->type, true);
    if (e.builtin != BuiltinId::Print) writeText(stream, "\n");
    return unit;
  }
  case BuiltinId::Len: return b_.CreateExtractValue(arg(0), {1});
  case BuiltinId::Sort: return sortedList(arg(0), e.type);
  case BuiltinId::Hash: {
    auto [bytes, len] = encode(arg(0), e.kids[0]->type, 3);
    return b_.CreateCall(rt_.hashBytes(), {bytes, len});
  }
  case BuiltinId::Trim:
  case BuiltinId::Lower:
  case BuiltinId::Upper: return strCall(e.name, {arg(0)});
  case BuiltinId::EmptyMap: return llvm::ConstantAggregateZero::get(types_.lower(e.type));
  case BuiltinId::Insert:
  case BuiltinId::Get:
  case BuiltinId::Remove:
  case BuiltinId::Keys:
  case BuiltinId::Values: return mapBuiltin(e);
  case BuiltinId::Contains:
    if (e.kids[0]->type->kind == Type::Map)
      return b_.CreateICmpSGE(mapFind(arg(0), arg(1), e.kids[0]->type), b_.getInt64(0));
    if (e.kids[0]->type->kind == Type::List) return listContains(arg(0), arg(1), e.kids[0]->type);
    [[fallthrough]];
  case BuiltinId::StartsWith:
  case BuiltinId::EndsWith: {
    llvm::Value *a = arg(0);
    return b_.CreateICmpNE(strCall(e.name, {a, arg(1)}), b_.getInt32(0));
  }
  case BuiltinId::Split: {
    llvm::Value *a = arg(0);
    llvm::Value *sep = arg(1);
    llvm::Value *itemsSlot = entryAlloca(b_.getPtrTy());
    llvm::Value *countSlot = entryAlloca(b_.getInt64Ty());
    b_.CreateCall(rt_.strFn("split"), {b_.CreateExtractValue(a, {0}), b_.CreateExtractValue(a, {1}),
                                       b_.CreateExtractValue(sep, {0}), b_.CreateExtractValue(sep, {1}), itemsSlot,
                                       countSlot});
    llvm::Value *list = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(e.type)),
                                             b_.CreateLoad(b_.getPtrTy(), itemsSlot), {0});
    return b_.CreateInsertValue(list, b_.CreateLoad(b_.getInt64Ty(), countSlot), {1});
  }
  case BuiltinId::Abs: {
    const Type *t = e.kids[0]->type;
    llvm::Value *a = arg(0);
    if (t->isFloat()) return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a);
    if (!t->isSigned) return a;
    return b_.CreateSelect(b_.CreateICmpSLT(a, llvm::ConstantInt::get(a->getType(), 0)), b_.CreateNeg(a), a);
  }
  case BuiltinId::LatMax:
  case BuiltinId::LatMin:
  case BuiltinId::LatMapUnion:
  case BuiltinId::LatWithBot:
  case BuiltinId::Reveal: return arg(0); // the same representation
  case BuiltinId::LatSetUnion: return setFromList(arg(0), e.type->elems.back());
  case BuiltinId::LatPair:
  case BuiltinId::LatDomPair: {
    llvm::Value *a = arg(0);
    llvm::Value *c = arg(1);
    llvm::Value *out = b_.CreateInsertValue(llvm::UndefValue::get(types_.lower(e.type)), a, {0});
    return b_.CreateInsertValue(out, c, {1});
  }
  case BuiltinId::Merge: {
    llvm::Value *a = arg(0);
    return mergeValues(a, arg(1), e.type);
  }
  case BuiltinId::Min:
  case BuiltinId::Max: {
    llvm::Value *a = arg(0);
    llvm::Value *c = arg(1);
    llvm::Value *less = b_.CreateICmpSLT(order(c, a, e.kids[0]->type), b_.getInt32(0)); // c < a
    return e.builtin == BuiltinId::Min ? b_.CreateSelect(less, c, a) : b_.CreateSelect(less, a, c);
  }
  }
  DFIR_CHECK(false, "a builtin outside ir/Builtins.def");
  return nullptr;
}

} // namespace dfir::backend
