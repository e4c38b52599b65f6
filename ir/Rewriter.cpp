#include "ir/Rewriter.h"

#include "ir/Check.h"
#include "ir/GraphAlgo.h"

#include <set>

namespace dfir::ir {

namespace {
/// Local variable 0 of a closure of one parameter.
std::unique_ptr<Expr> param(const std::string &name, const Type *t) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Local;
  e->slot = 0;
  e->name = name;
  e->type = t;
  return e;
}

/// `|name: paramType| body`, whose parameter is its only local (slot 0).
std::unique_ptr<Expr> lambda(const std::string &name, const Type *paramType, std::unique_ptr<Expr> body) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Lambda;
  auto p = std::make_unique<Pattern>();
  p->kind = Pattern::Bind;
  p->slot = 0;
  p->name = name;
  p->type = paramType;
  e->params.push_back(std::move(p));
  e->type = body->type;
  e->kids.push_back(std::move(body));
  e->slots = 1;
  return e;
}

std::unique_ptr<Expr> channelArg(const std::string &name, ChanId channel) {
  auto e = std::make_unique<Expr>();
  e->kind = Expr::Channel;
  e->index = channel;
  e->name = name;
  return e;
}
} // namespace

void Rewriter::grow() {
  erasedOps_.resize(p_.ops.size(), false);
  erasedEdges_.resize(p_.edges.size(), false);
  erasedChannels_.resize(p_.channels.size(), false);
}

std::string Rewriter::freshOperatorName(LocId location, const std::string &base) const {
  std::set<std::string> taken;
  for (auto &op : p_.ops)
    if (op.location == location) taken.insert(op.name);
  for (unsigned n = 0;; ++n) {
    std::string name = base + "_" + std::to_string(n);
    if (!taken.count(name)) return name;
  }
}

bool Rewriter::globalNameTaken(const std::string &name) const {
  for (auto &l : p_.locations)
    if (l.name == name) return true;
  for (auto &c : p_.channels)
    if (c.name == name) return true;
  for (auto &x : p_.externs)
    if (x.name == name) return true;
  for (auto &c : p_.consts)
    if (c.name == name) return true;
  for (unsigned i = 0; i < p_.types->numStructs(); ++i)
    if (p_.types->structInfo(i).name == name) return true;
  for (unsigned i = 0; i < p_.types->numEnums(); ++i)
    if (p_.types->enumInfo(i).name == name) return true;
  return false;
}

std::string Rewriter::freshGlobalName(const std::string &base) const {
  if (!globalNameTaken(base)) return base;
  for (unsigned n = 1;; ++n) {
    std::string name = base + "_" + std::to_string(n);
    if (!globalNameTaken(name)) return name;
  }
}

LocId Rewriter::addLocation(const std::string &name, bool isCluster, uint64_t size) {
  for (auto &l : p_.locations) l.implicit = false;
  Location l;
  l.name = name;
  l.isCluster = isCluster;
  l.size = size;
  p_.locations.push_back(std::move(l));
  return LocId(static_cast<int>(p_.locations.size()) - 1);
}

OpId Rewriter::addOperator(OpKind kind, LocId location, const std::string &name, std::vector<std::unique_ptr<Expr>> args,
                          std::vector<const Type *> inTypes, std::vector<const Type *> outTypes, SourceRange range) {
  Operator op;
  op.kind = kind;
  op.location = location;
  op.name = name;
  op.args = std::move(args);
  op.inputs.assign(inTypes.size(), EdgeId());
  op.outputs.assign(outTypes.size(), EdgeId());
  op.inTypes = std::move(inTypes);
  op.outTypes = std::move(outTypes);
  op.range = range;
  p_.ops.push_back(std::move(op));
  grow();
  return OpId(static_cast<int>(p_.ops.size()) - 1);
}

void Rewriter::moveOperator(OpId op, LocId location) {
  Operator &o = p_.ops[op];
  if (o.channel != kNone) {
    Channel &c = p_.channels[o.channel];
    if (o.kind == OpKind::Send) c.from = location;
    if (o.kind == OpKind::Recv) c.to = location;
  }
  o.location = location;
}

void Rewriter::setEdgeTarget(EdgeId e, OpId to, unsigned toPort) {
  Edge &edge = p_.edges[e];
  Operator &old = p_.ops[edge.to];
  if (edge.toPort < old.inputs.size() && old.inputs[edge.toPort] == e) old.inputs[edge.toPort] = EdgeId();
  auto &ins = p_.ops[to].inputs;
  if (ins.size() <= toPort) ins.resize(toPort + 1);
  DFIR_CHECK(!ins[toPort].valid(), "rewired an edge onto a connected input port");
  ins[toPort] = e;
  edge.to = to;
  edge.toPort = toPort;
}

std::unique_ptr<Expr> Rewriter::pairWithMemberId(const Type *t) {
  TypeContext &tc = *p_.types;
  auto call = std::make_unique<Expr>();
  call->kind = Expr::Builtin;
  call->builtin = BuiltinId::MemberId;
  call->name = "member_id";
  call->type = tc.u32();
  auto tuple = std::make_unique<Expr>();
  tuple->kind = Expr::Tuple;
  tuple->type = tc.tuple({tc.u32(), t});
  tuple->kids.push_back(std::move(call));
  tuple->kids.push_back(param("x", t));
  return lambda("x", t, std::move(tuple));
}

std::unique_ptr<Expr> Rewriter::dropMemberId(const Type *t) {
  TypeContext &tc = *p_.types;
  const Type *pair = tc.tuple({tc.u32(), t});
  auto index = std::make_unique<Expr>();
  index->kind = Expr::TupleIndex;
  index->index = 1;
  index->type = t;
  index->kids.push_back(param("p", pair));
  return lambda("p", pair, std::move(index));
}

CutEdge Rewriter::cutEdge(EdgeId e, const std::string &channelName) {
  grow();
  CutEdge cut;
  const Edge edge = p_.edges[e];
  const Type *t = edge.type;
  LocId fromLoc = p_.ops[edge.from].location, toLoc = p_.ops[edge.to].location;
  DFIR_CHECK(p_.locations[fromLoc].isCluster == p_.locations[toLoc].isCluster &&
                 p_.locations[fromLoc].size == p_.locations[toLoc].size,
             "a member-paired channel between locations of different kinds or sizes");
  bool cluster = p_.locations[fromLoc].isCluster;
  TypeContext &tc = *p_.types;
  const Type *wire = cluster ? tc.tuple({tc.u32(), t}) : t;

  Channel ch;
  ch.name = channelName;
  ch.from = fromLoc;
  ch.to = toLoc;
  ch.elem = t;
  ch.range = edge.range;
  p_.channels.push_back(std::move(ch));
  cut.channel = ChanId(static_cast<int>(p_.channels.size()) - 1);

  SourceRange at = p_.ops[edge.to].range;
  std::vector<std::unique_ptr<Expr>> sendArgs, recvArgs;
  sendArgs.push_back(channelArg(channelName, cut.channel));
  recvArgs.push_back(channelArg(channelName, cut.channel));
  cut.send = addOperator(OpKind::Send, fromLoc, freshOperatorName(fromLoc, "send"), std::move(sendArgs), {wire}, {}, at);
  cut.recv = addOperator(OpKind::Recv, toLoc, freshOperatorName(toLoc, "recv"), std::move(recvArgs), {}, {wire}, at);
  p_.ops[cut.send].channel = p_.ops[cut.recv].channel = cut.channel;
  p_.channels[cut.channel].sendOp = cut.send;
  p_.channels[cut.channel].recvOp = cut.recv;

  OpId target = edge.to;
  unsigned targetPort = edge.toPort;
  if (cluster) {
    std::vector<std::unique_ptr<Expr>> args;
    args.push_back(pairWithMemberId(t));
    OpId pair = addOperator(OpKind::Map, fromLoc, freshOperatorName(fromLoc, "map"), std::move(args), {t}, {wire}, at);
    setEdgeTarget(e, pair, 0);
    cut.sendEdge = p_.connect(pair, 0, cut.send, 0, wire);
    std::vector<std::unique_ptr<Expr>> dropArgs;
    dropArgs.push_back(dropMemberId(t));
    OpId drop = addOperator(OpKind::Map, toLoc, freshOperatorName(toLoc, "map"), std::move(dropArgs), {wire}, {t}, at);
    p_.connect(cut.recv, 0, drop, 0, wire);
    cut.recvEdge = p_.connect(drop, 0, target, targetPort, t);
  } else {
    setEdgeTarget(e, cut.send, 0);
    cut.sendEdge = e;
    cut.recvEdge = p_.connect(cut.recv, 0, target, targetPort, t);
  }
  grow();
  return cut;
}

void Rewriter::eraseEdge(EdgeId e) {
  grow();
  if (erasedEdges_[e]) return;
  Edge &edge = p_.edges[e];
  auto &outs = p_.ops[edge.from].outputs;
  if (edge.fromPort < outs.size() && outs[edge.fromPort] == e) outs[edge.fromPort] = EdgeId();
  auto &ins = p_.ops[edge.to].inputs;
  if (edge.toPort < ins.size() && ins[edge.toPort] == e) ins[edge.toPort] = EdgeId();
  erasedEdges_[e] = true;
}

void Rewriter::eraseOperator(OpId op) {
  grow();
  Operator &o = p_.ops[op];
  for (EdgeId e : o.inputs)
    if (e.valid()) eraseEdge(e);
  for (EdgeId e : o.outputs)
    if (e.valid()) eraseEdge(e);
  if (o.channel.valid()) erasedChannels_[o.channel] = true;
  erasedOps_[op] = true;
}

std::vector<OpId> Rewriter::compact() {
  grow();
  std::vector<OpId> opId(p_.ops.size());
  std::vector<EdgeId> edgeId(p_.edges.size());
  std::vector<ChanId> chanId(p_.channels.size());
  std::vector<Operator> ops;
  std::vector<Edge> edges;
  std::vector<Channel> channels;
  for (size_t i = 0; i < p_.ops.size(); ++i)
    if (!erasedOps_[i]) {
      opId[i] = OpId(static_cast<int>(ops.size()));
      ops.push_back(std::move(p_.ops[i]));
    }
  for (size_t i = 0; i < p_.edges.size(); ++i)
    if (!erasedEdges_[i]) {
      edgeId[i] = EdgeId(static_cast<int>(edges.size()));
      edges.push_back(p_.edges[i]);
    }
  for (size_t i = 0; i < p_.channels.size(); ++i)
    if (!erasedChannels_[i]) {
      chanId[i] = ChanId(static_cast<int>(channels.size()));
      channels.push_back(std::move(p_.channels[i]));
    }
  auto remap = [](const auto &ids, auto id) { return id.valid() ? ids[id] : decltype(id)(); };
  for (auto &op : ops) {
    for (EdgeId &e : op.inputs) e = remap(edgeId, e);
    for (EdgeId &e : op.outputs) e = remap(edgeId, e);
    op.channel = remap(chanId, op.channel);
    // The argument of send/recv names its channel by index too, and a
    // state reference its operator.
    for (auto &a : op.args) {
      if (a->kind == Expr::Channel) a->index = op.channel;
      forEachExpr(*a, [&](Expr &e) {
        if (e.kind == Expr::StateRef && e.index >= 0 && static_cast<size_t>(e.index) < opId.size())
          e.index = opId[e.index].valid() ? int(opId[e.index]) : kNone;
      });
    }
  }
  for (auto &e : edges) {
    e.from = opId[e.from];
    e.to = opId[e.to];
  }
  for (auto &c : channels) {
    c.sendOp = remap(opId, c.sendOp);
    c.recvOp = remap(opId, c.recvOp);
  }
  p_.ops = std::move(ops);
  p_.edges = std::move(edges);
  p_.channels = std::move(channels);
  erasedOps_.assign(p_.ops.size(), false);
  erasedEdges_.assign(p_.edges.size(), false);
  erasedChannels_.assign(p_.channels.size(), false);
  return opId;
}

} // namespace dfir::ir
