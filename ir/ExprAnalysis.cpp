#include "ir/ExprAnalysis.h"

#include "ir/Builtins.h"

#include <map>
#include <string>

namespace dfir::ir {

namespace {

bool impureCall(const Expr &call) {
  const Expr &callee = *call.kids[0];
  if (callee.kind != Expr::Name) return false; // enum variant constructors
  if (const BuiltinInfo *b = findBuiltin(callee.name)) return !b->pure;
  if (callee.name == "Some") return false;
  return true; // an extern fn: C code may do anything
}

using Env = std::map<std::string, FieldPath>;

void bind(const Pattern &p, FieldPath path, Env &env) {
  switch (p.kind) {
  case Pattern::Bind: env[p.name] = path; return;
  case Pattern::Tuple:
    for (unsigned i = 0; i < p.elems.size(); ++i) {
      FieldPath sub = path;
      sub.push_back(i);
      bind(*p.elems[i], sub, env);
    }
    return;
  default: return; // other patterns bind nothing a path can describe
  }
}

std::optional<FieldPath> pathOf(const Expr &e, const Env &env) {
  switch (e.kind) {
  case Expr::Name: {
    auto it = env.find(e.name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  }
  case Expr::TupleIndex: {
    auto base = pathOf(*e.kids[0], env);
    if (!base) return std::nullopt;
    base->push_back(static_cast<unsigned>(e.intValue));
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
  bind(*lambda.params[0].pattern, {}, env);
  return true;
}

} // namespace

bool isPure(const Expr &e) {
  if (e.kind == Expr::Call && impureCall(e)) return false;
  for (auto &k : e.kids)
    if (!isPure(*k)) return false;
  for (auto &s : e.stmts)
    if (!isPure(*s.expr)) return false;
  for (auto &a : e.arms)
    if (!isPure(*a.body)) return false;
  return true;
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
  if (body.kind != Expr::Tuple) return {pathOf(body, env)};
  std::vector<std::optional<FieldPath>> out;
  for (auto &k : body.kids) out.push_back(pathOf(*k, env));
  return out;
}

} // namespace dfir::ir
