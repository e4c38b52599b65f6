//===- ExprBuilder.h - Typed closures made by passes ----------------------===//
//
// Transforms that add operators also write their closures: a routing
// function, an adapter that pairs an item with a member id. Each node is
// built with its type, so that what a pass makes checks, prints and
// compiles like what the frontend lowers. Slots are the caller's to
// number: a closure's root records how many its patterns use.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Expr.h"
#include "ir/ExprAnalysis.h"
#include "ir/Type.h"

#include <string>
#include <vector>

namespace dfir::ir {

class ExprBuilder {
public:
  explicit ExprBuilder(TypeContext &types) : tc_(types) {}
  TypeContext &types() { return tc_; }

  ExprPtr local(int slot, const std::string &name, const Type *t);
  PatternPtr bind(int slot, const std::string &name, const Type *t);
  PatternPtr wildcard(const Type *t);
  ExprPtr integer(uint64_t value, const Type *t);
  ExprPtr u32(uint64_t value) { return integer(value, tc_.u32()); }
  ExprPtr u64(uint64_t value) { return integer(value, tc_.u64()); }
  /// `a op b`; comparisons and `&&`/`||` are `bool`, the rest `a`'s type.
  ExprPtr binary(BinOp op, ExprPtr a, ExprPtr b);
  ExprPtr cast(ExprPtr e, const Type *t);
  ExprPtr tuple(std::vector<ExprPtr> elems);
  ExprPtr list(std::vector<ExprPtr> elems, const Type *elem);
  /// `e.i0.i1...` for a path of tuple indexes.
  ExprPtr path(ExprPtr e, const FieldPath &p);
  ExprPtr builtin(BuiltinId id, std::vector<ExprPtr> args, const Type *result);
  ExprPtr hash(ExprPtr e) { return builtin(BuiltinId::Hash, vec(std::move(e)), tc_.u64()); }
  ExprPtr memberId() { return builtin(BuiltinId::MemberId, {}, tc_.u32()); }
  /// `cluster_size(loc)` for the location numbered `loc`, named `name`.
  ExprPtr clusterSize(int loc, const std::string &name);
  /// `{ let pattern = value; body }`.
  ExprPtr let(PatternPtr pattern, ExprPtr value, ExprPtr body);
  /// `match scrutinee { arms }`, of the arms' type.
  ExprPtr match(ExprPtr scrutinee, std::vector<MatchArm> arms);
  /// `|param| body`, a root numbering `slots` locals.
  ExprPtr lambda(PatternPtr param, ExprPtr body, int slots);

  /// The body of a one-parameter `lambda` applied to `arg`, its locals
  /// renumbered from `nextSlot` (which moves past them), so that it can be
  /// placed in another closure: `{ let <its parameter> = arg; <its body> }`,
  /// or, when `arg` is a variable or a field of one (or a tuple of them)
  /// and the parameter a name or a tuple of names, its body with `arg`'s
  /// fields in their place.
  ExprPtr apply(const Expr &lambda, ExprPtr arg, int &nextSlot);

  static std::vector<ExprPtr> vec(ExprPtr a) {
    std::vector<ExprPtr> v;
    v.push_back(std::move(a));
    return v;
  }
  static std::vector<ExprPtr> vec(ExprPtr a, ExprPtr b) {
    std::vector<ExprPtr> v = vec(std::move(a));
    v.push_back(std::move(b));
    return v;
  }

private:
  TypeContext &tc_;
  void substitute(ExprPtr &e, const std::vector<std::pair<int, FieldPath>> &vars, const Expr &value);
};

/// Adds `by` to every slot that `e` (and its patterns) binds or reads.
void shiftSlots(Expr &e, int by);
void shiftSlots(Pattern &p, int by);

} // namespace dfir::ir
