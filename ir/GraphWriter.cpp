#include "ir/GraphWriter.h"

#include "ir/GraphAlgo.h"
#include "ir/Printer.h"
#include "support/Json.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace dfir::ir {

namespace {

std::string shorten(const std::string &s, size_t max = 60) {
  return s.size() <= max ? s : s.substr(0, max - 3) + "...";
}

std::string nodeLabel(const Program &p, const Operator &op) {
  return op.name + " = " + shorten(printOperatorCall(p, op));
}

enum class EdgeStyle { Normal, Blocking, NextTick, Handoff };

EdgeStyle styleOf(const Program &p, const GraphLayout &layout, int id) {
  const Edge &e = p.edges[id];
  if (crossesTick(p.ops[e.from].kind)) return EdgeStyle::NextTick;
  if (p.ops[e.to].info().isBlocking(e.toPort)) return EdgeStyle::Blocking;
  if (layout.handoffEdges.count(id)) return EdgeStyle::Handoff;
  return EdgeStyle::Normal;
}

std::string edgeLabel(const Program &p, const Edge &e, EdgeStyle style) {
  std::string ports = printOutputPort(p, e);
  std::string in = printInputPort(p, e);
  if (!in.empty()) ports += (ports.empty() ? "" : " ") + std::string("-> ") + in;
  std::string extra = style == EdgeStyle::Blocking ? "blocking" : style == EdgeStyle::NextTick ? "next tick" : "";
  if (!extra.empty()) ports += (ports.empty() ? "" : " ") + extra;
  return ports;
}

/// Location -> stratum -> subgraph -> operators, in id order.
using Groups = std::map<int, std::map<int, std::map<int, std::vector<int>>>>;

Groups group(const Program &p, const GraphLayout &layout) {
  Groups g;
  for (size_t i = 0; i < p.ops.size(); ++i)
    g[p.ops[i].location][layout.stratum[i]][layout.subgraph[i]].push_back(static_cast<int>(i));
  return g;
}

std::string locationTitle(const Location &l) {
  return l.isCluster ? "cluster " + l.name + "[" + std::to_string(l.size) + "]" : "process " + l.name;
}

/// White through yellow to red as `heat` goes from 0 to 1.
std::string heatColor(double heat) {
  heat = heat < 0 ? 0 : heat > 1 ? 1 : heat;
  int g = static_cast<int>(255 - 200 * heat), b = static_cast<int>(255 - 255 * std::min(1.0, 2 * heat));
  char buf[8];
  std::snprintf(buf, sizeof buf, "#ff%02x%02x", g, b);
  return buf;
}

/// The node's label, with the profile's line when there is one.
std::string labelOf(const Program &p, const GraphLayout &layout, int op) {
  std::string label = nodeLabel(p, p.ops[op]);
  if (static_cast<size_t>(op) < layout.note.size() && !layout.note[op].empty()) label += "\n" + layout.note[op];
  return label;
}

// ------------------------------------------------------------------ dot --

std::string dotEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string writeDot(const Program &p, const GraphLayout &layout) {
  std::string out = "digraph dfir {\n  compound=true;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
                    "  edge [fontname=\"monospace\", fontsize=9];\n";
  for (auto &[loc, strata] : group(p, layout)) {
    std::string l = std::to_string(loc);
    out += "  subgraph cluster_l" + l + " {\n    label=\"" + dotEscape(locationTitle(p.locations[loc])) +
           "\";\n    style=rounded;\n";
    for (auto &[st, subgraphs] : strata) {
      std::string s = l + "_" + std::to_string(st);
      out += "    subgraph cluster_s" + s + " {\n      label=\"stratum " + std::to_string(st) +
             "\";\n      style=dashed;\n";
      for (auto &[sg, ops] : subgraphs) {
        bool cyclic = sg >= 0 && static_cast<size_t>(sg) < layout.cyclicSubgraph.size() && layout.cyclicSubgraph[sg];
        out += "      subgraph cluster_g" + std::to_string(sg) + " {\n        label=\"subgraph " + std::to_string(sg) +
               (cyclic ? " (cyclic)" : "") + "\";\n        style=dotted;\n";
        for (int op : ops)
          out += "        n" + std::to_string(op) + " [label=\"" + dotEscape(labelOf(p, layout, op)) + "\"" +
                 (static_cast<size_t>(op) < layout.heat.size()
                      ? ", style=filled, fillcolor=\"" + heatColor(layout.heat[op]) + "\""
                      : std::string()) +
                 "];\n";
        out += "      }\n";
      }
      out += "    }\n";
    }
    out += "  }\n";
  }
  for (size_t i = 0; i < p.edges.size(); ++i) {
    const Edge &e = p.edges[i];
    EdgeStyle style = styleOf(p, layout, static_cast<int>(i));
    std::string attrs = "label=\"" + dotEscape(edgeLabel(p, e, style)) + "\"";
    switch (style) {
    case EdgeStyle::Normal: break;
    case EdgeStyle::Blocking: attrs += ", color=red, penwidth=2"; break;
    case EdgeStyle::NextTick: attrs += ", style=dashed, color=blue"; break;
    case EdgeStyle::Handoff: attrs += ", arrowhead=empty"; break;
    }
    out += "  n" + std::to_string(e.from) + " -> n" + std::to_string(e.to) + " [" + attrs + "];\n";
  }
  for (const Channel &c : p.channels)
    out += "  n" + std::to_string(c.sendOp) + " -> n" + std::to_string(c.recvOp) + " [label=\"channel " +
           dotEscape(c.name) + "\", style=dotted, color=darkgreen, constraint=false];\n";
  return out + "}\n";
}

// -------------------------------------------------------------- mermaid --

std::string mermaidEscape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '"': out += "#quot;"; break;
    case '<': out += "#lt;"; break;
    case '>': out += "#gt;"; break;
    case '#': out += "#35;"; break;
    case '\n': out += " "; break;
    default: out += c;
    }
  }
  return out;
}

std::string writeMermaid(const Program &p, const GraphLayout &layout) {
  std::string out = "flowchart TD\n";
  for (auto &[loc, strata] : group(p, layout)) {
    std::string l = "L" + std::to_string(loc);
    out += "  subgraph " + l + "[\"" + mermaidEscape(locationTitle(p.locations[loc])) + "\"]\n";
    for (auto &[st, subgraphs] : strata) {
      std::string s = l + "S" + std::to_string(st);
      out += "    subgraph " + s + "[\"stratum " + std::to_string(st) + "\"]\n";
      for (auto &[sg, ops] : subgraphs) {
        bool cyclic = sg >= 0 && static_cast<size_t>(sg) < layout.cyclicSubgraph.size() && layout.cyclicSubgraph[sg];
        out += "      subgraph G" + std::to_string(sg) + "[\"subgraph " + std::to_string(sg) +
               (cyclic ? " (cyclic)" : "") + "\"]\n";
        for (int op : ops)
          out += "        n" + std::to_string(op) + "[\"" + mermaidEscape(labelOf(p, layout, op)) + "\"]\n";
        out += "      end\n";
      }
      out += "    end\n";
    }
    out += "  end\n";
  }
  for (size_t i = 0; i < p.edges.size(); ++i) {
    const Edge &e = p.edges[i];
    EdgeStyle style = styleOf(p, layout, static_cast<int>(i));
    std::string arrow = style == EdgeStyle::Blocking ? "==>" : style == EdgeStyle::NextTick ? "-.->" : "-->";
    std::string label = edgeLabel(p, e, style);
    if (style == EdgeStyle::Handoff) label += (label.empty() ? "" : " ") + std::string("handoff");
    out += "  n" + std::to_string(e.from) + " " + arrow +
           (label.empty() ? "" : "|\"" + mermaidEscape(label) + "\"|") + " n" + std::to_string(e.to) + "\n";
  }
  for (const Channel &c : p.channels)
    out += "  n" + std::to_string(c.sendOp) + " -.->|\"channel " + mermaidEscape(c.name) + "\"| n" +
           std::to_string(c.recvOp) + "\n";
  for (size_t op = 0; op < layout.heat.size(); ++op)
    out += "  style n" + std::to_string(op) + " fill:" + heatColor(layout.heat[op]) + "\n";
  return out;
}

// ----------------------------------------------------------------- json --

std::string writeJson(const Program &p, const GraphLayout &layout) {
  std::vector<JsonRecord> locations, operators, edges, channels;
  for (const Location &l : p.locations)
    locations.push_back(JsonRecord()
                            .add("name", jsonString(l.name))
                            .add("kind", l.isCluster ? "cluster" : "process")
                            .add("size", static_cast<int64_t>(l.size)));
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const Operator &op = p.ops[i];
    operators.push_back(JsonRecord()
                            .add("id", static_cast<int64_t>(i))
                            .add("name", jsonString(op.name))
                            .add("op", op.info().name)
                            .add("call", jsonString(printOperatorCall(p, op)))
                            .add("location", jsonString(p.locations[op.location].name))
                            .add("stratum", layout.stratum[i])
                            .add("subgraph", layout.subgraph[i]));
    if (i < layout.heat.size()) operators.back().add("cpu_share", layout.heat[i]).add("profile", jsonString(layout.note[i]));
  }
  for (size_t i = 0; i < p.edges.size(); ++i) {
    const Edge &e = p.edges[i];
    EdgeStyle style = styleOf(p, layout, static_cast<int>(i));
    edges.push_back(JsonRecord()
                        .add("from", static_cast<int64_t>(e.from))
                        .add("from_port", jsonString(printOutputPort(p, e)))
                        .add("to", static_cast<int64_t>(e.to))
                        .add("to_port", jsonString(printInputPort(p, e)))
                        .add("type", jsonString(typeToString(e.type)))
                        .add("blocking", style == EdgeStyle::Blocking)
                        .add("next_tick", style == EdgeStyle::NextTick)
                        .add("handoff", layout.handoffEdges.count(static_cast<int>(i)) != 0));
  }
  for (const Channel &c : p.channels) {
    JsonRecord channel;
    channel.add("name", jsonString(c.name))
        .add("from", jsonString(p.locations[c.from].name))
        .add("to", jsonString(p.locations[c.to].name))
        .add("mode", c.mode == ChannelMode::Broadcast ? "broadcast" : c.mode == ChannelMode::Hash ? "hash" : "direct")
        .add("type", jsonString(typeToString(c.elem)))
        .add("send", static_cast<int64_t>(c.sendOp))
        .add("recv", static_cast<int64_t>(c.recvOp));
    if (c.batch.enabled())
      channel.add("batch", JsonRecord()
                               .add("count", static_cast<int64_t>(c.batch.count))
                               .add("micros", static_cast<int64_t>(c.batch.micros)));
    channels.push_back(channel);
  }
  return JsonDocument()
      .add("locations", locations)
      .add("operators", operators)
      .add("edges", edges)
      .add("channels", channels)
      .str();
}

} // namespace

std::string writeGraph(const Program &p, const GraphLayout &layout, GraphFormat format) {
  switch (format) {
  case GraphFormat::Mermaid: return writeMermaid(p, layout);
  case GraphFormat::Dot: return writeDot(p, layout);
  case GraphFormat::Json: return writeJson(p, layout);
  }
  return "";
}

} // namespace dfir::ir
