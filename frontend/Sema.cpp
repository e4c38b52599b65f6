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

namespace {
bool runChecks(ast::Program &program, SemaContext &ctx) {
  unsigned before = ctx.diags.errorCount();
  checkDeclarations(program, ctx);
  buildGraph(program, ctx);
  if (ctx.diags.errorCount() != before) return false;
  checkLoops(program, ctx);
  if (ctx.diags.errorCount() != before) return false;
  checkCycles(ctx);
  checkGraphTypes(program, ctx);
  checkStateRefCycles(ctx);
  if (ctx.diags.errorCount() == before) checkLoopCycles(program, ctx);
  return ctx.diags.errorCount() == before;
}
} // namespace

bool checkProgram(ast::Program &program, const SourceManager &sm, DiagnosticEngine &diags) {
  SemaContext ctx(sm, diags);
  return runChecks(program, ctx);
}

std::unique_ptr<ir::Program> lowerProgram(ast::Program &program, const SourceManager &sm,
                                          DiagnosticEngine &diags) {
  SemaContext ctx(sm, diags);
  if (!runChecks(program, ctx)) return nullptr;
  return lowerToIR(program, ctx);
}

} // namespace dfir
