//===- Sema.h - Semantic checks of a parsed program -----------------------===//
#pragma once

#include "frontend/AST.h"
#include "support/Diagnostics.h"
#include "ir/IR.h"

#include <memory>

namespace dfir {

/// Resolves names, builds and checks the operator graph, infers types,
/// checks locations and the cycle rule. Returns false after reporting errors.
bool checkProgram(ast::Program &program, const SourceManager &sm, DiagnosticEngine &diags);

/// Checks the program and, when it is correct, lowers it to the graph IR
/// (consuming the AST's expressions). Returns null after reporting errors.
std::unique_ptr<ir::Program> lowerProgram(ast::Program &program, const SourceManager &sm,
                                          DiagnosticEngine &diags);

} // namespace dfir
