//===- Subgraphs.cpp - In-out trees and handoffs --------------------------===//
//
// What it does: cuts each location's graph into subgraphs, the units of
// Hydro's scheduler. A subgraph is an in-out tree: a pull side, where
// several inputs merge (union, join...) and items are pulled towards a
// pivot, then a push side, where items fan out (tee, partition...) and are
// pushed to sinks. An edge is cut, as a handoff, when it crosses a stratum
// or a tick, when it goes from the push side back into a pull side, and
// where a cycle within a stratum must be broken. Each handoff says how the
// code generator delivers it (`Delivery`): dfirc's code is push-based
// across subgraphs, so only handoffs into a later stratum's non-blocking
// input, and those of a cyclic stratum, get a buffer.
// Assumes: Stratify's result for the same program.
// Guarantees: every edge is either inside one subgraph or a handoff; the
// edges inside a subgraph form no cycle; within a subgraph, no push-side
// operator feeds a pull-side one; subgraphs are listed per location and
// stratum, each with its operators in topological order.
// Leaves alone: the order of independent subgraphs within a stratum (any
// topological order of the handoffs is valid; the backend picks one).
//
//===----------------------------------------------------------------------===//
#include "passes/Analyses.h"

#include "ir/GraphAlgo.h"
#include "ir/Printer.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace dfir::passes {

using namespace ir;

const char *handoffReasonName(HandoffReason r) {
  switch (r) {
  case HandoffReason::Stratum: return "stratum";
  case HandoffReason::NextTick: return "next tick";
  case HandoffReason::PushToPull: return "push to pull";
  case HandoffReason::Cycle: return "cycle";
  }
  return "?";
}

const char *deliveryName(Delivery d) {
  switch (d) {
  case Delivery::Pushed: return "pushed";
  case Delivery::Buffered: return "buffered";
  case Delivery::Fixpoint: return "fixpoint";
  case Delivery::Deferred: return "deferred";
  }
  return "?";
}

namespace {

enum class Tone { Unknown, Pull, Push };

class Partitioner {
public:
  Partitioner(const Program &p, const Strata &s) : p_(p), s_(s) {}

  Subgraphs run() {
    size_t n = p_.ops.size();
    cut_.assign(p_.edges.size(), false);
    for (size_t e = 0; e < p_.edges.size(); ++e) {
      const Edge &edge = p_.edges[e];
      if (crossesTick(p_.ops[edge.from].kind)) handoff(e, HandoffReason::NextTick);
      else if (s_.stratum[edge.from] != s_.stratum[edge.to]) handoff(e, HandoffReason::Stratum);
    }
    colorOperators();
    for (size_t e = 0; e < p_.edges.size(); ++e) {
      const Edge &edge = p_.edges[e];
      if (!cut_[e] && tone_[edge.from] == Tone::Push && tone_[edge.to] == Tone::Pull)
        handoff(e, HandoffReason::PushToPull);
    }
    breakCycles();
    for (Handoff &h : handoffs_) h.delivery = deliveryOf(p_.edges[h.edge]);
    Subgraphs g;
    g.handoffs = handoffs_;
    g.color.resize(n);
    for (size_t v = 0; v < n; ++v) g.color[v] = tone_[v] == Tone::Push ? Color::Push : Color::Pull;
    components(g);
    return g;
  }

private:
  Delivery deliveryOf(const Edge &e) const {
    const Operator &to = p_.ops[e.to];
    if (crossesTick(p_.ops[e.from].kind)) return Delivery::Deferred;
    if (s_.stratum[e.from] == s_.stratum[e.to]) return s_.cyclic[e.to] ? Delivery::Fixpoint : Delivery::Pushed;
    // Into a later stratum: a blocking input takes items as they come (a
    // fold accumulates); any other waits for its stratum (next_stratum's
    // input is where the stratum is cut), and so does an operator whose
    // closures read state (`#name`), which is final only then.
    return !to.info().isBlocking(e.toPort) || to.kind == OpKind::NextStratum || ir::readsState(to)
               ? Delivery::Buffered
               : Delivery::Pushed;
  }

  void handoff(size_t e, HandoffReason why) {
    if (cut_[e]) return;
    cut_[e] = true;
    handoffs_.push_back({static_cast<int>(e), why});
  }

  /// Operators that merge inputs (or start a stream) pull; operators that
  /// fan out (or end a stream) push. One-in-one-out operators take the
  /// side of their neighbours: after a push, everything pushes; before a
  /// pull, everything pulls; otherwise they pull up to the pivot.
  void colorOperators() {
    size_t n = p_.ops.size();
    tone_.assign(n, Tone::Unknown);
    for (size_t v = 0; v < n; ++v) {
      const Operator &op = p_.ops[v];
      size_t in = 0, out = 0;
      for (int e : op.inputs) in += e != kNone && !cut_[e];
      for (int e : op.outputs) out += e != kNone && !cut_[e];
      // The table's flow, refined by what is connected: an operator whose
      // inputs all arrive through handoffs starts a stream (pulls), one
      // whose outputs all leave through handoffs ends one (pushes).
      switch (op.info().flow) {
      case Flow::Pull: tone_[v] = Tone::Pull; break;
      case Flow::Push: tone_[v] = Tone::Push; break;
      case Flow::Either: break;
      }
      if (tone_[v] == Tone::Unknown && in == 0) tone_[v] = Tone::Pull;
      else if (tone_[v] == Tone::Unknown && out == 0) tone_[v] = Tone::Push;
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t e = 0; e < p_.edges.size(); ++e) {
        if (cut_[e]) continue;
        const Edge &edge = p_.edges[e];
        if (tone_[edge.from] == Tone::Push && tone_[edge.to] == Tone::Unknown) {
          tone_[edge.to] = Tone::Push;
          changed = true;
        }
        if (tone_[edge.to] == Tone::Pull && tone_[edge.from] == Tone::Unknown) {
          tone_[edge.from] = Tone::Pull;
          changed = true;
        }
      }
    }
    for (auto &t : tone_)
      if (t == Tone::Unknown) t = Tone::Pull;
  }

  /// A loop of uncut edges would make a subgraph loop forever: cut the
  /// edges that close cycles (back edges of a depth-first search).
  void breakCycles() {
    size_t n = p_.ops.size();
    std::vector<int> state(n, 0); // 0 new, 1 on stack, 2 done
    for (size_t root = 0; root < n; ++root) {
      if (state[root]) continue;
      std::vector<std::pair<int, size_t>> stack{{static_cast<int>(root), 0}};
      state[root] = 1;
      while (!stack.empty()) {
        auto &[v, i] = stack.back();
        const auto &outs = p_.ops[v].outputs;
        if (i < outs.size()) {
          int e = outs[i++];
          if (e == kNone || cut_[e]) continue;
          int w = p_.edges[e].to;
          if (state[w] == 1) handoff(static_cast<size_t>(e), HandoffReason::Cycle);
          else if (state[w] == 0) {
            state[w] = 1;
            stack.push_back({w, 0});
          }
          continue;
        }
        state[v] = 2;
        stack.pop_back();
      }
    }
  }

  void components(Subgraphs &g) {
    size_t n = p_.ops.size();
    g.subgraphOf.assign(n, kNone);
    // Topological order of uncut edges (they form a DAG now).
    std::vector<unsigned> pending(n, 0);
    for (size_t e = 0; e < p_.edges.size(); ++e)
      if (!cut_[e]) ++pending[p_.edges[e].to];
    std::deque<int> ready;
    for (size_t v = 0; v < n; ++v)
      if (!pending[v]) ready.push_back(static_cast<int>(v));
    std::vector<int> topo;
    while (!ready.empty()) {
      int v = ready.front();
      ready.pop_front();
      topo.push_back(v);
      for (int e : p_.ops[v].outputs)
        if (e != kNone && !cut_[e] && --pending[p_.edges[e].to] == 0) ready.push_back(p_.edges[e].to);
    }
    std::vector<int> position(n);
    for (size_t i = 0; i < topo.size(); ++i) position[topo[i]] = static_cast<int>(i);
    // Weakly connected components over uncut edges.
    std::vector<int> comp(n, kNone);
    int count = 0;
    for (int root : topo) {
      if (comp[root] != kNone) continue;
      std::vector<int> stack{root};
      comp[root] = count;
      while (!stack.empty()) {
        int v = stack.back();
        stack.pop_back();
        auto visit = [&](int e, bool forward) {
          if (e == kNone || cut_[e]) return;
          int w = forward ? p_.edges[e].to : p_.edges[e].from;
          if (comp[w] == kNone) {
            comp[w] = count;
            stack.push_back(w);
          }
        };
        for (int e : p_.ops[v].outputs) visit(e, true);
        for (int e : p_.ops[v].inputs) visit(e, false);
      }
      ++count;
    }
    // Order subgraphs by location, stratum, then first operator.
    std::vector<Subgraph> list(count);
    for (int v : topo) list[comp[v]].ops.push_back(v);
    std::vector<int> order(count);
    for (int i = 0; i < count; ++i) order[i] = i;
    auto key = [&](int c) {
      int v = list[c].ops.front();
      return std::make_tuple(p_.ops[v].location, s_.stratum[v], *std::min_element(list[c].ops.begin(), list[c].ops.end()));
    };
    std::sort(order.begin(), order.end(), [&](int a, int b) { return key(a) < key(b); });
    for (int c : order) {
      Subgraph sg = list[c];
      int first = sg.ops.front();
      sg.location = p_.ops[first].location;
      sg.stratum = s_.stratum[first];
      for (int v : sg.ops) sg.cyclic = sg.cyclic || s_.cyclic[v];
      // The pivot: the last pulling operator, or the first one if all push.
      sg.pivot = sg.ops.front();
      for (int v : sg.ops)
        if (tone_[v] == Tone::Pull) sg.pivot = v;
      for (int v : sg.ops) g.subgraphOf[v] = static_cast<int>(g.list.size());
      g.list.push_back(std::move(sg));
    }
  }

  const Program &p_;
  const Strata &s_;
  std::vector<bool> cut_;
  std::vector<Handoff> handoffs_;
  std::vector<Tone> tone_;
};

} // namespace

Subgraphs partitionSubgraphs(const Program &p, const Strata &s) { return Partitioner(p, s).run(); }

std::string printSubgraphs(const Program &p, const Subgraphs &g) {
  std::string out = "subgraphs\n";
  for (size_t l = 0; l < p.locations.size(); ++l) {
    out += "location " + p.locations[l].name + "\n";
    for (size_t i = 0; i < g.list.size(); ++i) {
      const Subgraph &sg = g.list[i];
      if (sg.location != static_cast<int>(l)) continue;
      std::string pull, push;
      for (int v : sg.ops) (g.color[v] == Color::Pull ? pull : push) += " " + p.ops[v].name;
      out += "  subgraph " + std::to_string(i) + " (stratum " + std::to_string(sg.stratum) +
             (sg.cyclic ? ", cyclic" : "") + "): pull" + (pull.empty() ? " -" : pull) + "; pivot " +
             p.ops[sg.pivot].name + "; push" + (push.empty() ? " -" : push) + "\n";
    }
    for (const Handoff &h : g.handoffs) {
      const Edge &e = p.edges[h.edge];
      if (p.ops[e.from].location != static_cast<int>(l)) continue;
      out += "  handoff: " + p.ops[e.from].name + ir::printOutputPort(p, e) + " -> " + ir::printInputPort(p, e) +
             p.ops[e.to].name + " (" + handoffReasonName(h.reason) + ", " + deliveryName(h.delivery) + ")\n";
    }
  }
  return out;
}

} // namespace dfir::passes
