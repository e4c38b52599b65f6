//===- Codegen.cpp - Graph IR -> LLVM IR, one module per location -------===//
//
// The location's frame: state layout, push functions, init/tick/fini and
// the descriptor. What each operator does is in backend-llvm/ops/, called
// through the hooks of LocationCodegen.h.
//
//===----------------------------------------------------------------------===//
#include "backend-llvm/Codegen.h"

#include "backend-llvm/LocationCodegen.h"
#include "backend-llvm/WireSchema.h"
#include "ir/Check.h"
#include "ir/ExprAnalysis.h"
#include "ir/GraphAlgo.h"
#include "dfir_rt.h"

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/DIBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/MDBuilder.h"
#include "llvm/IR/Verifier.h"

#include <algorithm>

namespace dfir::backend {

using namespace ir;

thread_local bool LocationCodegen::freshRun_ = false;

std::string descriptorName(const std::string &location) { return "dfir_location_" + location; }

LocationCodegen::LocationCodegen(const CodegenInput &in, int loc, llvm::LLVMContext &ctx,
                                 std::vector<Unsupported> &unsupported)
    : in_(in), p_(in.program), loc_(loc), ctx_(ctx), unsupported_(unsupported) {}

std::unique_ptr<llvm::Module> LocationCodegen::run(const llvm::DataLayout &layout) {
  const Location &l = p_.locations[loc_];
  module_ = std::make_unique<llvm::Module>("dfir." + l.name, ctx_);
  module_->setDataLayout(layout);
  rt_ = std::make_unique<Runtime>(*module_);
  for (OpId op : p_.opsIn(LocId(loc_))) ops_.push_back(op);
  for (int op : ops_) checkSupported(op);
  if (!unsupported_.empty()) return nullptr;
  layoutState();
  declarePushFunctions();
  for (int op : ops_)
    for (unsigned port = 0; port < p_.ops[op].inputs.size(); ++port) definePush(op, port);
  llvm::Function *init = defineInit();
  llvm::Function *tick = defineTick();
  llvm::Function *fini = defineFini();
  llvm::GlobalVariable *desc = defineDescriptor(l.name, init, tick, fini, layout);
  if (in_.withMain) defineMain(desc);
  if (!unsupported_.empty()) return nullptr;
  tagMemoryAccesses();
  if (in_.debugInfo) addLineTables();
  return std::move(module_);
}
void LocationCodegen::unsupported(const Operator &op, const std::string &what) { unsupported_.push_back({op.range, what}); }
void LocationCodegen::checkSupported(int id) {
  const Operator &op = p_.ops[id];
  // Ranges are iterated in place (`source_iter(0..n)`, `flat_map(|x| 0..x)`): check their bounds.
  // The argument of send/recv names a channel; it is not a value.
  for (auto &a : op.args) {
    if (op.info().args.empty() || op.info().args[0].kind == ArgShape::Channel) break;
    const Expr *e = a.get();
    if (op.kind == OpKind::FlatMap && e->kind == Expr::Lambda && e->kids[0]->kind == Expr::Range) {
      for (auto &p : e->params)
        if (!types().lower(p->type)) unsupported(op, "values of type `" + typeToString(p->type) + "`");
      for (auto &k : e->kids[0]->kids)
        if (auto what = ExprCodegen::unsupportedIn(*k, p_)) unsupported_.push_back({what->first, what->second});
      continue;
    }
    for (const Expr *part : e->kind == Expr::Range ? childrenOf(*e) : std::vector<const Expr *>{e})
      if (auto what = ExprCodegen::unsupportedIn(*part, p_)) unsupported_.push_back({what->first, what->second});
  }
  for (const Type *t : op.inTypes)
    if (!types().lower(t)) unsupported(op, "values of type `" + typeToString(t) + "`");
  for (const Type *t : op.outTypes)
    if (!types().lower(t)) unsupported(op, "values of type `" + typeToString(t) + "`");
}
bool LocationCodegen::holdsPointers(const Type *t) const {
  if (t->kind == Type::Str || t->kind == Type::List || t->kind == Type::Map) return true;
  for (const Type *e : t->elems)
    if (holdsPointers(e)) return true;
  if (t->kind == Type::Struct)
    for (auto &[n, ft] : p_.types->structInfo(t->id).fields)
      if (holdsPointers(ft)) return true;
  if (t->kind == Type::Enum)
    for (auto &v : p_.types->enumInfo(t->id).variants)
      for (const Type *ft : v.fields)
        if (holdsPointers(ft)) return true;
  return false;
}

std::vector<const Expr *> LocationCodegen::childrenOf(const Expr &e) {
  std::vector<const Expr *> out;
  for (auto &k : e.kids) out.push_back(k.get());
  return out;
}

// ----------------------------------------------------------------- state --

void LocationCodegen::layoutState() {
  fields_.push_back(llvm::Type::getInt64Ty(ctx_)); // 0: ticks run so far
  for (int id : ops_) ops::layout(*this, p_.ops[id], state_[id]);
  for (int id : ops_)
    for (int l = p_.ops[id].loop; l != kNone; l = p_.loops[l].parent)
      if (!loopIter_.count(l)) loopIter_[l] = addField(llvm::Type::getInt64Ty(ctx_));
  // Buffered edges, as the subgraph analysis says: handoffs into a later
  // stratum's non-blocking input (delivered when that stratum starts), and
  // those of a cyclic stratum (delivered by its fixpoint loop).
  for (const passes::Handoff &h : in_.subgraphs.handoffs) {
    if (h.delivery != passes::Delivery::Buffered && h.delivery != passes::Delivery::Fixpoint) continue;
    if (p_.ops[p_.edges[h.edge].from].location != loc_) continue;
    Buffer buf{h.edge, addVecField(), addVecField()};
    buffers_.push_back(buf);
    bufferOf_[h.edge] = static_cast<int>(buffers_.size() - 1);
  }
  if (in_.profile) {
    for (int id : ops_) profileIndex_[id] = static_cast<int>(profileIndex_.size());
    countersField_ = addField(llvm::ArrayType::get(llvm::Type::getInt64Ty(ctx_), 2 * ops_.size()));
    currentField_ = addField(llvm::Type::getInt32Ty(ctx_));
  }
  stateType_ = llvm::StructType::create(ctx_, fields_, "dfir.state." + p_.locations[loc_].name);
}

int LocationCodegen::addField(llvm::Type *t) {
  fields_.push_back(t);
  return static_cast<int>(fields_.size() - 1);
}
int LocationCodegen::addVecField() { return vecFields_.emplace_back(addField(rt_->vecType())); }
int LocationCodegen::addTableField() { return tableFields_.emplace_back(addField(llvm::PointerType::getUnqual(ctx_))); }
int LocationCodegen::addFsetField(unsigned words) {
  int f = addField(rt_->fsetType());
  fsetFields_.emplace_back(f, words);
  return f;
}

TypeLowering &LocationCodegen::types() {
  if (!types_) types_ = std::make_unique<TypeLowering>(ctx_, *p_.types, module_->getDataLayout());
  return *types_;
}

llvm::Value *LocationCodegen::field(llvm::IRBuilder<> &b, llvm::Value *state, int index) {
  return b.CreateStructGEP(stateType_, state, static_cast<unsigned>(index));
}

// ------------------------------------------------------------- functions --

llvm::Function *LocationCodegen::newFunction(llvm::FunctionType *ty, const std::string &name, bool exported) {
  auto *f = llvm::Function::Create(ty, exported ? llvm::Function::ExternalLinkage : llvm::Function::InternalLinkage,
                                   name, module_.get());
  f->addFnAttr(llvm::Attribute::NoUnwind);
  return f;
}

llvm::Function *LocationCodegen::coldFunction(int id, const std::string &what, llvm::ArrayRef<llvm::Type *> args,
                                              const std::function<void(Site &, llvm::Function *)> &body) {
  std::string name = "push." + p_.ops[id].name + "." + what;
  if (llvm::Function *f = module_->getFunction(name)) return f;
  std::vector<llvm::Type *> params{llvm::PointerType::getUnqual(ctx_)};
  params.insert(params.end(), args.begin(), args.end());
  llvm::Function *f = newFunction(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), params, false), name, false);
  f->addFnAttr(llvm::Attribute::NoInline);
  f->addFnAttr(llvm::Attribute::Cold);
  stateTaking_.insert(f);
  coldOf_[f] = id;
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  Site site{*this, b, f->getArg(0), id, p_.ops[id], state_[id]};
  body(site, f);
  b.CreateRetVoid();
  return f;
}

/// Gives loads and stores alias tags (Runtime::aliasTag): accesses
/// through the state argument of a state-taking function are "state";
/// reads of bytes whose pointer was read from a table entry are "bytes".
/// Without this, a fold's accumulator store inside a loop over a table's
/// values forces the loop to reload the entry on every iteration.
void LocationCodegen::tagMemoryAccesses() {
  llvm::MDNode *state = rt_->aliasTag("state"), *entry = rt_->aliasTag("entry"), *bytes = rt_->aliasTag("bytes");
  for (llvm::Function &f : *module_) {
    llvm::Value *stateArg = stateTaking_.count(&f) ? f.getArg(0) : nullptr;
    for (llvm::Instruction &inst : llvm::instructions(f)) {
      llvm::Value *ptr = llvm::getLoadStorePointerOperand(&inst);
      if (!ptr || inst.getMetadata(llvm::LLVMContext::MD_tbaa)) continue;
      const llvm::Value *base = llvm::getUnderlyingObject(ptr);
      if (base == stateArg) {
        inst.setMetadata(llvm::LLVMContext::MD_tbaa, state);
      } else if (auto *load = llvm::dyn_cast<llvm::LoadInst>(base)) {
        if (llvm::isa<llvm::LoadInst>(inst) && load->getMetadata(llvm::LLVMContext::MD_tbaa) == entry)
          inst.setMetadata(llvm::LLVMContext::MD_tbaa, bytes);
      }
    }
  }
}

void LocationCodegen::addLineTables() {
  llvm::DIBuilder di(*module_);
  std::string path = in_.sourcePath.empty() ? "<program>.dfir" : in_.sourcePath;
  size_t slash = path.rfind('/');
  llvm::DIFile *file = slash == std::string::npos ? di.createFile(path, ".")
                                                  : di.createFile(path.substr(slash + 1), path.substr(0, slash));
  di.createCompileUnit(llvm::dwarf::DW_LANG_C, file, "dfirc", true, "", 0);
  std::map<const llvm::Function *, unsigned> lines;
  for (auto &[key, f] : push_) lines[f] = lineOf(p_.ops[key.first]);
  for (auto &[f, id] : coldOf_) lines[f] = lineOf(p_.ops[id]);
  const Location &l = p_.locations[loc_];
  unsigned home = l.range.valid() ? in_.lineOf(l.range.begin) : ops_.empty() ? 1 : lineOf(p_.ops[ops_.front()]);
  llvm::DISubroutineType *type = di.createSubroutineType(di.getOrCreateTypeArray({}));
  for (llvm::Function &f : *module_) {
    if (f.isDeclaration()) continue;
    auto it = lines.find(&f);
    unsigned line = it != lines.end() && it->second ? it->second : home;
    auto flags = llvm::DISubprogram::SPFlagDefinition | llvm::DISubprogram::SPFlagOptimized;
    if (f.hasLocalLinkage()) flags |= llvm::DISubprogram::SPFlagLocalToUnit;
    llvm::DISubprogram *sp = di.createFunction(file, f.getName(), f.getName(), file, line, type, line,
                                               llvm::DINode::FlagZero, flags);
    f.setSubprogram(sp);
    llvm::DILocation *at = llvm::DILocation::get(ctx_, line, 0, sp);
    for (llvm::BasicBlock &bb : f)
      for (llvm::Instruction &inst : bb)
        if (!inst.getDebugLoc()) inst.setDebugLoc(at);
  }
  di.finalize();
  module_->addModuleFlag(llvm::Module::Warning, "Debug Info Version", llvm::DEBUG_METADATA_VERSION);
  module_->addModuleFlag(llvm::Module::Warning, "Dwarf Version", 5);
}

void LocationCodegen::declarePushFunctions() {
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  // Large item code (a keyed fold's probe and in-place update) is inlined
  // into the loops that feed it, where it runs about a fifth faster, while
  // a location has a few such operators; past that it stays in its own
  // function, since every inlined copy is unrolled with its loops and
  // compile time grew with each.
  constexpr size_t kInlinedLarge = 4;
  size_t large = std::count_if(ops_.begin(), ops_.end(), [&](int id) { return ops::ownFunction(*this, p_.ops[id]); });
  for (int id : ops_) {
    const Operator &op = p_.ops[id];
    for (unsigned port = 0; port < op.inputs.size(); ++port) {
      auto *ty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr, types().lower(op.inTypes[port])}, false);
      llvm::Function *f = newFunction(ty, "push." + op.name + "." + std::to_string(port), false);
      stateTaking_.insert(f);
      bool own = large > kInlinedLarge && ops::ownFunction(*this, op);
      f->addFnAttr(own ? llvm::Attribute::NoInline : llvm::Attribute::InlineHint);
      push_[{id, port}] = f;
    }
  }
}

void LocationCodegen::emit(llvm::IRBuilder<> &b, llvm::Value *state, int id, unsigned port, llvm::Value *value) {
  const Operator &op = p_.ops[id];
  if (port >= op.outputs.size() || op.outputs[port] == kNone) return;
  count(b, state, id, 1);
  int edge = op.outputs[port];
  const Edge &e = p_.edges[edge];
  if (auto it = bufferOf_.find(edge); it != bufferOf_.end())
    pushVec(b, state, buffers_[it->second].pending, value);
  else
    b.CreateCall(push_.at({e.to, e.toPort}), {state, value});
  if (releaseAfter_.first == id) b.CreateCall(rt_->release(), {releaseAfter_.second});
}

void LocationCodegen::releasingEachItem(llvm::IRBuilder<> &b, int id, const std::function<void()> &items) {
  const Operator &op = p_.ops[id];
  ItemMemory m;
  m.makes = holdsPointers(op.outTypes[0]) && ops::makesItems(op.kind);
  std::set<int> seen;
  followItems(id, seen, m);
  if (m.makes && !m.keeps) releaseAfter_ = {id, b.CreateCall(rt_->mark())};
  items();
  releaseAfter_ = {kNone, nullptr};
}

/// What the direct pushes of an item set off do with tick memory: whether
/// they may allocate some, and whether something may keep a pointer into
/// it after the push returns (a buffered edge or operator state whose
/// values hold strings or lists).
void LocationCodegen::followItems(int id, std::set<int> &seen, ItemMemory &m) {
  if (!seen.insert(id).second) return;
  for (int edge : p_.ops[id].outputs) {
    if (edge == kNone) continue;
    const Edge &e = p_.edges[edge];
    const Operator &to = p_.ops[e.to];
    if (bufferOf_.count(edge)) {
      m.keeps = m.keeps || holdsPointers(to.inTypes[e.toPort]);
      continue;
    }
    m.keeps = m.keeps || (!ops::streams(to.kind) && ops::keepsPointers(*this, to, e.toPort));
    for (size_t a = 0; a < to.args.size(); ++a)
      m.makes = m.makes || (a < to.info().args.size() && to.info().args[a].kind != ArgShape::Channel &&
                            allocates(*to.args[a]));
    // Stateful operators may hand on values read back from their tables.
    if (!ops::streams(to.kind))
      for (const Type *t : to.outTypes) m.makes = m.makes || holdsPointers(t);
    followItems(e.to, seen, m);
  }
}

bool LocationCodegen::allocates(const Expr &e) const {
  bool call = e.kind == Expr::Builtin || e.kind == Expr::Extern || e.kind == Expr::Function || e.kind == Expr::Some ||
              e.kind == Expr::Variant;
  if ((call || e.kind == Expr::Binary || e.kind == Expr::List) && holdsPointers(e.type)) return true;
  // A constant's value is computed where it is used.
  if (e.kind == Expr::Const) return allocates(*p_.consts[e.index].value);
  for (auto &k : e.kids)
    if (allocates(*k)) return true;
  for (auto &st : e.stmts)
    if (allocates(*st.expr)) return true;
  for (auto &a : e.arms)
    if (allocates(*a.body)) return true;
  return false;
}

ExprCodegen LocationCodegen::exprGen(llvm::IRBuilder<> &b, const Operator &op) {
  ExprCodegen gen(b, types(), *rt_, p_, op.info().name, in_.lineOf(op.range.begin));
  gen.setLineOf(in_.lineOf);
  return gen;
}

void LocationCodegen::definePush(int id, unsigned port) {
  const Operator &op = p_.ops[id];
  llvm::Function *f = push_.at({id, port});
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  Site site{*this, b, f->getArg(0), id, op, state_[id]};
  count(b, f->getArg(0), id, 0);
  markRunning(b, f->getArg(0), id);
  ops::push(site, port, f->getArg(1));
  // Back to the operator that pushed (each input has one edge into it).
  if (in_.profile) markRunning(b, f->getArg(0), p_.edges[op.inputs[port]].from);
  b.CreateRetVoid();
}

// -------------------------------------------------------------- profiles --

void LocationCodegen::markRunning(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
  if (!in_.profile) return;
  int index = id == kNone ? -1 : profileIndex_.at(id);
  b.CreateStore(b.getInt32(static_cast<uint32_t>(index)), field(b, state, currentField_), /*isVolatile=*/true);
}

void LocationCodegen::count(llvm::IRBuilder<> &b, llvm::Value *state, int id, int which) {
  if (!in_.profile) return;
  llvm::Value *slot = b.CreateConstInBoundsGEP2_32(fields_[countersField_], field(b, state, countersField_), 0,
                                                   2 * profileIndex_.at(id) + which);
  b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), slot), b.getInt64(1)), slot);
}

void LocationCodegen::asRunning(llvm::IRBuilder<> &b, llvm::Value *state, int id, const std::function<void()> &hook) {
  if (!in_.profile) return hook();
  markRunning(b, state, id);
  auto *mark = &b.GetInsertBlock()->back();
  hook();
  if (&b.GetInsertBlock()->back() == mark) mark->eraseFromParent(); // the hook had no code here
  else markRunning(b, state, kNone);
}

/// The descriptor's `dfir_profile_info`: the operators in the location's
/// order (names, kinds, lines), where the state keeps the counters and the
/// running operator, and the program's channel names.
llvm::Constant *LocationCodegen::defineProfileInfo() {
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  if (!in_.profile) return llvm::ConstantPointerNull::get(ptr);
  auto *i32 = llvm::Type::getInt32Ty(ctx_);
  auto *i64 = llvm::Type::getInt64Ty(ctx_);
  llvm::IRBuilder<> b(ctx_);
  auto strings = [&](const std::vector<std::string> &items, const char *what) -> llvm::Constant * {
    std::vector<llvm::Constant *> ptrs;
    for (auto &text : items) ptrs.push_back(b.CreateGlobalStringPtr(text, "dfir.profile_name", 0, module_.get()));
    auto *ty = llvm::ArrayType::get(ptr, ptrs.size());
    return new llvm::GlobalVariable(*module_, ty, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(ty, ptrs), what);
  };
  std::vector<std::string> names, kinds, channels;
  std::vector<uint32_t> lines;
  for (int id : ops_) {
    names.push_back(p_.ops[id].name);
    kinds.push_back(p_.ops[id].info().name);
    lines.push_back(lineOf(p_.ops[id]));
  }
  for (const Channel &ch : p_.channels) channels.push_back(ch.name);
  auto *linesTy = llvm::ArrayType::get(i32, lines.size());
  auto *linesVar = new llvm::GlobalVariable(*module_, linesTy, true, llvm::GlobalValue::PrivateLinkage,
                                            llvm::ConstantDataArray::get(ctx_, lines), "dfir.profile_lines");
  const llvm::StructLayout *layout = dataLayout().getStructLayout(stateType_);
  auto *infoTy = llvm::StructType::get(ctx_, {i32, ptr, ptr, ptr, i64, i64, i32, ptr});
  auto *info = llvm::ConstantStruct::get(
      infoTy, {llvm::ConstantInt::get(i32, ops_.size()), strings(names, "dfir.profile_ops"),
               strings(kinds, "dfir.profile_kinds"), linesVar,
               llvm::ConstantInt::get(i64, layout->getElementOffset(countersField_)),
               llvm::ConstantInt::get(i64, layout->getElementOffset(currentField_)),
               llvm::ConstantInt::get(i32, p_.channels.size()), strings(channels, "dfir.profile_channels")});
  return new llvm::GlobalVariable(*module_, infoTy, true, llvm::GlobalValue::PrivateLinkage, info, "dfir.profile");
}

/// An inline push: the item stored at `len` when there is room, else the
/// buffer grown first (dfir_rt_vec_grow, which touches only the buffer's
/// memory). The field accesses share an alias scope the grow call is
/// declared outside of, and items have their own alias tag, so in a loop of
/// pushes LLVM keeps the length, room and data pointer in registers.
void LocationCodegen::pushVec(llvm::IRBuilder<> &b, llvm::Value *state, int vecField, llvm::Value *item) {
  llvm::Type *t = item->getType();
  llvm::MDNode *fields = rt_->bufferFieldsScope();
  auto scoped = [&](llvm::Instruction *inst) {
    inst->setMetadata(llvm::LLVMContext::MD_alias_scope, fields);
    return inst;
  };
  llvm::Value *vec = field(b, state, vecField);
  llvm::Value *dataSlot = b.CreateStructGEP(rt_->vecType(), vec, 0);
  llvm::Value *lenSlot = b.CreateStructGEP(rt_->vecType(), vec, 1);
  llvm::Value *capSlot = b.CreateStructGEP(rt_->vecType(), vec, 2);
  llvm::Value *len = scoped(b.CreateLoad(b.getInt64Ty(), lenSlot));
  llvm::Value *cap = scoped(b.CreateLoad(b.getInt64Ty(), capSlot));
  llvm::Value *data = scoped(b.CreateLoad(b.getPtrTy(), dataSlot));
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *before = b.GetInsertBlock();
  llvm::BasicBlock *grow = llvm::BasicBlock::Create(ctx_, "vec.grow", f);
  llvm::BasicBlock *room = llvm::BasicBlock::Create(ctx_, "vec.room", f);
  b.CreateCondBr(b.CreateICmpULT(len, cap), room, grow, llvm::MDBuilder(ctx_).createBranchWeights(1000, 1));
  b.SetInsertPoint(grow);
  llvm::CallInst *grown = b.CreateCall(rt_->vecGrow(), {data, cap, sizeOf(t)});
  grown->setMetadata(llvm::LLVMContext::MD_noalias, fields);
  scoped(b.CreateStore(grown, dataSlot));
  llvm::Value *first = b.getInt64(DFIR_RT_VEC_FIRST_CAP);
  scoped(b.CreateStore(b.CreateSelect(b.CreateICmpEQ(cap, b.getInt64(0)), first, b.CreateShl(cap, 1)), capSlot));
  b.CreateBr(room);
  b.SetInsertPoint(room);
  llvm::PHINode *at = b.CreatePHI(b.getPtrTy(), 2);
  at->addIncoming(data, before);
  at->addIncoming(grown, grow);
  // Items live in the buffer's own memory, never in the state.
  b.CreateStore(item, b.CreateGEP(t, at, {len}))->setMetadata(llvm::LLVMContext::MD_tbaa, rt_->aliasTag("items"));
  scoped(b.CreateStore(b.CreateAdd(len, b.getInt64(1)), lenSlot));
}

void LocationCodegen::emitVec(llvm::IRBuilder<> &b, llvm::Value *state, int id, int vecField, const Type *t) {
  llvm::Type *lt = types().lower(t);
  llvm::Value *vec = field(b, state, vecField);
  llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
  llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), vec, 1));
  llvm::MDNode *items = rt_->aliasTag("items");
  loop(b, b.getInt64(0), len, [&](llvm::Value *i) {
    llvm::LoadInst *item = b.CreateLoad(lt, b.CreateGEP(lt, data, {i}));
    item->setMetadata(llvm::LLVMContext::MD_tbaa, items);
    emit(b, state, id, 0, item);
  });
  b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt_->vecType(), vec, 1));
}

void LocationCodegen::forEachEntry(llvm::IRBuilder<> &b, llvm::Value *table, const std::string &name,
                                 const std::function<void(llvm::Value *entry)> &body) {
  llvm::Value *cursor = entryAlloca(b, b.getInt64Ty());
  b.CreateStore(b.getInt64(0), cursor);
  llvm::Value *entry = nullptr;
  whileMore(
      b, name,
      [&] {
        entry = b.CreateCall(rt_->tableNext(), {table, cursor});
        return b.CreateIsNotNull(entry);
      },
      [&] { body(entry); });
}

void LocationCodegen::whileMore(llvm::IRBuilder<> &b, const std::string &name, const std::function<llvm::Value *()> &more,
                              const std::function<void()> &body) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx_, name, f);
  llvm::BasicBlock *each = llvm::BasicBlock::Create(ctx_, name + ".item", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, name + ".end", f);
  b.CreateBr(head);
  b.SetInsertPoint(head);
  b.CreateCondBr(more(), each, done);
  b.SetInsertPoint(each);
  body();
  b.CreateBr(head);
  b.SetInsertPoint(done);
}

void LocationCodegen::emitStored(llvm::IRBuilder<> &b, llvm::Value *state, int id, int tableField, const Type *t,
                                 llvm::Value *count) {
  ExprCodegen gen = exprGen(b, p_.ops[id]);
  llvm::Value *table = b.CreateLoad(b.getPtrTy(), field(b, state, tableField));
  llvm::Value *entry = b.CreateCall(rt_->mapFind(), {table, rt_->bytes(""), b.getInt64(0)});
  if (!count) count = rt_->entryCount(b, entry);
  loop(b, b.getInt64(0), count, [&](llvm::Value *i) {
    emit(b, state, id, 0, gen.decode(rt_->entryValue(b, entry, i), t));
  });
}

void LocationCodegen::emitElements(llvm::IRBuilder<> &b, ExprCodegen &gen, llvm::Value *state, int id, llvm::Value *list,
                                 const Type *elemType) {
  llvm::Type *elem = types().lower(elemType);
  llvm::Value *data = b.CreateExtractValue(list, {0});
  loop(b, b.getInt64(0), b.CreateExtractValue(list, {1}),
       [&](llvm::Value *i) { emit(b, state, id, 0, b.CreateLoad(elem, b.CreateGEP(elem, data, {i}))); });
}

void LocationCodegen::ifThen(llvm::IRBuilder<> &b, llvm::Value *cond, const std::function<void()> &then) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *yes = llvm::BasicBlock::Create(ctx_, "then", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "endif", f);
  b.CreateCondBr(cond, yes, done);
  b.SetInsertPoint(yes);
  then();
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

llvm::Value *LocationCodegen::sizeOf(llvm::Type *t) {
  return llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx_), module_->getDataLayout().getTypeAllocSize(t));
}

llvm::Value *LocationCodegen::entryAlloca(llvm::IRBuilder<> &b, llvm::Type *t) {
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
  return entry.CreateAlloca(t);
}

void LocationCodegen::loop(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi,
                           const std::function<void(llvm::Value *)> &body, bool isSigned) {
  countedLoop(b, lo, hi, isSigned, body);
}

// -------------------------------------------------------- init, tick, fini --

void LocationCodegen::eachSite(llvm::IRBuilder<> &b, llvm::Value *state, const std::function<void(Site &)> &hook) {
  for (int id : ops_) {
    Site site{*this, b, state, id, p_.ops[id], state_[id]};
    hook(site);
  }
}

/// `dfir.WHAT.LOCATION(state)`, one of the functions the descriptor names.
llvm::Function *LocationCodegen::stateFunction(const char *what, llvm::Type *result) {
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  llvm::Function *f = newFunction(llvm::FunctionType::get(result, {ptr}, false),
                                  std::string("dfir.") + what + "." + p_.locations[loc_].name, false);
  stateTaking_.insert(f);
  return f;
}

llvm::Function *LocationCodegen::defineInit() {
  llvm::Function *f = stateFunction("init", llvm::Type::getVoidTy(ctx_));
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  // A fixed-width set has slots from the start, so that a probe needs no
  // check for an empty set (ops/FixedSet.h).
  for (auto [t, words] : fsetFields_) b.CreateCall(rt_->fsetGrow(), {field(b, f->getArg(0), t), b.getInt64(words)});
  eachSite(b, f->getArg(0), [](Site &s) { ops::init(s); });
  markRunning(b, f->getArg(0), kNone);
  b.CreateRetVoid();
  return f;
}

/// Closes files and frees the vectors and tables of the state (what is
/// in tick memory goes with the runtime's arenas).
llvm::Function *LocationCodegen::defineFini() {
  llvm::Function *f = stateFunction("fini", llvm::Type::getVoidTy(ctx_));
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  eachSite(b, f->getArg(0), [](Site &s) { ops::fini(s); });
  for (int v : vecFields_) b.CreateCall(rt_->vecFree(), {field(b, f->getArg(0), v)});
  for (int t : tableFields_) b.CreateCall(rt_->tableFree(), {field(b, f->getArg(0), t)});
  for (const auto &set : fsetFields_) b.CreateCall(rt_->fsetFree(), {field(b, f->getArg(0), set.first)});
  b.CreateRetVoid();
  return f;
}

int LocationCodegen::pullStratum(int id) const {
  const Operator &op = p_.ops[id];
  if (!crossesTick(op.kind)) return in_.strata.stratum[id];
  int out = op.outputs.empty() ? kNone : op.outputs[0];
  return out == kNone ? -1 : in_.strata.stratum[p_.edges[out].to];
}

/// One tick: every operator's tick start ('tick state starts afresh, the
/// next tick's deferred items become this tick's); then per stratum the
/// phases of `Phase` in order, with the stratum's fixpoint loop after the
/// blocking operators and again after the release; then every operator's
/// tick end. Returns nonzero when deferred items wait for the next tick.
llvm::Function *LocationCodegen::defineTick() {
  llvm::Function *f = stateFunction("tick", llvm::Type::getInt32Ty(ctx_));
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  llvm::Value *state = f->getArg(0);
  llvm::Value *ticks = b.CreateLoad(b.getInt64Ty(), field(b, state, 0));
  b.CreateCall(rt_->tickBegin(), {rt_->bytes(p_.locations[loc_].name), ticks});
  llvm::Value *first = b.CreateICmpEQ(ticks, b.getInt64(0));
  // Operators in loop blocks start their state where their loop says.
  eachSite(b, state, [&](Site &s) {
    if (s.op.loop == kNone) ops::tickStart(s);
  });
  emitScope(b, state, first, kNone, 0, in_.strata.numStrata[loc_]);
  llvm::Value *more = b.getFalse();
  eachSite(b, state, [&](Site &s) {
    asRunning(b, state, s.id, [&] {
      if (llvm::Value *waiting = ops::tickEnd(s)) more = b.CreateOr(more, waiting);
    });
  });
  b.CreateStore(b.CreateAdd(ticks, b.getInt64(1)), field(b, state, 0));
  b.CreateRet(b.CreateZExt(more, b.getInt32Ty()));
  return f;
}

void LocationCodegen::emitScope(llvm::IRBuilder<> &b, llvm::Value *state, llvm::Value *first, int scope, int from,
                                int to) {
  for (int st = from; st < to;) {
    int loop = kNone;
    for (size_t l = 0; l < p_.loops.size() && loop == kNone; ++l)
      if (p_.loops[l].parent == scope && p_.loops[l].location == loc_ && in_.strata.loopBegin[l] == st)
        loop = static_cast<int>(l);
    if (loop == kNone) {
      emitStratum(b, state, first, st++);
      continue;
    }
    emitLoop(b, state, first, loop);
    st = in_.strata.loopEnd[loop];
  }
}

void LocationCodegen::emitStratum(llvm::IRBuilder<> &b, llvm::Value *state, llvm::Value *first, int st) {
  // A blocking input of an operator that reads state (`#name`) takes its
  // items from earlier strata now, once the state it reads is final.
  runFixpoint(b, state, st, true);
  auto pullAll = [&](Phase phase) {
    for (int id : ops_) {
      if (pullStratum(id) != st) continue;
      // Each operator's pull is a function of its own: LLVM's passes
      // cost more than linearly in a function's size.
      auto *ptr = llvm::PointerType::getUnqual(ctx_);
      llvm::Function *f = newFunction(
          llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr, llvm::Type::getInt1Ty(ctx_)}, false),
          "dfir.pull." + p_.ops[id].name, false);
      f->addFnAttr(llvm::Attribute::NoInline);
      stateTaking_.insert(f);
      llvm::IRBuilder<> fb(llvm::BasicBlock::Create(ctx_, "entry", f));
      Site s{*this, fb, f->getArg(0), id, p_.ops[id], state_[id]};
      asRunning(fb, f->getArg(0), id, [&] { ops::pull(s, phase, f->getArg(1)); });
      if (f->size() == 1 && f->getEntryBlock().empty()) {
        f->eraseFromParent();
        continue;
      }
      fb.CreateRetVoid();
      b.CreateCall(f, {state, first});
    }
  };
  for (Phase phase : {Phase::DeferredBlocking, Phase::History, Phase::PosHistory, Phase::Deferred, Phase::Sources,
                      Phase::Blocking})
    pullAll(phase);
  runFixpoint(b, state, st);
  pullAll(Phase::Release);
  // What they released may feed the stratum's cycles.
  runFixpoint(b, state, st);
}

llvm::Value *LocationCodegen::iteration(llvm::IRBuilder<> &b, llvm::Value *state, int loop) {
  return b.CreateLoad(b.getInt64Ty(), field(b, state, loopIter_.at(loop)));
}

std::vector<int> LocationCodegen::exitsOf(int loop) const {
  std::vector<int> out;
  for (int id : ops_) {
    const Operator &op = p_.ops[id];
    if (!leavesLoop(op.kind)) continue;
    if (op.inputs[0] != kNone && p_.ops[p_.edges[op.inputs[0]].from].loop == loop) out.push_back(id);
  }
  return out;
}

void LocationCodegen::emitLoop(llvm::IRBuilder<> &b, llvm::Value *state, llvm::Value *first, int loop) {
  auto inLoop = [&](const std::function<void(Site &)> &hook) {
    eachSite(b, state, [&](Site &s) {
      if (s.op.loop == loop) hook(s);
    });
  };
  inLoop([&](Site &s) { ops::loopStart(s); });
  llvm::Value *iter = field(b, state, loopIter_.at(loop));
  b.CreateStore(b.getInt64(0), iter);
  // As many iterations as the largest `repeat_n` asks, at least one.
  llvm::Value *count = b.getInt64(1);
  inLoop([&](Site &s) {
    if (s.op.kind != OpKind::RepeatN) return;
    llvm::Value *n = ops::repeatCount(s);
    count = b.CreateSelect(b.CreateICmpSGT(n, count), n, count);
  });
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *head = llvm::BasicBlock::Create(ctx_, "loop.iteration", f);
  llvm::BasicBlock *body = llvm::BasicBlock::Create(ctx_, "loop.body", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "loop.end", f);
  b.CreateBr(head);
  b.SetInsertPoint(head);
  b.CreateCondBr(b.CreateICmpSLT(b.CreateLoad(b.getInt64Ty(), iter), count), body, done);
  b.SetInsertPoint(body);
  inLoop([&](Site &s) { ops::iterationStart(s); });
  for (int id : exitsOf(loop)) {
    Site s{*this, b, state, id, p_.ops[id], state_[id]};
    ops::iterationStart(s);
  }
  emitScope(b, state, first, loop, in_.strata.loopBegin[loop], in_.strata.loopEnd[loop]);
  b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), iter), b.getInt64(1)), iter);
  b.CreateBr(head);
  b.SetInsertPoint(done);
  inLoop([&](Site &s) { ops::loopEnd(s); });
}

/// Delivers the buffered items of a stratum. A cyclic stratum runs until
/// its buffers stay empty: each round moves the pending items of every
/// buffer aside and delivers them; items from earlier strata are part of
/// the first round.
void LocationCodegen::runFixpoint(llvm::IRBuilder<> &b, llvm::Value *state, int stratum, bool early) {
  std::vector<const Buffer *> mine;
  for (const Buffer &buf : buffers_) {
    const Edge &e = p_.edges[buf.edge];
    const Operator &to = p_.ops[e.to];
    if (in_.strata.stratum[e.to] != stratum) continue;
    if (early && !(to.info().isBlocking(e.toPort) && ir::readsState(to))) continue;
    mine.push_back(&buf);
  }
  if (mine.empty()) return;
  llvm::Function *f = b.GetInsertBlock()->getParent();
  llvm::BasicBlock *round = llvm::BasicBlock::Create(ctx_, "fixpoint", f);
  llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "fixpoint.end", f);
  b.CreateBr(round);
  b.SetInsertPoint(round);
  llvm::Value *moved = b.getFalse();
  for (const Buffer *buf : mine) moved = b.CreateOr(moved, b.CreateCall(drainFunction(*buf), {state}));
  b.CreateCondBr(moved, round, done);
  b.SetInsertPoint(done);
}

/// `dfir.drain.<edge>(state)`: delivers a buffer's pending items, moved
/// aside first (what they set off may add more); returns whether it had
/// any. A function of its own, so that the tick stays small.
llvm::Function *LocationCodegen::drainFunction(const Buffer &buf) {
  llvm::Function *&f = drains_[buf.edge];
  if (f) return f;
  const Edge &e = p_.edges[buf.edge];
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  f = newFunction(llvm::FunctionType::get(llvm::Type::getInt1Ty(ctx_), {ptr}, false),
                  "dfir.drain." + std::to_string(buf.edge), false);
  f->addFnAttr(llvm::Attribute::NoInline);
  stateTaking_.insert(f);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  llvm::Value *state = f->getArg(0);
  llvm::Type *t = types().lower(e.type);
  llvm::Value *pending = field(b, state, buf.pending), *working = field(b, state, buf.working);
  llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), pending, 1));
  b.CreateCall(rt_->vecSwap(), {working, pending});
  llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), working, 0));
  llvm::Value *count = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), working, 1));
  loop(b, b.getInt64(0), count, [&](llvm::Value *i) {
    b.CreateCall(push_.at({e.to, e.toPort}), {state, b.CreateLoad(t, b.CreateGEP(t, data, {i}))});
  });
  b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt_->vecType(), working, 1));
  b.CreateRet(b.CreateICmpNE(len, b.getInt64(0)));
  return f;
}

// ------------------------------------------------------------ descriptor --

unsigned LocationCodegen::hostIndex(int id) const {
  unsigned index = 0;
  for (int other : ops_) {
    if (other == id) return index;
    if (p_.ops[other].kind == p_.ops[id].kind) ++index;
  }
  DFIR_CHECK(false, "a host channel outside its location");
  return 0;
}

llvm::Function *LocationCodegen::defineStreamPush(int id) {
  const Operator &op = p_.ops[id];
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  llvm::Function *f = newFunction(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr, ptr}, false),
                                  "dfir.push." + std::to_string(hostIndex(id)), false);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  ExprCodegen gen = exprGen(b, op);
  const Type *t = op.outTypes[0];
  llvm::Value *item = b.CreateLoad(types().lower(t), f->getArg(0));
  llvm::Value *vec = f->getArg(1);
  llvm::Value *size = gen.encodedLength(item, t);
  llvm::Value *need = b.CreateAdd(size, b.getInt64(4));
  b.CreateCall(rt_->vecReserve(), {vec, need});
  llvm::Value *lenSlot = b.CreateStructGEP(rt_->vecType(), vec, 1);
  llvm::Value *used = b.CreateLoad(b.getInt64Ty(), lenSlot);
  llvm::Value *at = b.CreateGEP(b.getInt8Ty(), b.CreateLoad(ptr, b.CreateStructGEP(rt_->vecType(), vec, 0)), {used});
  b.CreateAlignedStore(b.CreateTrunc(size, b.getInt32Ty()), at, llvm::MaybeAlign(1));
  gen.encodeInto(b.CreateGEP(b.getInt8Ty(), at, {b.getInt64(4)}), item, t);
  b.CreateStore(b.CreateAdd(used, need), lenSlot);
  b.CreateRetVoid();
  return f;
}

std::pair<llvm::Constant *, llvm::Constant *> LocationCodegen::defineHostChannels() {
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  auto *entryTy = llvm::StructType::get(ctx_, {ptr, ptr});
  llvm::IRBuilder<> names(ctx_);
  std::vector<llvm::Constant *> streams, sinks;
  for (int id : ops_) {
    const Operator &op = p_.ops[id];
    if (op.kind != OpKind::SourceStream && op.kind != OpKind::DestSink) continue;
    llvm::Constant *name = names.CreateGlobalStringPtr(op.args[0]->strValue, "dfir.host_name", 0, module_.get());
    if (op.kind == OpKind::SourceStream)
      streams.push_back(llvm::ConstantStruct::get(entryTy, {name, defineStreamPush(id)}));
    else
      sinks.push_back(name);
  }
  auto table = [&](llvm::Type *elem, const std::vector<llvm::Constant *> &items, const char *what) -> llvm::Constant * {
    if (items.empty()) return llvm::ConstantPointerNull::get(ptr);
    auto *ty = llvm::ArrayType::get(elem, items.size());
    return new llvm::GlobalVariable(*module_, ty, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(ty, items), what);
  };
  return {table(entryTy, streams, "dfir.streams"), table(ptr, sinks, "dfir.sinks")};
}

void LocationCodegen::defineMain(llvm::GlobalVariable *desc) {
  auto *i32 = llvm::Type::getInt32Ty(ctx_);
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  llvm::Function *f = newFunction(llvm::FunctionType::get(i32, {i32, ptr}, false), "main", true);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
  auto run = module_->getOrInsertFunction("dfir_rt_main", llvm::FunctionType::get(i32, {ptr, i32, ptr}, false));
  b.CreateRet(b.CreateCall(run, {desc, f->getArg(0), f->getArg(1)}));
}

llvm::GlobalVariable *LocationCodegen::defineDescriptor(const std::string &name, llvm::Function *init, llvm::Function *tick,
                                                      llvm::Function *fini, const llvm::DataLayout &layout) {
  auto *ptr = llvm::PointerType::getUnqual(ctx_);
  auto *i64 = llvm::Type::getInt64Ty(ctx_);
  auto *i32 = llvm::Type::getInt32Ty(ctx_);
  auto *descTy = llvm::StructType::get(
      ctx_, {ptr, i64, ptr, ptr, ptr, i32, i32, i32, i32, i64, ptr, i32, ptr, ptr, i32, ptr, i32, ptr, ptr});
  unsigned nstreams = 0, nsinks = 0;
  for (int id : ops_) {
    nstreams += p_.ops[id].kind == OpKind::SourceStream;
    nsinks += p_.ops[id].kind == OpKind::DestSink;
  }
  auto [streams, sinks] = defineHostChannels();
  bool readsStdin = false;
  for (int id : ops_) readsStdin = readsStdin || p_.ops[id].kind == OpKind::SourceStdin;
  llvm::Constant *nameStr = llvm::IRBuilder<>(ctx_).CreateGlobalStringPtr(name, "dfir.name", 0, module_.get());
  uint64_t size = layout.getTypeAllocSize(stateType_);
  std::vector<llvm::Constant *> prints;
  for (size_t c = 0; c < p_.channels.size(); ++c)
    prints.push_back(llvm::ConstantInt::get(i64, c < in_.channelFingerprints.size() ? in_.channelFingerprints[c] : 0));
  auto *printsTy = llvm::ArrayType::get(i64, prints.size());
  auto *printsVar = new llvm::GlobalVariable(*module_, printsTy, true, llvm::GlobalValue::PrivateLinkage,
                                             llvm::ConstantArray::get(printsTy, prints), "dfir.channel_fingerprints");
  // The wire schema of each channel this location receives: what items
  // from the network are checked against before they are decoded.
  std::vector<llvm::Constant *> schemas;
  for (const Channel &ch : p_.channels) {
    if (ch.to != loc_) {
      schemas.push_back(llvm::ConstantPointerNull::get(ptr));
      continue;
    }
    std::vector<uint32_t> words = wireSchema(ch.elem, types_->context());
    auto *wordsTy = llvm::ArrayType::get(i32, words.size());
    schemas.push_back(new llvm::GlobalVariable(*module_, wordsTy, true, llvm::GlobalValue::PrivateLinkage,
                                               llvm::ConstantDataArray::get(ctx_, words), "dfir.wire_schema"));
  }
  auto *schemasTy = llvm::ArrayType::get(ptr, schemas.size());
  auto *schemasVar = new llvm::GlobalVariable(*module_, schemasTy, true, llvm::GlobalValue::PrivateLinkage,
                                              llvm::ConstantArray::get(schemasTy, schemas), "dfir.wire_schemas");
  std::vector<uint32_t> batchWords;
  for (const Channel &ch : p_.channels) {
    batchWords.push_back(ch.batch.count);
    batchWords.push_back(ch.batch.micros);
  }
  if (batchWords.empty()) batchWords.push_back(0);
  auto *batchTy = llvm::ArrayType::get(i32, batchWords.size());
  auto *batchVar = new llvm::GlobalVariable(*module_, batchTy, true, llvm::GlobalValue::PrivateLinkage,
                                            llvm::ConstantDataArray::get(ctx_, batchWords), "dfir.channel_batch");
  auto *desc = llvm::ConstantStruct::get(
      descTy, {nameStr, llvm::ConstantInt::get(i64, size), init, tick, fini,
               llvm::ConstantInt::get(i32, readsStdin), llvm::ConstantInt::get(i32, loc_),
               llvm::ConstantInt::get(i32, p_.locations.size()), llvm::ConstantInt::get(i32, p_.channels.size()),
               llvm::ConstantInt::get(i64, in_.fingerprint), printsVar,
               llvm::ConstantInt::get(i32, p_.locations[loc_].isCluster ? p_.locations[loc_].size : 0), schemasVar,
               batchVar, llvm::ConstantInt::get(i32, nstreams), streams, llvm::ConstantInt::get(i32, nsinks), sinks,
               defineProfileInfo()});
  return new llvm::GlobalVariable(*module_, descTy, true, llvm::GlobalValue::ExternalLinkage, desc,
                                  in_.descriptorSymbol.empty() ? descriptorName(name) : in_.descriptorSymbol);
}

std::unique_ptr<llvm::Module> generateLocation(const CodegenInput &in, int location, llvm::LLVMContext &ctx,
                                               const llvm::DataLayout &layout, std::vector<Unsupported> &unsupported) {
  LocationCodegen gen(in, location, ctx, unsupported);
  auto module = gen.run(layout);
  DFIR_CHECK(!module || !llvm::verifyModule(*module, &llvm::errs()), "the generated LLVM IR does not verify");
  return module;
}

} // namespace dfir::backend
