// A test's program, parsed, checked and lowered to the IR.
#pragma once

#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <memory>
#include <string>

namespace dfir::test {

/// Null if the program has errors. The source manager lives as long as the
/// test binary, so that source ranges in the program stay meaningful.
inline std::unique_ptr<ir::Program> lower(const std::string &text) {
  static SourceManager sm;
  uint32_t f = sm.addBuffer("t.dfir", text);
  DiagnosticEngine diags(sm);
  CollectingConsumer c;
  diags.addConsumer(&c);
  auto ast = parseProgram(sm, f, diags);
  if (!ast) return nullptr;
  return lowerProgram(*ast, sm, diags);
}

} // namespace dfir::test
