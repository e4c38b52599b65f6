//===- LowerExpr.h - Checked closures -> the IR's closures -----------------===//
#pragma once

#include "frontend/Expr.h"
#include "ir/Expr.h"

#include <map>
#include <string>

namespace dfir {

class TypeContext;

/// What the names of a program's closures may refer to besides their own
/// locals: indexes into ir::Program's tables.
struct ClosureNames {
  std::map<std::string, int> consts, externs, functions, locations, channels;
};

/// The IR form of a checked closure, value or constant expression; its
/// locals are numbered from 0 (`slots` on the result).
ir::ExprPtr lowerClosure(const Expr &e, const ClosureNames &names, const TypeContext &types);
/// The IR form of the argument of `send(c)` or `recv(c)`.
ir::ExprPtr lowerChannelName(const Expr &e, const ClosureNames &names);

} // namespace dfir
