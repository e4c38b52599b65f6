//===- Partition.cpp - One location as K instances, routed by key ----------===//
//
// `partition{location=L count=K replicate=C,...}` (`--partition L=K`,
// `--replicate C`) makes location L (a process, or a cluster of n) a
// cluster of n*K: old member m becomes members m*K .. m*K+K-1, and every
// item L receives goes to the one of them that owns its key. Code outside
// L keeps its meaning: senders keep their `send`, receivers of L's
// channels see the old member ids, and inside L `member_id()` and
// `cluster_size(L)` keep their old values (both become `/ K` of the new
// ones).
//
// Where each item may go (co-hashing, "Optimizing Distributed Protocols
// with Query Rewrites", SIGMOD 2024, section 5): an operator whose state
// must see related items together (Partitioning ByKey or ByValue in
// Operators.def) needs its key, at each input, to be a function of where
// the items were routed. The key is followed back from the operator to the
// items L receives (each `recv`, and each source of L, an *origin*):
// through operators that pass items on unchanged, through closures that
// copy fields (`|(k, v)| (v, k)`), through `unzip`, the key side of joins
// and keyed folds, and `demux_enum` (whose variants are routed each by its
// own key). Where a closure computes the key instead of copying it
// (`|(k, v)| (k % 16, v)`), the route is that computation, written out as
// a closure (partitioning with dependencies, section 5.2). Each origin is
// routed by one key that every operator it reaches is satisfied with (a
// key satisfies a need when it is a function of it: routing by `.0.1`
// keeps together all that `.0` does), and every operator that meets items
// of several inputs must see them routed by the same function of its key.
//
// Partial partitioning (section 5.3): a replicated channel reaches every
// instance. It may only meet partitioned items in a `join` or `cross_join`
// that keeps it (`'static` on its side), which is monotone: an instance
// that has seen less of it than another emits a subset of what it will.
// Operators that are not monotone in it (`anti_join`, `difference`,
// `cross_singleton`) are refused; a coordinator for them is not provided.
//
// Refused, with the reason at the operator: an operator that needs every
// item (Partitioning Global: `fold`, `sort`, `cross_join` without a
// replicated side, ...); two needs no one key satisfies; a key that cannot
// be followed back (`flat_map`, an aggregate); an operator whose output
// shows how many ticks ran (each instance runs its own ticks); standard
// input and timers (each instance would read or fire its own); writing a
// file; and effects on replicated items (every instance would repeat them).
//
// The rewrite: each incoming channel becomes a direct one, its sender
// computing the instance (`m * K + (hash(key) >> 32) % K`), or, for a
// broadcast, each instance keeps the items it owns; replicated channels
// reach all K instances of their member. Sources of L keep, on each
// instance, the items it owns. The high half of the hash picks the
// instance so that it does not repeat the low half a `hash(f)` channel
// uses to pick the member.
//
//===----------------------------------------------------------------------===//
#include "passes/Partition.h"

#include "ir/ExprAnalysis.h"
#include "ir/GraphAlgo.h"
#include "ir/Printer.h"
#include "passes/RewriteRules.h"

#include <algorithm>

namespace dfir::passes::partition {

bool Partitioner::parseOptions() {
  if (!checkOptionKeys(inv_, "location count replicate?", ctx_)) return false;
  loc_ = locationOption(p_, "partition", *inv_.find("location"), ctx_);
  if (!loc_.valid()) return false;
  const ir::Location &l = p_.locations[loc_];
  wasCluster_ = l.isCluster;
  n_ = l.isCluster ? l.size : 1;
  if (!numberOption("partition", *inv_.find("count"), 2, ir::kMaxClusterSize, "the count", k_, ctx_)) return false;
  if (n_ * k_ > ir::kMaxClusterSize) {
    ctx_.usage = "`partition`: `" + l.name + "` has " + std::to_string(n_) + " members; " + std::to_string(n_) +
                 " x " + std::to_string(k_) + " instances pass the cluster limit of " +
                 std::to_string(ir::kMaxClusterSize);
    return false;
  }
  if (const PassOption *rep = inv_.find("replicate")) {
    std::string v = rep->value;
    for (size_t start = 0; start <= v.size();) {
      size_t comma = std::min(v.find(',', start), v.size());
      std::string name = v.substr(start, comma - start);
      start = comma + 1;
      int found = -1;
      std::vector<std::string> into;
      for (size_t c = 0; c < p_.channels.size(); ++c) {
        if (p_.channels[c].name == name) found = static_cast<int>(c);
        if (p_.channels[c].to == loc_) into.push_back(p_.channels[c].name);
      }
      std::string candidates =
          into.empty() ? "; no channel goes to `" + l.name + "`" : "; the channels to `" + l.name + "` are " + listOf(into);
      if (found < 0) {
        ctx_.usage = "`partition`: the program has no channel `" + name + "` to replicate" + candidates;
        return false;
      }
      if (p_.channels[found].to != loc_) {
        ctx_.usage = "`partition`: channel `" + name + "` goes to `" + p_.locations[p_.channels[found].to].name +
                     "`, not to `" + l.name + "`, so it cannot be replicated to its instances" + candidates;
        return false;
      }
      replicated_.insert(found);
    }
  }
  return true;
}

void Partitioner::findOrigins() {
  originOf_.assign(p_.ops.size(), -1);
  for (OpId id : p_.opsIn(loc_)) {
    const ir::Operator &op = p_.ops[id];
    if (op.info().decoupling != Decoupling::Source || op.kind == OpKind::Null) continue;
    originOf_[id] = static_cast<int>(origins_.size());
    origins_.push_back(id);
  }
  // Which kinds of origins reach each edge, a fixpoint over the
  // location's cycles: what an operator emits comes from all its inputs,
  // except that a join or cross join pairs a replicated side with its
  // partitioned one where the partitioned items are.
  fromPartitioned_.assign(p_.edges.size(), false);
  fromReplicated_.assign(p_.edges.size(), false);
  std::vector<OpId> ops = p_.opsIn(loc_);
  for (size_t round = 0, changed = 1; changed && round < 2 * ops.size() + 4; ++round) {
    changed = 0;
    for (OpId id : ops) {
      const ir::Operator &op = p_.ops[id];
      bool part = false, rep = false;
      if (isOrigin(id)) {
        (isReplicatedOrigin(id) ? rep : part) = true;
      } else {
        for (EdgeId e : op.inputs) {
          part = part || partitioned(e);
          rep = rep || (e.valid() && fromReplicated_[e]);
        }
        bool twoSided = op.kind == OpKind::Join || op.kind == OpKind::JoinMultiset ||
                        op.kind == OpKind::CrossJoin || op.kind == OpKind::CrossJoinMultiset;
        if (twoSided && op.inputs.size() == 2 &&
            ((replicatedOnly(op.inputs[0]) && partitioned(op.inputs[1]) && !mixed(op.inputs[1])) ||
             (replicatedOnly(op.inputs[1]) && partitioned(op.inputs[0]) && !mixed(op.inputs[0]))))
          rep = false;
      }
      for (EdgeId e : op.outputs) {
        if (!e.valid() || (fromPartitioned_[e] == part && fromReplicated_[e] == rep)) continue;
        fromPartitioned_[e] = part;
        fromReplicated_[e] = rep;
        changed = 1;
      }
    }
  }
}


bool Partitioner::checkOperator(OpId id) {
  const ir::Operator &op = p_.ops[id];
  const std::string name = at(id);
  const std::string loc = p_.locations[loc_].name;
  const std::string k = std::to_string(k_);
  switch (op.kind) {
  case OpKind::SourceStdin:
    return refuse("every instance would read standard input", {{id, name + " reads standard input; " + k +
                                                                        " instances of `" + loc +
                                                                        "` cannot share it"}});
  case OpKind::SourceInterval:
    return refuse("every instance would keep its own timer",
                  {{id, name + " emits at times of its own on each instance, which partitioning cannot route"}});
  case OpKind::SourceStream:
  case OpKind::DestSink:
    return refuse("a host embeds one instance", {{id, name + " is a host channel: the program that embeds `" + loc +
                                                          "` pushes into it or listens to it, and " + k +
                                                          " instances cannot share one host"}});
  case OpKind::DestFile:
    return refuse("every instance would write the file",
                  {{id, name + " writes a file; " + k + " instances of `" + loc + "` would each write their part"}});
  default: break;
  }
  if (isOrigin(id)) {
    for (auto &a : op.args)
      if (!ir::isPure(*a))
        return refuse("every instance would compute the source", {{id, name + " has effects that every instance would repeat"}});
    return true;
  }
  bool anyPartitioned = false, anyReplicated = false;
  for (EdgeId e : op.inputs) {
    anyPartitioned = anyPartitioned || partitioned(e);
    anyReplicated = anyReplicated || (e.valid() && fromReplicated_[e]);
  }
  // Effects on replicated items would happen on every instance.
  bool effect = op.kind == OpKind::ForEach || op.kind == OpKind::Send || op.kind == OpKind::Inspect;
  for (auto &a : op.args) effect = effect || !ir::isPure(*a);
  if (effect && anyReplicated)
    return refuse("replicated items would be acted on by every instance",
                  {{id, name + " has effects; the replicated items that reach it would cause them " + k +
                            " times, once on each instance"}});
  auto ticks = [&] {
    return refuse("each instance runs its own ticks",
                  {{id, name + " emits in every tick, even one in which nothing reaches it; each of the " + k +
                            " instances runs its own ticks, so it would emit in other ticks than `" + loc + "` does"}});
  };
  if (!anyPartitioned) return anyReplicated && seesEmptyTicks(p_, id) ? ticks() : true;
  const OpInfo &info = op.info();
  bool twoSided = op.kind == OpKind::Join || op.kind == OpKind::JoinMultiset || op.kind == OpKind::CrossJoin ||
                  op.kind == OpKind::CrossJoinMultiset;
  auto lifetime = [&](unsigned port) {
    return port < op.persistence.size() ? op.persistence[port] : ir::Persistence::Tick;
  };
  // One side replicated, kept: each instance holds all of it, and pairs
  // it with its part of the other side, wherever that was routed.
  bool replicatedSide = false;
  for (unsigned port = 0; twoSided && port < 2; ++port) {
    if (!replicatedOnly(op.inputs[port]) || !partitioned(op.inputs[1 - port])) continue;
    if (lifetime(port) != ir::Persistence::Static)
      return refuse("a replicated input meets partitioned items in state that forgets it",
                    {{id, name + " keeps its input [" + std::to_string(port) + "] for one tick; instances "
                              "receive replicated items in different ticks, so each would pair them with other "
                              "items than `" + loc + "` does (keep that side `'static` to make it monotone)"}});
    replicatedSide = true;
  }
  for (unsigned port = 0; !replicatedSide && port < op.inputs.size(); ++port) {
    EdgeId e = op.inputs[port];
    if (mixed(e) && info.partitioning != Partitioning::Stateless)
      return refuse("replicated and partitioned items are mixed in one input",
                    {{id, name + " takes replicated items, which every instance has, together with partitioned "
                              "ones at input " + std::to_string(port) + "; its state would count the replicated "
                              "ones " + k + " times"}});
    if (replicatedOnly(e) && info.partitioning != Partitioning::Stateless)
      return refuse("a replicated input is combined in a way that is not monotone",
                    {{id, name + " combines replicated items with partitioned ones, and its output is not "
                              "monotone in them: an instance that has received fewer of them than another "
                              "would emit what `" + loc + "` could not (a coordinator for this is not provided)"}});
  }
  if (op.loop != ir::kNone && !replicatedSide)
    return refuse("a loop block is not partitioned",
                  {{id, name + " is in a loop block: its iterations would run on each instance's part of the "
                            "items (partitioning loop blocks is not provided)"}});
  if (info.partitioning == Partitioning::Global && !replicatedSide)
    return refuse("an operator needs every item",
                  {{id, name + " combines every item it is given; partitioned items are spread over " + k +
                            " instances" + (twoSided ? " (`--replicate` one side to give every instance all of it)" : "")}});
  if (seesEmptyTicks(p_, id)) return ticks();
  if (replicatedSide || (info.partitioning != Partitioning::ByKey && info.partitioning != Partitioning::ByValue))
    return true;
  for (unsigned port = 0; port < op.inputs.size(); ++port) {
    bool whole = info.partitioning == Partitioning::ByValue || (op.kind == OpKind::AntiJoin && port == 1);
    keyAt(id, port, whole ? FieldPath{} : FieldPath{0});
    if (failed_) return false;
  }
  return true;
}

bool Partitioner::checkOperators() {
  // Each instance would read its own operator's state, which saw only its
  // share of the items.
  for (auto [target, reader] : ir::stateReferences(p_))
    if (p_.ops[reader].location == loc_)
      return refuse("an operator reads another's state (`#" + p_.ops[target].name +
                        "`), which each instance would keep for its own items only",
                    {{OpId(reader), at(OpId(reader)) + " reads the state of `" + p_.ops[target].name + "`"}});
  for (OpId id : p_.opsIn(loc_)) {
    if (!checkOperator(id)) return false;
    OpKind kind = p_.ops[id].kind;
    if (kind == OpKind::Send || kind == OpKind::ForEach || kind == OpKind::Inspect) orderNeedsAt(id);
  }
  return true;
}

ExprPtr Partitioner::keyHash(const Key &k, std::function<ExprPtr(const FieldPath &)> field,
                             std::function<ExprPtr()> whole, int &slot) {
  if (k.constant) return b_.u64(0);
  if (k.fn) {
    // A key computed by closures of `loc` means by `member_id()` the old
    // member the item goes to, and by `cluster_size(loc)` the old size.
    ExprPtr fn = ir::clone(*k.fn);
    std::function<void(ExprPtr &)> localize = [&](ExprPtr &e) {
      if (e->kind == Expr::Builtin && e->builtin == BuiltinId::MemberId) {
        e = locMember_();
        return;
      }
      if (e->kind == Expr::Builtin && e->builtin == BuiltinId::ClusterSize && e->kids[0]->kind == Expr::Location &&
          e->kids[0]->index == loc_) {
        e = b_.binary(BinOp::Div, std::move(e), b_.u32(k_));
        return;
      }
      for (auto &kid : e->kids) localize(kid);
      for (auto &st : e->stmts) localize(st.expr);
      for (auto &a : e->arms) localize(a.body);
    };
    localize(fn->kids[0]);
    return b_.apply(*fn, whole(), slot);
  }
  return b_.hash(field(k.alts[0].path));
}

ExprPtr Partitioner::routeHash(size_t origin, std::function<ExprPtr(const FieldPath &)> field,
                               std::function<ExprPtr()> whole, int &slot) {
  const Route &r = routes_[origin];
  if (r.variants.empty()) return keyHash(r.unguarded, field, whole, slot);
  // `match item.G { E::V(a, b) => hash(<V's key of (a, b)>), ..., _ => <the rest's> }`
  const Key &any = r.variants.begin()->second;
  const Type *enumType = any.guardEnum;
  const auto &info = p_.types->enumInfo(enumType->id);
  std::vector<ir::MatchArm> arms;
  for (auto &[variant, key] : r.variants) {
    const auto &v = info.variants[static_cast<size_t>(variant)];
    auto pat = std::make_unique<ir::Pattern>();
    pat->kind = ir::Pattern::Variant;
    pat->index = variant;
    pat->name = v.name;
    pat->type = enumType;
    std::vector<std::pair<int, const Type *>> locals;
    for (size_t f = 0; f < v.fields.size(); ++f) {
      int s = slot++;
      pat->elems.push_back(b_.bind(s, "f" + std::to_string(f), v.fields[f]));
      locals.push_back({s, v.fields[f]});
    }
    auto payload = [&, locals]() -> ExprPtr {
      if (locals.empty()) {
        auto u = std::make_unique<Expr>();
        u->kind = Expr::Unit;
        u->type = p_.types->unitType();
        return u;
      }
      if (locals.size() == 1) return b_.local(locals[0].first, "f0", locals[0].second);
      std::vector<ExprPtr> elems;
      for (size_t f = 0; f < locals.size(); ++f)
        elems.push_back(b_.local(locals[f].first, "f" + std::to_string(f), locals[f].second));
      return b_.tuple(std::move(elems));
    };
    ExprPtr body = keyHash(key, [&](const FieldPath &fp) { return b_.path(payload(), fp); }, payload, slot);
    arms.push_back({std::move(pat), std::move(body)});
  }
  if (r.variants.size() < info.variants.size())
    arms.push_back({b_.wildcard(enumType), keyHash(r.unguarded, field, whole, slot)});
  return b_.match(field(any.guardPath), std::move(arms));
}

/// `((hash >> 32) % K) as u32`: which of a member's K instances owns an item.
ExprPtr Partitioner::instanceOf(ExprPtr hash) {
  return b_.cast(b_.binary(BinOp::Rem, b_.binary(BinOp::Shr, std::move(hash), b_.u64(32)), b_.u64(k_)),
                 p_.types->u32());
}

OpId Partitioner::insertAfter(ir::Rewriter &rw, OpId op, OpKind kind, const std::string &base, ExprPtr fn,
                              const Type *opOut, const Type *out) {
  ir::LocId where = p_.ops[op].location;
  EdgeId e = p_.ops[op].outputs[0];
  p_.ops[op].outTypes[0] = opOut;
  std::vector<ExprPtr> args;
  args.push_back(std::move(fn));
  OpId a = rw.addOperator(kind, where, rw.freshOperatorName(where, base), std::move(args), {opOut}, {out},
                          p_.ops[op].range);
  if (!e.valid()) {
    p_.connect(op, 0, a, 0, opOut);
    return a;
  }
  OpId target = p_.edges[e].to;
  unsigned port = p_.edges[e].toPort;
  p_.edges[e].type = opOut;
  rw.setEdgeTarget(e, a, 0);
  p_.connect(a, 0, target, port, out);
  return a;
}

void Partitioner::insertBefore(ir::Rewriter &rw, OpId op, OpKind kind, const std::string &base, ExprPtr fn,
                               const Type *in) {
  ir::LocId where = p_.ops[op].location;
  EdgeId e = p_.ops[op].inputs[0];
  const Type *old = p_.edges[e].type;
  std::vector<ExprPtr> args;
  args.push_back(std::move(fn));
  OpId a = rw.addOperator(kind, where, rw.freshOperatorName(where, base), std::move(args), {old}, {in},
                          p_.ops[op].range);
  rw.setEdgeTarget(e, a, 0);
  p_.ops[op].inTypes[0] = in;
  p_.connect(a, 0, op, 0, in);
}

void Partitioner::rewriteBuiltins() {
  std::function<void(ExprPtr &, bool)> walk = [&](ExprPtr &e, bool inLoc) {
    bool size = e->kind == Expr::Builtin && e->builtin == BuiltinId::ClusterSize && !e->kids.empty() &&
                e->kids[0]->kind == Expr::Location && e->kids[0]->index == loc_;
    bool member = inLoc && e->kind == Expr::Builtin && e->builtin == BuiltinId::MemberId;
    if (size || member) {
      e = b_.binary(BinOp::Div, std::move(e), b_.u32(k_));
      return;
    }
    for (auto &k : e->kids) walk(k, inLoc);
    for (auto &s : e->stmts) walk(s.expr, inLoc);
    for (auto &a : e->arms) walk(a.body, inLoc);
  };
  for (auto &op : p_.ops)
    for (auto &a : op.args) walk(a, op.location == loc_);
  for (auto &c : p_.channels)
    if (c.hashFn) walk(c.hashFn, c.from == loc_);
  for (auto &c : p_.consts)
    if (c.value) walk(c.value, false);
  for (auto &f : p_.functions)
    if (f.body) walk(f.body, false);
}

void Partitioner::rewrite() {
  ir::Rewriter rw(p_);
  TypeContext &tc = *p_.types;
  const Type *u32 = tc.u32();
  const std::string locName = p_.locations[loc_].name;
  rewriteBuiltins();
  // `(m * K + i, x)` for old member `m` and instance `i`.
  auto dest = [&](ExprPtr member, ExprPtr instance) {
    return b_.binary(BinOp::Add, b_.binary(BinOp::Mul, std::move(member), b_.u32(k_)), std::move(instance));
  };
  // The items an instance keeps: those whose instance is its own.
  auto keepMine = [&](size_t origin, const Type *y) {
    int slot = 1;
    locMember_ = [&] { return b_.binary(BinOp::Div, b_.memberId(), b_.u32(k_)); };
    auto field = [&](const FieldPath &fp) { return b_.path(b_.local(0, "y", y), fp); };
    auto whole = [&] { return b_.local(0, "y", y); };
    ExprPtr mine = b_.binary(BinOp::Eq, instanceOf(routeHash(origin, field, whole, slot)),
                             b_.binary(BinOp::Rem, b_.memberId(), b_.u32(k_)));
    return b_.lambda(b_.bind(0, "y", y), std::move(mine), slot);
  };

  size_t numChannels = p_.channels.size();
  // Items coming in.
  for (size_t ci = 0; ci < numChannels; ++ci) {
    ir::Channel &c = p_.channels[ci];
    if (c.to != loc_) continue;
    const Type *t = c.elem, *paired = tc.tuple({u32, t});
    OpId send = c.sendOp, recv = c.recvOp;
    size_t origin = static_cast<size_t>(originOf_[recv]);
    bool senderCluster = c.from == loc_ ? wasCluster_ : p_.locations[c.from].isCluster;
    ir::ChannelMode mode = c.mode;
    if (replicated_.count(static_cast<int>(ci))) {
      if (mode == ir::ChannelMode::Broadcast) continue;
      if (mode == ir::ChannelMode::Direct && !wasCluster_) {
        c.mode = ir::ChannelMode::Broadcast;
        continue;
      }
      // To all K instances of the member: `[(m * K + 0, x), ...]`.
      int slot = 1;
      bool direct = mode == ir::ChannelMode::Direct;
      const Type *in = direct ? paired : t;
      auto item = [&] { return direct ? b_.path(b_.local(0, "p", in), {1}) : b_.local(0, "x", in); };
      ExprPtr member;
      int mSlot = -1;
      if (direct) {
        member = b_.path(b_.local(0, "p", in), {0});
      } else {
        ExprPtr h = b_.hash(b_.apply(*c.hashFn, item(), slot));
        member = b_.cast(b_.binary(BinOp::Rem, std::move(h),
                                   b_.cast(b_.binary(BinOp::Div, b_.clusterSize(loc_, locName), b_.u32(k_)), tc.u64())),
                         u32);
        mSlot = slot++;
      }
      std::vector<ExprPtr> all;
      for (uint64_t i = 0; i < k_; ++i) {
        ExprPtr m = mSlot >= 0 ? b_.local(mSlot, "m", u32) : ir::clone(*member);
        all.push_back(b_.tuple(ir::ExprBuilder::vec(dest(std::move(m), b_.u32(i)), item())));
      }
      ExprPtr body = b_.list(std::move(all), paired);
      if (mSlot >= 0) body = b_.let(b_.bind(mSlot, "m", u32), std::move(member), std::move(body));
      ExprPtr fn = b_.lambda(b_.bind(0, direct ? "p" : "x", in), std::move(body), slot);
      c.mode = ir::ChannelMode::Direct;
      c.hashFn.reset();
      insertBefore(rw, send, OpKind::FlatMap, "replicate", std::move(fn), paired);
      continue;
    }
    if (mode == ir::ChannelMode::Broadcast) {
      const Type *y = p_.ops[recv].outTypes[0];
      insertAfter(rw, recv, OpKind::Filter, "keep", keepMine(origin, y), y, y);
      continue;
    }
    // The sender picks the instance.
    bool direct = mode == ir::ChannelMode::Direct && wasCluster_;
    const Type *in = direct ? paired : t;
    const char *pname = direct ? "p" : "x";
    auto item = [&] { return direct ? b_.path(b_.local(0, pname, in), {1}) : b_.local(0, pname, in); };
    // The item as `loc` sees it: with the sender's (old) member id when it is a cluster.
    auto senderId = [&]() -> ExprPtr {
      if (c.from == loc_) return b_.binary(BinOp::Div, b_.memberId(), b_.u32(k_));
      return b_.memberId();
    };
    auto whole = [&]() -> ExprPtr {
      if (!senderCluster) return item();
      return b_.tuple(ir::ExprBuilder::vec(senderId(), item()));
    };
    auto field = [&](const FieldPath &fp) -> ExprPtr {
      if (!senderCluster || fp.empty()) return b_.path(whole(), fp);
      if (fp[0] == 0) return senderId();
      return b_.path(item(), tail(fp, 1));
    };
    int slot = 1;
    auto oldMember = [&]() -> ExprPtr {
      if (mode == ir::ChannelMode::Hash) {
        ExprPtr h = b_.hash(b_.apply(*c.hashFn, item(), slot));
        ExprPtr n = b_.cast(b_.binary(BinOp::Div, b_.clusterSize(loc_, locName), b_.u32(k_)), tc.u64());
        return b_.cast(b_.binary(BinOp::Rem, std::move(h), std::move(n)), u32);
      }
      if (direct) return b_.path(b_.local(0, pname, in), {0});
      return b_.u32(0);
    };
    locMember_ = oldMember;
    ExprPtr instance = instanceOf(routeHash(origin, field, whole, slot));
    ExprPtr member = wasCluster_ ? oldMember() : nullptr;
    ExprPtr to = member ? dest(std::move(member), std::move(instance)) : std::move(instance);
    ExprPtr fn = b_.lambda(b_.bind(0, pname, in), b_.tuple(ir::ExprBuilder::vec(std::move(to), item())), slot);
    c.mode = ir::ChannelMode::Direct;
    c.hashFn.reset();
    insertBefore(rw, send, OpKind::Map, "route", std::move(fn), paired);
  }
  // Sources of `loc`: each instance keeps what it owns.
  for (size_t o = 0; o < origins_.size(); ++o) {
    OpId src = origins_[o];
    if (p_.ops[src].kind == OpKind::Recv) continue;
    const Type *y = p_.ops[src].outTypes[0];
    insertAfter(rw, src, OpKind::Filter, "keep", keepMine(o, y), y, y);
  }
  // Items going out: receivers see the old member ids.
  for (size_t ci = 0; ci < numChannels; ++ci) {
    const ir::Channel &c = p_.channels[ci];
    if (c.from != loc_) continue;
    const Type *t = c.elem, *paired = tc.tuple({u32, t});
    OpId recv = c.recvOp;
    if (!wasCluster_) {
      insertAfter(rw, recv, OpKind::Map, "from_member", rw.dropMemberId(t), paired, t);
      continue;
    }
    ExprPtr old = b_.tuple(ir::ExprBuilder::vec(
        b_.binary(BinOp::Div, b_.path(b_.local(0, "p", paired), {0}), b_.u32(k_)), b_.path(b_.local(0, "p", paired), {1})));
    insertAfter(rw, recv, OpKind::Map, "from_member", b_.lambda(b_.bind(0, "p", paired), std::move(old), 1), paired,
                paired);
  }
  ir::Location &l = p_.locations[loc_];
  l.isCluster = true;
  l.size = n_ * k_;
  l.implicit = false;
}

bool Partitioner::run() {
  if (!parseOptions()) return false;
  findOrigins();
  if (!checkOperators() || !chooseRoutes()) return false;
  rewrite();
  return true;
}

} // namespace dfir::passes::partition

namespace dfir::passes {

bool runPartition(ir::Program &p, const PassInvocation &inv, TransformContext &ctx) {
  partition::Partitioner part(p, inv, ctx);
  return part.run();
}

} // namespace dfir::passes
