#include "ir/ExprAnalysis.h"

#include "ir/Builtins.h"

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

} // namespace dfir::ir
