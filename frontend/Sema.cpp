//===- Sema.cpp - Runs the semantic checks in order -----------------------===//
//
// Declarations, then the graph (names, ports, arity, channels, locations),
// then the cycle rule and the types. A phase that reported errors stops the
// ones that depend on it, so one mistake does not cascade.
//
//===----------------------------------------------------------------------===//
#include "frontend/Sema.h"
#include "frontend/SemaContext.h"

namespace dfir {

bool checkProgram(ast::Program &program, const SourceManager &sm, DiagnosticEngine &diags) {
  SemaContext ctx(sm, diags);
  unsigned before = diags.errorCount();
  checkDeclarations(program, ctx);
  buildGraph(program, ctx);
  if (diags.errorCount() != before) return false;
  checkCycles(ctx);
  checkGraphTypes(program, ctx);
  return diags.errorCount() == before;
}

} // namespace dfir
