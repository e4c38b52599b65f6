#include "passes/RewriteRules.h"

#include "ir/Type.h"

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
ir::Persistence lifetime(const ir::Operator &op, unsigned port) {
  return port < op.persistence.size() ? op.persistence[port] : ir::Persistence::Tick;
}

/// Whether an operator emits in a tick in which nothing reaches it (before
/// anything downstream drops repeats).
bool emitsWhenIdle(const ir::Operator &op) {
  bool firstStatic = !op.persistence.empty() && op.persistence[0] == ir::Persistence::Static;
  switch (op.info().emptyTick) {
  case EmptyTick::Silent: return false;
  case EmptyTick::Compares:
  case EmptyTick::Initial: return true;
  case EmptyTick::State: return allStatic(op);
  case EmptyTick::PosState: return firstStatic;
  }
  return true;
}

/// Whether items reach edge `e` only in ticks in which something reached
/// the operators upstream of it: none of them emits when idle.
bool quiet(const ir::Program &p, int e, std::vector<int> &seen) {
  int from = p.edges[e].from;
  if (std::find(seen.begin(), seen.end(), from) != seen.end()) return true;
  seen.push_back(from);
  if (emitsWhenIdle(p.ops[from])) return false;
  for (int in : p.ops[from].inputs)
    if (in != ir::kNone && !quiet(p, in, seen)) return false;
  return true;
}

/// Whether what reaches input `port` of `op` shows in its output only in
/// ticks in which its other input has items, and that input is quiet: the
/// `'tick` side of a join or cross join whose other side is `'tick` too,
/// the `[neg]` of an `anti_join` or `difference` whose `[pos]` is `'tick`,
/// the `[single]` of a `cross_singleton`. What is re-emitted there in a
/// tick without such items makes no output.
bool gated(const ir::Program &p, const ir::Operator &op, unsigned port) {
  unsigned other = 1 - port;
  switch (op.kind) {
  case OpKind::Join:
  case OpKind::JoinMultiset:
  case OpKind::CrossJoin:
  case OpKind::CrossJoinMultiset:
    if (lifetime(op, 0) != ir::Persistence::Tick || lifetime(op, 1) != ir::Persistence::Tick) return false;
    break;
  case OpKind::AntiJoin:
  case OpKind::Difference:
    if (port != 1 || lifetime(op, 0) != ir::Persistence::Tick || lifetime(op, 1) != ir::Persistence::Tick)
      return false;
    break;
  case OpKind::CrossSingleton:
    if (port != 1) return false;
    break;
  default: return false;
  }
  if (other >= op.inputs.size() || op.inputs[other] == ir::kNone) return false;
  std::vector<int> seen;
  return quiet(p, op.inputs[other], seen);
}

bool pureItemOp(const ir::Operator &next) {
  bool pure = next.info().decoupling == Decoupling::PerItem && next.kind != OpKind::Inspect &&
              next.kind != OpKind::ForEach && next.kind != OpKind::Send && next.kind != OpKind::DestFile &&
              next.kind != OpKind::DestSink && next.kind != OpKind::Null;
  for (auto &a : next.args) pure = pure && ir::isPure(*a);
  return pure;
}

bool dedupedEdge(const ir::Program &p, int e, std::vector<int> &seen);

bool dedupedFrom(const ir::Program &p, int id, std::vector<int> &seen) {
  if (std::find(seen.begin(), seen.end(), id) != seen.end()) return true; // a cycle: checked on its way in
  seen.push_back(id);
  for (int e : p.ops[id].outputs)
    if (e != ir::kNone && !dedupedEdge(p, e, seen)) return false;
  return true;
}

/// Whether what travels on edge `e` reaches a `unique::<'static>()` (...)
/// through pure per-item operators only.
bool dedupedEdge(const ir::Program &p, int e, std::vector<int> &seen) {
  const ir::Operator &next = p.ops[p.edges[e].to];
  if (next.kind == OpKind::Unique && allStatic(next)) return true;
  if (next.kind == OpKind::Null) return true; // nothing sees what it drops
  if (gated(p, next, p.edges[e].toPort)) return true;
  return pureItemOp(next) && dedupedFrom(p, p.edges[e].to, seen);
}

/// latticeUnsettled's walk: the items leaving `id` may hold growing
/// lattice values.
std::string growingFrom(const ir::Program &p, int id, std::vector<int> &seen) {
  if (std::find(seen.begin(), seen.end(), id) != seen.end()) return "";
  seen.push_back(id);
  for (int e : p.ops[id].outputs) {
    if (e == ir::kNone) continue;
    int to = p.edges[e].to;
    const ir::Operator &next = p.ops[to];
    std::string name = "`" + spelled(next) + "`";
    if (!holdsLattice(p.edges[e].type)) {
      // Plain items, a growing set's elements say: only more of them come.
      std::vector<int> again;
      if (dedupedEdge(p, e, again)) continue;
      return name + " takes items that only grow in number, but what it emits does not reach "
                    "`unique::<'static>()` through pure per-item operators: it would repeat them in every tick the new "
                    "location runs";
    }
    if (next.kind == OpKind::Null) continue;
    if (!pureItemOp(next))
      return name + " sees the growing value: after decoupling it may see intermediate values the original never "
                    "had (keep only a monotone threshold, then drop the value, before anything else sees it)";
    if (next.kind == OpKind::Filter && !ir::monotonePredicate(*next.args[0]))
      return name + " is not a monotone threshold: once true for a value it may turn false for a greater one, "
                    "and after decoupling it may see other intermediate values (compare `len(reveal(s))`, or "
                    "`reveal(m)` of a `Max`, with `>=`)";
    bool same = next.kind == OpKind::Filter || next.args.empty() || // identity, tee, union, ...: the same values
                (next.kind == OpKind::FlatMap && ir::revealsWhole(*next.args[0]));
    if (!same && !ir::ignoresLattices(*next.args[0]))
      return name + " reads the growing value: after decoupling it may see intermediate values the original "
                    "never had (only a monotone threshold may read it; then drop it, as `map(|_| ...)` does)";
    if (std::string why = growingFrom(p, to, seen); !why.empty()) return why;
  }
  return "";
}

} // namespace

// A 'static operator re-emits, in a tick in which nothing reaches it, what
// it emitted in the tick before, which a `unique::<'static>()` downstream
// drops.
bool seesEmptyTicks(const ir::Program &p, int id) {
  const ir::Operator &op = p.ops[id];
  // Windows over ticks: which items share a window follows the tick numbers.
  if (op.info().ticks == Ticks::Paces) return true;
  if (!emitsWhenIdle(op)) return false;
  // A `'tick` fold's initial value, or a comparison with the tick before,
  // is new output in every tick; re-emitted `'static` state is a repeat.
  bool repeats = op.info().emptyTick != EmptyTick::Compares &&
                 (op.info().emptyTick != EmptyTick::Initial || allStatic(op));
  return !repeats || !dedupedDownstream(p, id);
}


std::string latticeUnsettled(const ir::Program &p, int id) {
  std::vector<int> seen;
  return growingFrom(p, id, seen);
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
