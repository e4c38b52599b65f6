//===- Instantiate.h - Subgraph instances -> plain statements -------------===//
//
// Expands every use of a `subgraph` into statements of the location that
// uses it (Instantiate.cpp says how), before the checks run.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "support/Diagnostics.h"

namespace dfir {

/// Returns false after reporting errors.
bool instantiateSubgraphs(ast::Program &program, SourceManager &sm, DiagnosticEngine &diags);

} // namespace dfir
