#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"

namespace dfir::passes {

namespace {
enum class PassId {
#define PASS(ID, NAME, KIND, DESC) ID,
#include "passes/Passes.def"
};

const PassId kPipeline[] = {
#define PASS(ID, NAME, KIND, DESC) PassId::ID,
#include "passes/Passes.def"
};

bool verifyAfter(const ir::Program &p, const char *stage, std::string &error) {
  std::vector<std::string> problems = ir::verify(p);
  if (problems.empty()) return true;
  error = std::string("IR verification failed after ") + stage + ":";
  for (auto &m : problems) error += "\n  " + m;
  return false;
}

/// Runs one pass; returns its printable result for --print-analysis.
std::string runOne(PassId id, ir::Program &p, PassResults &r) {
  switch (id) {
  case PassId::Stratify:
    r.strata = stratify(p);
    return printStrata(p, *r.strata);
  case PassId::Subgraphs:
    if (!r.strata) r.strata = stratify(p);
    r.subgraphs = partitionSubgraphs(p, *r.strata);
    return printSubgraphs(p, *r.subgraphs);
  }
  return "";
}
} // namespace

const std::vector<PassInfo> &allPasses() {
  static const std::vector<PassInfo> passes = {
#define PASS(ID, NAME, KIND, DESC) {NAME, PassKind::KIND, DESC},
#include "passes/Passes.def"
  };
  return passes;
}

bool isPass(const std::string &name) {
  for (auto &p : allPasses())
    if (name == p.name) return true;
  return false;
}

bool runPasses(ir::Program &p, const PassOptions &opts, PassResults &results, std::string &out,
               std::string &error) {
#ifndef NDEBUG
  const bool verify = true;
#else
  const bool verify = opts.verifyEach;
#endif
  if (verify && !verifyAfter(p, "lowering", error)) return false;
  for (PassId id : kPipeline) {
    const PassInfo &info = allPasses()[static_cast<size_t>(id)];
    std::string name = info.name;
    if (opts.disabled.count(name)) continue;
    if (opts.printIrBefore.count(name)) out += "// IR before " + name + "\n" + ir::printProgram(p);
    std::string printed = runOne(id, p, results);
    if (opts.printAnalysis.count(name)) out += printed;
    if (verify && !verifyAfter(p, info.name, error)) return false;
    if (opts.printIrAfterAll || opts.printIrAfter.count(name))
      out += "// IR after " + name + "\n" + ir::printProgram(p);
  }
  return true;
}

} // namespace dfir::passes
