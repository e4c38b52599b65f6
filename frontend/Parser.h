//===- Parser.h - Text to AST (the ANTLR boundary) ------------------------===//
//
// The only place that touches ANTLR. Lexical and syntax errors go to the
// DiagnosticEngine as registered kinds; ANTLR never prints and its exceptions
// never escape. A file with syntax errors yields no AST.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "support/Diagnostics.h"

#include <memory>
#include <string>

namespace dfir {

/// Parses buffer `file`; returns null after reporting errors.
std::unique_ptr<ast::Program> parseProgram(const SourceManager &sm, uint32_t file,
                                           DiagnosticEngine &diags);

/// One line per token: `KIND 'text' line:col` (`--emit=tokens`). Returns
/// false after reporting lexical errors.
bool dumpTokens(const SourceManager &sm, uint32_t file, DiagnosticEngine &diags,
                std::string &out);

} // namespace dfir
