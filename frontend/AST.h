//===- AST.h - The syntax tree of a .dfir file ----------------------------===//
//
// A faithful, location-annotated picture of what the user wrote. Built from
// the ANTLR parse tree by ASTBuilder; read by name resolution, type checking
// and lowering. Semantic results (types) are attached by Sema in place.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceManager.h"
#include "frontend/Expr.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dfir::ast {

using dfir::BinOp;
using dfir::BlockStmt;
using dfir::Expr;
using dfir::ExprPtr;
using dfir::LambdaParam;
using dfir::MatchArm;
using dfir::Pattern;
using dfir::PatternPtr;
using dfir::TypeExpr;
using dfir::TypeExprPtr;
using dfir::UnOp;
using dfir::spelling;

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

/// `fn name(a: T, ...) -> R { body }`: a pure function callable from every
/// closure.
struct FnDef {
  std::string name;
  SourceRange nameRange, range;
  std::vector<FieldDecl> params;
  TypeExprPtr result; // null: returns ()
  ExprPtr body;       // a closure of the parameters whose body is the block
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
  // `batch(N, Tus)`: N items or T microseconds (0: not batched).
  uint64_t batchCount = 0, batchMicros = 0;
  SourceRange batchRange;
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
  int loop = -1; // the innermost loop block around it (Program::loops), -1: none
  bool named = false;
  std::string name;
  SourceRange nameRange, range;
  Pipeline pipeline;
};

/// `loop { statements }`: not a scope of names; its statements are listed
/// with those around it, each marked with the loop it is in.
struct LoopBlock {
  int parent = -1; // the enclosing loop block, -1: none
  SourceRange keyword, range;
};

struct LocationBlock {
  std::string name;
  SourceRange nameRange, range;
  std::vector<Statement> statements;
};

/// `subgraph name(p: T, ...) [in, ...] -> [out, ...] { statements }`: a
/// piece of dataflow instantiated where its name is used as an operator
/// (frontend/Instantiate.cpp).
struct SubgraphDef {
  std::string name;
  SourceRange nameRange, range;
  std::vector<FieldDecl> params;
  std::vector<std::pair<std::string, SourceRange>> inputs, outputs;
  std::vector<Statement> statements; // as parsed once (each instance parses its body again)
  SourceRange open, close;           // the body's braces
};

/// `import "file.dfir";`: the path as written (relative to the importing file).
struct ImportDecl {
  std::string path;
  SourceRange range, pathRange;
};

struct Program {
  uint32_t file = 0;
  std::vector<ImportDecl> imports;
  std::vector<TypeDef> typeDefs;
  std::vector<StructDef> structs;
  std::vector<EnumDef> enums;
  std::vector<ExternFn> externs;
  std::vector<FnDef> functions;
  std::vector<SubgraphDef> subgraphs;
  std::vector<ConstDef> consts;
  std::vector<LocationDecl> locations;
  std::vector<ChannelDecl> channels;
  std::vector<Statement> topStatements;
  std::vector<LocationBlock> blocks;
  std::vector<LoopBlock> loops;
};

/// Writes an indented, line-per-node dump (`--emit=ast`).
std::string dumpAST(const Program &p, const SourceManager &sm);

} // namespace dfir::ast
