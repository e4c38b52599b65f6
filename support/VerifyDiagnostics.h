//===- VerifyDiagnostics.h - `--verify-diagnostics` ------------------------===//
//
// Reads `// expected-error@+N {{text}}` (also `expected-warning`,
// `expected-note`, `@-N`, `@N` for an absolute line, `@cli` for a
// diagnostic at a transform's flag on the command line, and an optional
// count before the braces) from a buffer and compares them with the diagnostics
// actually produced. Every produced diagnostic (notes included) must be
// expected and every expectation must be met; mismatches are printed.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostics.h"

#include <cstdio>

namespace dfir {

/// Returns true when the diagnostics of buffer `file` match its expectations.
bool verifyDiagnostics(const SourceManager &sm, uint32_t file,
                       const std::vector<Diagnostic> &produced, std::FILE *out);

} // namespace dfir
