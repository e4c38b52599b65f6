#include "ir/ExprBuilder.h"

#include "ir/Check.h"

namespace dfir::ir {

namespace {
ExprPtr node(Expr::Kind kind, const Type *t) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->type = t;
  return e;
}
} // namespace

ExprPtr ExprBuilder::local(int slot, const std::string &name, const Type *t) {
  auto e = node(Expr::Local, t);
  e->slot = slot;
  e->name = name;
  return e;
}

PatternPtr ExprBuilder::bind(int slot, const std::string &name, const Type *t) {
  auto p = std::make_unique<Pattern>();
  p->kind = Pattern::Bind;
  p->slot = slot;
  p->name = name;
  p->type = t;
  return p;
}

PatternPtr ExprBuilder::wildcard(const Type *t) {
  auto p = std::make_unique<Pattern>();
  p->kind = Pattern::Wildcard;
  p->type = t;
  return p;
}

ExprPtr ExprBuilder::integer(uint64_t value, const Type *t) {
  auto e = node(Expr::Int, t);
  e->intValue = value;
  return e;
}

ExprPtr ExprBuilder::binary(BinOp op, ExprPtr a, ExprPtr b) {
  bool isBool = op == BinOp::Eq || op == BinOp::Ne || op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt ||
                op == BinOp::Ge || op == BinOp::And || op == BinOp::Or;
  auto e = node(Expr::Binary, isBool ? tc_.boolType() : a->type);
  e->binop = op;
  e->kids.push_back(std::move(a));
  e->kids.push_back(std::move(b));
  return e;
}

ExprPtr ExprBuilder::cast(ExprPtr inner, const Type *t) {
  if (inner->type == t) return inner;
  auto e = node(Expr::Cast, t);
  e->kids.push_back(std::move(inner));
  return e;
}

ExprPtr ExprBuilder::tuple(std::vector<ExprPtr> elems) {
  std::vector<const Type *> types;
  for (auto &k : elems) types.push_back(k->type);
  auto e = node(Expr::Tuple, tc_.tuple(types));
  e->kids = std::move(elems);
  return e;
}

ExprPtr ExprBuilder::list(std::vector<ExprPtr> elems, const Type *elem) {
  auto e = node(Expr::List, tc_.list(elem));
  e->kids = std::move(elems);
  return e;
}

ExprPtr ExprBuilder::path(ExprPtr e, const FieldPath &p) {
  for (unsigned i : p) {
    if (e->kind == Expr::Tuple && i < e->kids.size()) { // `(a, b).0` is `a`
      ExprPtr kid = std::move(e->kids[i]);
      e = std::move(kid);
      continue;
    }
    if (e->kind == Expr::Block && e->hasTail) { // `{ ...; t }.0` is `{ ...; t.0 }`
      e->kids[0] = path(std::move(e->kids[0]), {i});
      e->type = e->kids[0]->type;
      continue;
    }
    if (e->type->kind == Type::Struct) {
      const StructInfo &info = tc_.structInfo(e->type->id);
      DFIR_CHECK(i < info.fields.size(), "a field path outside a struct");
      if (e->kind == Expr::Struct) { // `S { a: x, b: y }.b` is `y`
        size_t k = 0;
        while (k < e->kids.size() && e->fields[k] != static_cast<int>(i)) ++k;
        DFIR_CHECK(k < e->kids.size(), "a struct value without one of its fields");
        ExprPtr kid = std::move(e->kids[k]);
        e = std::move(kid);
        continue;
      }
      auto field = node(Expr::Field, info.fields[i].second);
      field->index = static_cast<int>(i);
      field->name = info.fields[i].first;
      field->kids.push_back(std::move(e));
      e = std::move(field);
      continue;
    }
    DFIR_CHECK(e->type->kind == Type::Tuple && i < e->type->elems.size(), "a field path outside a tuple");
    auto idx = node(Expr::TupleIndex, e->type->elems[i]);
    idx->index = static_cast<int>(i);
    idx->kids.push_back(std::move(e));
    e = std::move(idx);
  }
  return e;
}

ExprPtr ExprBuilder::builtin(BuiltinId id, std::vector<ExprPtr> args, const Type *result) {
  auto e = node(Expr::Builtin, result);
  e->builtin = id;
  e->name = builtinInfo(id).name;
  e->kids = std::move(args);
  return e;
}

ExprPtr ExprBuilder::clusterSize(int loc, const std::string &name) {
  auto where = node(Expr::Location, nullptr);
  where->index = loc;
  where->name = name;
  return builtin(BuiltinId::ClusterSize, vec(std::move(where)), tc_.u32());
}

ExprPtr ExprBuilder::let(PatternPtr pattern, ExprPtr value, ExprPtr body) {
  auto e = node(Expr::Block, body->type);
  BlockStmt s;
  s.pattern = std::move(pattern);
  s.expr = std::move(value);
  e->stmts.push_back(std::move(s));
  e->hasTail = true;
  e->kids.push_back(std::move(body));
  return e;
}

ExprPtr ExprBuilder::match(ExprPtr scrutinee, std::vector<MatchArm> arms) {
  DFIR_CHECK(!arms.empty(), "a match without arms");
  auto e = node(Expr::Match, arms[0].body->type);
  e->kids.push_back(std::move(scrutinee));
  e->arms = std::move(arms);
  return e;
}

ExprPtr ExprBuilder::lambda(PatternPtr param, ExprPtr body, int slots) {
  auto e = node(Expr::Lambda, body->type);
  e->params.push_back(std::move(param));
  e->kids.push_back(std::move(body));
  e->slots = slots;
  return e;
}

void shiftSlots(Pattern &p, int by) {
  if (p.kind == Pattern::Bind) p.slot += by;
  for (auto &k : p.elems) shiftSlots(*k, by);
}

void shiftSlots(Expr &e, int by) {
  if (e.kind == Expr::Local) e.slot += by;
  for (auto &k : e.kids) shiftSlots(*k, by);
  for (auto &s : e.stmts) {
    if (s.pattern) shiftSlots(*s.pattern, by);
    shiftSlots(*s.expr, by);
  }
  for (auto &a : e.arms) {
    shiftSlots(*a.pattern, by);
    shiftSlots(*a.body, by);
  }
  for (auto &p : e.params) shiftSlots(*p, by);
}

namespace {
/// Small enough to copy where it is used: variables, their fields,
/// `member_id()`, and tuples and structs of these.
bool copyable(const Expr &e) {
  switch (e.kind) {
  case Expr::Local: return true;
  case Expr::TupleIndex:
  case Expr::Field: return copyable(*e.kids[0]);
  case Expr::Builtin: return e.builtin == BuiltinId::MemberId;
  case Expr::Tuple:
  case Expr::Struct:
    for (auto &k : e.kids)
      if (!copyable(*k)) return false;
    return true;
  default: return false;
  }
}

/// The variables a pattern of only names, `_` and tuples binds, with the
/// field of the matched value each stands for; false for other patterns.
bool fieldsBound(const Pattern &p, FieldPath at, std::vector<std::pair<int, FieldPath>> &out) {
  switch (p.kind) {
  case Pattern::Wildcard: return true;
  case Pattern::Bind: out.push_back({p.slot, at}); return true;
  case Pattern::Tuple:
  case Pattern::Struct:
    for (unsigned i = 0; i < p.elems.size(); ++i) {
      FieldPath sub = at;
      sub.push_back(p.kind == Pattern::Struct ? static_cast<unsigned>(p.fields[i]) : i);
      if (!fieldsBound(*p.elems[i], sub, out)) return false;
    }
    return true;
  default: return false;
  }
}
} // namespace

/// Replaces each use of a variable of `vars` by its field of `value`.
void ExprBuilder::substitute(ExprPtr &e, const std::vector<std::pair<int, FieldPath>> &vars, const Expr &value) {
  if (e->kind == Expr::Local)
    for (auto &[slot, at] : vars)
      if (slot == e->slot) {
        e = path(clone(value), at);
        return;
      }
  for (auto &k : e->kids) substitute(k, vars, value);
  for (auto &st : e->stmts) substitute(st.expr, vars, value);
  for (auto &a : e->arms) substitute(a.body, vars, value);
  if ((e->kind == Expr::TupleIndex && e->kids[0]->kind == Expr::Tuple) ||
      (e->kind == Expr::Field && e->kids[0]->kind == Expr::Struct)) // `(a, b).1` is `b`
    e = path(std::move(e->kids[0]), {static_cast<unsigned>(e->index)});
}

ExprPtr ExprBuilder::apply(const Expr &fn, ExprPtr arg, int &nextSlot) {
  DFIR_CHECK(fn.kind == Expr::Lambda && fn.params.size() == 1, "applying what is not a closure of one parameter");
  std::vector<std::pair<int, FieldPath>> vars;
  if (copyable(*arg) && fieldsBound(*fn.params[0], {}, vars)) {
    // `|(a, b)| a + b` applied to `x` is `x.0 + x.1`.
    ExprPtr body = clone(*fn.kids[0]);
    shiftSlots(*body, nextSlot);
    for (auto &v : vars) v.first += nextSlot;
    nextSlot += fn.slots;
    substitute(body, vars, *arg);
    return body;
  }
  PatternPtr param = clone(*fn.params[0]);
  ExprPtr body = clone(*fn.kids[0]);
  shiftSlots(*param, nextSlot);
  shiftSlots(*body, nextSlot);
  nextSlot += fn.slots;
  return let(std::move(param), std::move(arg), std::move(body));
}

} // namespace dfir::ir
