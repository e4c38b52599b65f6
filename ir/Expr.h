//===- Expr.h - Typed closure expressions ---------------------------------===//
//
// The expression tree of the closure language, shared by the frontend (which
// builds it from the parse tree and types it) and the IR (which owns it once
// the program is lowered, so passes can inspect closures: ExprAnalysis.h).
// After semantic analysis every Expr and Pattern carries its Type.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceLoc.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dfir {

class Type;

struct TypeExpr {
  enum Kind { Unit, Tuple, List, Named } kind = Unit;
  SourceRange range;
  std::string name;                            // Named
  std::vector<std::unique_ptr<TypeExpr>> args; // tuple elements, list element, generic args
};
using TypeExprPtr = std::unique_ptr<TypeExpr>;

struct Pattern {
  enum Kind { Wildcard, Bind, Int, Float, Str, Bool, Unit, Tuple, Some, None, Variant, Struct };
  Kind kind = Wildcard;
  SourceRange range;
  std::string name;    // Bind: variable; Variant: enum; Struct: struct
  std::string variant; // Variant
  bool hasArgs = false;
  std::vector<std::unique_ptr<Pattern>> elems; // tuple/variant/Some/struct field patterns
  std::vector<std::string> fieldNames;         // Struct: field of each elems[i]
  std::vector<SourceRange> fieldRanges;
  bool rest = false; // Struct `..`
  bool negative = false;
  uint64_t intValue = 0;
  std::string suffix;
  double floatValue = 0;
  std::string strValue;
  bool boolValue = false;
  const Type *type = nullptr; // set by Sema
};
using PatternPtr = std::unique_ptr<Pattern>;

enum class BinOp { Mul, Div, Rem, Add, Sub, Shl, Shr, BitAnd, BitXor, BitOr, Eq, Ne, Lt, Le, Gt, Ge, And, Or };
enum class UnOp { Neg, Not };
const char *spelling(BinOp op);
const char *spelling(UnOp op);
/// A string literal as the language writes it, with escapes.
std::string quoteString(const std::string &v);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct MatchArm {
  PatternPtr pattern;
  ExprPtr body;
};

struct BlockStmt {
  bool isLet = false;
  PatternPtr pattern; // let
  TypeExprPtr type;   // let annotation
  ExprPtr expr;
  SourceRange range;
};

struct LambdaParam {
  PatternPtr pattern;
  TypeExprPtr type;
};

struct Expr {
  enum Kind {
    Int, Float, Str, Bool, Unit, Name, Path, Tuple, List, Struct, Field, TupleIndex, Index,
    Call, Unary, Binary, Cast, If, Match, Block, Lambda, Range
  };
  Kind kind = Unit;
  SourceRange range;
  std::string name;  // Name; Path: enum; Struct: type; Field: field; Call: unused
  std::string name2; // Path: variant
  SourceRange nameRange;
  uint64_t intValue = 0; // Int; TupleIndex: index
  std::string suffix;    // Int/Float literal suffix
  double floatValue = 0;
  std::string strValue;
  bool boolValue = false;
  BinOp binop = BinOp::Add;
  UnOp unop = UnOp::Neg;
  // Children: Tuple/List elements; Struct field values; Field/TupleIndex base;
  // Index base, index; Call callee, args...; Unary operand; Binary lhs, rhs;
  // Cast operand; If cond, then, [else]; Match scrutinee; Block [tail];
  // Lambda body; Range lo, hi.
  std::vector<ExprPtr> kids;
  std::vector<std::string> fieldNames; // Struct
  std::vector<SourceRange> fieldRanges;
  TypeExprPtr castType;
  std::vector<MatchArm> arms;
  std::vector<BlockStmt> stmts; // Block
  bool hasTail = false;         // Block
  std::vector<LambdaParam> params;
  const Type *type = nullptr; // set by Sema
  bool hadErrors = false;     // Match: its scrutinee or patterns were reported
};

/// Deep copies, types and source ranges included (a rewrite that needs the
/// same closure twice, e.g. on each side of a cut).
std::unique_ptr<TypeExpr> clone(const TypeExpr &t);
std::unique_ptr<Pattern> clone(const Pattern &p);
std::unique_ptr<Expr> clone(const Expr &e);

} // namespace dfir
