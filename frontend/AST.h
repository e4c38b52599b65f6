//===- AST.h - The syntax tree of a .dfir file ----------------------------===//
//
// A faithful, location-annotated picture of what the user wrote. Built from
// the ANTLR parse tree by ASTBuilder; read by name resolution, type checking
// and lowering. Semantic results (types) are attached by Sema in place.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/SourceManager.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dfir {
class Type;
}

namespace dfir::ast {

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

// ------------------------------------------------------------------ items --

struct TypeDef {
  std::string name;
  SourceRange nameRange, range;
  TypeExprPtr type;
};

struct FieldDecl {
  std::string name;
  SourceRange range;
  TypeExprPtr type;
};

struct StructDef {
  std::string name;
  SourceRange nameRange, range;
  std::vector<FieldDecl> fields;
};

struct VariantDecl {
  std::string name;
  SourceRange range;
  std::vector<TypeExprPtr> types;
};

struct EnumDef {
  std::string name;
  SourceRange nameRange, range;
  std::vector<VariantDecl> variants;
};

struct ExternFn {
  std::string name;
  SourceRange nameRange, range;
  std::vector<FieldDecl> params;
  TypeExprPtr result; // null: returns ()
};

struct ConstDef {
  std::string name;
  SourceRange nameRange, range;
  TypeExprPtr type;
  ExprPtr value;
};

struct LocationDecl {
  std::string name;
  SourceRange nameRange, range;
  bool isCluster = false;
  bool hasSize = false;
  uint64_t size = 1;
  SourceRange sizeRange;
};

struct ChannelDecl {
  enum Mode { Direct, Broadcast, Hash };
  std::string name, from, to;
  SourceRange nameRange, fromRange, toRange, range;
  Mode mode = Direct;
  SourceRange modeRange;
  ExprPtr hashFn;
  TypeExprPtr elemType;
};

struct Port {
  bool present = false;
  bool isName = false;
  std::string name;
  uint64_t index = 0;
  SourceRange range;
  std::string text() const { return isName ? name : std::to_string(index); }
};

struct Generic {
  bool isLifetime = false;
  std::string lifetime; // without the quote
  TypeExprPtr type;
  SourceRange range;
};

struct OperatorCall {
  std::string name;
  SourceRange nameRange, range, genericsRange, argsRange;
  std::vector<Generic> generics;
  std::vector<ExprPtr> args;
};

struct Pipeline;

struct Element {
  enum Kind { Operator, Name, Nested } kind = Operator;
  Port inPort, outPort;
  OperatorCall op;     // Operator
  std::string name;    // Name
  SourceRange nameRange;
  std::unique_ptr<Pipeline> nested;
  SourceRange range;
};

struct Pipeline {
  std::vector<Element> elements;
  std::vector<SourceRange> arrows; // arrows[i] joins elements[i] and elements[i+1]
  SourceRange range;
};

struct Statement {
  bool named = false;
  std::string name;
  SourceRange nameRange, range;
  Pipeline pipeline;
};

struct LocationBlock {
  std::string name;
  SourceRange nameRange, range;
  std::vector<Statement> statements;
};

struct Program {
  uint32_t file = 0;
  std::vector<TypeDef> typeDefs;
  std::vector<StructDef> structs;
  std::vector<EnumDef> enums;
  std::vector<ExternFn> externs;
  std::vector<ConstDef> consts;
  std::vector<LocationDecl> locations;
  std::vector<ChannelDecl> channels;
  std::vector<Statement> topStatements;
  std::vector<LocationBlock> blocks;
};

/// Writes an indented, line-per-node dump (`--emit=ast`).
std::string dumpAST(const Program &p, const SourceManager &sm);

} // namespace dfir::ast
