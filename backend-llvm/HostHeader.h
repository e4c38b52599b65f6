//===- HostHeader.h - The C header of one location, for its host ----------===//
//
// `dfirc build --emit=header` writes, for one location, what a C or C++
// host needs to embed it (docs/embedding.md): the C types of the values
// its host channels and extern fns carry, laid out exactly as the code
// generator lays them out in memory (ExprCodegen.cpp's TypeLowering), the
// prototypes of the extern fns, the descriptor, and typed functions over
// the runtime's embedding API. No LLVM here: the layout follows the C rules
// that LLVM's x86-64 and AArch64 data layouts also follow.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace dfir::backend {

struct HostHeaderInput {
  const ir::Program &program;
  int location;
  std::string prefix;     // C names start with it; the descriptor is `<prefix>_location`
  std::string sourceName; // the program's file, for the comment at the top
  uint64_t fingerprint;   // the program's, as the object's descriptor has it
  std::function<unsigned(SourceLoc)> lineOf;
};

struct HostHeaderError {
  SourceRange range;
  std::string message;
};

/// The header's text, or why a type cannot be given to C.
std::string hostHeader(const HostHeaderInput &in, std::optional<HostHeaderError> &error);

} // namespace dfir::backend
