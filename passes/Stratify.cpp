//===- Stratify.cpp - Strata of each location's tick ----------------------===//
//
// What it does: gives every operator a stratum so that all producers of a
// blocking input (the input of `fold`, `sort`, `[neg]` of `difference`,
// `next_stratum`...) run in an earlier stratum than the operator, and marks
// the operators that lie on a cycle within one tick (monotone recursion,
// run to a fixpoint inside its stratum).
// Assumes: a verified program (no cycle passes a blocking input).
// Guarantees: stratum(v) >= stratum(u) for every in-tick edge u -> v, and
// stratum(v) > stratum(u) when the edge enters a blocking input or v reads
// the state of u (`#u`); the
// strata of each location are numbered densely from 0; each operator is in
// the lowest stratum allowed.
// A loop block is one node of the scope around it: its body's strata are
// numbered right after the strata of that scope's level at which the loop
// runs, and make a contiguous range (Strata::loopBegin/loopEnd) that the
// code generator runs once per iteration. Inside a loop the same rules
// hold for its own operators and nested loops.
// Leaves alone: edges leaving `defer_tick()`/`defer_tick_lazy()` (and a
// loop's `next_iteration()`), which deliver in the next tick (iteration)
// and so do not order the strata of theirs.
//
//===----------------------------------------------------------------------===//
#include "passes/Analyses.h"

#include "ir/GraphAlgo.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace dfir::passes {

using namespace ir;

namespace {

/// The operators and loop blocks of one scope (a location's top, or one
/// loop block) as one graph: a loop block nested directly in the scope is
/// one node (number `ops + loop`), whatever it holds.
class Scopes {
public:
  explicit Scopes(const Program &p) : p_(p), n_(p.ops.size()) {}

  /// The node that stands for operator `v` in `scope`: the operator, or the
  /// loop nested directly in `scope` that holds it; -1 outside the scope.
  int rep(int v, int scope) const {
    int l = p_.ops[v].loop;
    if (l == scope) return v;
    for (; l != kNone; l = p_.loops[l].parent)
      if (p_.loops[l].parent == scope) return static_cast<int>(n_) + l;
    return -1;
  }

  /// Levels of the scope's nodes: the longest path from a node without
  /// predecessors, an edge into a blocking input (or a state read) adding
  /// one. Edges leaving a delay of this scope (`defer_tick` at the top,
  /// `next_iteration` in a loop) do not count. Marks the scope's own
  /// operators that lie on a cycle.
  std::map<int, int> levels(int scope, std::vector<int> &scc, std::vector<bool> &cyclic, int &sccBase) const {
    size_t nodes = n_ + p_.loops.size();
    std::vector<std::vector<int>> succ(nodes);
    std::vector<std::vector<std::pair<int, int>>> weighted(nodes); // (to, weight)
    std::set<int> members;
    for (size_t v = 0; v < n_; ++v)
      if (int r = rep(static_cast<int>(v), scope); r >= 0) members.insert(r);
    for (const Edge &e : p_.edges) {
      int from = rep(e.from, scope), to = rep(e.to, scope);
      if (from < 0 || to < 0) continue;
      if (crossesTick(p_.ops[e.from].kind) && p_.ops[e.from].loop == scope) continue;
      if (from == to && from >= static_cast<int>(n_)) continue; // inside one nested loop
      succ[from].push_back(to);
      weighted[from].push_back({to, p_.ops[e.to].info().isBlocking(e.toPort) ? 1 : 0});
    }
    // A state reference (`#name`) orders like a blocking input: the reader
    // runs once what it reads has finished.
    for (auto [target, reader] : stateReferences(p_)) {
      int from = rep(target, scope), to = rep(reader, scope);
      if (from < 0 || to < 0 || from == to) continue;
      succ[from].push_back(to);
      weighted[from].push_back({to, 1});
    }
    std::vector<int> comp = stronglyConnected(succ);
    std::map<int, int> size;
    for (int v : members) ++size[comp[v]];
    for (int v : members) {
      if (v >= static_cast<int>(n_)) continue;
      bool selfLoop = std::find(succ[v].begin(), succ[v].end(), v) != succ[v].end();
      cyclic[v] = size[comp[v]] > 1 || selfLoop;
      scc[v] = sccBase + comp[v];
    }
    int comps = 0;
    for (int v : members) comps = std::max(comps, comp[v] + 1);
    sccBase += comps;
    // Tarjan numbers components so that successors have lower numbers.
    std::vector<std::vector<int>> byComp(comps);
    for (int v : members) byComp[comp[v]].push_back(v);
    std::vector<int> level(comps, 0);
    for (int c = comps - 1; c >= 0; --c)
      for (int v : byComp[c])
        for (auto [to, w] : weighted[v])
          if (comp[to] != c) level[comp[to]] = std::max(level[comp[to]], level[c] + w);
    std::map<int, int> out;
    for (int v : members) out[v] = level[comp[v]];
    return out;
  }

  size_t ops() const { return n_; }

private:
  const Program &p_;
  size_t n_;
};

} // namespace

Strata stratify(const Program &p) {
  Strata s;
  size_t n = p.ops.size();
  Scopes scopes(p);
  s.scc.assign(n, 0);
  s.cyclic.assign(n, false);
  s.stratum.assign(n, 0);
  s.loopBegin.assign(p.loops.size(), kNone);
  s.loopEnd.assign(p.loops.size(), kNone);
  int sccBase = 0;
  std::map<int, std::map<int, int>> levels; // scope -> node -> level
  levels[kNone] = scopes.levels(kNone, s.scc, s.cyclic, sccBase);
  for (size_t l = 0; l < p.loops.size(); ++l)
    levels[static_cast<int>(l)] = scopes.levels(static_cast<int>(l), s.scc, s.cyclic, sccBase);
  // Strata are numbered densely per location, a scope's levels in order:
  // at each level the scope's own operators, then each loop block at that
  // level with the strata of its body (which run again per iteration).
  std::function<void(int, int, int &)> number = [&](int scope, int loc, int &next) {
    std::map<int, std::pair<std::vector<int>, std::vector<int>>> atLevel; // level -> (ops, loops)
    for (auto [v, level] : levels[scope]) {
      bool isLoop = v >= static_cast<int>(n);
      int where = isLoop ? p.loops[v - n].location : p.ops[v].location;
      if (where != loc) continue;
      (isLoop ? atLevel[level].second : atLevel[level].first).push_back(isLoop ? v - static_cast<int>(n) : v);
    }
    for (auto &[level, members] : atLevel) {
      if (!members.first.empty()) {
        for (int v : members.first) s.stratum[v] = next;
        ++next;
      }
      for (int l : members.second) {
        s.loopBegin[l] = next;
        number(l, loc, next);
        s.loopEnd[l] = next;
      }
    }
  };
  s.numStrata.assign(p.locations.size(), 0);
  for (size_t l = 0; l < p.locations.size(); ++l) number(kNone, static_cast<int>(l), s.numStrata[l]);
  return s;
}

std::string printStrata(const Program &p, const Strata &s) {
  std::string out = "stratify\n";
  for (size_t l = 0; l < p.locations.size(); ++l) {
    out += "location " + p.locations[l].name + ": " + std::to_string(s.numStrata[l]) + (s.numStrata[l] == 1 ? " stratum\n" : " strata\n");
    std::vector<ir::OpId> ops = p.opsIn(ir::LocId(static_cast<int>(l)));
    for (int st = 0; st < s.numStrata[l]; ++st) {
      std::string names;
      bool cyclic = false;
      for (int v : ops) {
        if (s.stratum[v] != st) continue;
        names += " " + p.ops[v].name;
        cyclic = cyclic || s.cyclic[v];
      }
      out += "  stratum " + std::to_string(st) + (cyclic ? " (cyclic)" : "") + ":" + names + "\n";
    }
    // Loop blocks: the strata that run again in every iteration.
    for (size_t k = 0; k < p.loops.size(); ++k) {
      if (p.loops[k].location != static_cast<int>(l) || s.loopBegin[k] == kNone) continue;
      out += "  loop " + std::to_string(k) + ": strata " + std::to_string(s.loopBegin[k]) + ".." +
             std::to_string(s.loopEnd[k] - 1) + "\n";
    }
    // In-tick cycles, one line each.
    std::map<int, std::string> cycles;
    for (int v : ops)
      if (s.cyclic[v]) cycles[s.scc[v]] += " " + p.ops[v].name;
    for (auto &[c, names] : cycles) out += "  cycle:" + names + "\n";
    for (const Edge &e : p.edges) {
      if (p.ops[e.from].location != static_cast<int>(l)) continue;
      const Operator &to = p.ops[e.to];
      if (crossesTick(p.ops[e.from].kind)) {
        out += std::string(p.ops[e.from].info().ticks == Ticks::Iterates ? "  next iteration: " : "  next tick: ") +
               p.ops[e.from].name + " -> " + to.name + "\n";
      } else if (to.info().isBlocking(e.toPort)) {
        out += "  blocking: " + p.ops[e.from].name + " -> " + to.name + " input " + std::to_string(e.toPort) + "\n";
      }
    }
  }
  return out;
}

} // namespace dfir::passes
