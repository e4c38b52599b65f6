//===- PartitionKeys.cpp - Which part of an item decides its instance ------===//
//
// The key half of `partition` (passes/Partition.cpp has the whole story):
// each need of an operator of the partitioned location is followed back,
// operator by operator, to the items the location receives, as fields
// (`fieldThrough`) or, where a closure computes the key, as a composed
// closure (`through`); then each origin gets one route that every need on
// it accepts, and each operator that meets items of several needs must see
// them routed alike (`chooseRoutes`).
//
//===----------------------------------------------------------------------===//
#include "passes/Partition.h"

#include "ir/ExprAnalysis.h"
#include "ir/Printer.h"
#include "passes/RewriteRules.h"

#include <algorithm>

namespace dfir::passes::partition {

std::string pathText(const FieldPath &p) {
  if (p.empty()) return "the whole item";
  std::string s = "`";
  for (unsigned i : p) s += "." + std::to_string(i);
  return s + "`";
}

bool isPrefix(const FieldPath &a, const FieldPath &b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

FieldPath concat(FieldPath a, const FieldPath &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

FieldPath tail(const FieldPath &p, size_t from) { return FieldPath(p.begin() + static_cast<long>(from), p.end()); }


/// Whether closure `fn` reads its parameter only inside field `path`
/// (so that what it computes is a function of that field).
bool readsOnlyUnder(const Expr &fn, const FieldPath &path) {
  auto read = ir::fieldsRead(fn);
  if (!read) return false;
  for (auto &r : *read)
    if (!isPrefix(path, r)) return false;
  return true;
}
std::optional<Fit> fit(const Key &r, const Key &k) {
  if (k.guarded() && !r.sameGuard(k)) return std::nullopt;
  // All together: only one instance for all (of the variant) does.
  if (k.constant) return r.constant && (k.guarded() || !r.guarded()) ? std::optional<Fit>(Fit{}) : std::nullopt;
  if (r.constant && (!r.guarded() || k.guarded())) return Fit{};
  if (!k.guarded() && r.guarded()) { // routed by a payload of an enum at or below one of k's fields
    for (auto &a : k.alts)
      if (isPrefix(a.path, r.guardPath)) return Fit{a.component, {}, {}};
    return std::nullopt;
  }
  if (k.fn) {
    if (r.fn && r.fnText == k.fnText) return Fit{k.fnComponent, {}, {}};
    return std::nullopt;
  }
  for (auto &a : k.alts) {
    if (!r.fn && isPrefix(a.path, r.alts[0].path)) return Fit{a.component, tail(r.alts[0].path, a.path.size()), {}};
    if (r.fn && readsOnlyUnder(*r.fn, a.path)) return Fit{a.component, {}, r.fnText};
    if (a.path.empty()) return Fit{a.component, {}, {}};
  }
  return std::nullopt;
}

/// Whether an operator emits (some of) the items it is given, unchanged
/// (`anti_join` and `difference` those of `[pos]`).
bool passesItems(OpKind k) {
  switch (k) {
  case OpKind::Filter:
  case OpKind::Inspect:
  case OpKind::Identity:
  case OpKind::Singleton:
  case OpKind::Tee:
  case OpKind::Persist:
  case OpKind::DeferTick:
  case OpKind::DeferTickLazy:
  case OpKind::Unique:
  case OpKind::MultisetDelta:
  case OpKind::NextStratum:
  case OpKind::Assert:
  case OpKind::Sort:
  case OpKind::SortByKey:
  case OpKind::Partition:
  case OpKind::Null:
  case OpKind::Union:
  case OpKind::Chain:
  case OpKind::AntiJoin:
  case OpKind::Difference: return true;
  default: return false;
  }
}

/// Where field `path` of what operator `id` emits at `outPort` comes from:
/// per input, the field it copies (several for a tuple of copies: each is
/// enough, `more` says which part of `path` each is). Empty with `why` set
/// when no input field is copied.
std::vector<std::tuple<unsigned, FieldPath, FieldPath>> Partitioner::fieldThrough(OpId id, unsigned outPort,
                                                                                 const FieldPath &path,
                                                                                 std::string &why) {
  const ir::Operator &op = p_.ops[id];
  std::vector<std::tuple<unsigned, FieldPath, FieldPath>> out;
  const std::string name = at(id);
  auto all = [&](FieldPath np) {
    for (unsigned i = 0; i < op.inputs.size(); ++i)
      if (partitioned(op.inputs[i])) out.push_back({i, np, {}});
  };
  auto one = [&](unsigned port, FieldPath np) { out.push_back({port, std::move(np), {}}); };
  if (passesItems(op.kind)) {
    for (unsigned i = 0; i < op.inputs.size(); ++i)
      if (partitioned(op.inputs[i]) && !(i == 1 && (op.kind == OpKind::AntiJoin || op.kind == OpKind::Difference)))
        one(i, path);
    return out;
  }
  switch (op.kind) {
  case OpKind::Unzip: one(0, concat({outPort}, path)); break;
  case OpKind::Map: {
    const Expr &f = *op.args[0];
    auto copies = ir::fieldCopies(f);
    bool built = f.kids[0]->kind == Expr::Tuple || f.kids[0]->kind == Expr::Struct;
    if (built && !path.empty()) {
      if (path[0] < copies.size() && copies[path[0]]) one(0, concat(*copies[path[0]], tail(path, 1)));
    } else if (auto whole = ir::copiedPath(f)) {
      one(0, concat(*whole, path));
    } else if (built) {
      // Equal tuples have each element equal: routing by any copied one is enough.
      for (unsigned i = 0; i < copies.size(); ++i)
        if (copies[i]) out.push_back({0, *copies[i], {i}});
    }
    if (out.empty()) why = name + " computes " + pathText(path) + " of its output";
    break;
  }
  case OpKind::Join:
  case OpKind::JoinMultiset:
  case OpKind::CrossJoin:
  case OpKind::CrossJoinMultiset: {
    // A pair is made where its two items meet: a key of the pair can be
    // routed only by what decides that place, the join key, or, when one
    // side is replicated, the other side's fields.
    bool cross = op.kind == OpKind::CrossJoin || op.kind == OpKind::CrossJoinMultiset;
    int only = -1; // the one partitioned side, if the other is replicated
    for (unsigned i = 0; i < 2; ++i)
      if (replicatedOnly(op.inputs[1 - i])) only = static_cast<int>(i);
    if (!cross && !path.empty() && path[0] == 0) {
      all(path);
    } else if (only >= 0 && !path.empty()) {
      FieldPath side = cross ? FieldPath{static_cast<unsigned>(only)} : FieldPath{1, static_cast<unsigned>(only)};
      if (isPrefix(side, path)) one(static_cast<unsigned>(only), concat(cross ? FieldPath{} : FieldPath{1}, tail(path, side.size())));
    }
    if (out.empty())
      why = name + " makes pairs where its items meet; " + pathText(path) +
            " of a pair does not decide that place" + (only >= 0 ? " (it comes from the replicated side)" : "");
    break;
  }
  case OpKind::Window:
  case OpKind::SessionWindow:
  case OpKind::EventWindow:
  case OpKind::EventSessionWindow:
    // ((start, end), item): the item is copied as field 1.
    if (!path.empty() && path[0] == 1) one(0, tail(path, 1));
    if (out.empty()) why = name + " computes the window " + pathText(path) + " of its output";
    break;
  case OpKind::LatticeJoin:
    // Each key's merged values, once per key: routed by the key.
    if (!path.empty() && path[0] == 0) all(path);
    if (out.empty()) why = name + " merges " + pathText(path) + " of its output from many items; no route of one item decides it";
    break;
  case OpKind::FoldKeyed:
  case OpKind::ReduceKeyed:
  case OpKind::EnumerateKeyed:
    if (!path.empty() && path[0] == 0) one(0, path);
    else if (op.kind == OpKind::EnumerateKeyed && path.size() >= 2 && path[0] == 1 && path[1] == 1)
      one(0, concat({1}, tail(path, 2)));
    if (out.empty())
      why = name + " computes " + pathText(path) + " of its output from many items; no route of one item decides it";
    break;
  case OpKind::FlatMap:
  case OpKind::Flatten:
    why = name + " makes many items of each one; no key of its input decides where all of them go";
    break;
  case OpKind::FilterMap:
  case OpKind::DemuxEnum: why = name + " computes its output"; break;
  default: why = name + " computes its output from many items; no route of one item decides it"; break;
  }
  return out;
}

/// The keys at the inputs of operator `id` that `key`, of what it emits
/// at `outPort`, is a function of.
bool Partitioner::through(OpId id, unsigned outPort, const Key &key, std::vector<std::pair<unsigned, Key>> &ins,
                          Lost &lost) {
  const ir::Operator &op = p_.ops[id];
  const std::string name = at(id);
  auto fail = [&](const std::string &why) {
    lost = {id, why};
    return false;
  };
  std::string why;
  if (key.constant) {
    // An order need: only per-item operators keep the order of what they
    // are given; any other makes an order of its own.
    if (op.info().decoupling != Decoupling::PerItem) return true;
    Key k = key;
    if (k.guarded()) {
      if (op.kind != OpKind::DemuxEnum)
        for (auto &[port, path, more] : fieldThrough(id, outPort, k.guardPath, why)) {
          if (!more.empty()) continue;
          Key g = k;
          g.guardPath = path;
          ins.push_back({port, std::move(g)});
        }
      if (!ins.empty()) return true;
      // The enum is made here: then all of what comes in.
      k.variant = -1;
      k.guardPath = {};
      k.guardEnum = nullptr;
    } else if (op.kind == OpKind::DemuxEnum) {
      k.variant = static_cast<int>(outPort);
      k.guardEnum = op.inTypes[0];
    }
    for (unsigned port = 0; port < op.inputs.size(); ++port) ins.push_back({port, k});
    return true;
  }
  if (key.guarded()) {
    // The enum that `demux_enum` split must be a field of each origin's items.
    auto from = fieldThrough(id, outPort, key.guardPath, why);
    if (op.kind == OpKind::DemuxEnum)
      return fail(name + " splits an enum that is a payload of another `demux_enum`'s variant");
    for (auto &[port, path, more] : from) {
      if (!more.empty()) continue;
      Key k = key;
      k.guardPath = path;
      ins.push_back({port, std::move(k)});
    }
    if (ins.empty())
      return fail(why.empty() ? name + " does not pass on the enum that `demux_enum` splits"
                              : why + ", the enum that `demux_enum` splits; it must be a field of what `" +
                                    p_.locations[loc_].name + "` receives");
    return true;
  }
  if (key.fn && passesItems(op.kind)) {
    std::string unused;
    for (auto &[port, path, more] : fieldThrough(id, outPort, {}, unused)) ins.push_back({port, key});
    return true;
  }
  if (op.kind == OpKind::DemuxEnum) {
    Key k = key;
    k.variant = static_cast<int>(outPort);
    k.guardPath = {};
    k.guardEnum = op.inTypes[0];
    ins.push_back({0, std::move(k)});
    return true;
  }
  if (!key.fn) {
    std::map<unsigned, Key> byPort;
    for (auto &a : key.alts) {
      std::string w;
      for (auto &[port, path, more] : fieldThrough(id, outPort, a.path, w))
        byPort[port].alts.push_back({path, concat(a.component, more)});
      if (why.empty()) why = w;
    }
    if (!byPort.empty()) {
      for (auto &[port, k] : byPort) ins.push_back({port, std::move(k)});
      return true;
    }
  }
  // Partitioning with a dependency: route by what a closure computes.
  const Alt *first = key.fn ? nullptr : &key.alts[0];
  const Type *t = op.inTypes.empty() ? nullptr : op.inTypes[0];
  int slot = 1; // slot 0: the item
  auto keyOf = [&](ExprPtr y) {
    return first ? b_.hash(b_.path(std::move(y), first->path)) : b_.apply(*key.fn, std::move(y), slot);
  };
  auto composed = [&](ExprPtr h) {
    Key k;
    k.fnComponent = first ? first->component : key.fnComponent;
    k.fn = std::shared_ptr<const Expr>(b_.lambda(b_.bind(0, "item", t), std::move(h), slot));
    k.fnText = ir::printExpr(*k.fn);
    ins.push_back({0, std::move(k)});
    return true;
  };
  switch (op.kind) {
  case OpKind::Map:
    if (!ir::isPure(*op.args[0])) return fail(name + " computes the key with a closure that has effects");
    return composed(keyOf(b_.apply(*op.args[0], b_.local(0, "item", t), slot)));
  case OpKind::Unzip: return composed(keyOf(b_.path(b_.local(0, "item", t), {outPort})));
  case OpKind::FilterMap: {
    const Expr &f = *op.args[0];
    if (!ir::isPure(f)) return fail(name + " computes the key with a closure that has effects");
    // `match f(x) { Some(y) => key(y), _ => 0 }`: what it drops needs no place.
    const Type *inner = op.outTypes[0], *option = b_.types().option(inner);
    int ySlot = slot++;
    ExprPtr some = keyOf(b_.local(ySlot, "y", inner));
    auto somePat = std::make_unique<ir::Pattern>();
    somePat->kind = ir::Pattern::Some;
    somePat->type = option;
    somePat->elems.push_back(b_.bind(ySlot, "y", inner));
    std::vector<ir::MatchArm> arms;
    arms.push_back({std::move(somePat), std::move(some)});
    arms.push_back({b_.wildcard(option), b_.u64(0)});
    return composed(b_.match(b_.apply(f, b_.local(0, "item", t), slot), std::move(arms)));
  }
  default: break;
  }
  if (why.empty()) fieldThrough(id, outPort, {}, why);
  return fail(why);
}

std::string Partitioner::keyText(const Key &k) const {
  std::string s = k.constant ? "nothing (all on one instance)" : "";
  if (k.fn) s = "`" + k.fnText + "`";
  for (size_t i = 0; i < k.alts.size(); ++i) s += (i ? " or " : "") + pathText(k.alts[i].path);
  if (!k.guarded()) return s;
  const auto &info = p_.types->enumInfo(k.guardEnum->id);
  return s + " of the `" + info.variants[static_cast<size_t>(k.variant)].name + "` payload" +
         (k.guardPath.empty() ? std::string() : " of " + pathText(k.guardPath));
}

/// Follows `key` (of the items on edge `e`) back to the origins.
bool Partitioner::trace(EdgeId e, Key key, const Need &need, int depth, Lost &lost) {
  OpId from = p_.edges[e].from;
  if (key.constant && !orderTraced_.insert({e, keyText(key) + std::to_string(key.variant)}).second) return true;
  if (depth > 64) {
    lost = {from, "the key changes on every round of a cycle through " + at(from)};
    return false;
  }
  if (isOrigin(from)) {
    Need n = need;
    n.origin = from;
    n.key = std::move(key);
    std::string text = keyText(n.key);
    for (auto &old : needs_) // a cycle may bring the same need back
      if (old.origin == n.origin && old.by == n.by && old.port == n.port && keyText(old.key) == text) return true;
    needs_.push_back(std::move(n));
    return true;
  }
  std::vector<std::pair<unsigned, Key>> ins;
  if (!through(from, p_.edges[e].fromPort, key, ins, lost)) return false;
  for (auto &[port, k] : ins) {
    EdgeId in = p_.ops[from].inputs[port];
    if (replicatedOnly(in)) {
      lost = {from, at(from) + " takes its key from replicated items, which every instance has; their place "
                               "decides nothing"};
      return false;
    }
    if (!partitioned(in)) continue;
    if (!trace(in, std::move(k), need, depth + 1, lost)) return false;
  }
  return true;
}

void Partitioner::keyAt(OpId by, unsigned port, FieldPath key) {
  Need n;
  n.by = by;
  n.port = port;
  Key k;
  k.alts.push_back({key, {}});
  Lost lost;
  if (!trace(p_.ops[by].inputs[port], k, n, 0, lost)) {
    refuse("the key of " + at(by) + " cannot be followed back to what `" + p_.locations[loc_].name + "` receives",
           {{by, at(by) + " needs its items with equal " + (key.empty() ? std::string("values") : pathText(key)) +
                     " together"},
            {lost.at, lost.why}});
    failed_ = true;
  }
}

void Partitioner::orderNeedsAt(OpId by) {
  const ir::Operator &op = p_.ops[by];
  for (unsigned port = 0; port < op.inputs.size(); ++port) {
    if (!partitioned(op.inputs[port])) continue;
    Need n;
    n.by = by;
    n.port = port;
    n.order = true;
    Key k;
    k.constant = true;
    Lost lost; // an order need that cannot be followed (replicated items) asks nothing
    trace(op.inputs[port], k, n, 0, lost);
  }
}

std::string Partitioner::originName(OpId origin) const {
  const ir::Operator &o = p_.ops[origin];
  return o.kind == OpKind::Recv ? "`" + p_.channels[o.channel].name + "`" : at(origin);
}

std::string Partitioner::describe(const Key &k, OpId origin) const { return keyText(k) + " of " + originName(origin); }

bool Partitioner::chooseRoutes() {
  routes_.assign(origins_.size(), {});
  for (size_t o = 0; o < origins_.size(); ++o) {
    if (isReplicatedOrigin(origins_[o])) continue;
    // One sender's items keep their order on one instance: from a cluster
    // (items `(sender, x)`), routing by the sender does that for all of an
    // order need's items; otherwise (one sender, or the need concerns an
    // enum's payload, which does not hold the sender) all go to one.
    const ir::Operator &origin = p_.ops[origins_[o]];
    bool fromCluster = origin.kind == OpKind::Recv && p_.locations[p_.channels[origin.channel].from].isCluster;
    for (auto &n : needs_)
      if (n.origin == origins_[o] && n.order && !n.key.guarded() && fromCluster) {
        n.key.constant = false;
        n.key.alts = {Alt{{0}, {}}};
      }
    std::vector<const Need *> mine;
    for (auto &n : needs_)
      if (n.origin == origins_[o]) mine.push_back(&n);
    // A route for a group: one alternative of one of its needs that fits
    // them all, the most specific first.
    auto pick = [&](const std::vector<const Need *> &group, const std::vector<const Need *> &all, Key &out) {
      std::vector<Key> cands;
      for (const Need *n : group) {
        if (n->key.fn || n->key.constant) cands.push_back(n->key);
        for (auto &a : n->key.alts) {
          Key c = n->key;
          c.alts = {a};
          cands.push_back(std::move(c));
        }
      }
      // The most specific first; all-on-one-instance last.
      auto rank = [](const Key &k) { return k.constant ? -1 : k.fn ? 0 : static_cast<int>(k.alts[0].path.size()); };
      std::stable_sort(cands.begin(), cands.end(), [&](const Key &a, const Key &b) { return rank(a) > rank(b); });
      for (const Key &c : cands) {
        bool ok = true;
        for (const Need *n : all) ok = ok && fit(c, n->key).has_value();
        if (ok) {
          out = c;
          return true;
        }
      }
      // Two that no one key satisfies.
      const Need *a = all[0], *b2 = all.size() > 1 ? all[1] : all[0];
      for (const Need *x : all)
        for (const Need *y : all)
          if (x != y && !fit(x->key, y->key) && !fit(y->key, x->key)) {
            a = x;
            b2 = y;
          }
      auto need = [&](const Need *n) {
        return n->order ? at(n->by) + " is given each sender's items in the order they were sent (through per-item "
                                      "operators only), which needs " + describe(n->key, n->origin)
                        : at(n->by) + " needs " + describe(n->key, n->origin);
      };
      std::vector<std::pair<OpId, std::string>> notes = {{a->by, need(a)}};
      if (b2 != a) notes.push_back({b2->by, need(b2)});
      refuse("no one key of " + originName(origins_[o]) + " keeps together what its operators need together",
             std::move(notes));
      return false;
    };
    std::vector<const Need *> unguarded;
    std::map<int, std::vector<const Need *>> byVariant;
    const Need *firstGuard = nullptr;
    for (const Need *n : mine) {
      if (!n->key.guarded()) {
        unguarded.push_back(n);
        continue;
      }
      if (firstGuard && (firstGuard->key.guardPath != n->key.guardPath || firstGuard->key.guardEnum != n->key.guardEnum))
        return refuse("its items are split by two different enums",
                      {{firstGuard->by, at(firstGuard->by) + " needs " + describe(firstGuard->key, n->origin)},
                       {n->by, at(n->by) + " needs " + describe(n->key, n->origin)}});
      firstGuard = firstGuard ? firstGuard : n;
      byVariant[n->key.variant].push_back(n);
    }
    Route &r = routes_[o];
    r.unguarded.alts = {Alt{}}; // with no need, by the whole item
    if (!unguarded.empty() && !pick(unguarded, unguarded, r.unguarded)) return false;
    for (auto &[variant, group] : byVariant) {
      std::vector<const Need *> all = group;
      all.insert(all.end(), unguarded.begin(), unguarded.end());
      if (!pick(group, all, r.variants[variant])) return false;
    }
  }
  // Every operator that meets items of several needs must see them routed
  // by one function of its key: the same part of it, and the same field
  // below that part.
  std::map<int, std::vector<const Need *>> byOperator;
  for (auto &n : needs_)
    if (!n.order) byOperator[n.by].push_back(&n);
  for (auto &[op, list] : byOperator) {
    if (list.size() < 2) continue;
    std::optional<Fit> common;
    bool same = true;
    for (const Need *n : list) {
      std::optional<Fit> f = fit(routeFor(*n), n->key);
      same = same && f && (!common || *common == *f);
      if (f) common = f;
    }
    if (same) continue;
    std::vector<std::pair<OpId, std::string>> notes;
    notes.push_back({OpId(op), at(OpId(op)) + " needs items with equal keys on one instance"});
    for (const Need *n : list)
      notes.push_back({n->origin, "its items from here would be routed by " + describe(routeFor(*n), n->origin) +
                                      " for a key of " + keyText(n->key)});
    return refuse("an operator would meet items routed by different functions of its key", std::move(notes));
  }
  // Keeping order by putting every item on one instance partitions nothing.
  bool spread = false;
  std::vector<std::pair<OpId, std::string>> notes;
  for (size_t o = 0; o < origins_.size(); ++o) {
    if (isReplicatedOrigin(origins_[o])) continue;
    const Route &r = routes_[o];
    bool oneInstance = r.unguarded.constant;
    for (auto &[variant, key] : r.variants) oneInstance = oneInstance && key.constant;
    if (!oneInstance) {
      spread = true;
      continue;
    }
    for (auto &n : needs_)
      if (n.origin == origins_[o] && n.order) {
        notes.push_back({n.by, at(n.by) + " is given the items of " + originName(origins_[o]) +
                                   " in the order they were sent, through per-item operators only; spread over "
                                   "instances, they could reach it in another order"});
        break;
      }
  }
  if (!spread && !notes.empty())
    return refuse("every item would go to one instance, to keep the order in which it was sent", std::move(notes));
  return true;
}

} // namespace dfir::passes::partition
