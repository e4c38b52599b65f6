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
#include "ir/GraphAlgo.h"

#include <algorithm>
#include <deque>

namespace dfir {

namespace {

bool crossesTick(const GraphNode &n) { return dfir::crossesTick(n.info->kind); }

std::vector<int> components(const SemaContext &ctx) {
  std::vector<std::vector<int>> succ(ctx.nodes.size());
  for (const GraphEdge &e : ctx.edges)
    if (!crossesTick(ctx.nodes[e.from])) succ[e.from].push_back(e.to);
  return stronglyConnected(succ);
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

void checkStateRefCycles(SemaContext &ctx) {
  // `#name` is read once `name` has finished the tick, as if through a
  // blocking input: an operator may not read the state of one that depends
  // on it within the tick (itself included).
  if (ctx.stateRefs.empty()) return;
  std::vector<std::vector<int>> succ(ctx.nodes.size());
  for (const GraphEdge &e : ctx.edges)
    if (!crossesTick(ctx.nodes[e.from])) succ[e.from].push_back(e.to);
  for (const SemaContext::StateRef &r : ctx.stateRefs) succ[r.target].push_back(r.reader);
  std::vector<int> withRefs = stronglyConnected(succ);
  for (const SemaContext::StateRef &r : ctx.stateRefs) {
    if (r.reader != r.target && withRefs[r.reader] != withRefs[r.target]) continue;
    const GraphNode &reader = ctx.nodes[r.reader], &target = ctx.nodes[r.target];
    DiagBuilder b = ctx.diags.report(DiagID::err_state_ref_cycle, r.range);
    b << target.userName << reader.info->name;
    // The way back from the reader to what it reads, along edges.
    std::vector<int> path = r.reader == r.target ? std::vector<int>{r.target} : pathWithin(ctx, withRefs, r.reader, r.target);
    if (path.empty() || path.back() != r.target) path = {r.reader, r.target};
    for (int v : path) b.note(DiagID::note_cycle_member, ctx.nodes[v].range()) << ctx.nodes[v].info->name;
  }
}

} // namespace dfir
