#include "backend-llvm/ObjectEmitter.h"

#include "backend-llvm/Jit.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace dfir::backend {

struct ObjectEmitter::Impl {
  std::unique_ptr<llvm::TargetMachine> tm;
  llvm::DataLayout layout{""};
  unsigned optLevel = 2;
};

ObjectEmitter::ObjectEmitter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ObjectEmitter::~ObjectEmitter() = default;

namespace {

llvm::Expected<std::unique_ptr<llvm::TargetMachine>> hostMachine(unsigned optLevel) {
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return llvm::createStringError(llvm::inconvertibleErrorCode(), "no target for %s: %s",
                                              triple.c_str(), error.c_str());
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt, codeGenLevel(optLevel)));
  if (!tm) return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot create a target machine");
  return tm;
}

/// Optimizes `m` and writes its object code or assembly into `bytes`.
llvm::Error generateCode(llvm::Module &m, llvm::TargetMachine &tm, unsigned optLevel, bool assembly,
                         llvm::raw_pwrite_stream &bytes) {
  m.setTargetTriple(tm.getTargetTriple().str());
  m.setDataLayout(tm.createDataLayout());
  optimizeModule(m, optLevel, &tm);
  llvm::legacy::PassManager pm;
  auto kind = assembly ? llvm::CodeGenFileType::AssemblyFile : llvm::CodeGenFileType::ObjectFile;
  // Not verified again: the module was verified as made, and LLVM's own
  // passes keep it valid.
  if (tm.addPassesToEmitFile(pm, bytes, nullptr, kind, /*DisableVerify=*/true))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "the target cannot emit this file type");
  pm.run(m);
  return llvm::Error::success();
}

/// The globals a global refers to: callees and other operands of a
/// function's instructions, or the constants of a variable's initializer.
void referencedGlobals(const llvm::GlobalValue &g, std::vector<const llvm::GlobalValue *> &out) {
  std::vector<const llvm::Value *> work;
  llvm::SmallPtrSet<const llvm::Value *, 16> seen;
  if (auto *f = llvm::dyn_cast<llvm::Function>(&g)) {
    for (const llvm::Instruction &i : llvm::instructions(f))
      for (const llvm::Value *op : i.operands())
        if (llvm::isa<llvm::Constant>(op)) work.push_back(op);
  } else if (auto *v = llvm::dyn_cast<llvm::GlobalVariable>(&g); v && v->hasInitializer()) {
    work.push_back(v->getInitializer());
  }
  while (!work.empty()) {
    const llvm::Value *v = work.back();
    work.pop_back();
    if (!seen.insert(v).second) continue;
    if (auto *gv = llvm::dyn_cast<llvm::GlobalValue>(v)) {
      out.push_back(gv);
    } else if (auto *c = llvm::dyn_cast<llvm::Constant>(v)) {
      for (const llvm::Value *op : c->operands()) work.push_back(op);
    }
  }
}

/// A function a part defines for itself: called, never otherwise used,
/// local and not kept from inlining; each part that calls one has a copy.
bool copied(const llvm::Function &f) {
  if (f.isDeclaration() || !f.hasLocalLinkage() || f.hasFnAttribute(llvm::Attribute::NoInline)) return false;
  for (const llvm::Use &u : f.uses()) {
    auto *call = llvm::dyn_cast<llvm::CallBase>(u.getUser());
    if (!call || !call->isCallee(&u)) return false;
  }
  return true;
}

/// A global each part that uses one has a copy of: a local constant.
bool copied(const llvm::GlobalVariable &v) { return v.hasLocalLinkage() && v.isConstant() && v.hasInitializer(); }

bool copied(const llvm::GlobalValue &g) {
  if (auto *f = llvm::dyn_cast<llvm::Function>(&g)) return copied(*f);
  if (auto *v = llvm::dyn_cast<llvm::GlobalVariable>(&g)) return copied(*v);
  return false;
}

/// What a function costs to optimize and compile, roughly: its
/// instructions, and those of the copies it calls (inlined into it), an
/// instruction in a loop counted four times (vectorized and unrolled, it
/// becomes several). `memo` keeps the copies' costs.
size_t costOf(const llvm::Function &f, std::map<const llvm::Function *, size_t> &memo) {
  auto [it, fresh] = memo.try_emplace(&f, 0);
  if (!fresh) return it->second;
  llvm::DominatorTree dom(const_cast<llvm::Function &>(f));
  llvm::LoopInfo loops(dom);
  size_t total = 0;
  for (const llvm::BasicBlock &block : f) {
    size_t times = loops.getLoopFor(&block) ? 4 : 1;
    for (const llvm::Instruction &i : block) {
      total += times;
      auto *call = llvm::dyn_cast<llvm::CallBase>(&i);
      const llvm::Function *callee = call ? call->getCalledFunction() : nullptr;
      if (callee && callee != &f && copied(*callee)) total += times * costOf(*callee, memo);
    }
  }
  memo[&f] = total;
  return total;
}

using Part = std::set<const llvm::GlobalValue *>;

/// Splits `m` into at most `units` parts (docs/backend.md, "Parallel code
/// generation"): the globals each part defines. Copies go to every part
/// that uses them; the other globals' homes are chosen greedily, heaviest
/// first (by costOf), each into the lightest part so far; variables go to
/// the first part (`m` has no aliases: compile keeps such a module whole).
/// What a part uses from another is renamed and made hidden in `m`.
std::vector<Part> split(llvm::Module &m, unsigned units, const std::string &symbolPrefix) {
  std::map<const llvm::GlobalValue *, std::vector<const llvm::GlobalValue *>> refs;
  for (const llvm::GlobalValue &g : m.global_values()) referencedGlobals(g, refs[&g]);
  // What a global brings into its part: itself and the copies it uses.
  auto closure = [&](const llvm::GlobalValue *root) {
    std::vector<const llvm::GlobalValue *> out{root}, work{root};
    std::set<const llvm::GlobalValue *> seen{root};
    while (!work.empty()) {
      const llvm::GlobalValue *g = work.back();
      work.pop_back();
      for (const llvm::GlobalValue *r : refs[g])
        if (copied(*r) && seen.insert(r).second) {
          out.push_back(r);
          work.push_back(r);
        }
    }
    return out;
  };
  std::vector<const llvm::Function *> roots;
  std::vector<std::set<const llvm::GlobalValue *>> defs(units);
  for (const llvm::GlobalValue &g : m.global_values()) {
    if (g.isDeclaration() || copied(g)) continue;
    if (auto *f = llvm::dyn_cast<llvm::Function>(&g)) roots.push_back(f);
    else
      for (const llvm::GlobalValue *c : closure(&g)) defs[0].insert(c);
  }
  std::map<const llvm::Function *, size_t> weight, cost;
  for (const llvm::Function *f : roots) weight[f] = costOf(*f, cost);
  std::stable_sort(roots.begin(), roots.end(),
                   [&](const llvm::Function *a, const llvm::Function *b) { return weight[a] > weight[b]; });
  std::vector<size_t> load(units, 0);
  for (const llvm::Function *f : roots) {
    unsigned part = static_cast<unsigned>(std::min_element(load.begin(), load.end()) - load.begin());
    load[part] += weight[f];
    for (const llvm::GlobalValue *c : closure(f)) defs[part].insert(c);
  }
  // What a part uses and another defines becomes hidden and global, under
  // a name no other location's object has.
  std::set<llvm::GlobalValue *> shared;
  for (unsigned part = 0; part < units; ++part)
    for (const llvm::GlobalValue *g : defs[part])
      for (const llvm::GlobalValue *r : refs[g])
        if (!r->isDeclaration() && !defs[part].count(r) && r->hasLocalLinkage())
          shared.insert(const_cast<llvm::GlobalValue *>(r));
  for (llvm::GlobalValue *g : shared) {
    g->setName(symbolPrefix + "." + g->getName());
    g->setLinkage(llvm::GlobalValue::ExternalLinkage);
    g->setVisibility(llvm::GlobalValue::HiddenVisibility);
    g->setDSOLocal(true);
  }
  defs.erase(std::remove_if(defs.begin(), defs.end(), [](const Part &p) { return p.empty(); }), defs.end());
  return defs;
}

/// A part of `m` as bitcode, to be read into another context.
llvm::SmallVector<char, 0> bitcodeOf(const llvm::Module &m, const Part &part) {
  llvm::ValueToValueMapTy map;
  std::unique_ptr<llvm::Module> piece =
      llvm::CloneModule(m, map, [&](const llvm::GlobalValue *g) { return part.count(g) != 0; });
  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream out(bytes);
  llvm::WriteBitcodeToFile(*piece, out);
  return bytes;
}

} // namespace

llvm::Expected<std::unique_ptr<ObjectEmitter>> ObjectEmitter::create(unsigned optLevel) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto tm = hostMachine(optLevel);
  if (!tm) return tm.takeError();
  auto impl = std::make_unique<Impl>();
  impl->tm = std::move(*tm);
  impl->layout = impl->tm->createDataLayout();
  impl->optLevel = optLevel;
  return std::unique_ptr<ObjectEmitter>(new ObjectEmitter(std::move(impl)));
}

const llvm::DataLayout &ObjectEmitter::dataLayout() const { return impl_->layout; }

void ObjectEmitter::optimize(llvm::Module &m) {
  m.setTargetTriple(impl_->tm->getTargetTriple().str());
  m.setDataLayout(impl_->layout);
  optimizeModule(m, impl_->optLevel, impl_->tm.get());
}

llvm::Error ObjectEmitter::emit(llvm::Module &m, const std::string &path, bool assembly) {
  // Emitted into memory first: an object file is written with seeks, and
  // `-` (standard output) may be a pipe.
  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream buffer(bytes);
  if (auto err = generateCode(m, *impl_->tm, impl_->optLevel, assembly, buffer)) return err;
  return writeFile(path, llvm::StringRef(bytes.data(), bytes.size()));
}

llvm::Error ObjectEmitter::writeFile(const std::string &path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) return llvm::createStringError(ec, "cannot write `%s`: %s", path.c_str(), ec.message().c_str());
  out.write(bytes.data(), bytes.size());
  out.flush();
  if (out.has_error()) {
    std::error_code err = out.error();
    out.clear_error(); // or the stream's destructor aborts
    return llvm::createStringError(err, "cannot write `%s`: %s", path.c_str(), err.message().c_str());
  }
  return llvm::Error::success();
}

unsigned ObjectEmitter::unitsFor(size_t instructions) {
  unsigned units = 1;
  while (units < 8 && instructions >= 1000 * units) units *= 2;
  return units;
}

llvm::Expected<std::vector<std::string>> ObjectEmitter::compile(std::unique_ptr<llvm::Module> m, unsigned units,
                                                                const std::string &symbolPrefix) {
  // At -O0, code generation is quick: one part unless told. An alias must
  // be defined with what it names, which splitting does not ensure (dfirc
  // makes none): a module with one stays whole.
  if (units == 0) units = impl_->optLevel == 0 ? 1 : unitsFor(m->getInstructionCount());
  if (!m->alias_empty() || !m->ifunc_empty()) units = 1;
  std::vector<std::string> objects;
  if (units <= 1) {
    llvm::SmallVector<char, 0> bytes;
    llvm::raw_svector_ostream out(bytes);
    if (auto err = generateCode(*m, *impl_->tm, impl_->optLevel, false, out)) return err;
    objects.emplace_back(bytes.data(), bytes.size());
    return objects;
  }
  std::vector<Part> parts = split(*m, units, symbolPrefix);
  objects.resize(parts.size());
  std::vector<std::string> errors(parts.size());
  std::atomic<size_t> next{0};
  // A thread takes the next part, copies it out of `m` as bitcode (one
  // thread at a time: cloning touches `m`'s context) and reads it into a
  // context of its own, then optimizes and compiles it while the next
  // part is copied.
  std::mutex cloning;
  auto work = [&] {
    for (size_t i; (i = next++) < parts.size();) {
      llvm::SmallVector<char, 0> bitcode;
      {
        std::lock_guard<std::mutex> lock(cloning);
        bitcode = bitcodeOf(*m, parts[i]);
      }
      llvm::LLVMContext ctx;
      llvm::MemoryBufferRef buffer(llvm::StringRef(bitcode.data(), bitcode.size()), "part");
      auto piece = llvm::parseBitcodeFile(buffer, ctx);
      llvm::Error err = piece.takeError();
      llvm::SmallVector<char, 0> bytes;
      if (!err) {
        auto tm = hostMachine(impl_->optLevel);
        llvm::raw_svector_ostream out(bytes);
        err = tm ? generateCode(**piece, **tm, impl_->optLevel, false, out) : tm.takeError();
      }
      if (err) errors[i] = llvm::toString(std::move(err));
      objects[i].assign(bytes.data(), bytes.size());
    }
  };
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < std::min<size_t>(cores, parts.size()); ++t) threads.emplace_back(work);
  work();
  for (std::thread &t : threads) t.join();
  for (const std::string &e : errors)
    if (!e.empty()) return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", e.c_str());
  return objects;
}

} // namespace dfir::backend
