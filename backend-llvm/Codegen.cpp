#include "backend-llvm/Codegen.h"

#include "llvm/IR/MDBuilder.h"

#include "backend-llvm/ExprCodegen.h"
#include "backend-llvm/WireSchema.h"
#include "ir/Check.h"
#include "ir/ExprAnalysis.h"
#include "ir/GraphAlgo.h"

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Verifier.h"

#include <map>
#include <set>
#include <tuple>

namespace dfir::backend {

std::string descriptorName(const std::string &location) { return "dfir_location_" + location; }

namespace {

using namespace ir;

/// Field indexes of per-operator state in the location's state struct.
struct OpState {
  int acc = -1;  // fold/reduce accumulator, enumerate counter
  int has = -1;  // reduce: whether the accumulator holds a value
  int cur = -1;  // defer_tick: items delivered this tick (a dfir_vec)
  int next = -1; // defer_tick: items for the next tick
  int t0 = -1;   // unique: seen items; join: side [0]; difference/anti_join: [neg]
  int t1 = -1;   // join: side [1]; difference/anti_join: the 'static [pos] history
};

/// A buffered edge inside a cyclic stratum: pushes append to `pending`;
/// the stratum's fixpoint loop moves them to `working` and delivers them.
struct Buffer {
  int edge;
  int pending, working;
};

class LocationCodegen {
public:
  LocationCodegen(const CodegenInput &in, int loc, llvm::LLVMContext &ctx, std::vector<Unsupported> &unsupported)
      : in_(in), p_(in.program), loc_(loc), ctx_(ctx), unsupported_(unsupported) {}

  std::unique_ptr<llvm::Module> run(const llvm::DataLayout &layout) {
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
    return std::move(module_);
  }

private:
  // ------------------------------------------------------------ support --
  void unsupported(const Operator &op, const std::string &what) { unsupported_.push_back({op.range, what}); }

  void checkSupported(int id) {
    const Operator &op = p_.ops[id];
    // Ranges are iterated in place (`source_iter(0..n)`, `flat_map(|x| 0..x)`): check their bounds.
    // The argument of send/recv names a channel; it is not a value.
    for (auto &a : op.args) {
      if (op.kind == OpKind::Send || op.kind == OpKind::Recv) break;
      const Expr *e = a.get();
      if (op.kind == OpKind::FlatMap && e->kind == Expr::Lambda && e->kids[0]->kind == Expr::Range) {
        for (auto &p : e->params)
          if (!types().lower(p.pattern->type)) unsupported(op, "values of type `" + typeToString(p.pattern->type) + "`");
        for (auto &k : e->kids[0]->kids)
          if (auto what = ExprCodegen::unsupportedIn(*k, p_)) unsupported_.push_back({what->first, what->second});
        continue;
      }
      for (const Expr *part : e->kind == Expr::Range ? children(*e) : std::vector<const Expr *>{e})
        if (auto what = ExprCodegen::unsupportedIn(*part, p_)) unsupported_.push_back({what->first, what->second});
    }
    for (const Type *t : op.inTypes)
      if (!types().lower(t)) unsupported(op, "values of type `" + typeToString(t) + "`");
    for (const Type *t : op.outTypes)
      if (!types().lower(t)) unsupported(op, "values of type `" + typeToString(t) + "`");
  }

  /// True when values of `t` point into memory (strings, lists), directly
  /// or through tuples, options, structs and enums.
  bool holdsPointers(const Type *t) const {
    if (t->kind == Type::Str || t->kind == Type::List) return true;
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

  static std::vector<const Expr *> children(const Expr &e) {
    std::vector<const Expr *> out;
    for (auto &k : e.kids) out.push_back(k.get());
    return out;
  }

  // -------------------------------------------------------------- state --
  void layoutState() {
    fields_.push_back(llvm::Type::getInt64Ty(ctx_)); // 0: ticks run so far
    for (int id : ops_) {
      const Operator &op = p_.ops[id];
      OpState s;
      switch (op.kind) {
      case OpKind::Fold:
        s.acc = addField(types().lower(op.outTypes[0]));
        break;
      case OpKind::Reduce:
        s.acc = addField(types().lower(op.outTypes[0]));
        s.has = addField(llvm::Type::getInt8Ty(ctx_));
        break;
      case OpKind::Enumerate: s.acc = addField(llvm::Type::getInt64Ty(ctx_)); break;
      case OpKind::DeferTick:
      case OpKind::DeferTickLazy:
        s.cur = addVecField();
        s.next = addVecField();
        break;
      case OpKind::Scan: s.acc = addField(types().lower(op.outTypes[0])); break;
      case OpKind::Chain:
      case OpKind::Sort:
      case OpKind::SortByKey: s.cur = addVecField(); break;
      case OpKind::Zip:
        s.cur = addVecField();  // unmatched items of [0]
        s.next = addVecField(); // unmatched items of [1]
        s.acc = addField(llvm::Type::getInt64Ty(ctx_)); // next unread item of [0]
        s.has = addField(llvm::Type::getInt64Ty(ctx_)); // next unread item of [1]
        break;
      case OpKind::CrossSingleton:
        s.acc = addField(types().lower(op.inTypes[1]));
        s.has = addField(llvm::Type::getInt8Ty(ctx_));
        break;
      case OpKind::DeferSignal:
        s.t0 = addTableField();
        s.has = addField(llvm::Type::getInt8Ty(ctx_));
        break;
      case OpKind::Persist: s.t0 = addTableField(); break;
      case OpKind::MultisetDelta:
      case OpKind::CrossJoin:
      case OpKind::CrossJoinMultiset:
        s.t0 = addTableField();
        s.t1 = addTableField();
        break;
      case OpKind::DestFile: s.acc = addField(llvm::PointerType::getUnqual(ctx_)); break;
      case OpKind::Send:
        if (sendsBatches(op)) {
          s.cur = addVecField();                // the tick's items, framed
          s.acc = addField(llvm::Type::getInt64Ty(ctx_)); // how many
        }
        break;
      case OpKind::SourceInterval:
        s.acc = addField(llvm::Type::getInt64Ty(ctx_)); // firings so far
        s.has = addField(llvm::Type::getInt32Ty(ctx_)); // timer id
        break;
      case OpKind::Difference:
      case OpKind::AntiJoin:
        s.t0 = addTableField();
        if (sideStatic(op, 0)) {
          s.t1 = addTableField();
          s.acc = addField(llvm::Type::getInt64Ty(ctx_)); // items stored before this tick
        }
        break;
      case OpKind::Unique:
      case OpKind::FoldKeyed:
      case OpKind::ReduceKeyed: s.t0 = addTableField(); break;
      case OpKind::Join:
      case OpKind::JoinMultiset:
        s.t0 = addTableField();
        s.t1 = addTableField();
        break;
      default: break;
      }
      // A 'static accumulator holding strings is kept encoded in a table
      // between ticks: tick memory would not outlive it.
      bool accumulates = op.kind == OpKind::Fold || op.kind == OpKind::Reduce || op.kind == OpKind::Scan;
      if (accumulates && isStatic(op) && holdsPointers(op.outTypes[0])) s.t0 = addTableField();
      state_[id] = s;
    }
    // Buffered edges: handoffs inside a cyclic stratum (the fixpoint loop
    // delivers them), and edges into a later stratum's non-blocking input
    // (delivered when that stratum starts; a blocking input instead
    // accumulates as items arrive, and emits when its stratum starts).
    for (const passes::Handoff &h : in_.subgraphs.handoffs) {
      const Edge &e = p_.edges[h.edge];
      if (p_.ops[e.from].location != loc_ || crossesTick(p_.ops[e.from].kind)) continue;
      bool sameStratum = in_.strata.stratum[e.from] == in_.strata.stratum[e.to];
      bool fixpoint = sameStratum && in_.strata.cyclic[e.to];
      bool later = !sameStratum &&
                   (!p_.ops[e.to].info().isBlocking(e.toPort) || p_.ops[e.to].kind == OpKind::NextStratum);
      if (!fixpoint && !later) continue;
      Buffer buf{h.edge, addVecField(), addVecField()};
      buffers_.push_back(buf);
      bufferOf_[h.edge] = static_cast<int>(buffers_.size() - 1);
    }
    stateType_ = llvm::StructType::create(ctx_, fields_, "dfir.state." + p_.locations[loc_].name);
  }

  int addField(llvm::Type *t) {
    fields_.push_back(t);
    return static_cast<int>(fields_.size() - 1);
  }
  /// Fields that own memory, freed by fini: vectors and hash tables.
  int addVecField() { return vecFields_.emplace_back(addField(rt_->vecType())); }
  int addTableField() { return tableFields_.emplace_back(addField(llvm::PointerType::getUnqual(ctx_))); }

  TypeLowering &types() {
    if (!types_) types_ = std::make_unique<TypeLowering>(ctx_, *p_.types, module_->getDataLayout());
    return *types_;
  }

  llvm::Value *field(llvm::IRBuilder<> &b, llvm::Value *state, int index) {
    return b.CreateStructGEP(stateType_, state, static_cast<unsigned>(index));
  }

  // ----------------------------------------------------------- functions --
  llvm::Function *newFunction(llvm::FunctionType *ty, const std::string &name, bool exported) {
    auto *f = llvm::Function::Create(ty, exported ? llvm::Function::ExternalLinkage : llvm::Function::InternalLinkage,
                                     name, module_.get());
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  }

  /// Gives loads and stores alias tags (Runtime::aliasTag): accesses
  /// through the state argument of a state-taking function are "state";
  /// reads of bytes whose pointer was read from a table entry are "bytes".
  /// Without this, a fold's accumulator store inside a loop over a table's
  /// values forces the loop to reload the entry on every iteration.
  void tagMemoryAccesses() {
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

  void declarePushFunctions() {
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    for (int id : ops_) {
      const Operator &op = p_.ops[id];
      for (unsigned port = 0; port < op.inputs.size(); ++port) {
        auto *ty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr, types().lower(op.inTypes[port])}, false);
        llvm::Function *f = newFunction(ty, "push." + op.name + "." + std::to_string(port), false);
        stateTaking_.insert(f);
        f->addFnAttr(llvm::Attribute::InlineHint);
        push_[{id, port}] = f;
      }
    }
  }

  /// Sends `value` out of output `port` of operator `id`.
  void emit(llvm::IRBuilder<> &b, llvm::Value *state, int id, unsigned port, llvm::Value *value) {
    const Operator &op = p_.ops[id];
    if (port >= op.outputs.size() || op.outputs[port] == kNone) return;
    int edge = op.outputs[port];
    const Edge &e = p_.edges[edge];
    if (auto it = bufferOf_.find(edge); it != bufferOf_.end())
      pushVec(b, state, buffers_[it->second].pending, value);
    else
      b.CreateCall(push_.at({e.to, e.toPort}), {state, value});
    if (releaseAfter_.first == id) b.CreateCall(rt_->release(), {releaseAfter_.second});
  }

  /// Generates, through `items`, the loop in which `id` emits its items one
  /// by one, placed by `b` after whatever the items are read from was made.
  /// When what an item makes in tick memory dies with it (nothing
  /// downstream keeps it), that memory is given back after each item, so a
  /// long tick reuses the same few, warm, bytes.
  void releasingEachItem(llvm::IRBuilder<> &b, int id, const std::function<void()> &items) {
    const Operator &op = p_.ops[id];
    ItemMemory m;
    m.makes = holdsPointers(op.outTypes[0]) &&
              (op.kind == OpKind::SourceStdin || op.kind == OpKind::Recv || op.kind == OpKind::DeferTick ||
               op.kind == OpKind::DeferTickLazy);
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
  struct ItemMemory {
    bool makes = false, keeps = false;
  };

  void followItems(int id, std::set<int> &seen, ItemMemory &m) {
    if (!seen.insert(id).second) return;
    for (int edge : p_.ops[id].outputs) {
      if (edge == kNone) continue;
      const Edge &e = p_.edges[edge];
      const Operator &to = p_.ops[e.to];
      if (bufferOf_.count(edge)) {
        m.keeps = m.keeps || holdsPointers(to.inTypes[e.toPort]);
        continue;
      }
      m.keeps = m.keeps || storesPointers(e.to, e.toPort);
      for (auto &a : to.args) m.makes = m.makes || (to.kind != OpKind::Send && to.kind != OpKind::Recv && allocates(*a));
      // Stateful operators may hand on values read back from their tables.
      if (!streams(to.kind))
        for (const Type *t : to.outTypes) m.makes = m.makes || holdsPointers(t);
      followItems(e.to, seen, m);
    }
  }

  /// Whether evaluating `e` may allocate tick memory: a call, `+` or list
  /// literal whose value holds strings or lists.
  bool allocates(const Expr &e) const {
    if ((e.kind == Expr::Call || e.kind == Expr::Binary || e.kind == Expr::List) && holdsPointers(e.type)) return true;
    for (auto &k : e.kids)
      if (allocates(*k)) return true;
    for (auto &st : e.stmts)
      if (allocates(*st.expr)) return true;
    for (auto &a : e.arms)
      if (allocates(*a.body)) return true;
    return false;
  }

  /// Operators that pass items on (or drop them) without keeping them.
  static bool streams(OpKind kind) {
    switch (kind) {
    case OpKind::Null:
    case OpKind::ForEach:
    case OpKind::DestFile:
    case OpKind::Send:
    case OpKind::Map:
    case OpKind::Filter:
    case OpKind::FilterMap:
    case OpKind::FlatMap:
    case OpKind::Flatten:
    case OpKind::Inspect:
    case OpKind::Identity:
    case OpKind::Enumerate:
    case OpKind::Assert:
    case OpKind::Union:
    case OpKind::Tee:
    case OpKind::Partition:
    case OpKind::DemuxEnum:
    case OpKind::Unzip: return true;
    default: return false;
    }
  }

  /// Whether `id` keeps what arrives on `port` (or a value made from it)
  /// beyond the push, and that value may point into tick memory.
  bool storesPointers(int id, unsigned port) const {
    const Operator &op = p_.ops[id];
    if (streams(op.kind)) return false;
    if (op.kind == OpKind::Fold) return holdsPointers(op.outTypes[0]);
    if (op.kind == OpKind::Scan) return holdsPointers(op.args[0]->type) || holdsPointers(op.outTypes[0]);
    return holdsPointers(op.inTypes[port]);
  }

  ExprCodegen exprGen(llvm::IRBuilder<> &b, const Operator &op) {
    ExprCodegen gen(b, types(), *rt_, p_, op.info().name, in_.lineOf(op.range.begin));
    gen.setLineOf(in_.lineOf);
    return gen;
  }

  void definePush(int id, unsigned port) {
    const Operator &op = p_.ops[id];
    llvm::Function *f = push_.at({id, port});
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
    llvm::Value *state = f->getArg(0);
    llvm::Value *item = f->getArg(1);
    ExprCodegen gen = exprGen(b, op);
    const OpState &s = state_[id];
    switch (op.kind) {
    case OpKind::Map: emit(b, state, id, 0, gen.call(*op.args[0], {item})); break;
    case OpKind::Filter: {
      llvm::Value *keep = gen.call(*op.args[0], {item});
      llvm::BasicBlock *yes = llvm::BasicBlock::Create(ctx_, "keep", f);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "done", f);
      b.CreateCondBr(keep, yes, done);
      b.SetInsertPoint(yes);
      emit(b, state, id, 0, item);
      b.CreateBr(done);
      b.SetInsertPoint(done);
      break;
    }
    case OpKind::Inspect:
      gen.call(*op.args[0], {item});
      emit(b, state, id, 0, item);
      break;
    case OpKind::Identity:
    case OpKind::Union: emit(b, state, id, 0, item); break;
    case OpKind::Tee:
      for (unsigned out = 0; out < op.outputs.size(); ++out) emit(b, state, id, out, item);
      break;
    case OpKind::ForEach: gen.call(*op.args[0], {item}); break;
    case OpKind::Null: break;
    case OpKind::Fold: {
      llvm::Value *slot = field(b, state, s.acc);
      llvm::Type *t = types().lower(op.outTypes[0]);
      b.CreateStore(gen.call(*op.args[1], {b.CreateLoad(t, slot), item}), slot);
      break;
    }
    case OpKind::Reduce: {
      llvm::Value *slot = field(b, state, s.acc);
      llvm::Value *has = field(b, state, s.has);
      llvm::Type *t = types().lower(op.outTypes[0]);
      llvm::BasicBlock *combine = llvm::BasicBlock::Create(ctx_, "combine", f);
      llvm::BasicBlock *first = llvm::BasicBlock::Create(ctx_, "first", f);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "done", f);
      b.CreateCondBr(b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), has), b.getInt8(0)), combine, first);
      b.SetInsertPoint(combine);
      b.CreateStore(gen.call(*op.args[0], {b.CreateLoad(t, slot), item}), slot);
      b.CreateBr(done);
      b.SetInsertPoint(first);
      b.CreateStore(item, slot);
      b.CreateStore(b.getInt8(1), has);
      b.CreateBr(done);
      b.SetInsertPoint(done);
      break;
    }
    case OpKind::Enumerate: {
      llvm::Value *slot = field(b, state, s.acc);
      llvm::Value *n = b.CreateLoad(b.getInt64Ty(), slot);
      b.CreateStore(b.CreateAdd(n, b.getInt64(1)), slot);
      llvm::Type *t = types().lower(op.outTypes[0]);
      llvm::Value *pair = b.CreateInsertValue(llvm::UndefValue::get(t), n, {0});
      emit(b, state, id, 0, b.CreateInsertValue(pair, item, {1}));
      break;
    }
    case OpKind::FlatMap: {
      const Expr &fn = *op.args[0];
      if (fn.kind == Expr::Lambda && fn.kids[0]->kind == Expr::Range) {
        // `|x| lo..hi`: loop in place, no list.
        const Expr &range = *fn.kids[0];
        std::vector<llvm::Value *> bounds;
        for (auto &k : range.kids) bounds.push_back(gen.callWith(fn, {item}, *k));
        loop(b, bounds[0], bounds[1], [&](llvm::Value *i) { emit(b, state, id, 0, i); },
             range.kids[0]->type->isSigned);
      } else if (fn.kind == Expr::Lambda && fn.kids[0]->kind == Expr::List && isPure(*fn.kids[0])) {
        // `|x| [a, b]`: each element emitted as it is made, no list.
        for (auto &element : fn.kids[0]->kids) emit(b, state, id, 0, gen.callWith(fn, {item}, *element));
      } else if (fn.kind == Expr::Lambda && fn.kids[0]->type->kind == Type::Range) {
        // A range computed by the closure (`if c { 0..x } else { 0..1 }`).
        llvm::Value *range = gen.call(fn, {item});
        loop(b, b.CreateExtractValue(range, {0}), b.CreateExtractValue(range, {1}),
             [&](llvm::Value *i) { emit(b, state, id, 0, i); }, fn.kids[0]->type->elems[0]->isSigned);
      } else {
        emitElements(b, gen, state, id, gen.call(fn, {item}), op.outTypes[0]);
      }
      break;
    }
    case OpKind::Flatten:
      if (op.inTypes[0]->kind == Type::Option)
        ifThen(b, b.CreateExtractValue(item, {0}), [&] { emit(b, state, id, 0, b.CreateExtractValue(item, {1})); });
      else
        emitElements(b, gen, state, id, item, op.outTypes[0]);
      break;
    case OpKind::FoldKeyed:
    case OpKind::ReduceKeyed: {
      // The accumulator of each key lives encoded in the table.
      const Type *keyType = op.inTypes[0]->elems[0];
      const Type *accType = op.outTypes[0]->elems[1];
      llvm::Value *key = b.CreateExtractValue(item, {0});
      llvm::Value *val = b.CreateExtractValue(item, {1});
      llvm::Value *table = field(b, state, s.t0);
      auto [kb, kl] = gen.encode(key, keyType, 0);
      llvm::Value *entry = b.CreateCall(rt_->mapFind(), {b.CreateLoad(b.getPtrTy(), table), kb, kl});
      llvm::Value *known = b.CreateICmpNE(rt_->entryCount(b, entry), b.getInt64(0));
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      llvm::BasicBlock *old = llvm::BasicBlock::Create(ctx_, "stored", fn);
      llvm::BasicBlock *fresh = llvm::BasicBlock::Create(ctx_, "fresh", fn);
      llvm::BasicBlock *join = llvm::BasicBlock::Create(ctx_, "update", fn);
      b.CreateCondBr(known, old, fresh);
      b.SetInsertPoint(old);
      llvm::Value *storedBytes = rt_->entryValue(b, entry, b.getInt64(0));
      llvm::Value *stored = gen.decode(storedBytes, accType);
      llvm::Value *combined = gen.call(*op.args[op.kind == OpKind::FoldKeyed ? 1 : 0], {stored, val});
      if (gen.fixedEncodedSize(accType)) {
        // Same size: updated in place in the table.
        gen.encodeInto(storedBytes, combined, accType);
        b.CreateBr(join);
        b.SetInsertPoint(fresh);
        llvm::Value *first = op.kind == OpKind::FoldKeyed ? gen.call(*op.args[1], {gen.call(*op.args[0], {}), val}) : val;
        auto [kb2, kl2] = gen.encode(key, keyType, 0);
        auto [vb, vl] = gen.encode(first, accType, 1);
        b.CreateCall(rt_->mapPut(), {table, kb2, kl2, vb, vl});
        b.CreateBr(join);
        b.SetInsertPoint(join);
        break;
      }
      llvm::BasicBlock *oldEnd = b.GetInsertBlock();
      b.CreateBr(join);
      b.SetInsertPoint(fresh);
      llvm::Value *first = op.kind == OpKind::FoldKeyed ? gen.call(*op.args[1], {gen.call(*op.args[0], {}), val}) : val;
      llvm::BasicBlock *freshEnd = b.GetInsertBlock();
      b.CreateBr(join);
      b.SetInsertPoint(join);
      llvm::PHINode *acc = b.CreatePHI(combined->getType(), 2);
      acc->addIncoming(combined, oldEnd);
      acc->addIncoming(first, freshEnd);
      // Re-encode the key: the scratch slot may have been reused by the closure.
      auto [kb2, kl2] = gen.encode(key, keyType, 0);
      auto [vb, vl] = gen.encode(acc, accType, 1);
      b.CreateCall(rt_->mapPut(), {table, kb2, kl2, vb, vl});
      break;
    }
    case OpKind::DeferTickLazy:
    case OpKind::Chain:
    case OpKind::Sort:
    case OpKind::SortByKey:
      if (op.kind == OpKind::Chain && port == 0) {
        emit(b, state, id, 0, item);
      } else {
        pushVec(b, state, op.kind == OpKind::DeferTickLazy ? s.next : s.cur, item);
      }
      break;
    case OpKind::NextStratum: emit(b, state, id, 0, item); break;
    case OpKind::FilterMap: {
      llvm::Value *o = gen.call(*op.args[0], {item});
      ifThen(b, b.CreateExtractValue(o, {0}), [&] { emit(b, state, id, 0, b.CreateExtractValue(o, {1})); });
      break;
    }
    case OpKind::DemuxEnum: {
      // Each variant's payload to its port: the field, a tuple of fields, or ().
      const Type *en = op.inTypes[0];
      const EnumInfo &info = p_.types->enumInfo(en->id);
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "demuxed", fn);
      llvm::SwitchInst *sw = b.CreateSwitch(b.CreateExtractValue(item, {0}), done);
      for (unsigned k = 0; k < info.variants.size(); ++k) {
        if (k >= op.outputs.size() || op.outputs[k] == kNone) continue; // unconnected: dropped
        llvm::BasicBlock *bb = llvm::BasicBlock::Create(ctx_, "variant", fn);
        sw->addCase(b.getInt32(k), bb);
        b.SetInsertPoint(bb);
        const auto &fieldTypes = info.variants[k].fields;
        llvm::Value *payload;
        if (fieldTypes.empty()) {
          payload = llvm::ConstantStruct::get(llvm::StructType::get(ctx_), {});
        } else {
          llvm::Value *fields = gen.variantFields(item, en, k);
          payload = fieldTypes.size() == 1 ? b.CreateExtractValue(fields, {0}) : fields;
        }
        emit(b, state, id, k, payload);
        b.CreateBr(done);
      }
      b.SetInsertPoint(done);
      break;
    }
    case OpKind::Assert:
      gen.runtimeError(b.CreateNot(gen.call(*op.args[0], {item})), "assertion failed");
      emit(b, state, id, 0, item);
      break;
    case OpKind::Scan: {
      llvm::Value *slot = field(b, state, s.acc);
      llvm::Value *acc = gen.call(*op.args[1], {b.CreateLoad(types().lower(op.outTypes[0]), slot), item});
      b.CreateStore(acc, slot);
      emit(b, state, id, 0, acc);
      break;
    }
    case OpKind::Unzip:
      emit(b, state, id, 0, b.CreateExtractValue(item, {0}));
      emit(b, state, id, 1, b.CreateExtractValue(item, {1}));
      break;
    case OpKind::Partition: {
      // The closure picks the output; an index with no connected output is a runtime error.
      llvm::Value *index = gen.call(*op.args[0], {item});
      const Type *it = op.args[0]->kids[0]->type;
      llvm::Value *wide = it->isSigned ? b.CreateSExtOrTrunc(index, b.getInt64Ty()) : b.CreateZExtOrTrunc(index, b.getInt64Ty());
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      llvm::BasicBlock *bad = llvm::BasicBlock::Create(ctx_, "no.output", fn);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "partitioned", fn);
      llvm::SwitchInst *sw = b.CreateSwitch(wide, bad);
      for (unsigned out = 0; out < op.outputs.size(); ++out) {
        if (op.outputs[out] == kNone) continue;
        llvm::BasicBlock *to = llvm::BasicBlock::Create(ctx_, "output", fn);
        sw->addCase(b.getInt64(out), to);
        b.SetInsertPoint(to);
        emit(b, state, id, out, item);
        b.CreateBr(done);
      }
      b.SetInsertPoint(bad);
      gen.runtimeError(b.getTrue(), "the index chosen by `partition` has no connected output");
      b.CreateBr(done);
      b.SetInsertPoint(done);
      break;
    }
    case OpKind::Zip: {
      // Pair the item with the oldest unmatched item of the other side, or wait.
      int mineVec = port == 0 ? s.cur : s.next, otherVec = port == 0 ? s.next : s.cur;
      int otherHead = port == 0 ? s.has : s.acc;
      const Type *otherType = op.inTypes[1 - port];
      llvm::Type *ot = types().lower(otherType);
      llvm::Value *vec = field(b, state, otherVec);
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), vec, 1));
      llvm::Value *headSlot = field(b, state, otherHead);
      llvm::Value *head = b.CreateLoad(b.getInt64Ty(), headSlot);
      llvm::Function *fn = b.GetInsertBlock()->getParent();
      llvm::BasicBlock *pair = llvm::BasicBlock::Create(ctx_, "pair", fn);
      llvm::BasicBlock *wait = llvm::BasicBlock::Create(ctx_, "wait", fn);
      llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "zipped", fn);
      b.CreateCondBr(b.CreateICmpULT(head, len), pair, wait);
      b.SetInsertPoint(pair);
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
      llvm::Value *other = b.CreateLoad(ot, b.CreateGEP(ot, data, {head}));
      b.CreateStore(b.CreateAdd(head, b.getInt64(1)), headSlot);
      llvm::Value *out = llvm::UndefValue::get(types().lower(op.outTypes[0]));
      out = b.CreateInsertValue(out, port == 0 ? item : other, {0});
      out = b.CreateInsertValue(out, port == 0 ? other : item, {1});
      emit(b, state, id, 0, out);
      b.CreateBr(done);
      b.SetInsertPoint(wait);
      pushVec(b, state, mineVec, item);
      b.CreateBr(done);
      b.SetInsertPoint(done);
      break;
    }
    case OpKind::CrossSingleton:
      if (port == 1) {
        // Only the first item of [single] counts.
        ifThen(b, b.CreateICmpEQ(b.CreateLoad(b.getInt8Ty(), field(b, state, s.has)), b.getInt8(0)), [&] {
          b.CreateStore(item, field(b, state, s.acc));
          b.CreateStore(b.getInt8(1), field(b, state, s.has));
        });
      } else {
        ifThen(b, b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), field(b, state, s.has)), b.getInt8(0)), [&] {
          llvm::Value *single = b.CreateLoad(types().lower(op.inTypes[1]), field(b, state, s.acc));
          llvm::Value *out = b.CreateInsertValue(llvm::UndefValue::get(types().lower(op.outTypes[0])), item, {0});
          emit(b, state, id, 0, b.CreateInsertValue(out, single, {1}));
        });
      }
      break;
    case OpKind::DeferSignal:
      if (port == 1) {
        b.CreateStore(b.getInt8(1), field(b, state, s.has));
      } else {
        auto [bytes, len] = gen.encode(item, op.inTypes[0], 1);
        b.CreateCall(rt_->mapInsert(), {field(b, state, s.t0), bytes, b.getInt64(0), bytes, len, b.getInt32(1)});
      }
      break;
    case OpKind::Persist: {
      // Items of earlier ticks were emitted when the stratum started; store and pass on the new one.
      auto [bytes, len] = gen.encode(item, op.inTypes[0], 1);
      b.CreateCall(rt_->mapInsert(), {field(b, state, s.t0), bytes, b.getInt64(0), bytes, len, b.getInt32(1)});
      emit(b, state, id, 0, item);
      break;
    }
    case OpKind::MultisetDelta: {
      // Pass the item on when this tick has seen it more often than the last.
      // Plain variables: lambdas below capture them (C++17 cannot capture bindings).
      llvm::Value *kb, *kl;
      std::tie(kb, kl) = gen.encode(item, op.inTypes[0], 0);
      auto countOf = [&](int table) {
        llvm::Value *entry = b.CreateCall(rt_->mapFind(), {b.CreateLoad(b.getPtrTy(), field(b, state, table)), kb, kl});
        llvm::Value *has = b.CreateICmpNE(rt_->entryCount(b, entry), b.getInt64(0));
        llvm::Value *safeEntry = entry;
        llvm::Function *fn = b.GetInsertBlock()->getParent();
        llvm::BasicBlock *read = llvm::BasicBlock::Create(ctx_, "count", fn);
        llvm::BasicBlock *from = b.GetInsertBlock();
        llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "counted", fn);
        b.CreateCondBr(has, read, done);
        b.SetInsertPoint(read);
        llvm::Value *bytes = rt_->entryValue(b, safeEntry, b.getInt64(0));
        llvm::Value *n = b.CreateAlignedLoad(b.getInt64Ty(), bytes, llvm::MaybeAlign(1));
        llvm::BasicBlock *readEnd = b.GetInsertBlock();
        b.CreateBr(done);
        b.SetInsertPoint(done);
        llvm::PHINode *phi = b.CreatePHI(b.getInt64Ty(), 2);
        phi->addIncoming(b.getInt64(0), from);
        phi->addIncoming(n, readEnd);
        return static_cast<llvm::Value *>(phi);
      };
      llvm::Value *now = b.CreateAdd(countOf(s.t0), b.getInt64(1));
      llvm::Value *before = countOf(s.t1);
      llvm::Value *countSlot = entryAlloca(b, b.getInt64Ty());
      b.CreateStore(now, countSlot);
      b.CreateCall(rt_->mapPut(), {field(b, state, s.t0), kb, kl, countSlot, b.getInt64(8)});
      ifThen(b, b.CreateICmpUGT(now, before), [&] { emit(b, state, id, 0, item); });
      break;
    }
    case OpKind::CrossJoin:
    case OpKind::CrossJoinMultiset: {
      // Both sides stored under one key; each new item pairs with the other side's items.
      const Type *mine = op.inTypes[port], *other = op.inTypes[1 - port];
      // Plain variables: lambdas below capture them (C++17 cannot capture bindings).
      llvm::Value *vb, *vl;
      std::tie(vb, vl) = gen.encode(item, mine, 1);
      llvm::Value *multiset = b.getInt32(op.kind == OpKind::CrossJoinMultiset);
      llvm::Value *added = b.CreateCall(rt_->mapInsert(), {field(b, state, port == 0 ? s.t0 : s.t1), vb, b.getInt64(0),
                                                            vb, vl, multiset});
      ifThen(b, b.CreateICmpNE(added, b.getInt32(0)), [&] {
        llvm::Value *otherTable = b.CreateLoad(b.getPtrTy(), field(b, state, port == 0 ? s.t1 : s.t0));
        llvm::Value *entry = b.CreateCall(rt_->mapFind(), {otherTable, vb, b.getInt64(0)});
        llvm::Value *count = rt_->entryCount(b, entry);
        loop(b, b.getInt64(0), count, [&](llvm::Value *i) {
          llvm::Value *theirs = gen.decode(rt_->entryValue(b, entry, i), other);
          llvm::Value *out = llvm::UndefValue::get(types().lower(op.outTypes[0]));
          out = b.CreateInsertValue(out, port == 0 ? item : theirs, {0});
          emit(b, state, id, 0, b.CreateInsertValue(out, port == 0 ? theirs : item, {1}));
        });
      });
      break;
    }
    case OpKind::Send: {
      // To a cluster by default the item is (member, T); broadcast and
      // hash(f) pick members themselves; to a process it is just T.
      const Channel &ch = p_.channels[op.channel];
      std::string name = "send(" + ch.name + ")";
      if (sendsBatches(op)) {
        appendToBatch(b, gen, state, id, item, ch.elem);
        break;
      }
      auto send = [&](llvm::Value *member, llvm::Value *v) {
        auto [bytes, len] = gen.encode(v, ch.elem, 0);
        b.CreateCall(rt_->send(), {b.getInt32(op.channel), rt_->bytes(name), b.getInt32(in_.lineOf(op.range.begin)),
                                   b.getInt32(ch.to), member, bytes, len});
      };
      // To one member of a cluster: the item's own, or by hash.
      if (ch.mode == ChannelMode::Direct) {
        send(b.CreateZExt(b.CreateExtractValue(item, {0}), b.getInt64Ty()), b.CreateExtractValue(item, {1}));
      } else {
        llvm::Value *size = b.CreateZExt(b.CreateCall(rt_->clusterSize(), {b.getInt32(ch.to)}), b.getInt64Ty());
        const Type *keyType = ch.hashFn->kids[0]->type;
        llvm::Value *key = gen.call(*ch.hashFn, {item});
        auto [kb, kl] = gen.encode(key, keyType, 1);
        llvm::Value *h = b.CreateCall(rt_->hashBytes(), {kb, kl});
        send(b.CreateURem(h, size), item);
      }
      break;
    }
    case OpKind::DestFile: {
      llvm::Value *file = b.CreateLoad(b.getPtrTy(), field(b, state, s.acc));
      b.CreateCall(rt_->fileWrite(), {file, b.CreateExtractValue(item, {0}), b.CreateExtractValue(item, {1})});
      break;
    }
    case OpKind::Unique: {
      auto [bytes, len] = gen.encode(item, op.inTypes[0], 0);
      llvm::Value *added = b.CreateCall(rt_->setInsert(), {field(b, state, s.t0), bytes, len});
      ifThen(b, b.CreateICmpNE(added, b.getInt32(0)), [&] { emit(b, state, id, 0, item); });
      break;
    }
    case OpKind::Difference:
    case OpKind::AntiJoin: {
      bool isNeg = port == 1;
      llvm::Value *key = op.kind == OpKind::AntiJoin && !isNeg ? b.CreateExtractValue(item, {0}) : item;
      const Type *keyType = op.inTypes[1];
      auto [bytes, len] = gen.encode(key, keyType, 0);
      llvm::Value *table = field(b, state, s.t0);
      if (isNeg) {
        b.CreateCall(rt_->setInsert(), {table, bytes, len});
      } else {
        if (sideStatic(op, 0)) {
          // Kept for later ticks, duplicates included.
          auto [ib, il] = gen.encode(item, op.inTypes[0], 1);
          b.CreateCall(rt_->mapInsert(), {field(b, state, s.t1), rt_->bytes(""), b.getInt64(0), ib, il, b.getInt32(1)});
        }
        llvm::Value *found = b.CreateCall(rt_->setContains(), {b.CreateLoad(b.getPtrTy(), table), bytes, len});
        ifThen(b, b.CreateICmpEQ(found, b.getInt32(0)), [&] { emit(b, state, id, 0, item); });
      }
      break;
    }
    case OpKind::Join:
    case OpKind::JoinMultiset: {
      // Symmetric hash join: store the item on its side, then pair it with
      // every value stored on the other side under the same key.
      const Type *keyType = op.inTypes[0]->elems[0];
      const Type *mine = op.inTypes[port]->elems[1], *other = op.inTypes[1 - port]->elems[1];
      llvm::Value *key = b.CreateExtractValue(item, {0});
      llvm::Value *val = b.CreateExtractValue(item, {1});
      // Plain variables: lambdas below capture them (C++17 cannot capture bindings).
      llvm::Value *kb, *kl;
      std::tie(kb, kl) = gen.encode(key, keyType, 0);
      auto [vb, vl] = gen.encode(val, mine, 1);
      llvm::Value *multiset = b.getInt32(op.kind == OpKind::JoinMultiset);
      llvm::Value *added = b.CreateCall(
          rt_->mapInsert(), {field(b, state, port == 0 ? s.t0 : s.t1), kb, kl, vb, vl, multiset});
      ifThen(b, b.CreateICmpNE(added, b.getInt32(0)), [&] {
        llvm::Value *otherTable = b.CreateLoad(b.getPtrTy(), field(b, state, port == 0 ? s.t1 : s.t0));
        llvm::Value *entry = b.CreateCall(rt_->mapFind(), {otherTable, kb, kl});
        llvm::Value *count = rt_->entryCount(b, entry);
        loop(b, b.getInt64(0), count, [&](llvm::Value *i) {
          llvm::Value *bytes = rt_->entryValue(b, entry, i);
          llvm::Value *theirs = gen.decode(bytes, other);
          llvm::Type *pairTy = types().lower(op.outTypes[0]->elems[1]);
          llvm::Value *pair = b.CreateInsertValue(llvm::UndefValue::get(pairTy), port == 0 ? val : theirs, {0});
          pair = b.CreateInsertValue(pair, port == 0 ? theirs : val, {1});
          llvm::Value *out = b.CreateInsertValue(llvm::UndefValue::get(types().lower(op.outTypes[0])), key, {0});
          emit(b, state, id, 0, b.CreateInsertValue(out, pair, {1}));
        });
      });
      break;
    }
    case OpKind::DeferTick: pushVec(b, state, s.next, item); break;
    default: break; // rejected by checkSupported
    }
    b.CreateRetVoid();
  }

  /// Appends to a vector field: stored inline while there is room, through
  /// the runtime (which grows it) when full.
  void pushVec(llvm::IRBuilder<> &b, llvm::Value *state, int vecField, llvm::Value *item) {
    llvm::Type *t = item->getType();
    llvm::Value *vec = field(b, state, vecField);
    llvm::Value *lenSlot = b.CreateStructGEP(rt_->vecType(), vec, 1);
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), lenSlot);
    llvm::Value *cap = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), vec, 2));
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *room = llvm::BasicBlock::Create(ctx_, "vec.room", f);
    llvm::BasicBlock *grow = llvm::BasicBlock::Create(ctx_, "vec.grow", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "vec.pushed", f);
    b.CreateCondBr(b.CreateICmpULT(len, cap), room, grow, llvm::MDBuilder(ctx_).createBranchWeights(1000, 1));
    b.SetInsertPoint(room);
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
    b.CreateStore(item, b.CreateGEP(t, data, {len}));
    b.CreateStore(b.CreateAdd(len, b.getInt64(1)), lenSlot);
    b.CreateBr(done);
    b.SetInsertPoint(grow);
    llvm::Value *tmp = entryAlloca(b, t);
    b.CreateStore(item, tmp);
    b.CreateCall(rt_->vecPush(), {vec, tmp, sizeOf(t)});
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }

  /// Whether a send collects its tick's items and hands them to the runtime
  /// at once at the end of the tick: when they all go to the same members
  /// (a process, or every member of a cluster), so no per-item choice.
  bool sendsBatches(const Operator &op) const {
    const Channel &ch = p_.channels[op.channel];
    return !p_.locations[ch.to].isCluster || ch.mode == ChannelMode::Broadcast;
  }

  /// Appends an item to its send's batch as the wire frames it: a 4-byte
  /// length, then the encoding written in place.
  void appendToBatch(llvm::IRBuilder<> &b, ExprCodegen &gen, llvm::Value *state, int id, llvm::Value *item,
                     const Type *t) {
    const OpState &s = state_[id];
    llvm::Value *vec = field(b, state, s.cur);
    llvm::Value *lenSlot = b.CreateStructGEP(rt_->vecType(), vec, 1);
    llvm::Value *size = gen.encodedLength(item, t);
    llvm::Value *need = b.CreateAdd(size, b.getInt64(4));
    llvm::Value *cap = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), vec, 2));
    ifThen(b, b.CreateICmpUGT(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), lenSlot), need), cap),
           [&] { b.CreateCall(rt_->vecReserve(), {vec, need}); });
    llvm::Value *used = b.CreateLoad(b.getInt64Ty(), lenSlot);
    llvm::Value *at = b.CreateGEP(b.getInt8Ty(), b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0)),
                                  {used});
    b.CreateAlignedStore(b.CreateTrunc(size, b.getInt32Ty()), at, llvm::MaybeAlign(1));
    gen.encodeInto(b.CreateGEP(b.getInt8Ty(), at, {b.getInt64(4)}), item, t);
    b.CreateStore(b.CreateAdd(used, need), lenSlot);
    llvm::Value *countSlot = field(b, state, s.acc);
    b.CreateStore(b.CreateAdd(b.CreateLoad(b.getInt64Ty(), countSlot), b.getInt64(1)), countSlot);
  }

  /// The end of a tick: a send's batch goes to the runtime.
  void sendBatch(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    const Channel &ch = p_.channels[op.channel];
    const OpState &s = state_[id];
    llvm::Value *vec = field(b, state, s.cur);
    llvm::Value *lenSlot = b.CreateStructGEP(rt_->vecType(), vec, 1);
    llvm::Value *countSlot = field(b, state, s.acc);
    llvm::Value *count = b.CreateLoad(b.getInt64Ty(), countSlot);
    ifThen(b, b.CreateICmpNE(count, b.getInt64(0)), [&] {
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
      b.CreateCall(rt_->sendBatch(), {b.getInt32(op.channel), rt_->bytes("send(" + ch.name + ")"),
                                      b.getInt32(in_.lineOf(op.range.begin)), b.getInt32(ch.to), data,
                                      b.CreateLoad(b.getInt64Ty(), lenSlot), count});
      b.CreateStore(b.getInt64(0), lenSlot);
      b.CreateStore(b.getInt64(0), countSlot);
    });
  }

  /// `zip::<'static>` at the start of a tick: each side's unmatched items
  /// move to the front of its vector, so paired items do not pile up.
  void compactZip(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    const OpState &s = state_[id];
    for (int side = 0; side < 2; ++side) {
      llvm::Type *lt = types().lower(op.inTypes[side]);
      llvm::Value *vec = field(b, state, side == 0 ? s.cur : s.next);
      llvm::Value *headSlot = field(b, state, side == 0 ? s.acc : s.has);
      llvm::Value *lenSlot = b.CreateStructGEP(rt_->vecType(), vec, 1);
      llvm::Value *head = b.CreateLoad(b.getInt64Ty(), headSlot);
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), lenSlot);
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
      llvm::Value *left = b.CreateSub(len, head);
      ifThen(b, b.CreateICmpNE(left, b.getInt64(0)), [&] {
        b.CreateMemMove(data, llvm::MaybeAlign(1), b.CreateGEP(lt, data, {head}), llvm::MaybeAlign(1),
                        b.CreateMul(left, sizeOf(lt)));
      });
      b.CreateStore(left, lenSlot);
      b.CreateStore(b.getInt64(0), headSlot);
      // Strings and lists of waiting items point into last tick's memory:
      // copy them into this tick's, as drainDeferred does.
      if (holdsPointers(op.inTypes[side])) {
        ExprCodegen gen = exprGen(b, op);
        loop(b, b.getInt64(0), left, [&](llvm::Value *i) {
          llvm::Value *at = b.CreateGEP(lt, data, {i});
          b.CreateStore(gen.copyToTick(b.CreateLoad(lt, at), op.inTypes[side]), at);
        });
      }
    }
  }

  /// Emits the items of a vector field in order, then empties it.
  void emitVec(llvm::IRBuilder<> &b, llvm::Value *state, int id, int vecField, const Type *t) {
    llvm::Type *lt = types().lower(t);
    llvm::Value *vec = field(b, state, vecField);
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), vec, 1));
    loop(b, b.getInt64(0), len, [&](llvm::Value *i) { emit(b, state, id, 0, b.CreateLoad(lt, b.CreateGEP(lt, data, {i}))); });
    b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt_->vecType(), vec, 1));
  }

  static bool sideStatic(const Operator &op, int side) {
    return static_cast<int>(op.persistence.size()) > side && op.persistence[side] == Persistence::Static;
  }

  /// What a 'static operator re-emits each tick before this tick's items:
  /// persist its stored items, a join (or cross join) whose two sides are
  /// both 'static every pair of stored items.
  void emitHistory(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    if (op.kind == OpKind::Persist) {
      emitStored(b, state, id, state_[id].t0, op.inTypes[0]);
      return;
    }
    bool join = op.kind == OpKind::Join || op.kind == OpKind::JoinMultiset;
    bool cross = op.kind == OpKind::CrossJoin || op.kind == OpKind::CrossJoinMultiset;
    if ((!join && !cross) || !sideStatic(op, 0) || !sideStatic(op, 1)) return;
    ExprCodegen gen = exprGen(b, op);
    const OpState &s = state_[id];
    llvm::Value *left = b.CreateLoad(b.getPtrTy(), field(b, state, s.t0));
    llvm::Value *right = b.CreateLoad(b.getPtrTy(), field(b, state, s.t1));
    const Type *lt = join ? op.inTypes[0]->elems[1] : op.inTypes[0];
    const Type *rt = join ? op.inTypes[1]->elems[1] : op.inTypes[1];
    llvm::Value *klen = entryAlloca(b, b.getInt64Ty());
    forEachEntry(b, left, "history", [&](llvm::Value *entry) {
      llvm::Value *keyBytes = b.CreateCall(rt_->entryKey(), {entry, klen});
      llvm::Value *other =
          b.CreateCall(rt_->mapFind(), {right, keyBytes, b.CreateLoad(b.getInt64Ty(), klen)});
      llvm::Value *key = join ? gen.decode(keyBytes, op.inTypes[0]->elems[0]) : nullptr;
      loop(b, b.getInt64(0), rt_->entryCount(b, entry), [&](llvm::Value *i) {
        llvm::Value *a = gen.decode(rt_->entryValue(b, entry, i), lt);
        loop(b, b.getInt64(0), rt_->entryCount(b, other), [&](llvm::Value *j) {
          llvm::Value *c = gen.decode(rt_->entryValue(b, other, j), rt);
          if (join) {
            llvm::Type *pairTy = types().lower(op.outTypes[0]->elems[1]);
            llvm::Value *pair =
                b.CreateInsertValue(b.CreateInsertValue(llvm::UndefValue::get(pairTy), a, {0}), c, {1});
            llvm::Value *out =
                b.CreateInsertValue(llvm::UndefValue::get(types().lower(op.outTypes[0])), key, {0});
            emit(b, state, id, 0, b.CreateInsertValue(out, pair, {1}));
          } else {
            llvm::Value *out = llvm::UndefValue::get(types().lower(op.outTypes[0]));
            emit(b, state, id, 0, b.CreateInsertValue(b.CreateInsertValue(out, a, {0}), c, {1}));
          }
        });
      });
    });
  }

  /// Runs `body` on every entry of a table, in insertion order.
  void forEachEntry(llvm::IRBuilder<> &b, llvm::Value *table, const std::string &name,
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

  /// while (more()) body(): the loops over what the runtime hands out one
  /// at a time (table entries, messages, input lines).
  void whileMore(llvm::IRBuilder<> &b, const std::string &name, const std::function<llvm::Value *()> &more,
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

  void restoreAccumulator(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    ExprCodegen gen = exprGen(b, op);
    llvm::Value *table = b.CreateLoad(b.getPtrTy(), field(b, state, state_[id].t0));
    llvm::Value *entry = b.CreateCall(rt_->mapFind(), {table, rt_->bytes(""), b.getInt64(0)});
    ifThen(b, b.CreateICmpNE(rt_->entryCount(b, entry), b.getInt64(0)), [&] {
      llvm::Value *acc = gen.decode(rt_->entryValue(b, entry, b.getInt64(0)), op.outTypes[0]);
      b.CreateStore(acc, field(b, state, state_[id].acc));
    });
  }

  void saveAccumulator(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    ExprCodegen gen = exprGen(b, op);
    auto save = [&] {
      llvm::Value *acc = b.CreateLoad(types().lower(op.outTypes[0]), field(b, state, state_[id].acc));
      auto [bytes, len] = gen.encode(acc, op.outTypes[0], 1);
      b.CreateCall(rt_->mapPut(), {field(b, state, state_[id].t0), rt_->bytes(""), b.getInt64(0), bytes, len});
    };
    if (op.kind == OpKind::Reduce)
      ifThen(b, b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), field(b, state, state_[id].has)), b.getInt8(0)), save);
    else
      save();
  }

  /// Emits every item stored in a table under the empty key (persist, defer_signal).
  void emitStored(llvm::IRBuilder<> &b, llvm::Value *state, int id, int tableField, const Type *t) {
    ExprCodegen gen = exprGen(b, p_.ops[id]);
    llvm::Value *table = b.CreateLoad(b.getPtrTy(), field(b, state, tableField));
    llvm::Value *entry = b.CreateCall(rt_->mapFind(), {table, rt_->bytes(""), b.getInt64(0)});
    llvm::Value *count = rt_->entryCount(b, entry);
    loop(b, b.getInt64(0), count, [&](llvm::Value *i) {
      emit(b, state, id, 0, gen.decode(rt_->entryValue(b, entry, i), t));
    });
  }

  /// difference/anti_join with a 'static [pos]: the items stored in earlier
  /// ticks whose key is not in this tick's [neg].
  void emitPosHistory(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    const OpState &s = state_[id];
    if ((op.kind != OpKind::Difference && op.kind != OpKind::AntiJoin) || s.t1 < 0) return;
    ExprCodegen gen = exprGen(b, op);
    llvm::Value *history = b.CreateLoad(b.getPtrTy(), field(b, state, s.t1));
    llvm::Value *entry = b.CreateCall(rt_->mapFind(), {history, rt_->bytes(""), b.getInt64(0)});
    loop(b, b.getInt64(0), b.CreateLoad(b.getInt64Ty(), field(b, state, s.acc)), [&](llvm::Value *i) {
      llvm::Value *item = gen.decode(rt_->entryValue(b, entry, i), op.inTypes[0]);
      llvm::Value *key = op.kind == OpKind::AntiJoin ? b.CreateExtractValue(item, {0}) : item;
      auto [kb, kl] = gen.encode(key, op.inTypes[1], 0);
      llvm::Value *neg = b.CreateLoad(b.getPtrTy(), field(b, state, s.t0));
      ifThen(b, b.CreateICmpEQ(b.CreateCall(rt_->setContains(), {neg, kb, kl}), b.getInt32(0)),
             [&] { emit(b, state, id, 0, item); });
    });
  }

  /// A comparator `int cmp(const void *a, const void *b)` for sort and sort_by_key.
  llvm::Function *comparator(int id) {
    const Operator &op = p_.ops[id];
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    llvm::Function *f = newFunction(llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx_), {ptr, ptr}, false),
                                    "cmp." + op.name, false);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
    ExprCodegen gen = exprGen(b, op);
    llvm::Type *t = types().lower(op.inTypes[0]);
    llvm::Value *x = b.CreateLoad(t, f->getArg(0)), *y = b.CreateLoad(t, f->getArg(1));
    if (op.kind == OpKind::SortByKey) {
      const Type *key = op.args[0]->kids[0]->type;
      b.CreateRet(gen.order(gen.call(*op.args[0], {x}), gen.call(*op.args[0], {y}), key));
    } else {
      b.CreateRet(gen.order(x, y, op.inTypes[0]));
    }
    return f;
  }

  /// Emits every element of a list value.
  void emitElements(llvm::IRBuilder<> &b, ExprCodegen &gen, llvm::Value *state, int id, llvm::Value *list,
                    const Type *elemType) {
    llvm::Type *elem = types().lower(elemType);
    llvm::Value *data = b.CreateExtractValue(list, {0});
    loop(b, b.getInt64(0), b.CreateExtractValue(list, {1}),
         [&](llvm::Value *i) { emit(b, state, id, 0, b.CreateLoad(elem, b.CreateGEP(elem, data, {i}))); });
  }

  /// Every (key, accumulator) of a keyed fold, emitted when its stratum starts.
  void emitKeyed(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    ExprCodegen gen = exprGen(b, op);
    llvm::Value *table = b.CreateLoad(b.getPtrTy(), field(b, state, state_[id].t0));
    llvm::Value *lenSlot = entryAlloca(b, b.getInt64Ty());
    forEachEntry(b, table, "keyed", [&](llvm::Value *entry) {
      llvm::Value *key = gen.decode(b.CreateCall(rt_->entryKey(), {entry, lenSlot}), op.outTypes[0]->elems[0]);
      llvm::Value *acc = gen.decode(rt_->entryValue(b, entry, b.getInt64(0)), op.outTypes[0]->elems[1]);
      llvm::Value *out = b.CreateInsertValue(llvm::UndefValue::get(types().lower(op.outTypes[0])), key, {0});
      emit(b, state, id, 0, b.CreateInsertValue(out, acc, {1}));
    });
  }

  void ifThen(llvm::IRBuilder<> &b, llvm::Value *cond, const std::function<void()> &then) {
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *yes = llvm::BasicBlock::Create(ctx_, "then", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "endif", f);
    b.CreateCondBr(cond, yes, done);
    b.SetInsertPoint(yes);
    then();
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }

  llvm::Value *sizeOf(llvm::Type *t) {
    return llvm::ConstantInt::get(llvm::Type::getInt64Ty(ctx_), module_->getDataLayout().getTypeAllocSize(t));
  }

  static llvm::Value *entryAlloca(llvm::IRBuilder<> &b, llvm::Type *t) {
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::IRBuilder<> entry(&f->getEntryBlock(), f->getEntryBlock().begin());
    return entry.CreateAlloca(t);
  }

  /// Initial accumulator of a fold (`init` or `|| init`).
  llvm::Value *foldInit(llvm::IRBuilder<> &b, const Operator &op) {
    ExprCodegen gen = exprGen(b, op);
    return gen.call(*op.args[0], {});
  }

  llvm::Function *defineInit() {
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    llvm::Function *f = newFunction(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr}, false),
                                    "dfir.init." + p_.locations[loc_].name, false);
    stateTaking_.insert(f);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
    for (int id : ops_) {
      const Operator &op = p_.ops[id];
      if (op.kind == OpKind::Fold || op.kind == OpKind::Scan)
        b.CreateStore(foldInit(b, op), field(b, f->getArg(0), state_[id].acc));
      if (op.kind == OpKind::SourceInterval) {
        ExprCodegen gen = exprGen(b, op);
        llvm::Value *period = b.CreateZExtOrTrunc(gen.value(*op.args[0]), b.getInt64Ty());
        b.CreateStore(b.CreateCall(rt_->timerAdd(), {period}), field(b, f->getArg(0), state_[id].has));
      }
      if (op.kind == OpKind::DestFile) {
        ExprCodegen gen = exprGen(b, op);
        llvm::Value *path = gen.value(*op.args[0]);
        llvm::Value *file = b.CreateCall(rt_->fileOpen(), {b.CreateExtractValue(path, {0}), b.CreateExtractValue(path, {1}),
                                                           rt_->bytes(op.info().name), b.getInt32(in_.lineOf(op.range.begin))});
        b.CreateStore(file, field(b, f->getArg(0), state_[id].acc));
      }
    }
    b.CreateRetVoid();
    return f;
  }

  /// Closes files and frees the vectors and tables of the state (what is
  /// in tick memory goes with the runtime's arenas).
  llvm::Function *defineFini() {
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    llvm::Function *f = newFunction(llvm::FunctionType::get(llvm::Type::getVoidTy(ctx_), {ptr}, false),
                                    "dfir.fini." + p_.locations[loc_].name, false);
    stateTaking_.insert(f);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
    for (int id : ops_)
      if (p_.ops[id].kind == OpKind::DestFile)
        b.CreateCall(rt_->fileClose(), {b.CreateLoad(b.getPtrTy(), field(b, f->getArg(0), state_[id].acc))});
    for (int v : vecFields_) b.CreateCall(rt_->vecFree(), {field(b, f->getArg(0), v)});
    for (int t : tableFields_) b.CreateCall(rt_->tableFree(), {field(b, f->getArg(0), t)});
    b.CreateRetVoid();
    return f;
  }

  bool isStatic(const Operator &op) const {
    return !op.persistence.empty() && op.persistence[0] == Persistence::Static;
  }

  /// One tick: 'tick state starts afresh; then per stratum: items deferred
  /// from the last tick, the bounded sources (first tick only), and the
  /// blocking operators of the stratum emit. Returns nonzero when deferred
  /// items wait for the next tick.
  llvm::Function *defineTick() {
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    llvm::Function *f = newFunction(llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx_), {ptr}, false),
                                    "dfir.tick." + p_.locations[loc_].name, false);
    stateTaking_.insert(f);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
    llvm::Value *state = f->getArg(0);
    llvm::Value *ticks = b.CreateLoad(b.getInt64Ty(), field(b, state, 0));
    llvm::Value *first = b.CreateICmpEQ(ticks, b.getInt64(0));
    for (int id : ops_) {
      const Operator &op = p_.ops[id];
      const OpState &s = state_[id];
      bool twoSided = op.kind == OpKind::Join || op.kind == OpKind::JoinMultiset || op.kind == OpKind::CrossJoin ||
                      op.kind == OpKind::CrossJoinMultiset;
      if (twoSided) {
        for (int side = 0; side < 2; ++side)
          if (!sideStatic(op, side))
            b.CreateCall(rt_->tableClear(), {b.CreateLoad(b.getPtrTy(), field(b, state, side == 0 ? s.t0 : s.t1))});
        continue;
      }
      if (isStatic(op) && s.t0 >= 0 && (op.kind == OpKind::Fold || op.kind == OpKind::Reduce || op.kind == OpKind::Scan)) {
        restoreAccumulator(b, state, id);
        continue;
      }
      bool negated = op.kind == OpKind::Difference || op.kind == OpKind::AntiJoin;
      if (negated && s.t1 >= 0) {
        llvm::Value *history = b.CreateLoad(b.getPtrTy(), field(b, state, s.t1));
        llvm::Value *entry = b.CreateCall(rt_->mapFind(), {history, rt_->bytes(""), b.getInt64(0)});
        b.CreateStore(rt_->entryCount(b, entry), field(b, state, s.acc));
      }
      if (isStatic(op) && op.kind == OpKind::Zip) {
        compactZip(b, state, id);
        continue;
      }
      if (isStatic(op) && !negated) continue;
      if (op.kind == OpKind::Fold || op.kind == OpKind::Scan) b.CreateStore(foldInit(b, op), field(b, state, s.acc));
      if (op.kind == OpKind::Reduce) b.CreateStore(b.getInt8(0), field(b, state, s.has));
      if (op.kind == OpKind::Enumerate) b.CreateStore(b.getInt64(0), field(b, state, s.acc));
      if (op.kind == OpKind::CrossSingleton || op.kind == OpKind::DeferSignal)
        b.CreateStore(b.getInt8(0), field(b, state, s.has));
      if (op.kind == OpKind::Zip) {
        for (int v : {s.cur, s.next}) b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt_->vecType(), field(b, state, v), 1));
        for (int h : {s.acc, s.has}) b.CreateStore(b.getInt64(0), field(b, state, h));
      }
      if (op.kind == OpKind::MultisetDelta) {
        // Last tick's counts become the ones to compare with.
        llvm::Value *cur = field(b, state, s.t0), *prev = field(b, state, s.t1);
        llvm::Value *c = b.CreateLoad(b.getPtrTy(), cur), *pv = b.CreateLoad(b.getPtrTy(), prev);
        b.CreateStore(pv, cur);
        b.CreateStore(c, prev);
        b.CreateCall(rt_->tableClear(), {pv});
        continue;
      }
      if (op.kind == OpKind::DeferSignal) continue; // its buffered items wait for a signal
      for (int table : {s.t0, s.t1}) {
        if (table < 0) continue;
        // difference/anti_join keep [neg] across ticks when it is 'static.
        bool keep = negated && ((table == s.t0 && sideStatic(op, 1)) || table == s.t1);
        if (!keep) b.CreateCall(rt_->tableClear(), {b.CreateLoad(b.getPtrTy(), field(b, state, table))});
      }
    }
    for (int id : ops_) {
      const OpState &s = state_[id];
      if (p_.ops[id].kind != OpKind::DeferTick && p_.ops[id].kind != OpKind::DeferTickLazy) continue;
      b.CreateCall(rt_->vecSwap(), {field(b, state, s.cur), field(b, state, s.next)});
    }
    int strata = in_.strata.numStrata[loc_];
    for (int st = 0; st < strata; ++st) {
      // What persist holds from earlier ticks comes first: this tick's items
      // are stored and passed on as they arrive.
      for (int id : ops_)
        if (in_.strata.stratum[id] == st) emitHistory(b, state, id);
      // Items deferred from the last tick first: they are this tick's input.
      // Those bound for a blocking input (a fold, the [neg] of a difference)
      // go before the others, which may already flow into that operator.
      for (bool blockingPass : {true, false}) {
        for (int id : ops_) {
          const Operator &op = p_.ops[id];
          if (op.kind != OpKind::DeferTick && op.kind != OpKind::DeferTickLazy) continue;
          int out = op.outputs.empty() ? kNone : op.outputs[0];
          if (out == kNone || in_.strata.stratum[p_.edges[out].to] != st) continue;
          const Edge &e = p_.edges[out];
          if (p_.ops[e.to].info().isBlocking(e.toPort) == blockingPass) drainDeferred(b, state, id);
        }
        // [neg] is complete: a 'static [pos] re-emits its history first.
        if (blockingPass)
          for (int id : ops_)
            if (in_.strata.stratum[id] == st) emitPosHistory(b, state, id);
      }
      for (int id : ops_) {
        const Operator &op = p_.ops[id];
        if (in_.strata.stratum[id] != st) continue;
        if (op.kind == OpKind::SourceIter || op.kind == OpKind::Initialize || op.kind == OpKind::SourceFile)
          runSource(b, state, id, first);
        if (op.kind == OpKind::SourceStdin) readStdin(b, state, id);
        if (op.kind == OpKind::Recv) receive(b, state, id);
        if (op.kind == OpKind::SourceInterval) {
          // One item per period that ended since the last tick: the firing count.
          llvm::Value *timer = b.CreateLoad(b.getInt32Ty(), field(b, state, state_[id].has));
          llvm::Value *n = b.CreateCall(rt_->timerTake(), {timer});
          llvm::Value *countSlot = field(b, state, state_[id].acc);
          loop(b, b.getInt64(0), n, [&](llvm::Value *) {
            llvm::Value *count = b.CreateLoad(b.getInt64Ty(), countSlot);
            b.CreateStore(b.CreateAdd(count, b.getInt64(1)), countSlot);
            emit(b, state, id, 0, count);
          });
        }
      }
      // Blocking operators emit once all their input (earlier strata, and
      // items deferred into them) has arrived.
      for (int id : ops_) {
        const Operator &op = p_.ops[id];
        if (in_.strata.stratum[id] != st) continue;
        if (op.kind == OpKind::Fold) emit(b, state, id, 0, b.CreateLoad(types().lower(op.outTypes[0]), field(b, state, state_[id].acc)));
        if (op.kind == OpKind::Reduce) emitReduced(b, state, id);
        if (op.kind == OpKind::FoldKeyed || op.kind == OpKind::ReduceKeyed) emitKeyed(b, state, id);
        if (op.kind == OpKind::Sort || op.kind == OpKind::SortByKey) {
          llvm::Type *t = types().lower(op.inTypes[0]);
          const Type *it = op.inTypes[0];
          if (op.kind == OpKind::Sort && it->kind == Type::Int && it->bits == 64)
            b.CreateCall(rt_->sortI64(), {field(b, state, state_[id].cur), b.getInt32(it->isSigned)});
          else
            b.CreateCall(rt_->sort(), {field(b, state, state_[id].cur), sizeOf(t), comparator(id)});
          emitVec(b, state, id, state_[id].cur, op.inTypes[0]);
        }
      }
      runFixpoint(b, state, st);
      // After everything else of the stratum: chain's [1] follows all of [0];
      // defer_signal releases what it holds if a signal came.
      for (int id : ops_) {
        const Operator &op = p_.ops[id];
        if (in_.strata.stratum[id] != st) continue;
        if (op.kind == OpKind::Chain) emitVec(b, state, id, state_[id].cur, op.inTypes[1]);
        if (op.kind == OpKind::DeferSignal) {
          ifThen(b, b.CreateICmpNE(b.CreateLoad(b.getInt8Ty(), field(b, state, state_[id].has)), b.getInt8(0)), [&] {
            emitStored(b, state, id, state_[id].t0, op.inTypes[0]);
            b.CreateCall(rt_->tableClear(), {b.CreateLoad(b.getPtrTy(), field(b, state, state_[id].t0))});
          });
        }
      }
      // What they released may feed the stratum's cycles.
      runFixpoint(b, state, st);
    }
    for (int id : ops_) {
      const Operator &op = p_.ops[id];
      if (isStatic(op) && state_[id].t0 >= 0 &&
          (op.kind == OpKind::Fold || op.kind == OpKind::Reduce || op.kind == OpKind::Scan))
        saveAccumulator(b, state, id);
    }
    for (int id : ops_)
      if (p_.ops[id].kind == OpKind::Send && sendsBatches(p_.ops[id])) sendBatch(b, state, id);
    b.CreateStore(b.CreateAdd(ticks, b.getInt64(1)), field(b, state, 0));
    llvm::Value *more = b.getFalse();
    for (int id : ops_) {
      if (p_.ops[id].kind != OpKind::DeferTick) continue;
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), field(b, state, state_[id].next), 1));
      more = b.CreateOr(more, b.CreateICmpNE(len, b.getInt64(0)));
    }
    b.CreateRet(b.CreateZExt(more, b.getInt32Ty()));
    return f;
  }

  /// Delivers the buffered items of a stratum. A cyclic stratum runs until
  /// its buffers stay empty: each round moves the pending items of every
  /// buffer aside and delivers them; items from earlier strata are part of
  /// the first round.
  void runFixpoint(llvm::IRBuilder<> &b, llvm::Value *state, int stratum) {
    std::vector<const Buffer *> mine;
    for (const Buffer &buf : buffers_)
      if (in_.strata.stratum[p_.edges[buf.edge].to] == stratum) mine.push_back(&buf);
    if (mine.empty()) return;
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *round = llvm::BasicBlock::Create(ctx_, "fixpoint", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "fixpoint.end", f);
    b.CreateBr(round);
    b.SetInsertPoint(round);
    llvm::Value *moved = b.getFalse();
    for (const Buffer *buf : mine) {
      const Edge &e = p_.edges[buf->edge];
      llvm::Type *t = types().lower(e.type);
      llvm::Value *pending = field(b, state, buf->pending), *working = field(b, state, buf->working);
      llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), pending, 1));
      moved = b.CreateOr(moved, b.CreateICmpNE(len, b.getInt64(0)));
      b.CreateCall(rt_->vecSwap(), {working, pending});
      llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), working, 0));
      llvm::Value *count = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), working, 1));
      loop(b, b.getInt64(0), count, [&](llvm::Value *i) {
        b.CreateCall(push_.at({e.to, e.toPort}), {state, b.CreateLoad(t, b.CreateGEP(t, data, {i}))});
      });
      b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt_->vecType(), working, 1));
    }
    b.CreateCondBr(moved, round, done);
    b.SetInsertPoint(done);
  }

  void emitReduced(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *yes = llvm::BasicBlock::Create(ctx_, "reduced", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "after.reduce", f);
    llvm::Value *has = b.CreateLoad(b.getInt8Ty(), field(b, state, state_[id].has));
    b.CreateCondBr(b.CreateICmpNE(has, b.getInt8(0)), yes, done);
    b.SetInsertPoint(yes);
    emit(b, state, id, 0, b.CreateLoad(types().lower(op.outTypes[0]), field(b, state, state_[id].acc)));
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }

  void drainDeferred(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    llvm::Type *t = types().lower(op.outTypes[0]);
    llvm::Value *vec = field(b, state, state_[id].cur);
    // Straight into another defer (a chain of defer_tick): the whole batch
    // moves at once, by swapping buffers when the next one is empty.
    int out = op.outputs.empty() ? kNone : op.outputs[0];
    if (out != kNone && !bufferOf_.count(out) && !holdsPointers(op.outTypes[0])) {
      const Operator &to = p_.ops[p_.edges[out].to];
      if (to.kind == OpKind::DeferTick || to.kind == OpKind::DeferTickLazy) {
        b.CreateCall(rt_->vecMove(), {field(b, state, state_[p_.edges[out].to].next), vec, sizeOf(t)});
        return;
      }
    }
    llvm::Value *data = b.CreateLoad(b.getPtrTy(), b.CreateStructGEP(rt_->vecType(), vec, 0));
    llvm::Value *len = b.CreateLoad(b.getInt64Ty(), b.CreateStructGEP(rt_->vecType(), vec, 1));
    ExprCodegen gen = exprGen(b, op);
    releasingEachItem(b, id, [&] {
      loop(b, b.getInt64(0), len, [&](llvm::Value *i) {
        llvm::Value *item = b.CreateLoad(t, b.CreateGEP(t, data, {i}));
        // Strings point into last tick's memory: copy them into this tick's,
        // so an item deferred again stays valid.
        if (holdsPointers(op.outTypes[0])) item = gen.copyToTick(item, op.outTypes[0]);
        emit(b, state, id, 0, item);
      });
    });
    b.CreateStore(b.getInt64(0), b.CreateStructGEP(rt_->vecType(), vec, 1));
  }

  /// for (i = lo; i < hi; ++i) body(i), for 64-bit integers.
  void loop(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi, const std::function<void(llvm::Value *)> &body,
            bool isSigned = false) {
    countedLoop(b, lo, hi, isSigned, body);
  }

  /// This tick's messages on a channel; from a cluster, tagged with the
  /// sender's member id.
  void receive(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    const Operator &op = p_.ops[id];
    const Channel &ch = p_.channels[op.channel];
    ExprCodegen gen = exprGen(b, op);
    llvm::Value *bytesSlot = entryAlloca(b, b.getPtrTy());
    llvm::Value *lenSlot = entryAlloca(b, b.getInt64Ty());
    llvm::Value *senderSlot = entryAlloca(b, b.getInt32Ty());
    releasingEachItem(b, id, [&] {
      whileMore(
          b, "recv",
          [&] {
            llvm::Value *got = b.CreateCall(rt_->recv(), {b.getInt32(op.channel), bytesSlot, lenSlot, senderSlot});
            return b.CreateICmpNE(got, b.getInt32(0));
          },
          [&] {
            llvm::Value *v = gen.decode(b.CreateLoad(b.getPtrTy(), bytesSlot), ch.elem);
            if (p_.locations[ch.from].isCluster) {
              llvm::Value *out = llvm::UndefValue::get(types().lower(op.outTypes[0]));
              out = b.CreateInsertValue(out, b.CreateLoad(b.getInt32Ty(), senderSlot), {0});
              v = b.CreateInsertValue(out, v, {1});
            }
            emit(b, state, id, 0, v);
          });
    });
  }

  /// This tick's lines of standard input.
  void readStdin(llvm::IRBuilder<> &b, llvm::Value *state, int id) {
    llvm::Value *ptrSlot = entryAlloca(b, b.getPtrTy());
    llvm::Value *lenSlot = entryAlloca(b, b.getInt64Ty());
    releasingEachItem(b, id, [&] {
      whileMore(
          b, "stdin",
          [&] { return b.CreateICmpNE(b.CreateCall(rt_->stdinNext(), {ptrSlot, lenSlot}), b.getInt32(0)); },
          [&] {
            llvm::Value *line = b.CreateInsertValue(llvm::UndefValue::get(types().strType()),
                                                    b.CreateLoad(b.getPtrTy(), ptrSlot), {0});
            emit(b, state, id, 0, b.CreateInsertValue(line, b.CreateLoad(b.getInt64Ty(), lenSlot), {1}));
          });
    });
  }

  void runSource(llvm::IRBuilder<> &b, llvm::Value *state, int id, llvm::Value *firstTick) {
    const Operator &op = p_.ops[id];
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::BasicBlock *run = llvm::BasicBlock::Create(ctx_, "source", f);
    llvm::BasicBlock *done = llvm::BasicBlock::Create(ctx_, "after.source", f);
    b.CreateCondBr(firstTick, run, done);
    b.SetInsertPoint(run);
    if (op.kind == OpKind::Initialize) {
      emit(b, state, id, 0, llvm::ConstantStruct::get(llvm::StructType::get(ctx_), {}));
    } else if (op.kind == OpKind::SourceFile) {
      ExprCodegen gen = exprGen(b, op);
      llvm::Value *path = gen.value(*op.args[0]);
      llvm::Value *itemsSlot = entryAlloca(b, b.getPtrTy());
      llvm::Value *countSlot = entryAlloca(b, b.getInt64Ty());
      b.CreateCall(rt_->readLines(), {b.CreateExtractValue(path, {0}), b.CreateExtractValue(path, {1}), itemsSlot,
                                      countSlot, rt_->bytes(op.info().name), b.getInt32(in_.lineOf(op.range.begin))});
      llvm::Value *list = b.CreateInsertValue(llvm::UndefValue::get(types().lower(p_.types->list(p_.types->strType()))),
                                              b.CreateLoad(b.getPtrTy(), itemsSlot), {0});
      list = b.CreateInsertValue(list, b.CreateLoad(b.getInt64Ty(), countSlot), {1});
      releasingEachItem(b, id, [&] { emitElements(b, gen, state, id, list, op.outTypes[0]); });
    } else {
      const Expr &arg = *op.args[0];
      ExprCodegen gen = exprGen(b, op);
      if (arg.kind == Expr::Range) {
        llvm::Value *lo = gen.value(*arg.kids[0]);
        llvm::Value *hi = gen.value(*arg.kids[1]);
        bool isSigned = arg.kids[0]->type->isSigned;
        releasingEachItem(b, id, [&] { loop(b, lo, hi, [&](llvm::Value *i) { emit(b, state, id, 0, i); }, isSigned); });
      } else if (arg.kind == Expr::List) {
        // Each element is made just before it is emitted.
        releasingEachItem(b, id, [&] {
          for (auto &element : arg.kids) emit(b, state, id, 0, gen.value(*element));
        });
      } else if (arg.type->kind == Type::Range) {
        llvm::Value *range = gen.value(arg);
        releasingEachItem(b, id, [&] {
          loop(b, b.CreateExtractValue(range, {0}), b.CreateExtractValue(range, {1}),
               [&](llvm::Value *i) { emit(b, state, id, 0, i); }, arg.type->elems[0]->isSigned);
        });
      } else {
        llvm::Value *list = gen.value(arg);
        releasingEachItem(b, id, [&] { emitElements(b, gen, state, id, list, op.outTypes[0]); });
      }
    }
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }

  void defineMain(llvm::GlobalVariable *desc) {
    auto *i32 = llvm::Type::getInt32Ty(ctx_);
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    llvm::Function *f = newFunction(llvm::FunctionType::get(i32, {i32, ptr}, false), "main", true);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", f));
    auto run = module_->getOrInsertFunction("dfir_rt_main", llvm::FunctionType::get(i32, {ptr, i32, ptr}, false));
    b.CreateRet(b.CreateCall(run, {desc, f->getArg(0), f->getArg(1)}));
  }

  llvm::GlobalVariable *defineDescriptor(const std::string &name, llvm::Function *init, llvm::Function *tick,
                                         llvm::Function *fini, const llvm::DataLayout &layout) {
    auto *ptr = llvm::PointerType::getUnqual(ctx_);
    auto *i64 = llvm::Type::getInt64Ty(ctx_);
    auto *i32 = llvm::Type::getInt32Ty(ctx_);
    auto *descTy = llvm::StructType::get(ctx_, {ptr, i64, ptr, ptr, ptr, i32, i32, i32, i32, i64, ptr, i32, ptr, ptr});
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
                 batchVar});
    return new llvm::GlobalVariable(*module_, descTy, true, llvm::GlobalValue::ExternalLinkage, desc,
                                    descriptorName(name));
  }

  const CodegenInput &in_;
  const Program &p_;
  int loc_;
  llvm::LLVMContext &ctx_;
  std::vector<Unsupported> &unsupported_;
  std::unique_ptr<llvm::Module> module_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<TypeLowering> types_;
  std::vector<int> ops_;
  std::vector<llvm::Type *> fields_;
  std::vector<int> vecFields_, tableFields_; // owning fields, freed by fini
  llvm::StructType *stateType_ = nullptr;
  std::map<int, OpState> state_;
  std::map<std::pair<int, unsigned>, llvm::Function *> push_;
  std::set<const llvm::Function *> stateTaking_; // functions whose first argument is the state
  std::vector<Buffer> buffers_;
  std::map<int, int> bufferOf_; // edge -> index in buffers_
  std::pair<int, llvm::Value *> releaseAfter_{kNone, nullptr}; // the operator whose items give memory back, the mark
};

} // namespace

std::unique_ptr<llvm::Module> generateLocation(const CodegenInput &in, int location, llvm::LLVMContext &ctx,
                                               const llvm::DataLayout &layout, std::vector<Unsupported> &unsupported) {
  LocationCodegen gen(in, location, ctx, unsupported);
  auto module = gen.run(layout);
  DFIR_CHECK(!module || !llvm::verifyModule(*module, &llvm::errs()), "the generated LLVM IR does not verify");
  return module;
}

} // namespace dfir::backend
