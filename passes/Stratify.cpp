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
// Leaves alone: edges leaving `defer_tick()`/`defer_tick_lazy()`, which
// deliver in the next tick and so do not order strata.
//
//===----------------------------------------------------------------------===//
#include "passes/Analyses.h"

#include "ir/GraphAlgo.h"

#include <algorithm>
#include <map>
#include <set>

namespace dfir::passes {

using namespace ir;

Strata stratify(const Program &p) {
  Strata s;
  size_t n = p.ops.size();
  std::vector<std::vector<int>> succ = tickSuccessors(p);
  s.scc = stronglyConnected(succ);
  s.cyclic.assign(n, false);
  std::map<int, int> sccSize;
  for (int c : s.scc) ++sccSize[c];
  for (size_t v = 0; v < n; ++v) {
    bool selfLoop = std::find(succ[v].begin(), succ[v].end(), static_cast<int>(v)) != succ[v].end();
    s.cyclic[v] = sccSize[s.scc[v]] > 1 || selfLoop;
  }
  // Longest path over the condensation, counting blocking edges. Tarjan
  // numbers components so that successors have lower numbers.
  int comps = 0;
  for (int c : s.scc) comps = std::max(comps, c + 1);
  std::vector<std::vector<int>> members(comps);
  for (size_t v = 0; v < n; ++v) members[s.scc[v]].push_back(static_cast<int>(v));
  std::vector<int> level(comps, 0);
  // A state reference (`#name`) orders like a blocking input: the reader
  // runs once what it reads has finished the tick.
  std::vector<std::vector<int>> readers(n);
  for (auto [target, reader] : stateReferences(p)) readers[target].push_back(reader);
  for (int c = comps - 1; c >= 0; --c) {
    for (int v : members[c]) {
      for (int r : readers[v])
        if (s.scc[r] != c) level[s.scc[r]] = std::max(level[s.scc[r]], level[c] + 1);
      for (int e : p.ops[v].outputs) {
        if (e == kNone || crossesTick(p.ops[v].kind)) continue;
        const Edge &edge = p.edges[e];
        int target = s.scc[edge.to];
        if (target == c) continue;
        int need = level[c] + (p.ops[edge.to].info().isBlocking(edge.toPort) ? 1 : 0);
        level[target] = std::max(level[target], need);
      }
    }
  }
  // Dense numbering per location.
  s.stratum.assign(n, 0);
  s.numStrata.assign(p.locations.size(), 0);
  for (size_t l = 0; l < p.locations.size(); ++l) {
    std::set<int> used;
    for (int v : p.opsIn(ir::LocId(static_cast<int>(l)))) used.insert(level[s.scc[v]]);
    std::map<int, int> dense;
    for (int u : used) dense[u] = static_cast<int>(dense.size());
    for (int v : p.opsIn(ir::LocId(static_cast<int>(l)))) s.stratum[v] = dense[level[s.scc[v]]];
    s.numStrata[l] = static_cast<int>(dense.size());
  }
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
    // In-tick cycles, one line each.
    std::map<int, std::string> cycles;
    for (int v : ops)
      if (s.cyclic[v]) cycles[s.scc[v]] += " " + p.ops[v].name;
    for (auto &[c, names] : cycles) out += "  cycle:" + names + "\n";
    for (const Edge &e : p.edges) {
      if (p.ops[e.from].location != static_cast<int>(l)) continue;
      const Operator &to = p.ops[e.to];
      if (crossesTick(p.ops[e.from].kind)) {
        out += "  next tick: " + p.ops[e.from].name + " -> " + to.name + "\n";
      } else if (to.info().isBlocking(e.toPort)) {
        out += "  blocking: " + p.ops[e.from].name + " -> " + to.name + " input " + std::to_string(e.toPort) + "\n";
      }
    }
  }
  return out;
}

} // namespace dfir::passes
