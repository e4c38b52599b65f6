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
#include <vector>

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

  /// How many parts compile() makes of a module of this many instructions
  /// when not told: one below 1,000, two below 2,000, four below 4,000,
  /// else eight (powers of two, which machines' cores usually come in).
  /// It depends on the module only, never on the machine, so that a
  /// build's objects are the same everywhere.
  static unsigned unitsFor(size_t instructions);
  /// Optimizes the module and compiles it to object code, as `emit` does,
  /// but in `units` parts (0: unitsFor its size, or one at -O0), each optimized and
  /// compiled on a thread of its own; returns one object per part, to be
  /// joined by a relocatable link. A part has a share of the functions
  /// that are not inlined, and its own copy of the inlined functions they
  /// call. What one part uses from another gets hidden visibility and a
  /// name starting with `symbolPrefix` (unique per location).
  llvm::Expected<std::vector<std::string>> compile(std::unique_ptr<llvm::Module> m, unsigned units,
                                                   const std::string &symbolPrefix);

  /// Writes `bytes` to `path` (`-`: standard output).
  static llvm::Error writeFile(const std::string &path, llvm::StringRef bytes);

private:
  struct Impl;
  explicit ObjectEmitter(std::unique_ptr<Impl> impl);
  llvm::LLVMContext context_;
  std::unique_ptr<Impl> impl_;
};

} // namespace dfir::backend
