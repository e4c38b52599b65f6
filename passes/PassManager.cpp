#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Transforms.h"

#include <cctype>
#include <cstdlib>

namespace dfir::passes {

namespace {
enum class TransformId {
#define TRANSFORM(ID, NAME, DESC, OPTIONS) ID,
#include "passes/Passes.def"
};

const TransformInfo *findTransform(const std::string &name, TransformId *id = nullptr) {
  const auto &all = allTransforms();
  for (size_t i = 0; i < all.size(); ++i)
    if (name == all[i].name) {
      if (id) *id = static_cast<TransformId>(i);
      return &all[i];
    }
  return nullptr;
}

bool runTransform(TransformId id, ir::Program &p, const PassInvocation &inv, TransformContext &ctx) {
  switch (id) {
  case TransformId::Decouple: return runDecouple(p, inv, ctx);
  case TransformId::Batch: return runBatch(p, inv, ctx);
  case TransformId::Partition: return runPartition(p, inv, ctx);
  }
  return false;
}

bool verifyAfter(const ir::Program &p, const std::string &stage, std::string &error) {
  std::vector<std::string> problems = ir::verify(p);
  if (problems.empty()) return true;
  error = "IR verification failed after " + stage + ":";
  for (auto &m : problems) error += "\n  " + m;
  return false;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (auto &n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}
} // namespace

const std::vector<AnalysisInfo> &allAnalyses() {
  static const std::vector<AnalysisInfo> list = {
#define ANALYSIS(ID, NAME, DESC) {NAME, DESC},
#include "passes/Passes.def"
  };
  return list;
}

const std::vector<TransformInfo> &allTransforms() {
  static const std::vector<TransformInfo> list = {
#define TRANSFORM(ID, NAME, DESC, OPTIONS) {NAME, DESC, OPTIONS},
#include "passes/Passes.def"
  };
  return list;
}

std::vector<std::string> analysisNames() {
  std::vector<std::string> out;
  for (auto &a : allAnalyses()) out.push_back(a.name);
  return out;
}

std::vector<std::string> transformNames() {
  std::vector<std::string> out;
  for (auto &t : allTransforms()) out.push_back(t.name);
  return out;
}

// ------------------------------------------------------------ analyses --

const Strata &AnalysisManager::strata() {
  if (!strata_) strata_ = stratify(p_);
  return *strata_;
}

const Subgraphs &AnalysisManager::subgraphs() {
  if (!subgraphs_) subgraphs_ = partitionSubgraphs(p_, strata());
  return *subgraphs_;
}

void AnalysisManager::invalidate() {
  strata_.reset();
  subgraphs_.reset();
}

std::string AnalysisManager::print(const std::string &name) {
  if (name == "stratify") return printStrata(p_, strata());
  if (name == "subgraphs") return printSubgraphs(p_, subgraphs());
  return "";
}

// ------------------------------------------------------------ pipelines --

const PassOption *PassInvocation::find(const std::string &key) const {
  for (auto &o : options)
    if (o.key == key) return &o;
  return nullptr;
}

std::string PassInvocation::text() const {
  std::string out = name;
  if (options.empty()) return out;
  out += "{";
  for (size_t i = 0; i < options.size(); ++i) out += (i ? " " : "") + options[i].key + "=" + options[i].value;
  return out + "}";
}

bool parsePipeline(const std::string &text, SourceLoc base, std::vector<PassInvocation> &out, std::string &error) {
  size_t i = 0, n = text.size();
  auto at = [&](size_t from, size_t to) {
    return SourceRange(SourceLoc{base.file, base.offset + static_cast<uint32_t>(from)},
                       base.offset + static_cast<uint32_t>(to));
  };
  auto skipSpace = [&] {
    while (i < n && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  auto isNameChar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; };
  for (;;) {
    skipSpace();
    size_t start = i;
    while (i < n && isNameChar(text[i])) ++i;
    PassInvocation inv;
    inv.name = text.substr(start, i - start);
    if (inv.name.empty()) {
      error = "expected a pass name at `" + text.substr(start) + "`";
      return false;
    }
    if (!findTransform(inv.name)) {
      error = "unknown pass `" + inv.name + "`; the transforms are " + joinNames(transformNames());
      return false;
    }
    skipSpace();
    if (i < n && text[i] == '{') {
      ++i;
      for (;;) {
        skipSpace();
        if (i < n && text[i] == '}') {
          ++i;
          break;
        }
        size_t k = i;
        while (i < n && isNameChar(text[i])) ++i;
        std::string key = text.substr(k, i - k);
        if (key.empty() || i >= n || text[i] != '=') {
          error = "expected `key=value` or `}` in the options of `" + inv.name + "`";
          return false;
        }
        size_t v = ++i;
        while (i < n && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '}') ++i;
        if (i == v) {
          error = "option `" + key + "` of `" + inv.name + "` has no value";
          return false;
        }
        if (inv.find(key)) {
          error = "option `" + key + "` of `" + inv.name + "` is given twice";
          return false;
        }
        inv.options.push_back({key, text.substr(v, i - v), at(v, i)});
      }
    }
    inv.range = at(start, i);
    out.push_back(std::move(inv));
    skipSpace();
    if (i == n) return true;
    if (text[i] != ',') {
      error = "expected `,` between passes, found `" + text.substr(i) + "`";
      return false;
    }
    ++i;
  }
}

bool numberOption(const char *pass, const PassOption &o, uint64_t lo, uint64_t hi, const char *what, uint64_t &value,
                  TransformContext &ctx) {
  const std::string &v = o.value;
  bool digits = !v.empty() && v.size() <= 12 && v.find_first_not_of("0123456789") == std::string::npos;
  value = digits ? std::strtoull(v.c_str(), nullptr, 10) : 0;
  if (!digits || value < lo || value > hi) {
    ctx.usage = std::string("`") + pass + "`: " + what + " must be a number from " + std::to_string(lo) + " to " +
                std::to_string(hi) + ", not `" + v + "`";
    return false;
  }
  return true;
}

ir::LocId locationOption(const ir::Program &p, const char *pass, const PassOption &o, TransformContext &ctx) {
  std::string names;
  for (size_t l = 0; l < p.locations.size(); ++l) {
    if (p.locations[l].name == o.value) return ir::LocId(static_cast<int>(l));
    names += (l ? ", " : "") + p.locations[l].name;
  }
  ctx.usage = std::string("`") + pass + "`: the program has no location `" + o.value + "`; its locations are " + names;
  return ir::LocId();
}

bool checkOptionKeys(const PassInvocation &inv, const char *known, TransformContext &ctx) {
  std::vector<std::pair<std::string, bool>> keys; // name, required
  std::string spec = known, word, list;
  for (size_t i = 0; i <= spec.size(); ++i) {
    if (i < spec.size() && spec[i] != ' ') {
      word += spec[i];
      continue;
    }
    if (word.empty()) continue;
    bool optional = word.back() == '?';
    if (optional) word.pop_back();
    keys.push_back({word, !optional});
    list += (list.empty() ? "`" : ", `") + word + "`";
    word.clear();
  }
  for (auto &o : inv.options) {
    bool ok = false;
    for (auto &k : keys) ok = ok || k.first == o.key;
    if (!ok) {
      ctx.usage = "`" + inv.name + "` has no option `" + o.key + "`; its options are " + list;
      return false;
    }
  }
  for (auto &k : keys)
    if (k.second && !inv.find(k.first)) {
      ctx.usage = "`" + inv.name + "` needs the option `" + k.first + "`";
      return false;
    }
  return true;
}

PassStatus runPasses(ir::Program &p, const PassOptions &opts, AnalysisManager &am, DiagnosticEngine &diags,
                     std::string &out, std::string &error) {
#ifndef NDEBUG
  const bool verify = true;
#else
  const bool verify = opts.verifyEach;
#endif
  if (verify && !verifyAfter(p, "lowering", error)) return PassStatus::InternalError;
  for (const PassInvocation &inv : opts.pipeline) {
    TransformId id{};
    if (!findTransform(inv.name, &id)) {
      error = "unknown pass `" + inv.name + "`";
      return PassStatus::UsageError;
    }
    if (opts.disabled.count(inv.name)) continue;
    if (opts.printIrBefore.count(inv.name)) out += "// IR before " + inv.text() + "\n" + ir::printProgram(p);
    TransformContext ctx{diags, am, {}};
    unsigned errorsBefore = diags.errorCount();
    bool done = runTransform(id, p, inv, ctx);
    if (!ctx.usage.empty()) {
      error = ctx.usage;
      return PassStatus::UsageError;
    }
    if (!done || diags.errorCount() != errorsBefore) return PassStatus::Refused;
    am.invalidate();
    if (verify && !verifyAfter(p, inv.text(), error)) return PassStatus::InternalError;
    if (opts.printIrAfterAll || opts.printIrAfter.count(inv.name))
      out += "// IR after " + inv.text() + "\n" + ir::printProgram(p);
  }
  // Analyses of the program as it will be compiled.
  for (auto &a : allAnalyses())
    if (opts.printAnalysis.count(a.name)) out += am.print(a.name);
  return PassStatus::Ok;
}

} // namespace dfir::passes
