//===- GraphBuilder.cpp - Pipelines -> operator graph ---------------------===//
//
// Places every statement in its location, creates one node per operator
// occurrence and one edge per `->`, resolving named pipelines (forward
// references allowed, names scoped per location) to their input and output
// ends. Then checks, per operator and against ir/Operators.def: ports (known,
// on the right side, used once, none missing), input and output counts,
// argument count and shape, generics, and that channel ends are used exactly
// once on the right location.
//
// Assumes checkDeclarations has run. Guarantees: every edge joins two nodes
// of one location; on success every node's ports are normalized
// (GraphEdge::inIndex/outIndex) and numInPorts/numOutPorts are set.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaContext.h"

#include <algorithm>
#include <set>

namespace dfir {

using namespace ast;

namespace {

unsigned editDistance(const std::string &a, const std::string &b) {
  std::vector<unsigned> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<unsigned>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    unsigned prev = row[0];
    row[0] = static_cast<unsigned>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      unsigned cur = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] != b[j - 1] ? 1u : 0u)});
      prev = row[j];
      row[j] = cur;
    }
  }
  return row[b.size()];
}

std::string portList(const std::vector<std::string> &names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) s += i + 1 == names.size() ? " and " : ", ";
    s += "`[" + names[i] + "]`";
  }
  return s;
}

constexpr uint64_t kMaxPartitionOutputs = 1024;

/// `persist` and its kin: always `'static`.
bool keepsForEver(OpKind k) { return k == OpKind::Persist || k == OpKind::PersistMut || k == OpKind::PersistMutKeyed; }

struct End {
  int node = -1;
  const Port *port = nullptr;
  SourceRange range; // the element, for messages
  bool ok() const { return node >= 0; }
};

class GraphBuilder {
public:
  GraphBuilder(Program &p, SemaContext &ctx) : p_(p), ctx_(ctx) {}

  void run() {
    placeStatements();
    for (auto &[stmt, loc] : statements_) {
      loop_ = stmt->loop;
      createNodes(stmt->pipeline, loc, stmt);
    }
    // A duplicate definition cannot be referred to: its ends are left open
    // on purpose, and that is not worth more errors.
    for (auto &[stmt, loc] : duplicates_) markBroken(*stmt, loc);
    for (auto &[stmt, loc] : statements_) connect(stmt->pipeline, loc);
    for (auto &[stmt, loc] : statements_) {
      // Resolving both ends reports a name that refers to itself, used or not.
      if (stmt->named && !stmt->pipeline.elements.empty()) {
        end(stmt->pipeline.elements.front(), loc, true);
        end(stmt->pipeline.elements.back(), loc, false);
      }
      checkUnusedPorts(stmt->pipeline);
    }
    for (size_t n = 0; n < ctx_.nodes.size(); ++n) {
      checkGenerics(static_cast<int>(n));
      checkArgs(static_cast<int>(n));
      checkInputs(static_cast<int>(n));
      checkOutputs(static_cast<int>(n));
    }
    checkChannelsUsed();
  }

private:
  // ---------------------------------------------------------- placement --
  void placeStatements() {
    std::string available;
    for (auto &l : ctx_.locations) available += (available.empty() ? "`" : ", `") + l.name + "`";
    for (auto &s : p_.topStatements) {
      if (ctx_.implicitMain) {
        addStatement(s, 0);
      } else {
        ctx_.diags.report(DiagID::err_statement_outside_location, s.range) << available;
        forget(s);
      }
    }
    for (auto &b : p_.blocks) {
      int loc = ctx_.implicitMain ? -1 : ctx_.findLocation(b.name);
      if (loc < 0) {
        if (!ctx_.unknownLocations.insert(b.name).second) {
          // Already reported where a channel names it.
        } else if (ctx_.implicitMain) {
          ctx_.diags.report(DiagID::err_unknown_location_block, b.nameRange) << b.name;
        } else {
          ctx_.diags.report(DiagID::err_unknown_location_block_declared, b.nameRange) << b.name << available;
        }
        for (auto &s : b.statements) forget(s);
        continue;
      }
      for (auto &s : b.statements) addStatement(s, loc);
    }
  }

  /// A statement that belongs to no location is not checked, but its name
  /// and the channels it uses must not then be reported as missing.
  void forget(Statement &s) {
    if (s.named) forgotten_.insert(s.name);
    forgetChannels(s.pipeline);
  }
  void forgetChannels(Pipeline &p) {
    for (auto &e : p.elements) {
      if (e.kind == Element::Nested) forgetChannels(*e.nested);
      if (e.kind != Element::Operator) continue;
      for (auto &a : e.op.args)
        if (a->kind == Expr::Name) brokenChannels_.insert(a->name);
    }
  }

  void addStatement(Statement &s, int loc) {
    statements_.push_back({&s, loc});
    if (!s.named) return;
    auto &scope = names_[loc];
    if (auto it = scope.find(s.name); it != scope.end()) {
      (ctx_.diags.report(DiagID::err_duplicate_name, s.nameRange) << s.name)
          .note(DiagID::note_previous_definition, it->second->nameRange);
      duplicates_.push_back({&s, loc});
      return;
    }
    scope[s.name] = &s;
    ctx_.pipelineNameLocations[s.name].push_back(loc);
  }

  // -------------------------------------------------------------- nodes --
  void createNodes(Pipeline &p, int loc, Statement *stmt) {
    for (auto &e : p.elements) {
      if (e.kind == Element::Nested) {
        createNodes(*e.nested, loc, nullptr);
        continue;
      }
      if (e.kind != Element::Operator) continue;
      const OpInfo *info = lookupOperator(e.op.name);
      if (!info) {
        std::string hint;
        unsigned best = 3;
        for (const OpInfo &o : allOperators()) {
          unsigned d = editDistance(e.op.name, o.name);
          if (d < best) {
            best = d;
            hint = std::string("; did you mean `") + o.name + "`?";
          }
        }
        ctx_.diags.report(DiagID::err_unknown_operator, e.op.nameRange) << e.op.name << hint;
        continue;
      }
      GraphNode n;
      n.info = info;
      n.call = &e.op;
      n.location = loc;
      n.loop = loop_;
      nodeOf_[&e] = static_cast<int>(ctx_.nodes.size());
      ctx_.nodes.push_back(std::move(n));
    }
    // A named statement labels the operator at its output end.
    if (stmt && stmt->named && !p.elements.empty()) {
      auto it = nodeOf_.find(&p.elements.back());
      if (it != nodeOf_.end()) ctx_.nodes[it->second].userName = stmt->name;
    }
  }

  // --------------------------------------------------------------- ends --
  void markBroken(Statement &s, int loc) {
    End in = end(s.pipeline.elements.front(), loc, true);
    End out = end(s.pipeline.elements.back(), loc, false);
    if (in.ok()) ctx_.nodes[in.node].brokenIn = true;
    if (out.ok()) ctx_.nodes[out.node].brokenOut = true;
  }

  void markAllBroken(Pipeline &p) {
    for (auto &e : p.elements) {
      if (e.kind == Element::Nested) markAllBroken(*e.nested);
      auto it = nodeOf_.find(&e);
      if (it == nodeOf_.end()) continue;
      ctx_.nodes[it->second].brokenIn = ctx_.nodes[it->second].brokenOut = true;
    }
  }

  Statement *lookup(const Element &e, int loc) {
    auto &scope = names_[loc];
    if (auto it = scope.find(e.name); it != scope.end()) return it->second;
    auto other = ctx_.pipelineNameLocations.find(e.name);
    if (other != ctx_.pipelineNameLocations.end() && !other->second.empty()) {
      int where = other->second.front();
      Statement *def = names_[where][e.name];
      markBroken(*def, where);
      (ctx_.diags.report(DiagID::err_name_in_other_location, e.nameRange)
       << e.name << ctx_.locations[where].name << ctx_.locations[loc].name)
          .note(DiagID::note_defined_here, def->nameRange)
          << e.name;
    } else if (ctx_.channelIndex.count(e.name)) {
      ctx_.diags.report(DiagID::err_channel_used_as_pipeline, e.nameRange) << e.name;
      brokenChannels_.insert(e.name);
    } else if (forgotten_.count(e.name)) {
      // Defined in a statement that was already reported.
    } else {
      ctx_.diags.report(DiagID::err_unknown_name, e.nameRange) << e.name;
    }
    return nullptr;
  }

  End end(Element &e, int loc, bool input) {
    const Port &own = input ? e.inPort : e.outPort;
    End out;
    switch (e.kind) {
    case Element::Operator: {
      auto it = nodeOf_.find(&e);
      if (it == nodeOf_.end()) return out;
      out.node = it->second;
      out.range = e.op.nameRange;
      break;
    }
    case Element::Nested:
      out = end(input ? e.nested->elements.front() : e.nested->elements.back(), loc, input);
      break;
    case Element::Name: {
      Statement *s = lookup(e, loc);
      if (!s) return out;
      auto key = std::make_pair(s, input);
      if (reportedAlias_.count(s)) return out;
      // Each name is resolved once per side: a chain of statements that
      // each start from the one before costs linear time, not quadratic.
      if (auto done = resolved_.find(key); done != resolved_.end()) {
        out = done->second;
        out.range = e.nameRange;
        break;
      }
      if (resolving_.count(key)) {
        // One error per cycle of names: every name on it is settled.
        ctx_.diags.report(DiagID::err_self_alias, s->nameRange) << s->name;
        for (auto &[member, side] : resolving_) {
          reportedAlias_.insert(member);
          markAllBroken(member->pipeline);
        }
        return out;
      }
      resolving_.insert(key);
      auto &elems = s->pipeline.elements;
      out = end(input ? elems.front() : elems.back(), loc, input);
      resolving_.erase(key);
      resolved_[key] = out;
      out.range = e.nameRange;
      break;
    }
    }
    if (own.present) out.port = &own;
    return out;
  }

  /// A port that no edge uses was written where no edge can reach it: a
  /// prefix port at the start of a pipeline or a suffix port at its end
  /// (when the pipeline's name is not used from that side), or an inner port
  /// overridden by one written on the name.
  void checkUnusedPorts(Pipeline &p) {
    for (auto &e : p.elements) {
      if (e.kind == Element::Nested) checkUnusedPorts(*e.nested);
      if (e.inPort.present && !usedPorts_.count(&e.inPort))
        ctx_.diags.report(DiagID::err_port_wrong_side_input, e.inPort.range) << e.inPort.text();
      if (e.outPort.present && !usedPorts_.count(&e.outPort))
        ctx_.diags.report(DiagID::err_port_wrong_side_output, e.outPort.range)
            << e.outPort.text() << e.outPort.text();
    }
  }

  void connect(Pipeline &p, int loc) {
    for (auto &e : p.elements)
      if (e.kind == Element::Nested) connect(*e.nested, loc);
    for (size_t i = 0; i + 1 < p.elements.size(); ++i) {
      // The ports written on this edge's two ends are used by it, even if a
      // name below fails to resolve (that is the one error to report).
      if (p.elements[i].outPort.present) usedPorts_.insert(&p.elements[i].outPort);
      if (p.elements[i + 1].inPort.present) usedPorts_.insert(&p.elements[i + 1].inPort);
      End from = end(p.elements[i], loc, false);
      End to = end(p.elements[i + 1], loc, true);
      if (from.port) usedPorts_.insert(from.port);
      if (to.port) usedPorts_.insert(to.port);
      if (!from.ok() || !to.ok()) {
        if (from.ok()) ctx_.nodes[from.node].brokenOut = true;
        if (to.ok()) ctx_.nodes[to.node].brokenIn = true;
        continue;
      }
      GraphEdge edge;
      edge.from = from.node;
      edge.to = to.node;
      edge.fromPort.port = from.port;
      edge.toPort.port = to.port;
      edge.range = i < p.arrows.size() ? p.arrows[i] : p.elements[i + 1].range;
      edge.fromRange = from.range;
      edge.toRange = to.range;
      int id = static_cast<int>(ctx_.edges.size());
      ctx_.edges.push_back(edge);
      ctx_.nodes[from.node].outEdges.push_back(id);
      ctx_.nodes[to.node].inEdges.push_back(id);
    }
  }

  // ------------------------------------------------------------ generics --
  void checkGenerics(int n) {
    GraphNode &node = ctx_.nodes[n];
    const OpInfo &info = *node.info;
    OperatorCall &call = *node.call;
    std::vector<std::string> lifetimes;
    unsigned typeArgs = 0;
    for (auto &g : call.generics) {
      if (g.isLifetime) {
        if (typeArgs) {
          ctx_.diags.report(DiagID::err_generic_order, g.range);
          continue;
        }
        bool loopLifetime = g.lifetime == "none" || g.lifetime == "loop";
        if (g.lifetime != "tick" && g.lifetime != "static" && !loopLifetime) {
          ctx_.diags.report(DiagID::err_unknown_lifetime, g.range) << g.lifetime;
          continue;
        }
        // Inside a loop block state lives an iteration or a run of the
        // loop; outside, a tick or for ever.
        if (node.loop >= 0 && !loopLifetime && info.maxLifetimes > 0 && !keepsForEver(info.kind)) {
          ctx_.diags.report(DiagID::err_lifetime_in_loop, g.range) << g.lifetime;
          continue;
        }
        if (node.loop < 0 && loopLifetime) {
          ctx_.diags.report(DiagID::err_lifetime_outside_loop, g.range) << g.lifetime;
          continue;
        }
        lifetimes.push_back(g.lifetime);
        continue;
      }
      ++typeArgs;
      if (typeArgs > info.typeGenerics) {
        ctx_.diags.report(DiagID::err_unexpected_type_argument, g.range) << info.name;
        continue;
      }
      const Type *t = ctx_.resolveType(*g.type);
      if (info.kind == OpKind::DemuxEnum && ctx_.infer.resolve(t)->kind != Type::Enum) {
        if (!ctx_.infer.resolve(t)->isVar())
          ctx_.diags.report(DiagID::err_demux_not_enum, g.range) << ctx_.infer.display(t);
        continue;
      }
      node.typeGeneric = t;
    }
    if (typeArgs < info.typeGenerics)
      ctx_.diags.report(DiagID::err_missing_type_argument, call.nameRange)
          << info.name << (info.kind == OpKind::DemuxEnum ? "MyEnum" : "MyType")
          << (info.kind == OpKind::SourceStream ? "\"name\"" : "");
    if (lifetimes.size() > info.maxLifetimes) {
      if (info.maxLifetimes == 0)
        ctx_.diags.report(DiagID::err_lifetimes_not_allowed, call.genericsRange) << info.name;
      else
        ctx_.diags.report(DiagID::err_too_many_lifetimes, call.genericsRange)
            << info.name << info.maxLifetimes << lifetimes.size();
      lifetimes.resize(info.maxLifetimes);
    }
    if (keepsForEver(info.kind)) {
      for (auto &l : lifetimes)
        if (l != "static") ctx_.diags.report(DiagID::err_persist_needs_static, call.genericsRange) << info.name;
      lifetimes = {"static"};
    }
    if (info.maxLifetimes > 0) {
      unsigned inputs = info.maxLifetimes;
      std::string first = lifetimes.empty() ? (node.loop >= 0 ? "none" : "tick") : lifetimes[0];
      node.lifetimes.assign(inputs, first);
      if (lifetimes.size() > 1) node.lifetimes[1] = lifetimes[1];
    }
  }

  // --------------------------------------------------------------- args --
  void checkArgs(int n) {
    GraphNode &node = ctx_.nodes[n];
    const OpInfo &info = *node.info;
    OperatorCall &call = *node.call;
    if (call.args.size() != info.args.size()) {
      ctx_.diags.report(DiagID::err_arg_count, call.args.empty() ? call.range : call.argsRange)
          << info.name << info.args.size() << (info.args.size() == 1 ? "" : "s") << call.args.size();
      return;
    }
    for (size_t i = 0; i < info.args.size(); ++i) {
      Expr &arg = *call.args[i];
      const ArgShape &shape = info.args[i];
      bool isLambda = arg.kind == Expr::Lambda;
      switch (shape.kind) {
      case ArgShape::Closure:
        if (!isLambda) {
          ctx_.diags.report(DiagID::err_expected_closure, arg.range)
              << (i + 1) << info.name << shape.params << (shape.params == 1 ? "" : "s");
        } else if (arg.params.size() != shape.params) {
          ctx_.diags.report(DiagID::err_closure_param_count, arg.range)
              << info.name << shape.params << (shape.params == 1 ? "" : "s") << arg.params.size();
        }
        break;
      case ArgShape::Init:
        if (isLambda && !arg.params.empty())
          ctx_.diags.report(DiagID::err_closure_param_count, arg.range)
              << info.name << 0 << "s" << arg.params.size();
        break;
      case ArgShape::Value:
        if (isLambda) ctx_.diags.report(DiagID::err_unexpected_closure, arg.range) << (i + 1) << info.name;
        break;
      case ArgShape::Channel: checkChannelArg(n, arg); break;
      }
    }
  }

  void checkChannelArg(int n, Expr &arg) {
    GraphNode &node = ctx_.nodes[n];
    const char *op = node.info->name;
    if (arg.kind != Expr::Name) {
      ctx_.diags.report(DiagID::err_expected_channel, arg.range) << op;
      // Without a channel name, every channel's ends are in doubt.
      for (auto &[name, idx] : ctx_.channelIndex) brokenChannels_.insert(name);
      return;
    }
    auto it = ctx_.channelIndex.find(arg.name);
    if (it == ctx_.channelIndex.end()) {
      ctx_.diags.report(DiagID::err_unknown_channel, arg.range) << arg.name;
      return;
    }
    ChannelInfo &ch = ctx_.channels[it->second];
    bool isSend = node.info->kind == OpKind::Send;
    int side = isSend ? ch.from : ch.to;
    if (side < 0) return; // the declaration was already reported
    if (side != node.location) {
      (ctx_.diags.report(DiagID::err_channel_wrong_location, arg.range)
       << op << arg.name << ctx_.locations[side].name
       << (isSend ? "sending" : "receiving") << ctx_.locations[node.location].name)
          .note(DiagID::note_channel_declared_here, ch.decl->nameRange)
          << arg.name;
      brokenChannels_.insert(arg.name);
      return;
    }
    int &slot = isSend ? ch.sendNode : ch.recvNode;
    if (slot >= 0) {
      (ctx_.diags.report(DiagID::err_channel_end_twice, arg.range) << op << arg.name)
          .note(DiagID::note_previous_use, ctx_.nodes[slot].call->args[0]->range);
      return;
    }
    slot = n;
    node.channel = it->second;
  }

  void checkChannelsUsed() {
    for (auto &ch : ctx_.channels) {
      if (ch.from < 0 || ch.to < 0 || brokenChannels_.count(ch.decl->name)) continue;
      if (ch.sendNode < 0 && ch.recvNode < 0) {
        ctx_.diags.report(DiagID::err_channel_unused, ch.decl->nameRange) << ch.decl->name;
        continue;
      }
      if (ch.sendNode < 0)
        ctx_.diags.report(DiagID::err_channel_never_sent, ch.decl->nameRange)
            << ch.decl->name << ch.decl->name << ch.decl->from;
      if (ch.recvNode < 0)
        ctx_.diags.report(DiagID::err_channel_never_received, ch.decl->nameRange)
            << ch.decl->name << ch.decl->name << ch.decl->to;
    }
  }

  // -------------------------------------------------------------- ports --
  /// Reports a second edge on one port; returns false if it is a repeat.
  bool claimPort(std::map<std::string, int> &used, const std::string &key, int edge, bool input) {
    auto [it, fresh] = used.emplace(key, edge);
    if (fresh) return true;
    const GraphEdge &e = ctx_.edges[edge];
    const GraphEdge &first = ctx_.edges[it->second];
    const Port *port = input ? e.toPort.port : e.fromPort.port;
    const Port *firstPort = input ? first.toPort.port : first.fromPort.port;
    (ctx_.diags.report(DiagID::err_port_used_twice, port ? port->range : input ? e.toRange : e.fromRange)
     << (input ? "input" : "output") << key)
        .note(DiagID::note_previous_edge, firstPort ? firstPort->range : input ? first.toRange : first.fromRange);
    return false;
  }

  // One side (inputs or outputs) of an edge, so both sides share the checks.
  const Port *portOf(const GraphEdge &e, bool input) { return input ? e.toPort.port : e.fromPort.port; }
  SourceRange endOf(const GraphEdge &e, bool input) { return input ? e.toRange : e.fromRange; }
  unsigned &indexOf(GraphEdge &e, bool input) { return input ? e.inIndex : e.outIndex; }
  const char *sideName(bool input) { return input ? "input" : "output"; }

  /// A side with one port: no port may be written, one edge at most.
  void checkSingle(GraphNode &node, const std::vector<int> &edges, bool input) {
    for (size_t i = 0; i < edges.size(); ++i) {
      GraphEdge &e = ctx_.edges[edges[i]];
      if (const Port *port = portOf(e, input)) {
        ctx_.diags.report(DiagID::err_port_not_allowed, port->range)
            << node.info->name << sideName(input) << port->text();
      } else if (i > 0) {
        (ctx_.diags.report(input ? DiagID::err_too_many_inputs : DiagID::err_too_many_outputs, endOf(e, input))
         << node.info->name)
            .note(DiagID::note_previous_edge, endOf(ctx_.edges[edges[0]], input));
      }
      indexOf(e, input) = 0;
    }
  }

  /// A side with any number of unnamed ports (`union` inputs, `tee`
  /// outputs): ports, if written, are distinct integers.
  void checkVariadic(GraphNode &node, const std::vector<int> &edges, bool input) {
    std::map<std::string, int> used;
    for (size_t i = 0; i < edges.size(); ++i) {
      GraphEdge &e = ctx_.edges[edges[i]];
      indexOf(e, input) = static_cast<unsigned>(i);
      const Port *port = portOf(e, input);
      if (!port) continue;
      if (port->isName)
        ctx_.diags.report(DiagID::err_unknown_port, port->range)
            << node.info->name << sideName(input) << port->text() << "numbered ports such as `[0]`";
      else
        claimPort(used, port->text(), edges[i], input);
    }
  }

  void checkInputs(int n) {
    GraphNode &node = ctx_.nodes[n];
    const OpInfo &info = *node.info;
    const char *name = info.name;
    std::vector<int> &in = node.inEdges;
    switch (info.inputs) {
    case InputShape::None:
      for (int e : in)
        ctx_.diags.report(DiagID::err_unexpected_input, ctx_.edges[e].toRange) << name;
      node.numInPorts = 0;
      return;
    case InputShape::Optional:
    case InputShape::One:
      // A sink written where a pipeline starts (`for_each(..) -> x`) is one
      // mistake: its output is reported (checkOutputs), not also its input.
      if (in.empty() && info.inputs == InputShape::One && !node.brokenIn &&
          !(info.outputs == OutputShape::None && !node.outEdges.empty()))
        ctx_.diags.report(DiagID::err_missing_input, node.range()) << name;
      checkSingle(node, in, true);
      node.numInPorts = info.inputs == InputShape::Optional && in.empty() ? 0 : 1;
      return;
    case InputShape::Many: {
      if (in.empty() && !node.brokenIn) ctx_.diags.report(DiagID::err_missing_input, node.range()) << name;
      if (in.size() == 1 && !node.brokenIn) ctx_.diags.report(DiagID::warn_single_input_union, node.range());
      checkVariadic(node, in, true);
      node.numInPorts = static_cast<unsigned>(in.size());
      return;
    }
    case InputShape::Ports01:
    case InputShape::PosNeg:
    case InputShape::InputSingle:
    case InputShape::InputSignal: break;
    }
    std::vector<std::string> names = info.inputPortNames();
    std::map<std::string, int> used;
    bool portErrors = node.brokenIn; // a bad port is the mistake; do not also report it missing
    for (int id : in) {
      GraphEdge &e = ctx_.edges[id];
      if (!e.toPort.port) {
        ctx_.diags.report(DiagID::err_missing_port, e.toRange) << name << portList(names);
        portErrors = true;
        continue;
      }
      std::string key = e.toPort.port->text();
      auto it = std::find(names.begin(), names.end(), key);
      if (it == names.end()) {
        ctx_.diags.report(DiagID::err_unknown_port, e.toPort.port->range)
            << name << "input" << key << portList(names);
        portErrors = true;
        continue;
      }
      e.inIndex = static_cast<unsigned>(it - names.begin());
      if (!claimPort(used, key, id, true)) portErrors = true;
    }
    for (auto &pn : names)
      if (!used.count(pn) && !portErrors)
        ctx_.diags.report(DiagID::err_missing_input_port, node.range()) << name << pn;
    node.numInPorts = static_cast<unsigned>(names.size());
  }

  void checkOutputs(int n) {
    GraphNode &node = ctx_.nodes[n];
    const OpInfo &info = *node.info;
    const char *name = info.name;
    std::vector<int> &out = node.outEdges;
    switch (info.outputs) {
    case OutputShape::None:
      for (int e : out) ctx_.diags.report(DiagID::err_unexpected_output, ctx_.edges[e].fromRange) << name;
      node.numOutPorts = 0;
      return;
    case OutputShape::Optional:
      if (!node.inEdges.empty() && !out.empty() && !node.brokenIn && !node.brokenOut)
        ctx_.diags.report(DiagID::err_null_both_ends, node.range());
      else if (node.inEdges.empty() && out.empty() && !node.brokenIn && !node.brokenOut)
        ctx_.diags.report(DiagID::err_null_unconnected, node.range());
      [[fallthrough]];
    case OutputShape::One:
      if (out.empty() && info.outputs == OutputShape::One && !node.brokenOut)
        ctx_.diags.report(DiagID::err_missing_output, node.range()) << name;
      checkSingle(node, out, false);
      node.numOutPorts = info.outputs == OutputShape::Optional && out.empty() ? 0 : 1;
      return;
    case OutputShape::Many: {
      if (out.empty() && !node.brokenOut) ctx_.diags.report(DiagID::err_missing_output, node.range()) << name;
      if (out.size() == 1 && !node.brokenOut) ctx_.diags.report(DiagID::warn_single_output_tee, node.range());
      checkVariadic(node, out, false);
      node.numOutPorts = static_cast<unsigned>(out.size());
      return;
    }
    case OutputShape::Indexed:
    case OutputShape::Ports01:
    case OutputShape::Variants: break;
    }
    std::vector<std::string> names;
    if (info.outputs == OutputShape::Ports01) names = {"0", "1"};
    const EnumInfo *en = nullptr;
    if (info.outputs == OutputShape::Variants) {
      if (!node.typeGeneric) return;
      en = &ctx_.types.enumInfo(ctx_.infer.resolve(node.typeGeneric)->id);
      for (auto &v : en->variants) names.push_back(v.name);
    }
    if (out.empty() && !node.brokenOut) ctx_.diags.report(DiagID::err_missing_output, node.range()) << name;
    std::map<std::string, int> used;
    unsigned maxIndex = 0;
    bool portErrors = node.brokenOut || out.empty();
    for (int id : out) {
      GraphEdge &e = ctx_.edges[id];
      const Port *port = e.fromPort.port;
      std::string expected = info.outputs == OutputShape::Indexed ? "numbered ports `[0]` to `[1023]`"
                                                                   : portList(names);
      if (!port) {
        ctx_.diags.report(DiagID::err_missing_port, e.fromRange) << name << expected;
        portErrors = true;
        continue;
      }
      std::string key = port->text();
      if (info.outputs == OutputShape::Indexed) {
        if (port->isName || port->index >= kMaxPartitionOutputs) {
          ctx_.diags.report(DiagID::err_unknown_port, port->range) << name << "output" << key << expected;
          portErrors = true;
          continue;
        }
        e.outIndex = static_cast<unsigned>(port->index);
      } else {
        auto it = std::find(names.begin(), names.end(), key);
        if (it == names.end()) {
          ctx_.diags.report(DiagID::err_unknown_port, port->range) << name << "output" << key << expected;
          portErrors = true;
          continue;
        }
        e.outIndex = static_cast<unsigned>(it - names.begin());
      }
      maxIndex = std::max(maxIndex, e.outIndex + 1);
      if (!claimPort(used, key, id, false)) portErrors = true;
    }
    if (info.outputs == OutputShape::Ports01 && !portErrors)
      for (auto &pn : names)
        if (!used.count(pn)) ctx_.diags.report(DiagID::err_missing_output_port, node.range()) << name << pn;
    node.numOutPorts = info.outputs == OutputShape::Indexed ? maxIndex : static_cast<unsigned>(names.size());
  }

  Program &p_;
  SemaContext &ctx_;
  int loop_ = -1; // the loop block of the statement whose nodes are being made
  std::vector<std::pair<Statement *, int>> statements_;
  std::vector<std::pair<Statement *, int>> duplicates_;
  std::map<int, std::map<std::string, Statement *>> names_;
  std::map<const Element *, int> nodeOf_;
  std::set<std::pair<Statement *, bool>> resolving_;
  std::map<std::pair<Statement *, bool>, End> resolved_;
  std::set<Statement *> reportedAlias_;
  std::set<const Port *> usedPorts_;
  std::set<std::string> forgotten_;       // names of statements outside any location
  std::set<std::string> brokenChannels_;  // channels whose ends were already reported
};

} // namespace

void buildGraph(Program &program, SemaContext &ctx) { GraphBuilder(program, ctx).run(); }

} // namespace dfir
