#include "ir/GraphAlgo.h"

#include <algorithm>
#include <set>

namespace dfir {

std::vector<int> stronglyConnected(const std::vector<std::vector<int>> &succ) {
  size_t n = succ.size();
  std::vector<int> index(n, -1), low(n, 0), comp(n, -1);
  std::vector<bool> onStack(n, false);
  std::vector<int> stack;
  int counter = 0, comps = 0;
  struct Frame {
    int v;
    size_t next;
  };
  for (size_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    std::vector<Frame> frames{{static_cast<int>(root), 0}};
    index[root] = low[root] = counter++;
    stack.push_back(static_cast<int>(root));
    onStack[root] = true;
    while (!frames.empty()) {
      Frame &f = frames.back();
      if (f.next < succ[f.v].size()) {
        int w = succ[f.v][f.next++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push_back(w);
          onStack[w] = true;
          frames.push_back({w, 0});
        } else if (onStack[w]) {
          low[f.v] = std::min(low[f.v], index[w]);
        }
        continue;
      }
      int v = f.v;
      if (low[v] == index[v]) {
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          onStack[w] = false;
          comp[w] = comps;
        } while (w != v);
        ++comps;
      }
      frames.pop_back();
      if (!frames.empty()) low[frames.back().v] = std::min(low[frames.back().v], low[v]);
    }
  }
  return comp;
}

namespace ir {

std::vector<std::vector<int>> tickSuccessors(const Program &p) {
  std::vector<std::vector<int>> succ(p.ops.size());
  for (const Edge &e : p.edges)
    if (!crossesTick(p.ops[e.from].kind)) succ[e.from].push_back(e.to);
  for (auto [target, reader] : stateReferences(p)) succ[target].push_back(reader);
  return succ;
}

void forEachExpr(Expr &e, const std::function<void(Expr &)> &f) {
  f(e);
  for (auto &k : e.kids) forEachExpr(*k, f);
  for (auto &a : e.arms) forEachExpr(*a.body, f);
  for (auto &s : e.stmts) forEachExpr(*s.expr, f);
}

void forEachExpr(const Expr &e, const std::function<void(const Expr &)> &f) {
  forEachExpr(const_cast<Expr &>(e), [&](Expr &x) { f(x); });
}

bool readsState(const Operator &op) {
  bool found = false;
  for (auto &a : op.args)
    forEachExpr(*a, [&](const Expr &e) { found = found || e.kind == Expr::StateRef; });
  return found;
}

std::vector<std::pair<int, int>> stateReferences(const Program &p) {
  std::set<std::pair<int, int>> refs;
  for (size_t r = 0; r < p.ops.size(); ++r)
    for (auto &a : p.ops[r].args)
      forEachExpr(*a, [&](const Expr &e) {
        if (e.kind == Expr::StateRef && e.index >= 0 && static_cast<size_t>(e.index) < p.ops.size())
          refs.insert({e.index, static_cast<int>(r)});
      });
  return {refs.begin(), refs.end()};
}

int illegalCycleEdge(const Program &p, const std::vector<int> &scc) {
  for (size_t i = 0; i < p.edges.size(); ++i) {
    const Edge &e = p.edges[i];
    if (crossesTick(p.ops[e.from].kind) || scc[e.from] != scc[e.to]) continue;
    if (p.ops[e.to].info().isBlocking(e.toPort)) return static_cast<int>(i);
  }
  return kNone;
}

} // namespace ir
} // namespace dfir
