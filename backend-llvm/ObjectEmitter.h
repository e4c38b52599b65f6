//===- ObjectEmitter.h - Object files and assembly for the host -----------===//
//
// Position-independent code (Debian links executables as PIE) for the host
// triple and a generic CPU of its architecture, so a binary runs on any
// machine of that architecture.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/IR/DataLayout.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace dfir::backend {

class ObjectEmitter {
public:
  static llvm::Expected<std::unique_ptr<ObjectEmitter>> create(unsigned optLevel);
  ~ObjectEmitter();

  llvm::LLVMContext &context() { return context_; }
  const llvm::DataLayout &dataLayout() const;
  /// Sets the module's triple and layout and optimizes it for this target.
  void optimize(llvm::Module &m);
  /// Sets the module's triple and layout, optimizes it and writes it.
  llvm::Error emit(llvm::Module &m, const std::string &path, bool assembly);

private:
  struct Impl;
  explicit ObjectEmitter(std::unique_ptr<Impl> impl);
  llvm::LLVMContext context_;
  std::unique_ptr<Impl> impl_;
};

} // namespace dfir::backend
