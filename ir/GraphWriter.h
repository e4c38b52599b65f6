//===- GraphWriter.h - Pictures of the operator graph ---------------------===//
//
// Writes a program as Mermaid flowchart, Graphviz dot or JSON, grouped by
// location, then stratum, then subgraph. Nodes are labelled with the
// operator's name (the user's variable where there is one) and its call;
// edges carry their ports; edges into blocking inputs, edges to the next
// tick and handoffs are drawn differently; channels join the send and recv
// operators of two locations.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include <set>
#include <string>
#include <vector>

namespace dfir::ir {

/// How the analyses grouped the operators (filled by the driver from the
/// stratify and subgraphs passes).
struct GraphLayout {
  std::vector<int> stratum;  // per operator
  std::vector<int> subgraph; // per operator
  std::vector<bool> cyclicSubgraph;
  std::set<int> handoffEdges;
  /// With a profile (`dfirc graph --profile`), per operator: its share of
  /// its location's CPU time (0 to 1), which colours it, and a line added
  /// to its label (the share and its items).
  std::vector<double> heat;
  std::vector<std::string> note;
};

enum class GraphFormat { Mermaid, Dot, Json };

std::string writeGraph(const Program &p, const GraphLayout &layout, GraphFormat format);

} // namespace dfir::ir
