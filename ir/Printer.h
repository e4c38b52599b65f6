//===- Printer.h - Canonical DFIR text ------------------------------------===//
//
// Prints an ir::Program as DFIR source that the frontend reads back to the
// same program: print(parse(print(p))) == print(p). Canonical means: types
// and enums first, then externs, consts, locations and channels (with their
// element types), then per location one statement per operator (`name =
// op(...)`) followed by one edge per line (`a[port] -> [port]b; // type`).
// Literals carry their type suffix and closure parameters their type, so
// nothing depends on inference defaults.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include <string>

namespace dfir::ir {

std::string printProgram(const Program &p);
/// One expression (or closure) in canonical form.
std::string printExpr(const Expr &e);
std::string printPattern(const Pattern &p);
/// The operator's call as written in its statement: `fold::<'static>(0i64, |a: i64, x: i64| a + x)`.
std::string printOperatorCall(const Program &p, const Operator &op);
/// The port of an edge end as written (`[0]`, `[neg]`, `[Put]`), or "".
std::string printInputPort(const Program &p, const Edge &e);
std::string printOutputPort(const Program &p, const Edge &e);

} // namespace dfir::ir
