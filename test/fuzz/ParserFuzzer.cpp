// The frontend must never crash or hang, whatever bytes it is given, and
// every program it accepts must lower to IR that verifies, analyses and
// prints, and compile to LLVM IR that verifies (or be reported as not
// supported yet). Built as a libFuzzer target with clang (-DDFIR_BUILD_FUZZER=ON)
// and always as `dfir-fuzz-replay`, which runs the same entry point over
// files (the lit suite replays mutated test inputs).
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Analyses.h"
#include "backend-llvm/Codegen.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dfir::SourceManager sm;
  uint32_t file = sm.addBuffer("fuzz.dfir", std::string(reinterpret_cast<const char *>(data), size));
  dfir::DiagnosticEngine diags(sm);
  dfir::CollectingConsumer sink;
  diags.addConsumer(&sink);
  auto ast = dfir::parseProgram(sm, file, diags);
  if (!ast) return 0;
  auto program = dfir::lowerProgram(*ast, sm, diags);
  if (!program) return 0;
  auto problems = dfir::ir::verify(*program);
  if (!problems.empty()) {
    std::fprintf(stderr, "verifier: %s\n", problems[0].c_str());
    std::abort();
  }
  auto strata = dfir::passes::stratify(*program);
  auto subgraphs = dfir::passes::partitionSubgraphs(*program, strata);
  dfir::ir::printProgram(*program);
  for (size_t l = 0; l < program->locations.size(); ++l) {
    llvm::LLVMContext ctx;
    llvm::DataLayout layout("e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128");
    dfir::backend::CodegenInput in{*program, strata, subgraphs, [&](dfir::SourceLoc loc) { return sm.lineCol(loc).line; }};
    std::vector<dfir::backend::Unsupported> unsupported;
    // Every checked program compiles: anything else is a bug to find.
    if (!dfir::backend::generateLocation(in, static_cast<int>(l), ctx, layout, unsupported)) abort();
  }
  return 0;
}
