//===- Sema.h - Semantic checks of a parsed program -----------------------===//
#pragma once

#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

namespace dfir {

/// Resolves names, builds and checks the operator graph, infers types,
/// checks locations and the cycle rule. Returns false after reporting errors.
bool checkProgram(ast::Program &program, const SourceManager &sm, DiagnosticEngine &diags);

} // namespace dfir
