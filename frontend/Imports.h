//===- Imports.h - `import "file.dfir";` --------------------------------===//
//
// Parses the files a program imports, transitively, and adds their items
// (declarations, functions, location blocks and statements) to it, as if
// written there; each keeps its own file for diagnostics. A path is
// relative to the directory of the file that imports it. A file imported
// twice (by several files) is read once; a cycle of imports is one error
// listing its files; a missing file names the path searched.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "support/Diagnostics.h"

#include <string>
#include <vector>

namespace dfir {

/// Returns false after reporting errors. `files` receives the path of every
/// file read for an import (for depfiles).
bool resolveImports(ast::Program &program, SourceManager &sm, DiagnosticEngine &diags,
                    std::vector<std::string> &files);

} // namespace dfir
