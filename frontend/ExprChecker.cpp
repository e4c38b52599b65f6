//===- ExprChecker.cpp - Types of closures and constant expressions -------===//
//
// Infers the type of every expression of the closure language by
// unification (TypeInference.h). Whatever depends on a type not known yet
// (fields, tuple indexes, "must be numeric") is deferred as an obligation.
// After solving, finalize() writes the final types into the AST, checks that
// integer literals fit their type and that every `match` is exhaustive.
//
// Longer than the usual 800 lines on purpose: one visitor over every kind of
// expression and pattern, whose cases share the scopes and the obligations
// being collected; split, each part would need the whole class.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaContext.h"
#include "ir/Builtins.h"
#include "ir/Format.h"

#include <cmath>
#include <functional>
#include <optional>
#include <set>

namespace dfir {

using namespace ast;
using Flavor = Inference::Flavor;

namespace {

} // namespace

// ------------------------------------------------------------ helpers --

namespace {

enum class Need { Numeric, Integer, SignedOrFloat, Addable, IntOrBool, StrOrList, Float, Lattice };

const char *needText(Need n) {
  switch (n) {
  case Need::Numeric: return "a number";
  case Need::Integer: return "an integer";
  case Need::SignedOrFloat: return "a signed integer or a float";
  case Need::Addable: return "a number, a `str` or a list";
  case Need::IntOrBool: return "an integer or a `bool`";
  case Need::StrOrList: return "a `str`, a list or a `Map`";
  case Need::Float: return "a float";
  case Need::Lattice:
    return "a lattice (`Max<T>`, `Min<T>`, `SetUnion<T>`, `MapUnion<K, L>`, `Pair<A, B>`, `DomPair<K, V>`, "
           "`WithBot<L>`)";
  }
  return "";
}

/// Decides `need` for a resolved type or a flavoured variable; nullopt while
/// an unflavoured variable leaves it open.
std::optional<bool> satisfies(Inference &inf, const Type *t, Need need) {
  t = inf.resolve(t);
  if (inf.isError(t)) return true;
  if (t->isVar()) {
    Flavor f = inf.flavor(t);
    if (f == Flavor::Any) return std::nullopt;
    bool isInt = f == Flavor::Integer;
    switch (need) {
    case Need::SignedOrFloat:
      if (isInt) return std::nullopt; // signed or not: wait for the type
      return true;
    case Need::Numeric:
    case Need::Addable: return true;
    case Need::Integer:
    case Need::IntOrBool: return isInt;
    case Need::StrOrList: return false;
    case Need::Float: return !isInt;
    case Need::Lattice: return false;
    }
    return false;
  }
  switch (need) {
  case Need::Numeric: return t->isNumeric();
  case Need::Integer: return t->isInt();
  case Need::SignedOrFloat: return t->isFloat() || (t->isInt() && t->isSigned);
  case Need::Addable: return t->isNumeric() || t->kind == Type::Str || t->kind == Type::List;
  case Need::IntOrBool: return t->isInt() || t->kind == Type::Bool;
  case Need::StrOrList: return t->kind == Type::Str || t->kind == Type::List || t->kind == Type::Map;
  case Need::Float: return t->isFloat();
  case Need::Lattice: return t->isLattice();
  }
  return false;
}

void require(SemaContext &ctx, const Type *t, Need need, SourceRange range, std::string what) {
  ctx.infer.defer(range, [&ctx, t, need, range, what] {
    auto ok = satisfies(ctx.infer, t, need);
    if (!ok) return false;
    if (!*ok) ctx.diags.report(DiagID::err_operand_type, range) << what << ctx.infer.display(t) << needText(need);
    return true;
  });
}

} // namespace

// -------------------------------------------------------- expressions --

const Type *ExprChecker::check(Expr &e) {
  const Type *t = checkImpl(e);
  e.type = t;
  return t;
}

const Type *ExprChecker::checkImpl(Expr &e) {
  Inference &inf = ctx_.infer;
  TypeContext &tc = ctx_.types;
  switch (e.kind) {
  case Expr::Int:
    if (!e.suffix.empty()) return tc.primitive(e.suffix);
    return inf.fresh(Flavor::Integer);
  case Expr::Float:
    if (!e.suffix.empty()) return tc.primitive(e.suffix);
    return inf.fresh(Flavor::Float);
  case Expr::Str: return tc.strType();
  case Expr::Bool: return tc.boolType();
  case Expr::Unit: return tc.unitType();
  case Expr::Name: return lookupName(e);
  case Expr::StateRef: return checkStateRef(e);
  case Expr::Path: {
    auto it = ctx_.typeNames.find(e.name);
    const Type *en = it == ctx_.typeNames.end() ? nullptr : it->second;
    if (!en || en->kind != Type::Enum) {
      ctx_.diags.report(DiagID::err_unknown_enum, e.range) << e.name;
      return inf.errorType();
    }
    const EnumInfo &info = tc.enumInfo(en->id);
    int v = info.variantIndex(e.name2);
    if (v < 0) {
      ctx_.diags.report(DiagID::err_unknown_variant, e.range) << e.name2 << e.name;
      return en;
    }
    if (!info.variants[v].fields.empty())
      ctx_.diags.report(DiagID::err_variant_needs_fields, e.range)
          << e.name + "::" + e.name2 << info.variants[v].fields.size();
    return en;
  }
  case Expr::Tuple: {
    std::vector<const Type *> elems;
    for (auto &k : e.kids) elems.push_back(check(*k));
    return tc.tuple(std::move(elems));
  }
  case Expr::List: {
    const Type *elem = inf.fresh();
    for (auto &k : e.kids) inf.expect(elem, check(*k), k->range);
    return tc.list(elem);
  }
  case Expr::Struct: {
    auto it = ctx_.typeNames.find(e.name);
    if (it == ctx_.typeNames.end() || it->second->kind != Type::Struct) {
      ctx_.diags.report(DiagID::err_unknown_struct, e.nameRange) << e.name;
      for (auto &k : e.kids) check(*k);
      return inf.errorType();
    }
    const StructInfo &info = tc.structInfo(it->second->id);
    std::map<std::string, SourceRange> seen;
    bool unknownField = false;
    for (size_t i = 0; i < e.kids.size(); ++i) {
      const Type *vt = check(*e.kids[i]);
      const std::string &f = e.fieldNames[i];
      if (auto [prev, fresh] = seen.emplace(f, e.fieldRanges[i]); !fresh) {
        (ctx_.diags.report(DiagID::err_duplicate_field_init, e.fieldRanges[i]) << f)
            .note(DiagID::note_previous_definition, prev->second);
        continue;
      }
      const Type *ft = nullptr;
      for (auto &[name, t] : info.fields)
        if (name == f) ft = t;
      if (!ft) {
        ctx_.diags.report(DiagID::err_no_field, e.fieldRanges[i]) << f << e.name;
        unknownField = true; // probably a misspelling: do not also report it missing
        continue;
      }
      inf.expect(ft, vt, e.kids[i]->range);
    }
    for (auto &[name, t] : info.fields)
      if (!seen.count(name) && !unknownField) ctx_.diags.report(DiagID::err_missing_field_init, e.nameRange) << name << e.name;
    return it->second;
  }
  case Expr::Field: {
    const Type *base = check(*e.kids[0]);
    const Type *result = inf.fresh();
    std::string field = e.name;
    SourceRange range = e.nameRange;
    inf.defer(range, [&ctx = ctx_, base, result, field, range] {
      const Type *b = ctx.infer.resolve(base);
      if (ctx.infer.isError(b)) return ctx.infer.unify(result, b);
      if (b->isVar()) return false;
      if (b->kind == Type::Struct) {
        for (auto &[name, t] : ctx.types.structInfo(b->id).fields)
          if (name == field) {
            ctx.infer.expect(result, t, range);
            return true;
          }
      }
      ctx.diags.report(DiagID::err_no_field, range) << field << ctx.infer.display(b);
      ctx.infer.unify(result, ctx.infer.errorType());
      return true;
    });
    return result;
  }
  case Expr::TupleIndex: {
    const Type *base = check(*e.kids[0]);
    const Type *result = inf.fresh();
    unsigned index = static_cast<unsigned>(e.intValue);
    SourceRange range = e.nameRange;
    inf.defer(range, [&ctx = ctx_, base, result, index, range] {
      const Type *b = ctx.infer.resolve(base);
      if (ctx.infer.isError(b)) return ctx.infer.unify(result, b);
      if (b->isVar()) return false;
      if (b->kind != Type::Tuple) {
        ctx.diags.report(DiagID::err_not_a_tuple, range) << index << ctx.infer.display(b);
        ctx.infer.unify(result, ctx.infer.errorType());
      } else if (index >= b->elems.size()) {
        ctx.diags.report(DiagID::err_tuple_index_out_of_range, range)
            << index << ctx.infer.display(b) << b->elems.size();
        ctx.infer.unify(result, ctx.infer.errorType());
      } else {
        ctx.infer.expect(result, b->elems[index], range);
      }
      return true;
    });
    return result;
  }
  case Expr::Index: {
    const Type *base = check(*e.kids[0]);
    // `l[a..b]`: a slice, a list of the same type.
    bool slice = e.kids[1]->kind == Expr::Range;
    const Type *index = check(*e.kids[1]);
    if (!slice) require(ctx_, index, Need::Integer, e.kids[1]->range, "a list index");
    const Type *elem = inf.fresh();
    SourceRange range = e.kids[0]->range;
    inf.defer(range, [&ctx = ctx_, base, elem, range, slice] {
      const Type *b = ctx.infer.resolve(base);
      if (ctx.infer.isError(b)) return ctx.infer.unify(elem, b);
      if (b->isVar()) return false;
      if (b->kind == Type::List) {
        ctx.infer.expect(elem, slice ? b : b->elems[0], range);
      } else {
        ctx.diags.report(DiagID::err_not_indexable, range) << ctx.infer.display(b);
        ctx.infer.unify(elem, ctx.infer.errorType());
      }
      return true;
    });
    return elem;
  }
  case Expr::Call: return checkCall(e);
  case Expr::Unary: {
    const Type *t = check(*e.kids[0]);
    if (e.unop == UnOp::Neg) require(ctx_, t, Need::SignedOrFloat, e.range, "`-`");
    else require(ctx_, t, Need::IntOrBool, e.range, "`!`");
    return t;
  }
  case Expr::Binary: return checkBinary(e);
  case Expr::Cast: {
    const Type *from = check(*e.kids[0]);
    const Type *to = ctx_.resolveType(*e.castType);
    SourceRange range = e.range;
    inf.defer(range, [&ctx = ctx_, from, to, range] {
      const Type *f = ctx.infer.resolve(from);
      if (ctx.infer.isError(f)) return true;
      std::optional<bool> numeric = satisfies(ctx.infer, f, Need::Numeric);
      if (!numeric && f->isVar()) return false;
      bool fromOk = (numeric && *numeric) || f->kind == Type::Bool;
      const Type *t = ctx.infer.resolve(to);
      if (ctx.infer.isError(t)) return true;
      if (!fromOk || !t->isNumeric())
        ctx.diags.report(DiagID::err_invalid_cast, range) << ctx.infer.display(f) << ctx.infer.display(t);
      return true;
    });
    return to;
  }
  case Expr::If: {
    inf.expect(tc.boolType(), check(*e.kids[0]), e.kids[0]->range, DiagID::err_condition_not_bool);
    const Type *thenT = check(*e.kids[1]);
    if (e.kids.size() < 3) {
      if (!inf.expect(tc.unitType(), thenT, e.kids[1]->range, DiagID::err_if_without_else))
        return inf.errorType();
      return tc.unitType();
    }
    const Type *elseT = check(*e.kids[2]);
    if (!inf.unify(thenT, elseT))
      ctx_.diags.report(DiagID::err_branch_mismatch, e.kids[2]->range)
          << inf.display(thenT) << inf.display(elseT);
    return thenT;
  }
  case Expr::Match: return checkMatch(e);
  case Expr::Block: return checkBlock(e);
  case Expr::Lambda:
    ctx_.diags.report(DiagID::err_closure_not_allowed, e.range);
    return inf.errorType();
  case Expr::Range: {
    const Type *lo = check(*e.kids[0]);
    const Type *hi = check(*e.kids[1]);
    if (!inf.unify(lo, hi))
      ctx_.diags.report(DiagID::err_binary_mismatch, e.range) << ".." << inf.display(lo) << inf.display(hi);
    require(ctx_, lo, Need::Integer, e.range, "a range `..`");
    return tc.range(lo);
  }
  }
  return inf.fresh();
}

void ExprChecker::closeScopes(size_t depth) {
  for (; scopes_.size() > depth; scopes_.pop_back())
    for (auto &binding : scopes_.back()) {
      auto v = visible_.find(binding.first);
      v->second.pop_back();
      if (v->second.empty()) visible_.erase(v);
    }
}

void ExprChecker::bind(const std::string &name, const Type *t) {
  scopes_.back()[name] = t;
  visible_[name].push_back(t);
}

const Type *ExprChecker::lookupName(Expr &e) {
  if (auto v = visible_.find(e.name); v != visible_.end()) return v->second.back();
  if (auto c = ctx_.consts.find(e.name); c != ctx_.consts.end()) return c->second;
  if (e.name == "None") return ctx_.types.option(ctx_.infer.fresh());
  const char *what = nullptr;
  if (e.name == "Some" || findBuiltin(e.name) || ctx_.externs.count(e.name) || ctx_.functions.count(e.name)) what = "a function; call it";
  else if (ctx_.pipelineNameLocations.count(e.name))
    what = "a pipeline, not a value; values reach a closure through its parameters";
  else if (ctx_.locationIndex.count(e.name) && !ctx_.implicitMain) what = "a location, not a value";
  else if (ctx_.channelIndex.count(e.name)) what = "a channel, not a value";
  else if (ctx_.typeNames.count(e.name) || ctx_.aliasDefs.count(e.name) || ctx_.types.primitive(e.name) ||
           e.name == "Option" || e.name == "Map")
    what = "a type, not a value";
  if (what) ctx_.diags.report(DiagID::err_not_a_value, e.range) << e.name << what;
  else ctx_.diags.report(DiagID::err_unknown_name, e.range) << e.name;
  return ctx_.infer.errorType();
}

/// `#name`: the state of the operator that statement `name` of this
/// location ends with, a `fold` (its accumulator), a `reduce` or a
/// `singleton` (`Some` of its value, `None` without one). The reader runs
/// after it.
const Type *ExprChecker::checkStateRef(Expr &e) {
  if (reader_ < 0 || !function_.empty()) {
    ctx_.diags.report(DiagID::err_state_ref_outside, e.range) << e.name;
    return ctx_.infer.errorType();
  }
  int target = -1;
  for (size_t n = 0; n < ctx_.nodes.size() && target < 0; ++n)
    if (ctx_.nodes[n].location == location_ && ctx_.nodes[n].userName == e.name) target = static_cast<int>(n);
  if (target < 0) {
    for (const GraphNode &n : ctx_.nodes)
      if (n.userName == e.name && n.location != location_) {
        (ctx_.diags.report(DiagID::err_state_ref_other_location, e.range)
         << e.name << ctx_.locations[n.location].name << ctx_.locations[location_].name)
            .note(DiagID::note_state_ref_target, n.range())
            << e.name;
        return ctx_.infer.errorType();
      }
    ctx_.diags.report(DiagID::err_state_ref_unknown, e.range) << e.name << ctx_.locations[location_].name;
    return ctx_.infer.errorType();
  }
  const GraphNode &n = ctx_.nodes[target];
  OpKind kind = n.info->kind;
  if (stateRead(kind) == StateRead::None || n.outTypes.empty()) {
    (ctx_.diags.report(DiagID::err_state_ref_no_state, e.range) << e.name << n.info->name)
        .note(DiagID::note_state_ref_target, n.range())
        << e.name;
    return ctx_.infer.errorType();
  }
  e.intValue = static_cast<uint64_t>(target);
  ctx_.stateRefs.push_back({reader_, target, e.range});
  return stateRead(kind) == StateRead::Value ? n.outTypes[0] : ctx_.types.option(n.outTypes[0]);
}

const Type *ExprChecker::checkBinary(Expr &e) {
  Inference &inf = ctx_.infer;
  const Type *l = check(*e.kids[0]);
  const Type *r = check(*e.kids[1]);
  std::string op = std::string("`") + spelling(e.binop) + "`";
  auto same = [&] {
    if (inf.unify(l, r)) return true;
    ctx_.diags.report(DiagID::err_binary_mismatch, e.range) << spelling(e.binop) << inf.display(l) << inf.display(r);
    return false;
  };
  switch (e.binop) {
  case BinOp::Add:
    if (same()) require(ctx_, l, Need::Addable, e.range, op);
    return l;
  case BinOp::Sub:
  case BinOp::Mul:
  case BinOp::Div:
  case BinOp::Rem:
    if (same()) require(ctx_, l, Need::Numeric, e.range, op);
    return l;
  case BinOp::Shl:
  case BinOp::Shr:
    require(ctx_, l, Need::Integer, e.kids[0]->range, op);
    require(ctx_, r, Need::Integer, e.kids[1]->range, op);
    return l;
  case BinOp::BitAnd:
  case BinOp::BitXor:
  case BinOp::BitOr:
    if (same()) require(ctx_, l, Need::IntOrBool, e.range, op);
    return l;
  case BinOp::Eq:
  case BinOp::Ne:
  case BinOp::Lt:
  case BinOp::Le:
  case BinOp::Gt:
  case BinOp::Ge:
    same();
    return ctx_.types.boolType();
  case BinOp::And:
  case BinOp::Or:
    inf.expect(ctx_.types.boolType(), l, e.kids[0]->range);
    inf.expect(ctx_.types.boolType(), r, e.kids[1]->range);
    return ctx_.types.boolType();
  }
  return l;
}

const Type *ExprChecker::checkCall(Expr &e) {
  Inference &inf = ctx_.infer;
  TypeContext &tc = ctx_.types;
  Expr &callee = *e.kids[0];
  size_t nargs = e.kids.size() - 1;
  auto argCount = [&](const std::string &name, size_t want) {
    if (nargs == want) return true;
    ctx_.diags.report(DiagID::err_call_arg_count, e.range)
        << name << want << (want == 1 ? "" : "s") << nargs;
    for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i]);
    return false;
  };
  if (callee.kind == Expr::Path) {
    auto it = ctx_.typeNames.find(callee.name);
    if (it == ctx_.typeNames.end() || it->second->kind != Type::Enum) {
      ctx_.diags.report(DiagID::err_unknown_enum, callee.range) << callee.name;
      return inf.errorType();
    }
    const EnumInfo &info = tc.enumInfo(it->second->id);
    int v = info.variantIndex(callee.name2);
    if (v < 0) {
      ctx_.diags.report(DiagID::err_unknown_variant, callee.range) << callee.name2 << callee.name;
      return it->second;
    }
    const auto &fields = info.variants[v].fields;
    if (!argCount(callee.name + "::" + callee.name2, fields.size())) return it->second;
    for (size_t i = 0; i < fields.size(); ++i) inf.expect(fields[i], check(*e.kids[i + 1]), e.kids[i + 1]->range);
    return it->second;
  }
  if (callee.kind == Expr::Field) {
    // `s.len()`: a Rust habit.
    ctx_.diags.report(DiagID::err_method_call, callee.range) << callee.name << (nargs ? "x, ..." : "x");
    return inf.errorType();
  }
  if (callee.kind != Expr::Name) {
    ctx_.diags.report(DiagID::err_not_callable, callee.range);
    return inf.errorType();
  }
  const std::string &name = callee.name;
  if (visible_.count(name) || ctx_.consts.count(name)) {
    ctx_.diags.report(DiagID::err_not_callable, callee.range);
    return inf.errorType();
  }
  if (name == "Some") {
    if (!argCount("Some", 1)) return tc.option(inf.fresh());
    return tc.option(check(*e.kids[1]));
  }
  if (auto fn = ctx_.functions.find(name); fn != ctx_.functions.end()) {
    if (!argCount(name, fn->second.params.size())) return fn->second.result;
    for (size_t i = 0; i < fn->second.params.size(); ++i)
      inf.expect(fn->second.params[i], check(*e.kids[i + 1]), e.kids[i + 1]->range);
    return fn->second.result;
  }
  if (auto ext = ctx_.externs.find(name); ext != ctx_.externs.end()) {
    if (!function_.empty()) ctx_.diags.report(DiagID::err_fn_effect, callee.range) << name << function_;
    if (!argCount(name, ext->second.params.size())) return ext->second.result;
    for (size_t i = 0; i < ext->second.params.size(); ++i)
      inf.expect(ext->second.params[i], check(*e.kids[i + 1]), e.kids[i + 1]->range);
    return ext->second.result;
  }
  if (const BuiltinInfo *b = findBuiltin(name)) {
    if (!function_.empty() && !b->pure) ctx_.diags.report(DiagID::err_fn_effect, callee.range) << name << function_;
    if (b->arity >= 0 && !argCount(name, static_cast<size_t>(b->arity))) return inf.errorType();
    return checkBuiltin(e, name);
  }
  if (name == "None") ctx_.diags.report(DiagID::err_not_callable, callee.range);
  else ctx_.diags.report(DiagID::err_unknown_function, callee.range) << name;
  for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i]);
  return inf.errorType();
}

const Type *ExprChecker::checkBuiltin(Expr &e, const std::string &name) {
  Inference &inf = ctx_.infer;
  TypeContext &tc = ctx_.types;
  auto arg = [&](size_t i) -> Expr & { return *e.kids[i + 1]; };
  auto strArg = [&](size_t i) { inf.expect(tc.strType(), check(arg(i)), arg(i).range); };
  std::string quoted = "`" + name + "`";
  if (name == "len") {
    require(ctx_, check(arg(0)), Need::StrOrList, arg(0).range, quoted);
    return tc.u64();
  }
  // Maps: values, changed by making new ones (docs/language.md).
  if (name == "empty_map") return tc.map(inf.fresh(), inf.fresh());
  if (name == "insert" || name == "get" || name == "remove" || name == "keys" || name == "values") {
    const Type *k = inf.fresh(), *v = inf.fresh();
    const Type *m = tc.map(k, v);
    if (!inf.unify(m, check(arg(0)))) {
      ctx_.diags.report(DiagID::err_map_expected, arg(0).range) << name << inf.display(arg(0).type);
      for (size_t i = 1; i < e.kids.size() - 1; ++i) check(arg(i));
      return inf.errorType();
    }
    if (name == "keys") return tc.list(k);
    if (name == "values") return tc.list(v);
    inf.expect(k, check(arg(1)), arg(1).range);
    if (name == "get") return tc.option(v);
    if (name == "insert") inf.expect(v, check(arg(2)), arg(2).range);
    return m;
  }
  if (name == "hash") {
    check(arg(0));
    return tc.u64();
  }
  // Lattices: constructors from their representation, `merge`, `reveal`.
  if (name == "Max" || name == "Min") return tc.lattice(name, {check(arg(0))});
  if (name == "SetUnion") {
    const Type *elem = inf.fresh();
    inf.expect(tc.list(elem), check(arg(0)), arg(0).range);
    return tc.lattice(name, {elem});
  }
  if (name == "MapUnion") {
    const Type *k = inf.fresh(), *v = inf.fresh();
    if (!inf.unify(tc.map(k, v), check(arg(0)))) {
      ctx_.diags.report(DiagID::err_map_expected, arg(0).range) << name << inf.display(arg(0).type);
      return inf.errorType();
    }
    require(ctx_, v, Need::Lattice, arg(0).range, "the values of `MapUnion`");
    return tc.lattice(name, {k, v});
  }
  if (name == "Pair" || name == "DomPair") {
    const Type *a = check(arg(0)), *c = check(arg(1));
    require(ctx_, a, Need::Lattice, arg(0).range, quoted);
    require(ctx_, c, Need::Lattice, arg(1).range, quoted);
    return tc.lattice(name, {a, c});
  }
  if (name == "WithBot") {
    const Type *v = inf.fresh();
    inf.expect(tc.option(v), check(arg(0)), arg(0).range);
    require(ctx_, v, Need::Lattice, arg(0).range, "the value of `WithBot`");
    return tc.lattice(name, {v});
  }
  if (name == "merge") {
    const Type *a = check(arg(0));
    inf.expect(a, check(arg(1)), arg(1).range);
    require(ctx_, a, Need::Lattice, arg(0).range, quoted);
    return a;
  }
  if (name == "reveal") {
    const Type *a = check(arg(0));
    const Type *out = inf.fresh();
    SourceRange range = arg(0).range;
    inf.defer(range, [&ctx = ctx_, a, out, range] {
      const Type *l = ctx.infer.resolve(a);
      if (ctx.infer.isError(l)) return ctx.infer.unify(out, l);
      if (l->isVar() && ctx.infer.flavor(l) == Flavor::Any) return false;
      if (l->isLattice()) ctx.infer.expect(out, l->elems.back(), range);
      else ctx.diags.report(DiagID::err_operand_type, range) << "`reveal`" << ctx.infer.display(l) << needText(Need::Lattice);
      return true;
    });
    return out;
  }
  if (name == "min" || name == "max") {
    const Type *a = check(arg(0));
    inf.expect(a, check(arg(1)), arg(1).range);
    return a;
  }
  if (name == "abs") {
    const Type *a = check(arg(0));
    require(ctx_, a, Need::Numeric, arg(0).range, quoted);
    return a;
  }
  if (name == "to_str") {
    check(arg(0));
    return tc.strType();
  }
  if (name == "parse_i64" || name == "parse_f64") {
    strArg(0);
    return tc.option(name == "parse_i64" ? tc.i64() : tc.f64());
  }
  if (name == "split") {
    strArg(0);
    strArg(1);
    return tc.list(tc.strType());
  }
  if (name == "trim" || name == "upper" || name == "lower") {
    strArg(0);
    return tc.strType();
  }
  if (name == "contains") {
    // `contains(s, sub)` of strings, or `contains(l, x)` of a list and an element.
    const Type *hay = check(arg(0));
    const Type *needle = check(arg(1));
    require(ctx_, hay, Need::StrOrList, arg(0).range, quoted);
    SourceRange range = arg(1).range;
    inf.defer(range, [&ctx = ctx_, hay, needle, range] {
      const Type *h = ctx.infer.resolve(hay);
      if (h->isVar()) return false;
      if (h->kind == Type::List || h->kind == Type::Map) ctx.infer.expect(h->elems[0], needle, range);
      else if (h->kind == Type::Str) ctx.infer.expect(ctx.types.strType(), needle, range);
      return true;
    });
    return tc.boolType();
  }
  if (name == "sort") {
    // A new list: the elements in the language's order (stable).
    const Type *list = check(arg(0));
    const Type *elem = inf.fresh();
    SourceRange range = arg(0).range;
    inf.defer(range, [&ctx = ctx_, list, elem, range] {
      const Type *l = ctx.infer.resolve(list);
      if (ctx.infer.isError(l)) return ctx.infer.unify(elem, l);
      if (l->isVar()) return false;
      if (l->kind == Type::List) ctx.infer.expect(elem, l->elems[0], range);
      else ctx.diags.report(DiagID::err_operand_type, range) << "`sort`" << ctx.infer.display(l) << "a list";
      return true;
    });
    return tc.list(elem);
  }
  if (name == "starts_with" || name == "ends_with") {
    strArg(0);
    strArg(1);
    return tc.boolType();
  }
  if (name == "assert") {
    inf.expect(tc.boolType(), check(arg(0)), arg(0).range);
    strArg(1);
    return tc.unitType();
  }
  if (name == "print" || name == "println" || name == "eprintln") {
    check(arg(0));
    return tc.unitType();
  }
  if (name == "rand_u64" || name == "now_ms" || name == "now_us") return tc.u64();
  if (name == "rand_f64") return tc.f64();
  if (name == "loop_iteration") {
    if (loop_ < 0)
      ctx_.diags.report(DiagID::err_loop_iteration_outside_loop, e.range)
          << (!function_.empty() ? "`fn " + function_ + "` (pass the number as a parameter)"
              : location_ < 0   ? std::string("a `const`")
                                : std::string("an operator outside a loop block"));
    return tc.u64();
  }
  if (name == "member_id") {
    if (location_ < 0 || !ctx_.locations[location_].isCluster)
      ctx_.diags.report(DiagID::err_member_id_outside_cluster, e.range)
          << (!function_.empty() ? "`fn " + function_ + "` (pass the id as a parameter)"
              : location_ < 0   ? std::string("a `const`")
                                : "process `" + ctx_.locations[location_].name + "`");
    return tc.u32();
  }
  if (name == "cluster_size") {
    Expr &a = arg(0);
    int loc = a.kind == Expr::Name && !ctx_.implicitMain ? ctx_.findLocation(a.name) : -1;
    if (loc < 0 || !ctx_.locations[loc].isCluster)
      ctx_.diags.report(DiagID::err_cluster_size_arg, a.range);
    a.type = tc.unitType();
    return tc.u32();
  }
  if (name == "format") {
    if (e.kids.size() < 2 || arg(0).kind != Expr::Str) {
      ctx_.diags.report(DiagID::err_format_not_literal, e.kids.size() < 2 ? e.range : arg(0).range);
      for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i]);
      return tc.strType();
    }
    check(arg(0));
    std::vector<FormatPiece> pieces;
    std::string problem;
    size_t holes = e.kids.size() - 2;
    if (!parseFormat(arg(0).strValue, pieces, problem)) {
      if (problem.empty()) ctx_.diags.report(DiagID::err_format_bad_brace, arg(0).range);
      else ctx_.diags.report(DiagID::err_format_bad_spec, arg(0).range) << problem;
    } else {
      holes = 0;
      for (auto &p : pieces) holes += p.hole;
    }
    for (size_t i = 2; i < e.kids.size(); ++i) check(*e.kids[i]);
    // `{:.N}` formats a float.
    size_t hole = 0;
    for (auto &p : pieces) {
      if (!p.hole) continue;
      if (p.digits >= 0 && 2 + hole < e.kids.size())
        require(ctx_, e.kids[2 + hole]->type, Need::Float, e.kids[2 + hole]->range,
                "`{:." + std::to_string(p.digits) + "}`");
      ++hole;
    }
    if (holes != e.kids.size() - 2)
      ctx_.diags.report(DiagID::err_format_arg_count, e.range)
          << holes << (holes == 1 ? "" : "s") << (e.kids.size() - 2);
    return tc.strType();
  }
  return inf.fresh();
}

const Type *ExprChecker::checkMatch(Expr &e) {
  unsigned before = ctx_.diags.errorCount();
  const Type *scrutinee = check(*e.kids[0]);
  const Type *result = nullptr;
  for (auto &arm : e.arms) {
    size_t depth = scopes_.size();
    openScope();
    bindPattern(*arm.pattern, scrutinee, true);
    // Exhaustiveness means nothing once the patterns themselves are wrong.
    if (ctx_.diags.errorCount() != before) e.hadErrors = true;
    const Type *t = check(*arm.body);
    closeScopes(depth);
    if (!result) {
      result = t;
    } else if (!ctx_.infer.unify(result, t)) {
      ctx_.diags.report(DiagID::err_match_arm_mismatch, arm.body->range)
          << ctx_.infer.display(result) << ctx_.infer.display(t);
    }
  }
  return result ? result : ctx_.infer.fresh();
}

const Type *ExprChecker::checkBlock(Expr &e) {
  // Each `let` opens a scope of its own: a later `let` may shadow an
  // earlier name (as in Rust), while one pattern still binds a name once.
  size_t depth = scopes_.size();
  openScope();
  for (auto &s : e.stmts) {
    const Type *t = check(*s.expr);
    if (s.isLet) {
      if (s.type) {
        const Type *annotated = ctx_.resolveType(*s.type);
        ctx_.infer.expect(annotated, t, s.expr->range);
        t = annotated;
      }
      openScope();
      bindPattern(*s.pattern, t, false);
    }
  }
  const Type *result = e.hasTail ? check(*e.kids[0]) : ctx_.types.unitType();
  closeScopes(depth);
  return result;
}

const Type *ExprChecker::checkClosure(Expr &lambda, const std::vector<const Type *> &params) {
  if (lambda.kind != Expr::Lambda) return check(lambda);
  size_t depth = scopes_.size();
  openScope();
  for (size_t i = 0; i < lambda.params.size(); ++i) {
    LambdaParam &p = lambda.params[i];
    const Type *t = i < params.size() ? params[i] : ctx_.infer.fresh();
    if (p.type) {
      const Type *annotated = ctx_.resolveType(*p.type);
      if (!ctx_.infer.unify(t, annotated)) {
        ctx_.diags.report(DiagID::err_closure_param_type, p.type->range)
            << ctx_.infer.display(annotated) << ctx_.infer.display(t);
        t = ctx_.infer.errorType();
      } else {
        t = annotated;
      }
    }
    bindPattern(*p.pattern, t, false);
  }
  const Type *body = check(*lambda.kids[0]);
  closeScopes(depth);
  lambda.type = body;
  return body;
}

// ------------------------------------------------------------ patterns --

void ExprChecker::bindPattern(Pattern &p, const Type *t, bool refutableOk) {
  Inference &inf = ctx_.infer;
  TypeContext &tc = ctx_.types;
  p.type = t;
  auto mismatch = [&](const Type *patType) {
    if (!inf.unify(t, patType))
      ctx_.diags.report(DiagID::err_pattern_type, p.range) << inf.display(patType) << inf.display(t);
  };
  auto refutable = [&] {
    if (!refutableOk) ctx_.diags.report(DiagID::err_refutable_pattern, p.range);
  };
  // After an error in this pattern, its bindings still exist (as errors).
  auto poisonChildren = [&] {
    for (auto &sub : p.elems) bindPattern(*sub, inf.errorType(), true);
  };
  switch (p.kind) {
  case Pattern::Wildcard: return;
  case Pattern::Bind: {
    if (scopes_.back().count(p.name)) {
      ctx_.diags.report(DiagID::err_duplicate_binding, p.range) << p.name;
      return;
    }
    bind(p.name, t);
    return;
  }
  case Pattern::Int:
    refutable();
    mismatch(p.suffix.empty() ? inf.fresh(Flavor::Integer) : tc.primitive(p.suffix));
    if (p.negative) require(ctx_, t, Need::SignedOrFloat, p.range, "`-`");
    return;
  case Pattern::Float:
    refutable();
    mismatch(p.suffix.empty() ? inf.fresh(Flavor::Float) : tc.primitive(p.suffix));
    return;
  case Pattern::Str: refutable(); mismatch(tc.strType()); return;
  case Pattern::Bool: refutable(); mismatch(tc.boolType()); return;
  case Pattern::Unit: mismatch(tc.unitType()); return;
  case Pattern::Tuple: {
    std::vector<const Type *> elems;
    for (size_t i = 0; i < p.elems.size(); ++i) elems.push_back(inf.fresh());
    const Type *tt = tc.tuple(elems);
    if (!inf.unify(t, tt)) {
      ctx_.diags.report(DiagID::err_pattern_type, p.range) << inf.display(tt) << inf.display(t);
      elems.clear();
      for (size_t i = 0; i < p.elems.size(); ++i) elems.push_back(inf.errorType());
    }
    for (size_t i = 0; i < p.elems.size(); ++i) bindPattern(*p.elems[i], elems[i], refutableOk);
    return;
  }
  case Pattern::Some:
  case Pattern::None: {
    refutable();
    const Type *elem = inf.fresh();
    if (!inf.unify(t, tc.option(elem))) {
      ctx_.diags.report(DiagID::err_pattern_type, p.range) << inf.display(tc.option(elem)) << inf.display(t);
      elem = inf.errorType();
    }
    if (p.kind == Pattern::Some) bindPattern(*p.elems[0], elem, refutableOk);
    return;
  }
  case Pattern::Variant: {
    auto it = ctx_.typeNames.find(p.name);
    if (it == ctx_.typeNames.end() || it->second->kind != Type::Enum) {
      ctx_.diags.report(DiagID::err_unknown_enum, p.range) << p.name;
      return poisonChildren();
    }
    mismatch(it->second);
    const EnumInfo &info = tc.enumInfo(it->second->id);
    int v = info.variantIndex(p.variant);
    if (v < 0) {
      ctx_.diags.report(DiagID::err_unknown_variant, p.range) << p.variant << p.name;
      return poisonChildren();
    }
    if (info.variants.size() > 1) refutable();
    const auto &fields = info.variants[v].fields;
    if ((p.hasArgs || !fields.empty()) && p.elems.size() != fields.size()) {
      ctx_.diags.report(DiagID::err_pattern_field_count, p.range)
          << p.name + "::" + p.variant << fields.size() << p.elems.size();
      return poisonChildren();
    }
    for (size_t i = 0; i < fields.size(); ++i) bindPattern(*p.elems[i], fields[i], refutableOk);
    return;
  }
  case Pattern::Struct: {
    auto it = ctx_.typeNames.find(p.name);
    if (it == ctx_.typeNames.end() || it->second->kind != Type::Struct) {
      ctx_.diags.report(DiagID::err_unknown_struct, p.range) << p.name;
      return poisonChildren();
    }
    mismatch(it->second);
    const StructInfo &info = tc.structInfo(it->second->id);
    std::set<std::string> mentioned;
    for (size_t i = 0; i < p.elems.size(); ++i) {
      const Type *ft = nullptr;
      for (auto &[name, ty] : info.fields)
        if (name == p.fieldNames[i]) ft = ty;
      if (!ft) {
        ctx_.diags.report(DiagID::err_no_field, p.fieldRanges[i]) << p.fieldNames[i] << p.name;
        bindPattern(*p.elems[i], inf.errorType(), true);
        continue;
      }
      mentioned.insert(p.fieldNames[i]);
      bindPattern(*p.elems[i], ft, refutableOk);
    }
    if (!p.rest)
      for (auto &[name, ty] : info.fields)
        if (!mentioned.count(name))
          ctx_.diags.report(DiagID::err_pattern_missing_field, p.range) << name << p.name;
    return;
  }
  }
}

// ------------------------------------------------------------ finalize --

namespace {

bool isWild(const Pattern *p) {
  return !p || p->kind == Pattern::Wildcard || p->kind == Pattern::Bind;
}

struct Ctor {
  std::string name;                 // for the witness
  std::vector<const Type *> fields; // sub-columns
  std::function<bool(const Pattern &)> matches;
  std::function<std::vector<const Pattern *>(const Pattern &)> expand;
  std::vector<std::string> fieldNames = {}; // structs: the witness is `S { f: w }`
};

class Exhaustiveness {
public:
  explicit Exhaustiveness(SemaContext &ctx) : ctx_(ctx) {}

  /// nullopt when exhaustive, else one missing value per column.
  std::optional<std::vector<std::string>> missing(const std::vector<std::vector<const Pattern *>> &rows,
                                                  const std::vector<const Type *> &cols) {
    if (cols.empty()) {
      if (rows.empty()) return std::vector<std::string>{};
      return std::nullopt;
    }
    if (++steps_ > 100000) return std::nullopt; // pathological input: give up quietly
    const Type *t = ctx_.infer.zonk(cols[0]);
    // An enum without variants has no values: nothing is left to cover.
    if (t->kind == Type::Enum && ctx_.types.enumInfo(t->id).variants.empty()) return std::nullopt;
    std::vector<const Type *> rest(cols.begin() + 1, cols.end());
    std::vector<Ctor> ctors = constructors(t);
    if (ctors.empty()) {
      // Infinitely many values: only wildcard rows cover the rest.
      std::vector<std::vector<const Pattern *>> def;
      for (auto &r : rows)
        if (isWild(r[0])) def.emplace_back(r.begin() + 1, r.end());
      auto w = missing(def, rest);
      if (w) w->insert(w->begin(), "_");
      return w;
    }
    for (auto &c : ctors) {
      std::vector<std::vector<const Pattern *>> spec;
      for (auto &r : rows) {
        std::vector<const Pattern *> row;
        if (isWild(r[0])) {
          row.assign(c.fields.size(), nullptr);
        } else if (c.matches(*r[0])) {
          row = c.expand(*r[0]);
        } else {
          continue;
        }
        row.insert(row.end(), r.begin() + 1, r.end());
        spec.push_back(std::move(row));
      }
      std::vector<const Type *> sub = c.fields;
      sub.insert(sub.end(), rest.begin(), rest.end());
      auto w = missing(spec, sub);
      if (!w) continue;
      std::string head = c.name;
      size_t k = c.fields.size();
      if (!c.fieldNames.empty()) {
        head += " {";
        for (size_t i = 0; i < k; ++i) head += (i ? ", " : " ") + c.fieldNames[i] + ": " + (*w)[i];
        head += " }";
      } else if (head == "(") {
        head = "(";
        for (size_t i = 0; i < k; ++i) head += (i ? ", " : "") + (*w)[i];
        head += k == 1 ? ",)" : ")";
      } else if (k) {
        head += "(";
        for (size_t i = 0; i < k; ++i) head += (i ? ", " : "") + (*w)[i];
        head += ")";
      }
      std::vector<std::string> out{head};
      out.insert(out.end(), w->begin() + static_cast<long>(k), w->end());
      return out;
    }
    return std::nullopt;
  }

private:
  std::vector<Ctor> constructors(const Type *t) {
    std::vector<Ctor> out;
    auto none = [](const Pattern &) { return std::vector<const Pattern *>{}; };
    auto children = [](const Pattern &p) {
      std::vector<const Pattern *> v;
      for (auto &e : p.elems) v.push_back(e.get());
      return v;
    };
    switch (t->kind) {
    case Type::Bool:
      for (bool b : {false, true})
        out.push_back({b ? "true" : "false", {},
                       [b](const Pattern &p) { return p.kind == Pattern::Bool && p.boolValue == b; }, none});
      break;
    case Type::Unit:
      out.push_back({"()", {}, [](const Pattern &p) { return p.kind == Pattern::Unit; }, none});
      break;
    case Type::Option:
      out.push_back({"None", {}, [](const Pattern &p) { return p.kind == Pattern::None; }, none});
      out.push_back({"Some", {t->elems[0]}, [](const Pattern &p) { return p.kind == Pattern::Some; }, children});
      break;
    case Type::Tuple:
      out.push_back({"(", t->elems, [](const Pattern &p) { return p.kind == Pattern::Tuple; }, children});
      break;
    case Type::Enum: {
      const EnumInfo &info = ctx_.types.enumInfo(t->id);
      for (auto &v : info.variants) {
        std::string vn = v.name;
        size_t n = v.fields.size();
        out.push_back({info.name + "::" + vn, v.fields,
                       [vn](const Pattern &p) { return p.kind == Pattern::Variant && p.variant == vn; },
                       [n, children](const Pattern &p) {
                         auto c = children(p);
                         c.resize(n, nullptr);
                         return c;
                       }});
      }
      break;
    }
    case Type::Struct: {
      const StructInfo &info = ctx_.types.structInfo(t->id);
      std::vector<const Type *> fields;
      std::vector<std::string> names;
      for (auto &[n, ft] : info.fields) {
        fields.push_back(ft);
        names.push_back(n);
      }
      out.push_back({info.name + " { .. }", {},
                     [](const Pattern &p) { return p.kind == Pattern::Struct; }, none});
      // Struct fields become sub-columns (named in declaration order).
      out.back().fields = fields;
      out.back().name = info.name;
      out.back().fieldNames = names;
      out.back().expand = [names](const Pattern &p) {
        std::vector<const Pattern *> v(names.size(), nullptr);
        for (size_t i = 0; i < p.fieldNames.size(); ++i)
          for (size_t k = 0; k < names.size(); ++k)
            if (names[k] == p.fieldNames[i]) v[k] = p.elems[i].get();
        return v;
      };
      break;
    }
    default: break;
    }
    return out;
  }

  SemaContext &ctx_;
  unsigned steps_ = 0;
};

bool fitsInt(const Type *t, uint64_t v, bool negated) {
  // A negated unsigned value is reported by the `-` check already.
  if (!t->isSigned && negated) return true;
  if (t->bits == 64 && !t->isSigned) return true;
  if (!t->isSigned) return v <= (uint64_t(1) << t->bits) - 1;
  uint64_t max = (uint64_t(1) << (t->bits - 1)) - 1;
  return v <= max + (negated ? 1 : 0);
}

bool fitsFloat(const Type *t, double v);

void finalizePattern(Pattern &p, SemaContext &ctx) {
  if (p.type) p.type = ctx.infer.zonk(p.type);
  if (p.kind == Pattern::Float && p.type && p.type->isFloat() && !fitsFloat(p.type, p.floatValue))
    ctx.diags.report(DiagID::err_float_literal_out_of_range, p.range) << typeToString(p.type);
  if (p.kind == Pattern::Int && p.type && p.type->isInt() && !fitsInt(p.type, p.intValue, p.negative))
    ctx.diags.report(DiagID::err_int_literal_out_of_range, p.range)
        << (p.negative ? "-" : "") + std::to_string(p.intValue) << typeToString(p.type);
  for (auto &e : p.elems) finalizePattern(*e, ctx);
}

/// A float literal must be finite in its type (`1e400`, `1e39f32` are not):
/// rounded to the type, as the compiled constant is, it must not overflow,
/// so `3.4028235e38f32` (which rounds to the largest f32) is accepted.
bool fitsFloat(const Type *t, double v) {
  return t->bits == 32 ? !std::isinf(static_cast<float>(v)) : !std::isinf(v);
}

void finalizeExpr(Expr &e, SemaContext &ctx, bool negated) {
  if (e.type) e.type = ctx.infer.zonk(e.type);
  if (e.kind == Expr::Float && e.type && e.type->isFloat() && !fitsFloat(e.type, e.floatValue))
    ctx.diags.report(DiagID::err_float_literal_out_of_range, e.range) << typeToString(e.type);
  if (e.kind == Expr::Int && e.type && e.type->isInt() && !fitsInt(e.type, e.intValue, negated))
    ctx.diags.report(DiagID::err_int_literal_out_of_range, e.range)
        << (negated ? "-" : "") + std::to_string(e.intValue) << typeToString(e.type);
  for (auto &k : e.kids)
    finalizeExpr(*k, ctx, e.kind == Expr::Unary && e.unop == UnOp::Neg && k->kind == Expr::Int);
  for (auto &s : e.stmts) {
    finalizeExpr(*s.expr, ctx, false);
    if (s.pattern) finalizePattern(*s.pattern, ctx);
  }
  for (auto &p : e.params) finalizePattern(*p.pattern, ctx);
  for (auto &a : e.arms) {
    finalizePattern(*a.pattern, ctx);
    finalizeExpr(*a.body, ctx, false);
  }
  if (e.kind == Expr::Match && e.kids[0]->type && !e.hadErrors && !ctx.infer.hasVars(e.kids[0]->type)) {
    std::vector<std::vector<const Pattern *>> rows;
    for (auto &a : e.arms) rows.push_back({a.pattern.get()});
    Exhaustiveness ex(ctx);
    if (auto w = ex.missing(rows, {e.kids[0]->type}))
      ctx.diags.report(DiagID::err_match_not_exhaustive, e.kids[0]->range) << (*w)[0];
  }
}

bool hasRange(const Type *t) {
  if (!t) return false;
  if (t->kind == Type::Range) return true;
  for (const Type *e : t->elems)
    if (hasRange(e)) return true;
  return false;
}

/// Ranges are iterated, never values: one may be a closure's (or an
/// argument's) whole result, reached through `if`, `match` and block tails,
/// or be bound by `let`; anywhere else (inside a tuple, as an operand, as a
/// call's argument) it is an error. Its result flowing along an edge is
/// reported by the graph's type check.
void checkRangePositions(const Expr &e, SemaContext &ctx, bool iterated) {
  if (hasRange(e.type)) {
    if (!iterated) {
      ctx.diags.report(DiagID::err_range_in_value, e.range);
      return;
    }
    // A range inside what a closure returns flows along an edge (reported
    // there) or is a type error of its operator.
    if (e.type->kind != Type::Range) return;
  }
  switch (e.kind) {
  case Expr::Lambda:
    // Parameters holding ranges come from an edge already reported.
    for (auto &p : e.params)
      if (p.pattern && hasRange(p.pattern->type)) return;
    checkRangePositions(*e.kids[0], ctx, true);
    return;
  case Expr::If:
    checkRangePositions(*e.kids[0], ctx, false);
    for (size_t i = 1; i < e.kids.size(); ++i) checkRangePositions(*e.kids[i], ctx, iterated);
    return;
  case Expr::Match:
    checkRangePositions(*e.kids[0], ctx, false);
    for (auto &a : e.arms) checkRangePositions(*a.body, ctx, iterated);
    return;
  case Expr::Block:
    for (auto &s : e.stmts) checkRangePositions(*s.expr, ctx, true);
    for (auto &k : e.kids) checkRangePositions(*k, ctx, iterated);
    return;
  case Expr::Index:
    // A range written as the index slices the list.
    checkRangePositions(*e.kids[0], ctx, false);
    if (e.kids[1]->kind == Expr::Range)
      for (auto &bound : e.kids[1]->kids) checkRangePositions(*bound, ctx, false);
    else
      checkRangePositions(*e.kids[1], ctx, false);
    return;
  default:
    for (auto &k : e.kids) checkRangePositions(*k, ctx, false);
    for (auto &s : e.stmts) checkRangePositions(*s.expr, ctx, false);
    for (auto &a : e.arms) checkRangePositions(*a.body, ctx, false);
  }
}

} // namespace

void ExprChecker::finalize(Expr &e, SemaContext &ctx) {
  finalizeExpr(e, ctx, false);
  checkRangePositions(e, ctx, true);
}

} // namespace dfir
