#include "ir/Verifier.h"

#include "ir/GraphAlgo.h"

#include <set>

namespace dfir::ir {

namespace {

class Verifier {
public:
  explicit Verifier(const Program &p) : p_(p) {}
  std::vector<std::string> problems;

  void run() {
    for (size_t i = 0; i < p_.ops.size(); ++i) checkOperator(static_cast<int>(i));
    for (size_t i = 0; i < p_.edges.size(); ++i) checkEdge(static_cast<int>(i));
    for (const Channel &c : p_.channels) checkChannel(c);
    checkCycles();
    checkNames();
    checkLoops();
  }

private:
  std::string opName(int id) const {
    if (id < 0 || static_cast<size_t>(id) >= p_.ops.size()) return "operator #" + std::to_string(id);
    return "`" + p_.ops[id].name + "` (" + p_.ops[id].info().name + ")";
  }
  void fail(std::string msg) { problems.push_back(std::move(msg)); }

  bool validOp(int id) const { return id >= 0 && static_cast<size_t>(id) < p_.ops.size(); }
  bool validEdge(int id) const { return id >= 0 && static_cast<size_t>(id) < p_.edges.size(); }

  void checkOperator(int id) {
    const Operator &op = p_.ops[id];
    const OpInfo &info = op.info();
    std::string name = opName(id);
    // 1. Operator table.
    if (op.args.size() != info.args.size())
      fail(name + ": has " + std::to_string(op.args.size()) + " arguments, the table says " +
           std::to_string(info.args.size()));
    for (size_t i = 0; i < op.args.size() && i < info.args.size(); ++i)
      if ((info.args[i].kind == ArgShape::Channel) !=
              (op.args[i]->kind == Expr::Channel && op.args[i]->index == op.channel))
        fail(name + ": argument " + std::to_string(i) + " does not name its channel as the table says");
    if (op.persistence.size() != info.maxLifetimes)
      fail(name + ": has " + std::to_string(op.persistence.size()) + " lifetimes, the table says " +
           std::to_string(info.maxLifetimes));
    if ((op.typeArg != nullptr) != (info.typeGenerics == 1))
      fail(name + ": type argument does not match the table");
    if (op.location < 0 || static_cast<size_t>(op.location) >= p_.locations.size())
      fail(name + ": belongs to no location");
    // State references: a fold or reduce of the same location, named as it is.
    for (auto &a : op.args)
      forEachExpr(*a, [&](const Expr &e) {
        if (e.kind != Expr::StateRef) return;
        if (!validOp(e.index)) return fail(name + ": `#" + e.name + "` reads no operator");
        const Operator &t = p_.ops[e.index];
        if (stateRead(t.kind) == StateRead::None)
          fail(name + ": `#" + e.name + "` reads " + opName(e.index) + ", which keeps no state to read");
        if (t.location != op.location) fail(name + ": `#" + e.name + "` reads an operator of another location");
        if (t.name != e.name) fail(name + ": `#" + e.name + "` reads " + opName(e.index) + ", named otherwise");
      });
    // 2. Port arity.
    size_t in = op.inputs.size(), out = op.outputs.size();
    bool inOk = true, outOk = true;
    switch (info.inputs) {
    case InputShape::None: inOk = in == 0; break;
    case InputShape::One: inOk = in == 1; break;
    case InputShape::Optional: inOk = in <= 1; break;
    case InputShape::Many: inOk = in >= 1; break;
    case InputShape::Ports01:
    case InputShape::PosNeg:
    case InputShape::InputSingle:
    case InputShape::InputSignal: inOk = in == 2; break;
    }
    switch (info.outputs) {
    case OutputShape::None: outOk = out == 0; break;
    case OutputShape::One: outOk = out == 1; break;
    case OutputShape::Optional: outOk = out <= 1; break;
    case OutputShape::Many:
    case OutputShape::Indexed: outOk = out >= 1; break;
    case OutputShape::Ports01: outOk = out == 2; break;
    case OutputShape::Variants:
      outOk = op.typeArg && op.typeArg->kind == Type::Enum &&
              out == p_.types->enumInfo(op.typeArg->id).variants.size();
      break;
    }
    if (!inOk) fail(name + ": " + std::to_string(in) + " input ports do not fit its shape");
    if (!outOk) fail(name + ": " + std::to_string(out) + " output ports do not fit its shape");
    if (op.inTypes.size() != in || op.outTypes.size() != out) fail(name + ": port types do not match its ports");
    // 3. One producer per input port.
    for (size_t port = 0; port < in; ++port) {
      int e = op.inputs[port];
      if (e == kNone) {
        fail(name + ": input port " + std::to_string(port) + " has no producer");
      } else if (!validEdge(e) || p_.edges[e].to != id || p_.edges[e].toPort != port) {
        fail(name + ": input port " + std::to_string(port) + " names edge " + std::to_string(e) +
             ", which does not end there");
      }
    }
    // 4. Output table.
    bool mustConnect = info.outputs == OutputShape::One || info.outputs == OutputShape::Many ||
                       info.outputs == OutputShape::Ports01;
    for (size_t port = 0; port < out; ++port) {
      int e = op.outputs[port];
      if (e == kNone) {
        if (mustConnect) fail(name + ": output port " + std::to_string(port) + " is not connected");
      } else if (!validEdge(e) || p_.edges[e].from != id || p_.edges[e].fromPort != port) {
        fail(name + ": output port " + std::to_string(port) + " names edge " + std::to_string(e) +
             ", which does not start there");
      }
    }
  }

  static bool hasVars(const Type *t) {
    if (t->kind == Type::Var) return true;
    for (const Type *e : t->elems)
      if (hasVars(e)) return true;
    return false;
  }

  // 12. Loop blocks.
  void checkLoops() {
    for (size_t l = 0; l < p_.loops.size(); ++l) {
      int parent = p_.loops[l].parent;
      if (parent != kNone && (parent < 0 || parent >= static_cast<int>(l)))
        fail("loop " + std::to_string(l) + ": its parent is not a loop before it");
      else if (parent != kNone && p_.loops[parent].location != p_.loops[l].location)
        fail("loop " + std::to_string(l) + ": in another location than its parent");
    }
    auto parentOf = [&](int loop) { return loop == kNone ? kNone - 1 : p_.loops[loop].parent; };
    for (size_t i = 0; i < p_.ops.size(); ++i) {
      const Operator &op = p_.ops[i];
      std::string name = opName(static_cast<int>(i));
      if (op.loop != kNone && (op.loop < 0 || op.loop >= static_cast<int>(p_.loops.size()))) {
        fail(name + ": in no loop block");
        return;
      }
      if (op.loop != kNone && p_.loops[op.loop].location != op.location) fail(name + ": in a loop of another location");
      if ((entersLoop(op.kind) || op.kind == OpKind::NextIteration) && op.loop == kNone) fail(name + ": outside any loop");
      for (Persistence l : op.persistence) {
        bool loopLifetime = l == Persistence::None || l == Persistence::Loop;
        if (loopLifetime != (op.loop != kNone)) fail(name + ": lifetime '" + persistenceName(l) + " where it is");
      }
    }
    for (size_t i = 0; i < p_.edges.size(); ++i) {
      const Edge &e = p_.edges[i];
      if (!validOp(e.from) || !validOp(e.to)) continue;
      const Operator &from = p_.ops[e.from], &to = p_.ops[e.to];
      bool ok = from.loop == to.loop ? !entersLoop(to.kind) && !leavesLoop(to.kind)
                : entersLoop(to.kind)    ? parentOf(to.loop) == from.loop
                : leavesLoop(to.kind)    ? parentOf(from.loop) == to.loop
                                     : false;
      if (from.kind == OpKind::NextIteration && from.loop != to.loop) ok = false;
      if (!ok) fail("edge " + std::to_string(i) + " (" + opName(e.from) + " -> " + opName(e.to) + "): crosses a loop block's boundary where it may not");
    }
  }

  void checkEdge(int id) {
    const Edge &e = p_.edges[id];
    std::string name = "edge " + std::to_string(id);
    if (!validOp(e.from) || !validOp(e.to)) {
      fail(name + ": joins a missing operator");
      return;
    }
    const Operator &from = p_.ops[e.from], &to = p_.ops[e.to];
    name += " (" + opName(e.from) + " -> " + opName(e.to) + ")";
    // 4. Both ends know the edge.
    if (e.fromPort >= from.outputs.size() || from.outputs[e.fromPort] != id)
      fail(name + ": missing from its source's output ports");
    if (e.toPort >= to.inputs.size() || to.inputs[e.toPort] != id)
      fail(name + ": missing from its target's input ports");
    // 5. Types.
    if (!e.type || hasVars(e.type)) {
      fail(name + ": has no concrete type");
    } else {
      if (e.fromPort < from.outTypes.size() && from.outTypes[e.fromPort] != e.type)
        fail(name + ": type " + typeToString(e.type) + " differs from its source port's " +
             typeToString(from.outTypes[e.fromPort]));
      if (e.toPort < to.inTypes.size() && to.inTypes[e.toPort] != e.type)
        fail(name + ": type " + typeToString(e.type) + " differs from its target port's " +
             typeToString(to.inTypes[e.toPort]));
    }
    // 6. Locations.
    if (from.location != to.location) fail(name + ": crosses from one location to another");
  }

  void checkChannel(const Channel &c) {
    std::string name = "channel `" + c.name + "`";
    auto end = [&](int op, OpKind kind, int location, const char *what) {
      if (!validOp(op)) {
        fail(name + ": has no " + what);
        return;
      }
      const Operator &o = p_.ops[op];
      if (o.kind != kind || o.channel < 0 || p_.channels[o.channel].name != c.name)
        fail(name + ": its " + what + " " + opName(op) + " does not name it");
      if (o.location != location) fail(name + ": its " + what + " is in the wrong location");
    };
    end(c.sendOp, OpKind::Send, c.from, "send");
    end(c.recvOp, OpKind::Recv, c.to, "recv");
    if (!c.elem || hasVars(c.elem)) {
      fail(name + ": has no concrete element type");
      return;
    }
    // 9. What its ends take and yield (LANGUAGE.md: a member id joins the
    // element where a cluster is on the other side).
    if (c.from < 0 || c.to < 0 || static_cast<size_t>(c.from) >= p_.locations.size() ||
        static_cast<size_t>(c.to) >= p_.locations.size()) {
      fail(name + ": joins a missing location");
      return;
    }
    auto paired = [&](const Type *t) {
      return t && t->kind == Type::Tuple && t->elems.size() == 2 && t->elems[0] == p_.types->u32() &&
             t->elems[1] == c.elem;
    };
    bool toCluster = p_.locations[c.to].isCluster, fromCluster = p_.locations[c.from].isCluster;
    if (validOp(c.sendOp) && p_.ops[c.sendOp].inTypes.size() == 1) {
      const Type *t = p_.ops[c.sendOp].inTypes[0];
      bool wantPair = toCluster && c.mode == ChannelMode::Direct;
      if (wantPair ? !paired(t) : t != c.elem)
        fail(name + ": its send takes " + typeToString(t) + ", not what the channel's element type " +
             typeToString(c.elem) + " asks for");
    }
    if (validOp(c.recvOp) && p_.ops[c.recvOp].outTypes.size() == 1) {
      const Type *t = p_.ops[c.recvOp].outTypes[0];
      if (fromCluster ? !paired(t) : t != c.elem)
        fail(name + ": its recv yields " + typeToString(t) + ", not what the channel's element type " +
             typeToString(c.elem) + " asks for");
    }
    // 10. A hash channel has its function; no other channel has one.
    if ((c.mode == ChannelMode::Hash) != (c.hashFn != nullptr))
      fail(name + (c.hashFn ? ": has a hash function but is not a hash channel" : ": is a hash channel without its function"));
    if (c.mode != ChannelMode::Direct && !toCluster) fail(name + ": broadcasts or hashes to a process");
    if (c.batch.count > kMaxBatchCount || c.batch.micros > kMaxBatchMicros)
      fail(name + ": its batching policy is out of range");
  }

  // 11. Operator names are unique within a location, location and channel
  // names in the program; only a program's one location may be the
  // implicit `main` (it has no declaration to print).
  void checkNames() {
    std::set<std::pair<int, std::string>> ops;
    for (size_t i = 0; i < p_.ops.size(); ++i)
      if (!ops.insert({p_.ops[i].location, p_.ops[i].name}).second)
        fail(opName(static_cast<int>(i)) + ": another operator of its location has the same name");
    std::set<std::string> globals;
    for (auto &l : p_.locations)
      if (!globals.insert(l.name).second) fail("location `" + l.name + "`: the name is used twice");
    for (auto &c : p_.channels)
      if (!globals.insert(c.name).second) fail("channel `" + c.name + "`: the name is used twice");
    for (auto &l : p_.locations)
      if (l.implicit && p_.locations.size() > 1)
        fail("location `" + l.name + "`: implicit, but the program has other locations");
  }

  void checkCycles() {
    std::vector<int> scc = stronglyConnected(tickSuccessors(p_));
    int e = illegalCycleEdge(p_, scc);
    if (e != kNone)
      fail("edge " + std::to_string(e) + " into blocking input " + std::to_string(p_.edges[e].toPort) + " of " +
           opName(p_.edges[e].to) + " lies on a cycle within one tick");
    for (auto [target, reader] : stateReferences(p_))
      if (target == reader || scc[target] == scc[reader])
        fail(opName(reader) + " reads the state of " + opName(target) + ", which depends on it within one tick");
  }

  const Program &p_;
};

} // namespace

std::vector<std::string> verify(const Program &p) {
  Verifier v(p);
  v.run();
  return v.problems;
}

} // namespace dfir::ir
