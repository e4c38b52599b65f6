// The one translation unit that includes LLJIT.
#include "backend-llvm/Jit.h"

#include "backend-llvm/Codegen.h"
#include "dfir_rt.h"

#include "llvm/Target/TargetMachine.h"

#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/TargetSelect.h"

namespace dfir::backend {

struct JitSession::Impl {
  std::unique_ptr<llvm::TargetMachine> tm; // for the optimizer; outlives the JIT
  std::unique_ptr<llvm::orc::LLJIT> jit;
  llvm::orc::ThreadSafeContext context{std::make_unique<llvm::LLVMContext>()};
  unsigned optLevel = 2;
  bool systemSearched = false;
  /// Where extern fns come from, in order: the libraries of --load, then
  /// what `dfirc build` links (kSystemLibraries). Not the rest of dfirc's
  /// own process: a library dfirc happens to use is not the user's.
  std::vector<llvm::sys::DynamicLibrary> libraries;
};

namespace {
/// What `cc` links into an executable besides the user's files: the C and
/// math libraries, and the compiler's helpers (128-bit division...).
const char *const kSystemLibraries[] = {"libc.so.6", "libm.so.6", "libgcc_s.so.1"};
} // namespace

JitSession::JitSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JitSession::~JitSession() = default;

namespace {
/// Every runtime function generated code may call, by address.
llvm::orc::SymbolMap runtimeSymbols(llvm::orc::LLJIT &jit) {
  llvm::orc::SymbolMap map;
  auto add = [&](const char *name, auto *fn) {
    map[jit.mangleAndIntern(name)] = {llvm::orc::ExecutorAddr::fromPtr(reinterpret_cast<void *>(fn)),
                                      llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  };
#define DFIR_RT_SYMBOL(NAME) add(#NAME, &NAME);
#include "dfir_rt_symbols.def"
  // The one variable: what `fn`s compare their frame with.
  map[jit.mangleAndIntern("dfir_rt_stack_floor")] = {llvm::orc::ExecutorAddr::fromPtr(&dfir_rt_stack_floor),
                                                     llvm::JITSymbolFlags::Exported};
  return map;
}
} // namespace

llvm::Expected<std::unique_ptr<JitSession>> JitSession::create(unsigned optLevel) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto impl = std::make_unique<Impl>();
  impl->optLevel = optLevel;
  // The host's own machine: the JIT runs the code here. Code generation at
  // the level asked for, as `dfirc build` does (LLJIT's own default is -O2
  // code generation whatever the IR's level).
  auto host = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!host) return host.takeError();
  host->setCodeGenOptLevel(codeGenLevel(optLevel));
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*host).create();
  if (!jit) return jit.takeError();
  impl->jit = std::move(*jit);
  if (auto err = impl->jit->getMainJITDylib().define(llvm::orc::absoluteSymbols(runtimeSymbols(*impl->jit))))
    return err;

  unsigned level = optLevel;
  auto tm = host->createTargetMachine();
  if (!tm) return tm.takeError();
  impl->tm = std::move(*tm);
  llvm::TargetMachine *machine = impl->tm.get();
  impl->jit->getIRTransformLayer().setTransform(
      [level, machine](llvm::orc::ThreadSafeModule tsm, const llvm::orc::MaterializationResponsibility &) {
        tsm.withModuleDo([level, machine](llvm::Module &m) { optimizeModule(m, level, machine); });
        return llvm::Expected<llvm::orc::ThreadSafeModule>(std::move(tsm));
      });
  return std::unique_ptr<JitSession>(new JitSession(std::move(impl)));
}

llvm::LLVMContext &JitSession::context() { return *impl_->context.getContext(); }
const llvm::DataLayout &JitSession::dataLayout() const { return impl_->jit->getDataLayout(); }

llvm::Error JitSession::add(std::unique_ptr<llvm::Module> module) {
  // Extern fns resolve against the libraries of --load first (in order),
  // then the C and math libraries, so a user's function wins over a
  // same-named one of the C library.
  if (!impl_->systemSearched) {
    if (auto err = addSystemLibraries()) return err;
    impl_->systemSearched = true;
  }
  return impl_->jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), impl_->context));
}

llvm::Error JitSession::loadLibrary(const std::string &path) {
  std::string message;
  llvm::sys::DynamicLibrary library = llvm::sys::DynamicLibrary::getPermanentLibrary(path.c_str(), &message);
  if (!library.isValid())
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot load `%s`: %s", path.c_str(),
                                   message.c_str());
  impl_->libraries.push_back(library);
  impl_->jit->getMainJITDylib().addGenerator(std::make_unique<llvm::orc::DynamicLibrarySearchGenerator>(
      library, impl_->jit->getDataLayout().getGlobalPrefix()));
  return llvm::Error::success();
}

llvm::Error JitSession::addSystemLibraries() {
  for (const char *name : kSystemLibraries) {
    std::string message;
    llvm::sys::DynamicLibrary library = llvm::sys::DynamicLibrary::getPermanentLibrary(name, &message);
    if (!library.isValid())
      return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot load `%s`: %s", name, message.c_str());
    impl_->libraries.push_back(library);
    impl_->jit->getMainJITDylib().addGenerator(std::make_unique<llvm::orc::DynamicLibrarySearchGenerator>(
        library, impl_->jit->getDataLayout().getGlobalPrefix()));
  }
  return llvm::Error::success();
}

bool JitSession::hasSymbol(const std::string &name) const {
  for (llvm::sys::DynamicLibrary library : impl_->libraries)
    if (library.getAddressOfSymbol(name.c_str())) return true;
  for (const char *system : kSystemLibraries) {
    std::string message;
    llvm::sys::DynamicLibrary library = llvm::sys::DynamicLibrary::getPermanentLibrary(system, &message);
    if (library.isValid() && library.getAddressOfSymbol(name.c_str())) return true;
  }
  return false;
}

llvm::Expected<int> JitSession::run(const std::string &location) {
  auto sym = impl_->jit->lookup(descriptorName(location));
  if (!sym) return sym.takeError();
  return dfir_rt_run(sym->toPtr<const dfir_location *>());
}

llvm::Error JitSession::compileLocations(const std::vector<std::string> &locations) {
  for (auto &name : locations)
    if (auto sym = impl_->jit->lookup(descriptorName(name)); !sym) return sym.takeError();
  return llvm::Error::success();
}

llvm::Expected<int> JitSession::runSystem(const std::vector<std::string> &locations,
                                          const std::vector<uint32_t> &counts, uint32_t channels, uint64_t seed) {
  std::vector<const dfir_location *> descriptors;
  for (auto &name : locations) {
    auto sym = impl_->jit->lookup(descriptorName(name));
    if (!sym) return sym.takeError();
    descriptors.push_back(sym->toPtr<const dfir_location *>());
  }
  return dfir_rt_run_system(descriptors.data(), counts.data(), static_cast<uint32_t>(locations.size()), channels,
                            seed);
}

} // namespace dfir::backend
