#include "passes/RewriteRules.h"

#include "ir/ExprAnalysis.h"
#include "support/SourceManager.h"

#include <algorithm>
#include <cctype>

namespace dfir::passes {

std::string listOf(const std::vector<std::string> &names, size_t max) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

bool isIdentifier(const std::string &s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  // Every word grammar/Dfir.g4 spells out.
  static const char *keywords[] = {"process", "cluster", "channel", "type", "struct", "enum",      "extern", "fn",
                                   "const",   "let",     "if",      "else", "match",  "true",      "false",  "as",
                                   "Some",    "None",    "_",       "hash", "broadcast"};
  return std::find(std::begin(keywords), std::end(keywords), s) == std::end(keywords);
}

std::string spelled(const ir::Operator &op) {
  std::string s = op.info().name;
  if (op.persistence.empty()) return s;
  s += "::<";
  for (size_t i = 0; i < op.persistence.size(); ++i)
    s += std::string(i ? ", '" : "'") + ir::persistenceName(op.persistence[i]);
  return s + ">";
}

bool allStatic(const ir::Operator &op) {
  if (op.persistence.empty()) return false; // the default lifetime is 'tick
  for (auto l : op.persistence)
    if (l != ir::Persistence::Static) return false;
  return true;
}

namespace {
bool dedupedFrom(const ir::Program &p, int id, std::vector<int> &seen) {
  if (std::find(seen.begin(), seen.end(), id) != seen.end()) return true; // a cycle: checked on its way in
  seen.push_back(id);
  for (int e : p.ops[id].outputs) {
    if (e == ir::kNone) continue;
    const ir::Operator &next = p.ops[p.edges[e].to];
    if (next.kind == OpKind::Unique && allStatic(next)) continue;
    if (next.kind == OpKind::Null) continue; // nothing sees what it drops
    bool pure = next.info().decoupling == Decoupling::PerItem && next.kind != OpKind::Inspect &&
                next.kind != OpKind::ForEach && next.kind != OpKind::Send && next.kind != OpKind::DestFile &&
                next.kind != OpKind::Null;
    for (auto &a : next.args) pure = pure && ir::isPure(*a);
    if (!pure || !dedupedFrom(p, p.edges[e].to, seen)) return false;
  }
  return true;
}

} // namespace

// A 'static operator re-emits, in a tick in which nothing reaches it, what
// it emitted in the tick before, which a `unique::<'static>()` downstream
// drops.
bool seesEmptyTicks(const ir::Program &p, int id) {
  const ir::Operator &op = p.ops[id];
  bool isStatic = allStatic(op);
  bool firstStatic = !op.persistence.empty() && op.persistence[0] == ir::Persistence::Static;
  bool reemits = false;
  switch (op.info().emptyTick) {
  case EmptyTick::Silent: return false;
  case EmptyTick::Compares: return true;
  case EmptyTick::Initial:
    if (!isStatic) return true; // its initial value, in a tick without items
    reemits = true;
    break;
  case EmptyTick::State: reemits = isStatic; break;
  case EmptyTick::PosState: reemits = firstStatic; break;
  }
  return reemits && !dedupedDownstream(p, id);
}


bool dedupedDownstream(const ir::Program &p, int id) {
  std::vector<int> seen;
  return dedupedFrom(p, id, seen);
}

std::string lineOf(const SourceManager &sm, const ir::Operator &op) {
  if (!op.range.valid() || sm.name(op.range.begin.file) == "<command line>") return "the command line";
  return "line " + std::to_string(sm.lineCol(op.range.begin).line);
}

} // namespace dfir::passes
