// The parser and semantic checks must never crash or hang, whatever bytes
// they are given. Built as a libFuzzer target with clang
// (-DDFIR_BUILD_FUZZER=ON) and always as `dfir-fuzz-replay`, which runs the
// same entry point over files (the lit suite replays mutated test inputs).
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  dfir::SourceManager sm;
  uint32_t file = sm.addBuffer("fuzz.dfir", std::string(reinterpret_cast<const char *>(data), size));
  dfir::DiagnosticEngine diags(sm);
  dfir::CollectingConsumer sink;
  diags.addConsumer(&sink);
  if (auto program = dfir::parseProgram(sm, file, diags)) dfir::checkProgram(*program, sm, diags);
  return 0;
}
