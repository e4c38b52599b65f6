//===- Jit.h - Running compiled locations in this process -----------------===//
//
// An ORC LLJIT session: modules are optimized at the requested level
// (-O0..-O3) and compiled in memory; the C runtime's functions are
// defined in the JIT's symbol table by address (absoluteSymbols), so the
// JIT never depends on what this executable exports.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llvm/IR/DataLayout.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CodeGen.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class TargetMachine;
}

namespace dfir::backend {

class JitSession {
public:
  static llvm::Expected<std::unique_ptr<JitSession>> create(unsigned optLevel);
  ~JitSession();

  /// Modules must be created in this context.
  llvm::LLVMContext &context();
  const llvm::DataLayout &dataLayout() const;
  llvm::Error add(std::unique_ptr<llvm::Module> module);
  /// Makes a shared library's symbols available to extern fns (`--load`);
  /// call before add(). Libraries are searched in order, before the C and
  /// math libraries.
  llvm::Error loadLibrary(const std::string &path);
  /// Whether `name` resolves: a loaded library, or the C or math library
  /// (not the rest of dfirc's own process).
  bool hasSymbol(const std::string &name) const;
  /// Runs the location whose descriptor the added modules export, until it
  /// is idle; returns its exit status.
  llvm::Expected<int> run(const std::string &location);
  /// Runs `counts[i]` instances of each location, joined by in-memory
  /// channels, with a scheduler seeded by `seed`.
  /// Compiles the locations' code now (the JIT compiles a module when one
  /// of its symbols is first looked up): `dfirc sim` compiles once, then
  /// forks a child per schedule.
  llvm::Error compileLocations(const std::vector<std::string> &locations);
  llvm::Expected<int> runSystem(const std::vector<std::string> &locations, const std::vector<uint32_t> &counts,
                                uint32_t channels, uint64_t seed);

private:
  struct Impl;
  explicit JitSession(std::unique_ptr<Impl> impl);
  llvm::Error addSystemLibraries();
  std::unique_ptr<Impl> impl_;
};

/// Runs the LLVM pipeline for `-O<level>` on a module (Optimize.cpp); with
/// the target machine the code is for, so that cost models (vectorization,
/// unrolling) know its registers.
void optimizeModule(llvm::Module &m, unsigned level, llvm::TargetMachine *tm);
/// LLVM's code generation level for `-O<level>`.
llvm::CodeGenOptLevel codeGenLevel(unsigned level);

} // namespace dfir::backend
