//===- Expr.h - The IR's closures: typed, every name resolved --------------===//
//
// The closures of operators, constants and channels once the program is
// lowered: what passes inspect (ExprAnalysis.h), rewrite (Rewriter.h) and
// the code generator compiles. Every reference is resolved: a local
// variable is a slot of its closure, a constant or an extern function an
// index into the program's tables, a builtin its BuiltinId, a field, an
// enum variant or a location its index. Nothing here is syntax: no type
// annotations (every node has its Type), no literal suffixes, no ranges of
// names; names are kept only to print the program back as text. The
// frontend lowers its syntax tree (frontend/Expr.h) into these
// (frontend/LowerExpr.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builtins.h"
#include "support/SourceLoc.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dfir {

class Type;

enum class BinOp { Mul, Div, Rem, Add, Sub, Shl, Shr, BitAnd, BitXor, BitOr, Eq, Ne, Lt, Le, Gt, Ge, And, Or };
enum class UnOp { Neg, Not };
const char *spelling(BinOp op);
const char *spelling(UnOp op);
/// A string literal as the language writes it, with escapes.
std::string quoteString(const std::string &v);

namespace ir {

struct Pattern;
struct Expr;
using PatternPtr = std::unique_ptr<Pattern>;
using ExprPtr = std::unique_ptr<Expr>;

struct Pattern {
  enum Kind { Wildcard, Bind, Int, Float, Str, Bool, Unit, Tuple, Some, None, Variant, Struct };
  Kind kind = Wildcard;
  SourceRange range;
  int slot = -1;    // Bind: the local variable it binds (a slot of its closure)
  std::string name; // Bind: the variable's name; Variant: the variant's (for printing)
  int index = -1;   // Variant: the variant's index in the pattern's enum type
  std::vector<PatternPtr> elems; // Tuple, Some, Variant (its fields), Struct (the fields matched)
  std::vector<int> fields;       // Struct: the field index of each elems[i]
  std::vector<std::string> fieldNames; // Struct: their names, for printing
  bool rest = false;             // Struct: other fields ignored (`..`)
  bool negative = false;         // Int: `-intValue`
  uint64_t intValue = 0;
  double floatValue = 0;
  std::string strValue;
  bool boolValue = false;
  const Type *type = nullptr;
};

struct MatchArm {
  PatternPtr pattern;
  ExprPtr body;
};

/// A statement of a block: `let pattern = expr;` or `expr;`.
struct BlockStmt {
  PatternPtr pattern; // null: an expression statement
  ExprPtr expr;
};

struct Expr {
  enum Kind {
    Int, Float, Str, Bool, Unit,
    Local,     // a local variable: slot
    Const,     // a constant: index into Program::consts
    NoneValue, // `None`
    Variant,   // an enum variant: index, its fields in kids (a unit variant has none)
    Some,      // `Some(kids[0])`
    Builtin,   // a call of builtin `builtin` on kids
    Extern,    // a call of extern function `index` (Program::externs) on kids
    Function,  // a call of `fn` `index` (Program::functions) on kids
    Location,  // a location named where one is expected (`cluster_size(w)`): index
    Channel,   // the channel named by `send(c)` or `recv(c)`: index into Program::channels
    Tuple, List,
    Struct,    // a struct value: kids are its fields, in the order of `fields`
    Field,     // field `index` of kids[0]
    TupleIndex, // element `index` of kids[0]
    Index,     // kids[0][kids[1]]
    Unary, Binary,
    Cast,      // kids[0] as `type`
    If,        // if kids[0] { kids[1] } else { kids[2] } (else optional)
    Match,     // match kids[0] { arms }
    Block,     // { stmts; kids[0] if hasTail }
    Lambda,    // |params| kids[0]
    Range,     // kids[0]..kids[1]
    StateRef,  // `#name`: the state of operator `index` (a fold's accumulator, a reduce's Option)
  };
  Kind kind = Unit;
  SourceRange range; // for runtime errors (the line of a failing `/`) and diagnostics of passes
  int slot = -1;     // Local
  int index = -1;    // Const, Variant, Extern, Function, Location, Channel, Field, TupleIndex
  BuiltinId builtin = BuiltinId::Len;
  std::string name;  // Local, Const, Extern, Function, Builtin, Location, Channel, Field, Variant: the name, for printing
  uint64_t intValue = 0;
  double floatValue = 0;
  std::string strValue;
  bool boolValue = false;
  BinOp binop = BinOp::Add;
  UnOp unop = UnOp::Neg;
  std::vector<ExprPtr> kids;
  std::vector<int> fields; // Struct: the field index of each kid
  std::vector<std::string> fieldNames; // Struct: their names, for printing
  std::vector<MatchArm> arms;
  std::vector<BlockStmt> stmts;
  bool hasTail = false;
  std::vector<PatternPtr> params; // Lambda
  /// The root of a closure or value (an operator's argument, a constant's
  /// value, a channel's hash function): how many local slots its patterns
  /// number, 0..slots-1. Each root numbers its own.
  int slots = 0;
  const Type *type = nullptr;
};

/// Deep copies, types and source ranges included (a rewrite that needs the
/// same closure twice, e.g. on each side of a cut).
PatternPtr clone(const Pattern &p);
ExprPtr clone(const Expr &e);

} // namespace ir
} // namespace dfir
