//===- Partition.h - The partition transform, shared by its two files -----===//
//
// passes/Partition.cpp checks a partitioning and rewrites the program;
// passes/PartitionKeys.cpp finds the keys: which field, or computation, of
// each item the location receives decides its instance. What both know of
// the transform is declared here; nothing else includes it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/ExprBuilder.h"
#include "ir/Rewriter.h"
#include "passes/RewriteRules.h"
#include "passes/Transforms.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace dfir::passes::partition {

using ir::EdgeId;
using ir::Expr;
using ir::ExprPtr;
using ir::FieldPath;
using ir::OpId;

/// One way to keep together what a need keeps together: the items' field
/// at `path` (routing by it, or by any field inside it, is enough).
/// `component` says which part of the needing operator's key it is, so
/// that two inputs of one operator can be checked to be routed alike.
struct Alt {
  FieldPath path;
  FieldPath component;
};

/// What an operator needs kept together, as a function of an origin's
/// items: one of some fields (`alts`), or a computed hash (`fn`, a closure
/// of the item returning `u64`, of the key's `fnComponent`). A guarded key
/// concerns only the items whose value at `guardPath` is variant `variant`
/// of an enum, and is a function of that variant's payload (what
/// `demux_enum` emits for it). A route is a key with one alternative.
struct Key {
  std::vector<Alt> alts;
  std::shared_ptr<const Expr> fn;
  std::string fnText; // `fn` printed, to compare two
  FieldPath fnComponent;
  int variant = -1;
  FieldPath guardPath;
  /// All of the items together (on one instance): what keeps the order in
  /// which one sender's items reach a `send` or an output (orderNeedsAt).
  bool constant = false;
  const Type *guardEnum = nullptr;
  bool guarded() const { return variant >= 0; }
  bool sameGuard(const Key &o) const {
    return variant == o.variant && (!guarded() || (guardPath == o.guardPath && guardEnum == o.guardEnum));
  }
};

/// One operator's need at one of its inputs, followed back to an origin.
struct Need {
  OpId origin;
  Key key;
  OpId by;
  unsigned port = 0;
  bool order = false; // kept in the order they were sent, not together for state
};

/// Why a key could not be followed: the operator in the way and what it does.
struct Lost {
  OpId at;
  std::string why;
};

/// How an origin's items are routed.
struct Route {
  Key unguarded;               // all items, or those of no variant below
  std::map<int, Key> variants; // by variant of the guard's enum
};

/// Which part of a need's key a route is a function of (see `fit`).
struct Fit {
  FieldPath component, below;
  std::string via; // a route computed from the field, as printed
  bool operator==(const Fit &o) const { return component == o.component && below == o.below && via == o.via; }
};

std::string pathText(const FieldPath &p);
bool isPrefix(const FieldPath &a, const FieldPath &b);
FieldPath concat(FieldPath a, const FieldPath &b);
FieldPath tail(const FieldPath &p, size_t from);
/// How routing by `r` keeps together all that need `k` does (`r` is a
/// function of `k`'s value): the part of `k`'s operator's key it routes by
/// and the path below it; nothing if it does not.
std::optional<Fit> fit(const Key &r, const Key &k);

class Partitioner {
public:
  Partitioner(ir::Program &p, const PassInvocation &inv, TransformContext &ctx)
      : p_(p), inv_(inv), ctx_(ctx), sm_(ctx.diags.sourceManager()), b_(*p.types) {}
  bool run();

private:
  ir::Program &p_;
  const PassInvocation &inv_;
  TransformContext &ctx_;
  const SourceManager &sm_;
  ir::ExprBuilder b_;
  ir::LocId loc_;
  uint64_t k_ = 0, n_ = 1;
  bool wasCluster_ = false;
  std::set<int> replicated_;   // channels
  std::vector<OpId> origins_;  // recv and sources of loc_
  std::vector<int> originOf_;  // per operator: its index in origins_, or -1
  // Per edge of loc_: which kinds of origins reach it.
  std::vector<bool> fromPartitioned_, fromReplicated_;
  std::vector<Need> needs_;
  bool failed_ = false;

  const SourceRange &flagRange() const {
    const PassOption *o = inv_.find("location");
    return o ? o->range : inv_.range;
  }
  std::string at(OpId id) const { return "`" + spelled(p_.ops[id]) + "` at " + lineOf(sm_, p_.ops[id]); }
  bool refuse(const std::string &summary, std::vector<std::pair<OpId, std::string>> notes) {
    auto d = ctx_.diags.report(DiagID::err_partition_illegal, flagRange());
    d << p_.locations[loc_].name << std::to_string(n_ * k_) << summary;
    for (auto &[op, why] : notes) d.note(DiagID::note_partition, p_.ops[op].range) << why;
    return false;
  }
  bool isOrigin(OpId id) const { return originOf_[id] >= 0; }
  bool isReplicatedOrigin(OpId id) const {
    const ir::Operator &op = p_.ops[id];
    return op.kind == OpKind::Recv && replicated_.count(op.channel);
  }
  /// What is known of the items on an edge: reached by partitioned
  /// origins, replicated ones, both or none.
  bool partitioned(EdgeId e) const { return e.valid() && fromPartitioned_[e]; }
  bool replicatedOnly(EdgeId e) const { return e.valid() && fromReplicated_[e] && !fromPartitioned_[e]; }
  bool mixed(EdgeId e) const { return e.valid() && fromReplicated_[e] && fromPartitioned_[e]; }

  bool parseOptions();
  void findOrigins();
  bool checkOperators();
  bool checkOperator(OpId id);
  void keyAt(OpId by, unsigned port, FieldPath key);
  /// Delivery is FIFO per (sender, receiver): where items reach operator
  /// `by` (a send, an output) through per-item operators only, in the
  /// order they came, one sender's items must stay on one instance.
  void orderNeedsAt(OpId by);
  std::set<std::pair<int, std::string>> orderTraced_; // (edge, key) followed by order needs
  bool trace(EdgeId e, Key key, const Need &need, int depth, Lost &lost);
  bool through(OpId id, unsigned outPort, const Key &key, std::vector<std::pair<unsigned, Key>> &ins, Lost &lost);
  std::vector<std::tuple<unsigned, FieldPath, FieldPath>> fieldThrough(OpId id, unsigned outPort,
                                                                      const FieldPath &path, std::string &why);
  std::string keyText(const Key &k) const;
  const Key &routeFor(const Need &n) const {
    const Route &r = routes_[static_cast<size_t>(originOf_[n.origin])];
    return n.key.guarded() ? r.variants.at(n.key.variant) : r.unguarded;
  }
  bool chooseRoutes();
  std::string describe(const Key &k, OpId origin) const;
  std::string originName(OpId origin) const;

  // The rewrite.
  std::vector<Route> routes_;
  std::function<ExprPtr()> locMember_; // the old member of `loc` an item goes to, where a route is computed
  ExprPtr routeHash(size_t origin, std::function<ExprPtr(const FieldPath &)> field, std::function<ExprPtr()> whole,
                    int &slot);
  ExprPtr keyHash(const Key &k, std::function<ExprPtr(const FieldPath &)> field, std::function<ExprPtr()> whole,
                  int &slot);
  ExprPtr instanceOf(ExprPtr hash);
  void rewrite();
  void rewriteBuiltins();
  OpId insertAfter(ir::Rewriter &rw, OpId op, OpKind kind, const std::string &base, ExprPtr fn, const Type *opOut,
                   const Type *out);
  void insertBefore(ir::Rewriter &rw, OpId op, OpKind kind, const std::string &base, ExprPtr fn, const Type *in);
};

} // namespace dfir::passes::partition
