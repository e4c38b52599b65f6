//===- GraphTypes.cpp - Type inference over the operator graph ------------===//
//
// Gives every port a type variable, joins the two ends of every edge, and
// applies each operator's type rule (closures are checked against the types
// flowing in). Operators are visited sources first, following edges, so
// that a closure usually sees its input type already known and a mismatch
// is reported inside the closure or at the edge where it first shows. After
// solving, every edge has exactly one concrete type.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaContext.h"

#include <cctype>
#include <deque>
#include <map>
#include <optional>

namespace dfir {

using namespace ast;

namespace {

class GraphTyper {
public:
  GraphTyper(Program &p, SemaContext &ctx) : p_(p), ctx_(ctx), inf_(ctx.infer), tc_(ctx.types) {}

  void run() {
    for (auto &n : ctx_.nodes) {
      for (unsigned i = 0; i < n.numInPorts; ++i) n.inTypes.push_back(inf_.fresh());
      for (unsigned i = 0; i < n.numOutPorts; ++i) n.outTypes.push_back(inf_.fresh());
    }
    channelHashFns();
    for (int n : order()) {
      for (int e : ctx_.nodes[n].inEdges) joinEdge(e);
      rule(n);
    }
    checkConstValues(p_, ctx_);
    hostNamesUnique();
    inf_.solve();
    for (auto &e : ctx_.edges) e.type = inf_.zonk(ctx_.nodes[e.from].outTypes[e.outIndex]);
    for (auto &e : ctx_.edges) {
      if (!containsRange(e.type)) continue;
      // Report where a range first enters the graph, not on every edge after.
      bool upstream = false;
      for (int in : ctx_.nodes[e.from].inEdges) upstream = upstream || containsRange(ctx_.edges[in].type);
      if (!upstream) ctx_.diags.report(DiagID::err_range_not_value, e.range);
    }
    for (auto &n : ctx_.nodes) {
      for (auto &t : n.inTypes) t = inf_.zonk(t);
      for (auto &t : n.outTypes) t = inf_.zonk(t);
      for (auto &a : n.call->args) ExprChecker::finalize(*a, ctx_);
    }
    for (auto &c : p_.consts) ExprChecker::finalize(*c.value, ctx_);
    for (auto &f : p_.functions) ExprChecker::finalize(*f.body, ctx_);
    for (auto &c : ctx_.channels) {
      c.elem = inf_.zonk(c.elem);
      if (c.decl->hashFn) ExprChecker::finalize(*c.decl->hashFn, ctx_);
    }
  }

private:
  /// Sources first, then along edges; what a cycle leaves over, in order.
  std::vector<int> order() {
    size_t n = ctx_.nodes.size();
    std::vector<unsigned> pending(n);
    std::vector<bool> done(n);
    std::deque<int> ready;
    for (size_t i = 0; i < n; ++i) {
      pending[i] = static_cast<unsigned>(ctx_.nodes[i].inEdges.size());
      if (!pending[i]) ready.push_back(static_cast<int>(i));
    }
    std::vector<int> out;
    size_t next = 0;
    while (out.size() < n) {
      if (ready.empty()) {
        while (done[next]) ++next;
        ready.push_back(static_cast<int>(next));
      }
      int v = ready.front();
      ready.pop_front();
      if (done[v]) continue;
      done[v] = true;
      out.push_back(v);
      for (int e : ctx_.nodes[v].outEdges) {
        int to = ctx_.edges[e].to;
        if (!done[to] && pending[to] && --pending[to] == 0) ready.push_back(to);
      }
    }
    return out;
  }

  bool containsRange(const Type *t) {
    if (t->kind == Type::Range) return true;
    for (const Type *e : t->elems)
      if (containsRange(e)) return true;
    return false;
  }

  void joinEdge(int id) {
    GraphEdge &e = ctx_.edges[id];
    GraphNode &from = ctx_.nodes[e.from], &to = ctx_.nodes[e.to];
    if (e.outIndex >= from.outTypes.size() || e.inIndex >= to.inTypes.size()) return;
    const Type *a = from.outTypes[e.outIndex], *b = to.inTypes[e.inIndex];
    if (inf_.unify(a, b)) return;
    (ctx_.diags.report(DiagID::err_edge_type_mismatch, e.range)
     << from.info->name << inf_.display(a) << to.info->name << inf_.display(b))
        .note(DiagID::note_edge_source, e.fromRange)
        << inf_.display(a);
    // Downstream of a reported mismatch, stay quiet.
    to.inTypes[e.inIndex] = inf_.errorType();
  }

  // Channel element types as each side sees them (LANGUAGE.md 2.2).
  const Type *recvType(const ChannelInfo &c) {
    if (c.from >= 0 && ctx_.locations[c.from].isCluster) return tc_.tuple({tc_.u32(), c.elem});
    return c.elem;
  }
  const Type *sendType(const ChannelInfo &c) {
    if (c.to >= 0 && ctx_.locations[c.to].isCluster && c.decl->mode == ChannelDecl::Direct)
      return tc_.tuple({tc_.u32(), c.elem});
    return c.elem;
  }

  void channelHashFns() {
    for (auto &c : ctx_.channels) {
      if (!c.decl->hashFn || c.from < 0) continue;
      Expr &fn = *c.decl->hashFn;
      if (fn.kind != Expr::Lambda || fn.params.size() != 1) {
        ctx_.diags.report(DiagID::err_expected_closure, fn.range) << 1 << "hash" << 1 << "";
        continue;
      }
      ExprChecker(ctx_, c.from).checkClosure(fn, {c.elem});
    }
  }

  const Type *closure(int n, size_t arg, std::vector<const Type *> params) {
    GraphNode &node = ctx_.nodes[n];
    ExprChecker ec(ctx_, node.location, node.loop);
    // `#name` is read per item, once the operator read has finished the
    // tick: not in initial values, and not in a sort key (compared outside
    // the operator's code).
    if (!params.empty() && node.info->kind != OpKind::SortByKey) ec.inOperator(n);
    return ec.checkClosure(*node.call->args[arg], params);
  }

  const Type *value(int n, size_t arg) {
    GraphNode &node = ctx_.nodes[n];
    Expr &e = *node.call->args[arg];
    ExprChecker ec(ctx_, node.location, node.loop);
    return e.kind == Expr::Lambda ? ec.checkClosure(e, {}) : ec.check(e);
  }

  void closureResult(int n, size_t arg, const Type *expected, const Type *found) {
    if (inf_.unify(expected, found)) return;
    Expr &e = *ctx_.nodes[n].call->args[arg];
    SourceRange r = e.kind == Expr::Lambda ? e.kids[0]->range : e.range;
    ctx_.diags.report(DiagID::err_closure_result, r)
        << ctx_.nodes[n].info->name << inf_.display(expected) << inf_.display(found);
  }

  /// The name of a host channel (`source_stream`, `dest_sink`): a string
  /// literal that is a C identifier, since the generated header spells it.
  void hostName(int n) {
    const Type *t = value(n, 0);
    const Expr &e = *ctx_.nodes[n].call->args[0];
    if (!inf_.unify(tc_.strType(), t)) {
      ctx_.diags.report(DiagID::err_arg_type, e.range)
          << ctx_.nodes[n].info->name << inf_.display(tc_.strType()) << inf_.display(t);
      return;
    }
    if (e.kind != Expr::Str) {
      ctx_.diags.report(DiagID::err_host_name_literal, e.range) << ctx_.nodes[n].info->name;
      return;
    }
    bool ok = !e.strValue.empty() && !std::isdigit(static_cast<unsigned char>(e.strValue[0]));
    for (char c : e.strValue) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok) ctx_.diags.report(DiagID::err_host_name_identifier, e.range) << e.strValue;
  }

  /// Host channel names are unique per location: the host pushes into, or
  /// listens to, each by its name, and the header names its item type.
  void hostNamesUnique() {
    std::map<std::pair<int, std::string>, int> seen;
    for (size_t n = 0; n < ctx_.nodes.size(); ++n) {
      const GraphNode &node = ctx_.nodes[n];
      if (node.info->kind != OpKind::SourceStream && node.info->kind != OpKind::DestSink) continue;
      if (node.call->args.size() != 1 || node.call->args[0]->kind != Expr::Str) continue;
      const Expr &e = *node.call->args[0];
      auto [it, fresh] = seen.emplace(std::make_pair(node.location, e.strValue), static_cast<int>(n));
      if (fresh) continue;
      (ctx_.diags.report(DiagID::err_host_name_duplicate, e.range)
       << ctx_.locations[node.location].name << e.strValue << ctx_.nodes[it->second].info->name)
          .note(DiagID::note_previous_definition, ctx_.nodes[it->second].call->args[0]->range);
    }
  }

  void valueArg(int n, size_t arg, const Type *expected) {
    const Type *t = value(n, arg);
    Expr &e = *ctx_.nodes[n].call->args[arg];
    if (!inf_.unify(expected, t))
      ctx_.diags.report(DiagID::err_arg_type, e.range)
          << ctx_.nodes[n].info->name << inf_.display(expected) << inf_.display(t);
  }

  /// What `persist_mut` stores from an enum `{ Persist(T), Delete(T) }`, or
  /// `persist_mut_keyed` from `{ Persist(K, V), Delete(K) }`: `T` or `(K, V)`.
  /// The enum is the program's own (any name, these two variants).
  const Type *persistMutable(int n) {
    bool keyed = ctx_.nodes[n].info->kind == OpKind::PersistMutKeyed;
    const char *op = ctx_.nodes[n].info->name;
    const Type *in = ctx_.nodes[n].inTypes.empty() ? inf_.fresh() : ctx_.nodes[n].inTypes[0];
    const Type *result = inf_.fresh();
    SourceRange range = inRange(n, 0);
    inf_.defer(range, [this, in, result, range, keyed, op] {
      const Type *t = inf_.resolve(in);
      if (inf_.isError(t)) return inf_.unify(result, t);
      if (t->isVar()) return false;
      bool ok = t->kind == Type::Enum;
      const VariantInfo *put = nullptr, *del = nullptr;
      if (ok) {
        const EnumInfo &info = tc_.enumInfo(t->id);
        int p = info.variantIndex("Persist"), d = info.variantIndex("Delete");
        ok = info.variants.size() == 2 && p >= 0 && d >= 0;
        if (ok) {
          put = &info.variants[p];
          del = &info.variants[d];
          ok = put->fields.size() == (keyed ? 2u : 1u) && del->fields.size() == 1 &&
               inf_.unify(put->fields[0], del->fields[0]);
        }
      }
      if (!ok) {
        ctx_.diags.report(DiagID::err_persist_mut_input, range)
            << op << (keyed ? "`Persist(K, V)` and `Delete(K)`" : "`Persist(T)` and `Delete(T)`") << inf_.display(t);
        inf_.unify(result, inf_.errorType());
        return true;
      }
      inf_.expect(result, keyed ? tc_.tuple({put->fields[0], put->fields[1]}) : put->fields[0], range);
      return true;
    });
    return result;
  }

  /// Elements of a list or range (and, for `flatten`, an Option).
  void iterable(int n, const Type *t, const Type *elem, SourceRange range, bool option) {
    const char *op = ctx_.nodes[n].info->name;
    inf_.defer(range, [this, t, elem, range, option, op] {
      const Type *r = inf_.resolve(t);
      if (inf_.isError(r)) return inf_.unify(elem, r);
      if (r->isVar()) return false;
      bool ok = r->kind == Type::List || r->kind == Type::Range || r->kind == Type::Map ||
                (option && r->kind == Type::Option);
      if (ok) {
        // A map's elements are its (key, value) entries.
        inf_.expect(elem, r->kind == Type::Map ? r->elems[2]->elems[0] : r->elems[0], range);
      } else {
        ctx_.diags.report(DiagID::err_not_iterable, range)
            << op << inf_.display(r) << (option ? ", or an `Option`" : "");
        inf_.unify(elem, inf_.errorType());
      }
      return true;
    });
  }

  /// Makes `t` a pair and returns its two halves.
  std::pair<const Type *, const Type *> pair(int n, const Type *t, SourceRange range, const char *port) {
    const Type *k = inf_.fresh(), *v = inf_.fresh();
    if (!inf_.unify(t, tc_.tuple({k, v}))) {
      ctx_.diags.report(DiagID::err_keyed_input, range) << ctx_.nodes[n].info->name << port << inf_.display(t);
      return {inf_.errorType(), inf_.errorType()};
    }
    return {k, v};
  }

  /// `t` must be a lattice type (once inference knows it).
  void lattice(const Type *t, SourceRange range, std::string what) {
    inf_.defer(range, [this, t, range, what] {
      const Type *r = inf_.resolve(t);
      if (inf_.isError(r)) return true;
      if (r->isVar() && inf_.flavor(r) == Inference::Flavor::Any) return false;
      if (!r->isLattice()) ctx_.diags.report(DiagID::err_not_lattice, range) << what << inf_.display(r);
      return true;
    });
  }

  /// The value of an integer literal (`-3` too), if `e` is one.
  static std::optional<int64_t> literal(const Expr &e) {
    if (e.kind == Expr::Int && e.intValue <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(e.intValue);
    if (e.kind == Expr::Unary && e.unop == UnOp::Neg && e.kids[0]->kind == Expr::Int &&
        e.kids[0]->intValue <= static_cast<uint64_t>(INT64_MAX))
      return -static_cast<int64_t>(e.kids[0]->intValue);
    return std::nullopt;
  }

  /// A window's size, slide or gap written as a literal must be positive
  /// (otherwise the runtime checks it when the first item comes).
  void positive(int n, size_t arg, const char *what) {
    const Expr &e = *ctx_.nodes[n].call->args[arg];
    if (auto v = literal(e); v && *v <= 0)
      ctx_.diags.report(DiagID::err_window_not_positive, e.range) << ctx_.nodes[n].info->name << what << std::to_string(*v);
  }

  SourceRange inRange(int n, unsigned port) {
    for (int e : ctx_.nodes[n].inEdges)
      if (ctx_.edges[e].inIndex == port) return ctx_.edges[e].range;
    return ctx_.nodes[n].range();
  }

  /// The single input must be `want`.
  void input(int n, const Type *want) {
    const Type *got = ctx_.nodes[n].inTypes.empty() ? want : ctx_.nodes[n].inTypes[0];
    if (!inf_.unify(want, got))
      ctx_.diags.report(DiagID::err_input_type, inRange(n, 0))
          << ctx_.nodes[n].info->name << inf_.display(want) << inf_.display(got);
  }

  void same(int n, const Type *a, const Type *b, SourceRange range) {
    if (!inf_.unify(a, b))
      ctx_.diags.report(DiagID::err_input_type_mismatch, range)
          << ctx_.nodes[n].info->name << inf_.display(a) << inf_.display(b);
  }

  /// Sets the type of output `port`. It can already be fixed by a consumer
  /// reached round a cycle; a conflict is reported at that edge.
  void output(int n, unsigned port, const Type *t) {
    GraphNode &node = ctx_.nodes[n];
    if (port >= node.outTypes.size() || inf_.unify(node.outTypes[port], t)) return;
    for (int id : node.outEdges) {
      GraphEdge &e = ctx_.edges[id];
      if (e.outIndex != port) continue;
      const GraphNode &to = ctx_.nodes[e.to];
      (ctx_.diags.report(DiagID::err_edge_type_mismatch, e.range)
       << node.info->name << inf_.display(t) << to.info->name << inf_.display(node.outTypes[port]))
          .note(DiagID::note_edge_source, e.fromRange)
          << inf_.display(t);
      break;
    }
  }

  void rule(int n) {
    GraphNode &node = ctx_.nodes[n];
    auto &I = node.inTypes;
    auto &O = node.outTypes;
    auto out = [&](const Type *t) { output(n, 0, t); };
    auto in0 = [&]() { return I.empty() ? inf_.fresh() : I[0]; };
    if (node.call->args.size() != node.info->args.size()) return; // reported already
    switch (node.info->kind) {
    case OpKind::SourceIter: {
      const Type *t = value(n, 0);
      const Type *elem = inf_.fresh();
      iterable(n, t, elem, node.call->args[0]->range, false);
      out(elem);
      return;
    }
    case OpKind::SourceStdin: out(tc_.strType()); return;
    case OpKind::SourceFile: valueArg(n, 0, tc_.strType()); out(tc_.strType()); return;
    case OpKind::SourceInterval: valueArg(n, 0, tc_.u64()); out(tc_.u64()); return;
    case OpKind::Initialize: out(tc_.unitType()); return;
    case OpKind::Recv:
      if (node.channel >= 0) out(recvType(ctx_.channels[node.channel]));
      return;
    case OpKind::SourceStream:
      hostName(n);
      if (node.typeGeneric) out(node.typeGeneric);
      return;
    case OpKind::DestSink: hostName(n); return;
    case OpKind::Null: return;
    case OpKind::ForEach: closure(n, 0, {in0()}); return;
    case OpKind::DestFile:
      valueArg(n, 0, tc_.strType());
      input(n, tc_.strType());
      return;
    case OpKind::Send:
      if (node.channel >= 0) {
        const ChannelInfo &ch = ctx_.channels[node.channel];
        const Type *want = sendType(ch);
        if (!inf_.unify(want, in0())) {
          auto report = ctx_.diags.report(DiagID::err_send_type, inRange(n, 0));
          report << ch.decl->name << inf_.display(want) << inf_.display(in0());
          // `of T` names the items, not what `send` takes: say which it is.
          if (ch.decl->elemType) {
            std::string takes = want == ch.elem ? "`send(" + ch.decl->name + ")` takes items of that type"
                                                : "to one member of cluster `" + ctx_.locations[ch.to].name +
                                                      "`, `send(" + ch.decl->name + ")` takes `(member, item)` pairs, `" +
                                                      inf_.display(want) + "`";
            report.note(DiagID::note_channel_element, ch.decl->elemType->range)
                << inf_.display(ch.elem) << ch.decl->name << takes;
          }
        }
      }
      return;
    case OpKind::Map: out(closure(n, 0, {in0()})); return;
    case OpKind::Filter:
    case OpKind::Assert:
      closureResult(n, 0, tc_.boolType(), closure(n, 0, {in0()}));
      out(in0());
      return;
    case OpKind::FilterMap: {
      const Type *elem = inf_.fresh();
      closureResult(n, 0, tc_.option(elem), closure(n, 0, {in0()}));
      out(elem);
      return;
    }
    case OpKind::FlatMap: {
      const Type *elem = inf_.fresh();
      Expr &f = *node.call->args[0];
      iterable(n, closure(n, 0, {in0()}), elem, f.kind == Expr::Lambda ? f.kids[0]->range : f.range, false);
      out(elem);
      return;
    }
    case OpKind::Flatten: {
      const Type *elem = inf_.fresh();
      iterable(n, in0(), elem, inRange(n, 0), true);
      out(elem);
      return;
    }
    case OpKind::Inspect:
    case OpKind::SortByKey:
      closure(n, 0, {in0()});
      out(in0());
      return;
    case OpKind::PersistMut:
    case OpKind::PersistMutKeyed: out(persistMutable(n)); return;
    case OpKind::Identity:
    case OpKind::Singleton:
    case OpKind::Unique:
    case OpKind::Persist:
    case OpKind::DeferTick:
    case OpKind::DeferTickLazy:
    case OpKind::NextStratum:
    case OpKind::MultisetDelta:
    case OpKind::Sort:
    case OpKind::DeferSignal:
    case OpKind::Batch:
    case OpKind::AllOnce:
    case OpKind::NextIteration:
    case OpKind::AllIterations:
    case OpKind::LastIteration:
      out(in0());
      return;
    case OpKind::RepeatN: {
      valueArg(n, 0, tc_.i64());
      const Expr &count = *node.call->args[0];
      if (auto v = literal(count); v && *v < 0)
        ctx_.diags.report(DiagID::err_repeat_count, count.range) << std::to_string(*v);
      out(in0());
      return;
    }
    case OpKind::Enumerate: out(tc_.tuple({tc_.u64(), in0()})); return;
    case OpKind::EnumerateKeyed: {
      auto [k, v] = pair(n, in0(), inRange(n, 0), "input");
      out(tc_.tuple({k, tc_.tuple({tc_.u64(), v})}));
      return;
    }
    case OpKind::Scan: {
      // The closure returns the new accumulator, or an `Option` of it:
      // `None` stops the scan (for the tick, or for good when 'static).
      const Type *acc = value(n, 0);
      const Type *result = closure(n, 1, {acc, in0()});
      const Type *r = inf_.resolve(result), *a = inf_.resolve(acc);
      if (r->kind == Type::Option && a->kind != Type::Option) {
        if (!inf_.unify(r->elems[0], acc)) {
          Expr &f = *node.call->args[1];
          ctx_.diags.report(DiagID::err_scan_result, f.kind == Expr::Lambda ? f.kids[0]->range : f.range)
              << inf_.display(acc) << inf_.display(result);
        }
        out(acc);
        return;
      }
      if (!inf_.unify(acc, result)) {
        Expr &f = *node.call->args[1];
        ctx_.diags.report(DiagID::err_scan_result, f.kind == Expr::Lambda ? f.kids[0]->range : f.range)
            << inf_.display(acc) << inf_.display(result);
      }
      out(acc);
      return;
    }
    case OpKind::Fold: {
      const Type *acc = value(n, 0);
      closureResult(n, 1, acc, closure(n, 1, {acc, in0()}));
      out(acc);
      return;
    }
    case OpKind::Reduce:
      closureResult(n, 0, in0(), closure(n, 0, {in0(), in0()}));
      out(in0());
      return;
    case OpKind::LatticeFold: {
      const Type *acc = value(n, 0);
      same(n, acc, in0(), inRange(n, 0));
      lattice(acc, node.call->args[0]->range, "the initial value of `lattice_fold`");
      out(acc);
      return;
    }
    case OpKind::LatticeReduce:
      lattice(in0(), inRange(n, 0), "the items of `lattice_reduce`");
      out(in0());
      return;
    case OpKind::FoldKeyed: {
      auto [k, v] = pair(n, in0(), inRange(n, 0), "input");
      const Type *acc = value(n, 0);
      closureResult(n, 1, acc, closure(n, 1, {acc, v}));
      out(tc_.tuple({k, acc}));
      return;
    }
    case OpKind::ReduceKeyed: {
      auto [k, v] = pair(n, in0(), inRange(n, 0), "input");
      closureResult(n, 0, v, closure(n, 0, {v, v}));
      out(in0());
      return;
    }
    case OpKind::Union:
    case OpKind::Chain:
      if (O.empty()) return;
      for (unsigned i = 0; i < I.size(); ++i) same(n, O[0], I[i], inRange(n, i));
      return;
    case OpKind::Zip:
    case OpKind::CrossSingleton:
    case OpKind::CrossJoin:
    case OpKind::CrossJoinMultiset:
      if (I.size() == 2) out(tc_.tuple({I[0], I[1]}));
      return;
    case OpKind::ZipLongest:
      if (I.size() == 2) out(tc_.tuple({tc_.option(I[0]), tc_.option(I[1])}));
      return;
    case OpKind::Join:
    case OpKind::JoinMultiset:
    case OpKind::LatticeJoin: {
      if (I.size() != 2) return;
      auto [k0, a] = pair(n, I[0], inRange(n, 0), "[0]");
      auto [k1, b] = pair(n, I[1], inRange(n, 1), "[1]");
      if (!inf_.unify(k0, k1))
        ctx_.diags.report(DiagID::err_join_key_mismatch, node.range())
            << node.info->name << inf_.display(k0) << inf_.display(k1);
      if (node.info->kind == OpKind::LatticeJoin) {
        lattice(a, inRange(n, 0), "the values of `lattice_join`'s [0]");
        lattice(b, inRange(n, 1), "the values of `lattice_join`'s [1]");
      }
      out(tc_.tuple({k0, tc_.tuple({a, b})}));
      return;
    }
    case OpKind::AntiJoin: {
      if (I.size() != 2) return;
      auto [k, v] = pair(n, I[0], inRange(n, 0), "[pos]");
      if (!inf_.unify(k, I[1]))
        ctx_.diags.report(DiagID::err_join_key_mismatch, node.range())
            << node.info->name << inf_.display(k) << inf_.display(I[1]);
      out(I[0]);
      return;
    }
    case OpKind::Difference:
      if (I.size() != 2) return;
      same(n, I[0], I[1], inRange(n, 1));
      out(I[0]);
      return;
    case OpKind::Window:
    case OpKind::SessionWindow:
    case OpKind::EventWindow:
    case OpKind::EventSessionWindow: {
      // ((start, end), item): each item with the window it falls in.
      OpKind k = node.info->kind;
      bool event = k == OpKind::EventWindow || k == OpKind::EventSessionWindow;
      bool session = k == OpKind::SessionWindow || k == OpKind::EventSessionWindow;
      size_t first = event ? 1 : 0;
      if (session) pair(n, in0(), inRange(n, 0), "input");
      std::vector<const char *> what = session ? std::vector<const char *>{"gap"} : std::vector<const char *>{"size", "slide"};
      for (size_t i = 0; i < what.size(); ++i) {
        valueArg(n, first + i, tc_.i64());
        positive(n, first + i, what[i]);
      }
      if (!session) {
        auto size = literal(*node.call->args[first]), slide = literal(*node.call->args[first + 1]);
        if (size && slide && *size > 0 && *slide > *size)
          ctx_.diags.report(DiagID::err_window_slide, node.call->args[first + 1]->range)
              << node.info->name << std::to_string(*slide) << std::to_string(*size);
      }
      if (event) {
        size_t lateness = first + what.size();
        valueArg(n, lateness, tc_.i64());
        if (auto l = literal(*node.call->args[lateness]); l && *l < 0)
          ctx_.diags.report(DiagID::err_window_lateness, node.call->args[lateness]->range)
              << node.info->name << std::to_string(*l);
        const Type *time = closure(n, 0, {in0()});
        Expr &f = *node.call->args[0];
        SourceRange r = f.kind == Expr::Lambda ? f.kids[0]->range : f.range;
        const char *op = node.info->name;
        inf_.defer(r, [this, time, r, op] {
          const Type *t = inf_.resolve(time);
          if (inf_.isError(t)) return true;
          if (t->isVar() && inf_.flavor(t) == Inference::Flavor::Any) return false;
          if (!(t->isVar() ? inf_.flavor(t) == Inference::Flavor::Integer : t->isInt()))
            ctx_.diags.report(DiagID::err_event_time, r) << op << inf_.display(t);
          return true;
        });
      }
      out(tc_.tuple({tc_.tuple({tc_.i64(), tc_.i64()}), in0()}));
      return;
    }
    case OpKind::Tee:
      for (unsigned i = 0; i < O.size(); ++i) output(n, i, in0());
      return;
    case OpKind::Partition: {
      const Type *idx = closure(n, 0, {in0()});
      Expr &f = *node.call->args[0];
      SourceRange r = f.kind == Expr::Lambda ? f.kids[0]->range : f.range;
      inf_.defer(r, [this, idx, r] {
        const Type *t = inf_.resolve(idx);
        if (inf_.isError(t)) return true;
        if (t->isVar() && inf_.flavor(t) == Inference::Flavor::Any) return false;
        if (!(t->isVar() ? inf_.flavor(t) == Inference::Flavor::Integer : t->isInt()))
          ctx_.diags.report(DiagID::err_partition_index, r) << inf_.display(t);
        return true;
      });
      for (unsigned i = 0; i < O.size(); ++i) output(n, i, in0());
      return;
    }
    case OpKind::DemuxEnum: {
      if (!node.typeGeneric) return;
      const Type *en = inf_.resolve(node.typeGeneric);
      input(n, en);
      const EnumInfo &info = tc_.enumInfo(en->id);
      for (size_t i = 0; i < O.size() && i < info.variants.size(); ++i) {
        const auto &f = info.variants[i].fields;
        output(n, static_cast<unsigned>(i), f.empty() ? tc_.unitType() : f.size() == 1 ? f[0] : tc_.tuple(f));
      }
      return;
    }
    case OpKind::Unzip: {
      auto [a, b] = pair(n, in0(), inRange(n, 0), "input");
      if (O.size() == 2) {
        output(n, 0, a);
        output(n, 1, b);
      }
      return;
    }
    }
  }

  Program &p_;
  SemaContext &ctx_;
  Inference &inf_;
  TypeContext &tc_;
};

} // namespace

void checkGraphTypes(Program &program, SemaContext &ctx) { GraphTyper(program, ctx).run(); }

} // namespace dfir
