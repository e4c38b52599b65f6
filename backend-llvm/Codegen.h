//===- Codegen.h - Graph IR -> LLVM IR, one module per location -----------===//
//
// Compiles a location to push-based fused code: every operator input port
// becomes an internal function `push_<op>_<port>(state, item)` that does the
// operator's work and calls the next operator's push function directly, so
// LLVM inlines a chain of element-wise operators into one loop with no
// per-item call. Sources start the pushes, blocking operators emit when
// their stratum starts, and `tick()` runs the strata in order
// (docs/backend.md). The module exports one `dfir_location` descriptor
// (runtime/dfir_rt.h), named `dfir_location_<name>` or as the driver asks.
//
// Only llvm/IR types appear here; the JIT and object emission live in
// their own files.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "passes/Analyses.h"

#include "llvm/IR/DataLayout.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dfir::backend {

/// A construct the code generator cannot compile yet, at a place in the
/// user's program; the driver reports it as a diagnostic.
struct Unsupported {
  SourceRange range;
  std::string what;
};

struct CodegenInput {
  const ir::Program &program;
  const passes::Strata &strata;
  const passes::Subgraphs &subgraphs;
  /// Line of a source position, for runtime error messages.
  std::function<unsigned(SourceLoc)> lineOf;
  /// Also define `int main(int, char **)` running the location (executables).
  bool withMain = false;
  /// The name of the exported descriptor; empty: `descriptorName(location)`.
  std::string descriptorSymbol = {};
  /// Emit DWARF line tables (`-g`): each operator's code at its line of
  /// `sourcePath`, so that debuggers and profilers show DFIR lines.
  bool debugInfo = false;
  std::string sourcePath = {};
  /// Identify the build to its peers (docs/deployment.md): a hash of the
  /// whole program, and per channel a hash of its element type.
  uint64_t fingerprint = 0;
  std::vector<uint64_t> channelFingerprints = {};
  /// Count each operator's items and say which one runs, for profiles
  /// (docs/profiling.md); the descriptor then describes the operators.
  bool profile = false;
};

/// Returns null and fills `unsupported` when the location uses something
/// the code generator does not handle.
std::unique_ptr<llvm::Module> generateLocation(const CodegenInput &in, int location, llvm::LLVMContext &ctx,
                                               const llvm::DataLayout &layout, std::vector<Unsupported> &unsupported);

/// The descriptor symbol a location's module exports.
std::string descriptorName(const std::string &location);

} // namespace dfir::backend
