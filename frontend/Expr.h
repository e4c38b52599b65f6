//===- Expr.h - The syntax of closure expressions --------------------------===//
//
// The expression tree of the closure language as the user wrote it: names as
// spelled, type annotations, literal suffixes, the ranges of every part. The
// checker types it in place (every Expr and Pattern gets its Type); lowering
// (frontend/LowerExpr.cpp) turns it into the IR's closures (ir/Expr.h),
// where every name is resolved.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Expr.h"
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
    Call, Unary, Binary, Cast, If, Match, Block, Lambda, Range,
    StateRef // `#name`: the state of operator `name`; Sema sets intValue to its node
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


} // namespace dfir
