//===- Analyses.h - Results of the analysis passes ------------------------===//
//
// Stratify.cpp and Subgraphs.cpp compute these from an ir::Program; the
// backend lays out each location's tick from them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include <string>
#include <vector>

namespace dfir::passes {

struct Strata {
  std::vector<int> stratum;    // per operator, numbered from 0 in each location
  std::vector<int> scc;        // per operator: its in-tick strongly connected component
  std::vector<bool> cyclic;    // per operator: on a cycle within one tick
  std::vector<int> numStrata;  // per location
  /// Per loop block: its body's strata, [begin, end), run once per
  /// iteration (kNone for a loop without operators). Nested loops' ranges
  /// lie inside their parent's.
  std::vector<int> loopBegin, loopEnd;
};

/// Assumes a verified program (so no cycle passes a blocking input).
Strata stratify(const ir::Program &p);
std::string printStrata(const ir::Program &p, const Strata &s);

enum class Color { Pull, Push };

struct Subgraph {
  int location = ir::kNone;
  int stratum = 0;
  std::vector<int> ops;  // in topological order
  int pivot = ir::kNone; // where pulling turns into pushing
  bool cyclic = false;   // part of a stratum that iterates to a fixpoint
};

enum class HandoffReason { Stratum, NextTick, PushToPull, Cycle };
const char *handoffReasonName(HandoffReason r);

/// How the code generator delivers the items of a handoff. Code is
/// push-based throughout a stratum (docs/passes.md, "subgraphs"), so most
/// handoffs need no buffer.
enum class Delivery {
  Pushed,   // as they are made: the consumer takes pushes (a blocking input accumulates them)
  Buffered, // held until the consumer's (later) stratum starts: a non-blocking input
  Fixpoint, // buffered, and delivered by the rounds of a cyclic stratum until none is left
  Deferred, // held by the deferring operator itself for the next tick
};
const char *deliveryName(Delivery d);

struct Handoff {
  int edge;
  HandoffReason reason;
  Delivery delivery = Delivery::Pushed;
};

struct Subgraphs {
  std::vector<Subgraph> list;
  std::vector<int> subgraphOf;   // per operator
  std::vector<Color> color;      // per operator
  std::vector<Handoff> handoffs; // the cut edges, each with a buffer
};

Subgraphs partitionSubgraphs(const ir::Program &p, const Strata &s);
std::string printSubgraphs(const ir::Program &p, const Subgraphs &g);

} // namespace dfir::passes
