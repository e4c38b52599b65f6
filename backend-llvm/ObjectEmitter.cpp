#include "backend-llvm/ObjectEmitter.h"

#include "backend-llvm/Jit.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

namespace dfir::backend {

struct ObjectEmitter::Impl {
  std::unique_ptr<llvm::TargetMachine> tm;
  llvm::DataLayout layout{""};
  unsigned optLevel = 2;
};

ObjectEmitter::ObjectEmitter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ObjectEmitter::~ObjectEmitter() = default;

llvm::Expected<std::unique_ptr<ObjectEmitter>> ObjectEmitter::create(unsigned optLevel) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) return llvm::createStringError(llvm::inconvertibleErrorCode(), "no target for %s: %s",
                                              triple.c_str(), error.c_str());
  llvm::CodeGenOptLevel level = optLevel == 0   ? llvm::CodeGenOptLevel::None
                                : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                : llvm::CodeGenOptLevel::Aggressive;
  auto impl = std::make_unique<Impl>();
  impl->tm.reset(target->createTargetMachine(triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_,
                                             std::nullopt, level));
  if (!impl->tm) return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot create a target machine");
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
  m.setTargetTriple(impl_->tm->getTargetTriple().str());
  m.setDataLayout(impl_->layout);
  optimizeModule(m, impl_->optLevel, impl_->tm.get());
  // Emitted into memory first: an object file is written with seeks, and
  // `-` (standard output) may be a pipe.
  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream buffer(bytes);
  llvm::legacy::PassManager pm;
  auto kind = assembly ? llvm::CodeGenFileType::AssemblyFile : llvm::CodeGenFileType::ObjectFile;
  if (impl_->tm->addPassesToEmitFile(pm, buffer, nullptr, kind))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "the target cannot emit this file type");
  pm.run(m);
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

} // namespace dfir::backend
