//===- CycleCheck.cpp - The cycle rule of the execution model -------------===//
//
// A cycle inside one tick may not pass through a blocking input (the input
// of `fold`, `sort`, `[neg]` of `difference`, ...): the operator would wait
// for all of its input, which depends on its own output. Edges leaving
// `defer_tick()`/`defer_tick_lazy()` cross into the next tick and so break
// cycles. For each strongly connected component with such an edge, one
// error is reported at the blocking operator with a note on every operator
// of one offending cycle.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaContext.h"

#include <algorithm>
#include <deque>

namespace dfir {

namespace {

bool crossesTick(const GraphNode &n) {
  return n.info->kind == OpKind::DeferTick || n.info->kind == OpKind::DeferTickLazy;
}

/// Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
std::vector<int> components(const SemaContext &ctx) {
  size_t n = ctx.nodes.size();
  std::vector<int> index(n, -1), low(n, 0), comp(n, -1);
  std::vector<bool> onStack(n, false);
  std::vector<int> stack;
  int counter = 0, comps = 0;
  struct Frame {
    int v;
    size_t edge;
  };
  for (size_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    std::vector<Frame> frames{{static_cast<int>(root), 0}};
    index[root] = low[root] = counter++;
    stack.push_back(static_cast<int>(root));
    onStack[root] = true;
    while (!frames.empty()) {
      Frame &f = frames.back();
      const GraphNode &node = ctx.nodes[f.v];
      if (!crossesTick(node) && f.edge < node.outEdges.size()) {
        int w = ctx.edges[node.outEdges[f.edge++]].to;
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

/// Shortest path from `from` to `to` inside component `c` (both included).
std::vector<int> pathWithin(const SemaContext &ctx, const std::vector<int> &comp, int from, int to) {
  std::vector<int> prev(ctx.nodes.size(), -2);
  std::deque<int> queue{from};
  prev[from] = -1;
  while (!queue.empty()) {
    int v = queue.front();
    queue.pop_front();
    if (v == to) break;
    if (crossesTick(ctx.nodes[v])) continue;
    for (int e : ctx.nodes[v].outEdges) {
      int w = ctx.edges[e].to;
      if (comp[w] != comp[from] || prev[w] != -2) continue;
      prev[w] = v;
      queue.push_back(w);
    }
  }
  std::vector<int> path;
  for (int v = to; v != -1 && v != -2; v = prev[v]) path.push_back(v);
  std::reverse(path.begin(), path.end());
  return path;
}

std::string portName(const GraphNode &n, unsigned port) {
  auto names = n.info->inputPortNames();
  return "[" + (port < names.size() ? names[port] : std::to_string(port)) + "]";
}

} // namespace

void checkCycles(SemaContext &ctx) {
  std::vector<int> comp = components(ctx);
  std::vector<bool> reported(ctx.nodes.size(), false);
  for (const GraphEdge &e : ctx.edges) {
    const GraphNode &from = ctx.nodes[e.from], &to = ctx.nodes[e.to];
    if (crossesTick(from) || comp[e.from] != comp[e.to]) continue;
    if (!to.info->isBlocking(e.inIndex) || reported[comp[e.to]]) continue;
    reported[comp[e.to]] = true;
    // The cycle: the blocking operator, round to the producer of its input.
    std::vector<int> cycle = pathWithin(ctx, comp, e.to, e.from);
    std::string input = to.numInPorts > 1 ? " `" + portName(to, e.inIndex) + "`" : "";
    DiagBuilder b = ctx.diags.report(DiagID::err_blocking_cycle, to.range());
    b << to.info->name << input;
    for (int v : cycle) {
      const GraphNode &n = ctx.nodes[v];
      b.note(DiagID::note_cycle_member, n.range()) << n.info->name;
    }
  }
}

} // namespace dfir
