#include "ir/ExprAnalysis.h"

#include "ir/Builtins.h"
#include "ir/Type.h"

#include <algorithm>
#include <map>

namespace dfir::ir {

namespace {

bool impure(const Expr &e) {
  if (e.kind == Expr::Extern) return true; // C code may do anything
  if (e.kind == Expr::StateRef) return true; // another operator's state, as it ends the tick
  return e.kind == Expr::Builtin && !builtinInfo(e.builtin).pure;
}

using Env = std::map<int, FieldPath>; // by slot

void bind(const Pattern &p, FieldPath path, Env &env) {
  switch (p.kind) {
  case Pattern::Bind: env[p.slot] = path; return;
  case Pattern::Tuple:
    for (unsigned i = 0; i < p.elems.size(); ++i) {
      FieldPath sub = path;
      sub.push_back(i);
      bind(*p.elems[i], sub, env);
    }
    return;
  case Pattern::Struct:
    for (size_t i = 0; i < p.elems.size(); ++i) {
      FieldPath sub = path;
      sub.push_back(static_cast<unsigned>(p.fields[i]));
      bind(*p.elems[i], sub, env);
    }
    return;
  default: return; // other patterns bind nothing a path can describe
  }
}

std::optional<FieldPath> pathOf(const Expr &e, const Env &env) {
  switch (e.kind) {
  case Expr::Local: {
    auto it = env.find(e.slot);
    if (it == env.end()) return std::nullopt;
    return it->second;
  }
  case Expr::TupleIndex:
  case Expr::Field: {
    auto base = pathOf(*e.kids[0], env);
    if (!base) return std::nullopt;
    base->push_back(static_cast<unsigned>(e.index));
    return base;
  }
  case Expr::Block:
    if (e.stmts.empty() && e.hasTail) return pathOf(*e.kids[0], env);
    return std::nullopt;
  default: return std::nullopt;
  }
}

bool paramEnv(const Expr &lambda, Env &env) {
  if (lambda.kind != Expr::Lambda || lambda.params.size() != 1) return false;
  bind(*lambda.params[0], {}, env);
  return true;
}

} // namespace

bool isPure(const Expr &e) {
  if (impure(e)) return false;
  for (auto &k : e.kids)
    if (!isPure(*k)) return false;
  for (auto &s : e.stmts)
    if (!isPure(*s.expr)) return false;
  for (auto &a : e.arms)
    if (!isPure(*a.body)) return false;
  return true;
}

namespace {
void reads(const Expr &e, Env &env, std::vector<FieldPath> &out) {
  if (auto p = pathOf(e, env)) {
    out.push_back(*p);
    return;
  }
  if (e.kind == Expr::Block) {
    for (auto &s : e.stmts) {
      auto p = s.pattern ? pathOf(*s.expr, env) : std::nullopt;
      if (p) bind(*s.pattern, *p, env); // its variables stand for parts of the parameter
      else reads(*s.expr, env, out);
    }
    if (e.hasTail) reads(*e.kids[0], env, out);
    return;
  }
  for (auto &k : e.kids) reads(*k, env, out);
  for (auto &a : e.arms) reads(*a.body, env, out);
}
} // namespace

std::optional<std::vector<FieldPath>> fieldsRead(const Expr &lambda) {
  Env env;
  if (!paramEnv(lambda, env)) return std::nullopt;
  std::vector<FieldPath> out;
  reads(*lambda.kids[0], env, out);
  return out;
}

std::optional<FieldPath> copiedPath(const Expr &lambda) {
  Env env;
  if (!paramEnv(lambda, env)) return std::nullopt;
  return pathOf(*lambda.kids[0], env);
}

std::vector<std::optional<FieldPath>> fieldCopies(const Expr &lambda) {
  Env env;
  if (!paramEnv(lambda, env)) return {};
  const Expr &body = *lambda.kids[0];
  if (body.kind == Expr::Struct) { // by field index, in declaration order
    std::vector<std::optional<FieldPath>> out;
    for (size_t i = 0; i < body.kids.size(); ++i) {
      size_t f = static_cast<size_t>(body.fields[i]);
      if (out.size() <= f) out.resize(f + 1);
      out[f] = pathOf(*body.kids[i], env);
    }
    return out;
  }
  if (body.kind != Expr::Tuple) return {pathOf(body, env)};
  std::vector<std::optional<FieldPath>> out;
  for (auto &k : body.kids) out.push_back(pathOf(*k, env));
  return out;
}

namespace {

/// The locals of a closure that hold growing parts of its parameter.
struct Growth {
  std::vector<int> slots;  // bound to parts that hold lattices
  std::vector<int> params; // bound by the parameter's pattern at all

  explicit Growth(const Expr &lambda) {
    for (auto &p : lambda.params) collect(*p);
  }
  void collect(const Pattern &p) {
    if (p.kind == Pattern::Bind) (holdsLattice(p.type) ? slots : params).push_back(p.slot);
    for (auto &e : p.elems) collect(*e);
  }
  /// Locals bound inside the closure (`let`, `match`) may hold anything
  /// read from the parameter: they count as growing.
  bool growing(int slot) const {
    return std::find(params.begin(), params.end(), slot) == params.end();
  }

  /// Whether `e`'s value can change as the lattice parts grow. A part
  /// without lattices read from a local (`x.0` of `(K, L)`) does not.
  bool grows(const Expr &e) const {
    if ((e.kind == Expr::TupleIndex || e.kind == Expr::Field || e.kind == Expr::Local) && !holdsLattice(e.type) &&
        rootedInParam(e))
      return false;
    if (e.kind == Expr::Local) return growing(e.slot);
    for (auto &k : e.kids)
      if (grows(*k)) return true;
    for (auto &s : e.stmts)
      if (grows(*s.expr)) return true;
    for (auto &a : e.arms)
      if (grows(*a.body)) return true;
    return false;
  }
  /// A part of the parameter, read through a local its pattern bound.
  bool rootedInParam(const Expr &e) const {
    if (e.kind == Expr::Local) return !growing(e.slot) || isParamSlot(e.slot);
    return (e.kind == Expr::TupleIndex || e.kind == Expr::Field) && rootedInParam(*e.kids[0]);
  }
  bool isParamSlot(int slot) const { return std::find(slots.begin(), slots.end(), slot) != slots.end(); }

  /// A lattice value that only grows: a growing local of lattice type, a
  /// lattice part of one, a component of a growing `Pair` (or the key of
  /// a `DomPair`), or a merge of one with anything.
  bool growingLattice(const Expr &e) const {
    if (!e.type || !e.type->isLattice()) return false;
    if (e.kind == Expr::Local) return isParamSlot(e.slot);
    if (e.kind == Expr::TupleIndex) {
      const Expr &base = *e.kids[0];
      if (base.kind == Expr::Builtin && base.builtin == BuiltinId::Reveal) {
        const Type *whole = base.kids[0]->type;
        return growingLattice(*base.kids[0]) && (whole->name == "Pair" || e.index == 0);
      }
      return rootedInParam(e);
    }
    // A merge grows with its growing operands only when the others stay
    // the same (`merge(m, Max(0 - reveal(m)))` can shrink).
    if (e.kind == Expr::Builtin && e.builtin == BuiltinId::Merge) {
      bool any = false;
      for (auto &k : e.kids) {
        if (growingLattice(*k)) any = true;
        else if (grows(*k)) return false;
      }
      return any;
    }
    return false;
  }

  /// +1: a value that only goes up in the language's order as the
  /// lattice parts grow; -1: only down; 0: neither, or not known.
  int direction(const Expr &e) const {
    if (e.kind != Expr::Builtin) return 0;
    if (e.builtin == BuiltinId::Len) {
      const Expr &r = *e.kids[0];
      if (r.kind != Expr::Builtin || r.builtin != BuiltinId::Reveal) return 0;
      const std::string &k = r.kids[0]->type->name;
      return (k == "SetUnion" || k == "MapUnion") && growingLattice(*r.kids[0]) ? 1 : 0;
    }
    if (e.builtin == BuiltinId::Reveal && growingLattice(*e.kids[0])) {
      const std::string &k = e.kids[0]->type->name;
      return k == "Max" ? 1 : k == "Min" ? -1 : 0;
    }
    return 0;
  }

  bool monotone(const Expr &e) const {
    if (!grows(e)) return true; // the same every time
    switch (e.kind) {
    case Expr::Block: return e.stmts.empty() && e.hasTail && monotone(*e.kids[0]);
    case Expr::Binary: {
      const Expr &l = *e.kids[0], &r = *e.kids[1];
      if (e.binop == BinOp::And || e.binop == BinOp::Or) return monotone(l) && monotone(r);
      // `x >= c` or `c <= x` where x only goes up (or down, mirrored).
      bool up = e.binop == BinOp::Ge || e.binop == BinOp::Gt;
      bool down = e.binop == BinOp::Le || e.binop == BinOp::Lt;
      if (!up && !down) return false;
      auto rising = [&](const Expr &x, int sign) {
        if (x.type && x.type->isLattice()) return sign > 0 && growingLattice(x);
        return direction(x) == sign;
      };
      if (!grows(r)) return rising(l, up ? 1 : -1);
      if (!grows(l)) return rising(r, up ? -1 : 1);
      return false;
    }
    case Expr::Builtin:
      if (e.builtin == BuiltinId::Contains && !grows(*e.kids[1])) {
        const Expr &r = *e.kids[0];
        return r.kind == Expr::Builtin && r.builtin == BuiltinId::Reveal &&
               (r.kids[0]->type->name == "SetUnion" || r.kids[0]->type->name == "MapUnion") &&
               growingLattice(*r.kids[0]);
      }
      return false;
    default: return false;
    }
  }
};

} // namespace

bool monotonePredicate(const Expr &lambda) {
  if (lambda.kind != Expr::Lambda) return false;
  return Growth(lambda).monotone(*lambda.kids[0]);
}

bool ignoresLattices(const Expr &lambda) {
  if (lambda.kind != Expr::Lambda) return false;
  return !Growth(lambda).grows(*lambda.kids[0]);
}

bool revealsWhole(const Expr &lambda) {
  if (lambda.kind != Expr::Lambda || lambda.params.size() != 1 || lambda.params[0]->kind != Pattern::Bind) return false;
  const Expr &body = *lambda.kids[0];
  if (body.kind != Expr::Builtin || body.builtin != BuiltinId::Reveal || body.kids[0]->kind != Expr::Local ||
      body.kids[0]->slot != lambda.params[0]->slot)
    return false;
  // A set's elements and a map's entries only grow in number; a `Max` of
  // a list is replaced whole.
  const Type *t = body.kids[0]->type;
  return t && t->isLattice() && (t->name == "SetUnion" || t->name == "MapUnion");
}

} // namespace dfir::ir
