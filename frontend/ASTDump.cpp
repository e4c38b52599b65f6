//===- ASTDump.cpp - `--emit=ast` -----------------------------------------===//
#include "frontend/AST.h"

#include <cstdio>

namespace dfir::ast {

namespace {

class Dumper {
public:
  explicit Dumper(const SourceManager &sm) : sm_(sm) {}
  std::string out;

  void program(const Program &p) {
    line(0, "Program");
    for (auto &d : p.typeDefs) {
      line(1, "TypeDef " + d.name, d.nameRange);
      type(2, *d.type);
    }
    for (auto &d : p.structs) {
      line(1, "StructDef " + d.name, d.nameRange);
      for (auto &f : d.fields) {
        line(2, "Field " + f.name, f.range);
        type(3, *f.type);
      }
    }
    for (auto &d : p.enums) {
      line(1, "EnumDef " + d.name, d.nameRange);
      for (auto &v : d.variants) {
        line(2, "Variant " + v.name, v.range);
        for (auto &t : v.types) type(3, *t);
      }
    }
    for (auto &d : p.functions) {
      line(1, "FnDef " + d.name, d.nameRange);
      params(d.params);
      result(d.result);
      expr(2, *d.body->kids[0]);
    }
    for (auto &d : p.subgraphs) {
      line(1, "Subgraph " + d.name, d.nameRange);
      params(d.params);
      for (auto &[n, r] : d.inputs) line(2, "Input " + n, r);
      for (auto &[n, r] : d.outputs) line(2, "Output " + n, r);
      for (auto &st : d.statements) statement(2, st);
    }
    for (auto &d : p.externs) {
      line(1, "ExternFn " + d.name, d.nameRange);
      params(d.params);
      result(d.result);
    }
    for (auto &d : p.consts) {
      line(1, "Const " + d.name, d.nameRange);
      type(2, *d.type);
      expr(2, *d.value);
    }
    for (auto &d : p.locations)
      line(1, std::string(d.isCluster ? "Cluster " : "Process ") + d.name +
                  (d.isCluster ? " size=" + std::to_string(d.size) : ""),
           d.nameRange);
    for (auto &d : p.channels) {
      static const char *modes[] = {"direct", "broadcast", "hash"};
      line(1, "Channel " + d.name + " " + d.from + " -> " + d.to + " mode=" + modes[d.mode],
           d.nameRange);
      if (d.hashFn) expr(2, *d.hashFn);
      if (d.elemType) type(2, *d.elemType);
    }
    for (size_t i = 0; i < p.loops.size(); ++i)
      line(1, "Loop " + std::to_string(i) + (p.loops[i].parent < 0 ? "" : " in " + std::to_string(p.loops[i].parent)),
           p.loops[i].keyword);
    for (auto &s : p.topStatements) statement(1, s);
    for (auto &b : p.blocks) {
      line(1, "Location " + b.name, b.nameRange);
      for (auto &s : b.statements) statement(2, s);
    }
  }

private:
  std::string pos(SourceRange r) {
    if (!r.valid()) return "";
    LineCol lc = sm_.lineCol(r.begin);
    return " <" + std::to_string(lc.line) + ":" + std::to_string(lc.column) + ">";
  }
  void params(const std::vector<FieldDecl> &list) {
    for (auto &f : list) {
      line(2, "Param " + f.name, f.range);
      type(3, *f.type);
    }
  }
  void result(const TypeExprPtr &t) {
    if (!t) return;
    line(2, "Result");
    type(3, *t);
  }

  void line(int depth, const std::string &text, SourceRange r = {}) {
    out += std::string(static_cast<size_t>(depth) * 2, ' ') + text + pos(r) + "\n";
  }

  void statement(int d, const Statement &s) {
    std::string loop = s.loop < 0 ? "" : " loop=" + std::to_string(s.loop);
    line(d, (s.named ? "Statement " + s.name : "Statement") + loop, s.range);
    pipeline(d + 1, s.pipeline);
  }

  void pipeline(int d, const Pipeline &p) {
    line(d, "Pipeline");
    for (auto &e : p.elements) element(d + 1, e);
  }

  static std::string port(const char *which, const Port &p) {
    return p.present ? std::string(" ") + which + "=[" + p.text() + "]" : "";
  }

  void element(int d, const Element &e) {
    std::string ports = port("in", e.inPort) + port("out", e.outPort);
    switch (e.kind) {
    case Element::Operator:
      line(d, "Operator " + e.op.name + ports, e.op.nameRange);
      for (auto &g : e.op.generics) {
        if (g.isLifetime) line(d + 1, "Lifetime '" + g.lifetime, g.range);
        else type(d + 1, *g.type);
      }
      for (auto &a : e.op.args) expr(d + 1, *a);
      break;
    case Element::Name: line(d, "Name " + e.name + ports, e.nameRange); break;
    case Element::Nested:
      line(d, "Nested" + ports, e.range);
      pipeline(d + 1, *e.nested);
      break;
    }
  }

  void type(int d, const TypeExpr &t) {
    switch (t.kind) {
    case TypeExpr::Unit: line(d, "Type ()", t.range); return;
    case TypeExpr::Tuple: line(d, "Type tuple", t.range); break;
    case TypeExpr::List: line(d, "Type list", t.range); break;
    case TypeExpr::Named: line(d, "Type " + t.name, t.range); break;
    }
    for (auto &a : t.args) type(d + 1, *a);
  }

  void pattern(int d, const Pattern &p) {
    std::string text;
    switch (p.kind) {
    case Pattern::Wildcard: text = "_"; break;
    case Pattern::Bind: text = "bind " + p.name; break;
    case Pattern::Int: text = std::string("int ") + (p.negative ? "-" : "") + std::to_string(p.intValue) + p.suffix; break;
    case Pattern::Float: text = "float " + fmt(p.floatValue); break;
    case Pattern::Str: text = "str " + quoteString(p.strValue); break;
    case Pattern::Bool: text = p.boolValue ? "true" : "false"; break;
    case Pattern::Unit: text = "()"; break;
    case Pattern::Tuple: text = "tuple"; break;
    case Pattern::Some: text = "Some"; break;
    case Pattern::None: text = "None"; break;
    case Pattern::Variant: text = "variant " + p.name + "::" + p.variant; break;
    case Pattern::Struct: text = "struct " + p.name + (p.rest ? " .." : ""); break;
    }
    line(d, "Pattern " + text, p.range);
    for (size_t i = 0; i < p.elems.size(); ++i) {
      if (p.kind == Pattern::Struct) line(d + 1, "field " + p.fieldNames[i]);
      pattern(d + (p.kind == Pattern::Struct ? 2 : 1), *p.elems[i]);
    }
  }

  static std::string fmt(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  void expr(int d, const Expr &e) {
    std::string text;
    switch (e.kind) {
    case Expr::Int: text = "Int " + std::to_string(e.intValue) + e.suffix; break;
    case Expr::Float: text = "Float " + fmt(e.floatValue) + e.suffix; break;
    case Expr::Str: text = "Str " + quoteString(e.strValue); break;
    case Expr::Bool: text = e.boolValue ? "Bool true" : "Bool false"; break;
    case Expr::Unit: text = "Unit"; break;
    case Expr::Name: text = "Name " + e.name; break;
    case Expr::Path: text = "Path " + e.name + "::" + e.name2; break;
    case Expr::Tuple: text = "Tuple"; break;
    case Expr::List: text = "List"; break;
    case Expr::Struct: text = "Struct " + e.name; break;
    case Expr::Field: text = "Field ." + e.name; break;
    case Expr::TupleIndex: text = "TupleIndex ." + std::to_string(e.intValue); break;
    case Expr::Index: text = "Index"; break;
    case Expr::Call: text = "Call"; break;
    case Expr::Unary: text = std::string("Unary ") + spelling(e.unop); break;
    case Expr::Binary: text = std::string("Binary ") + spelling(e.binop); break;
    case Expr::Cast: text = "Cast"; break;
    case Expr::If: text = "If"; break;
    case Expr::Match: text = "Match"; break;
    case Expr::Block: text = "Block"; break;
    case Expr::Lambda: text = "Lambda"; break;
    case Expr::Range: text = "Range"; break;
    case Expr::StateRef: text = "StateRef " + e.name; break;
    }
    line(d, text, e.range);
    if (e.kind == Expr::Cast) type(d + 1, *e.castType);
    for (auto &p : e.params) {
      line(d + 1, "Param");
      pattern(d + 2, *p.pattern);
      if (p.type) type(d + 2, *p.type);
    }
    for (auto &s : e.stmts) {
      line(d + 1, s.isLet ? "Let" : "ExprStmt", s.range);
      if (s.pattern) pattern(d + 2, *s.pattern);
      if (s.type) type(d + 2, *s.type);
      expr(d + 2, *s.expr);
    }
    for (size_t i = 0; i < e.kids.size(); ++i) {
      if (e.kind == Expr::Struct) line(d + 1, "field " + e.fieldNames[i]);
      expr(d + (e.kind == Expr::Struct ? 2 : 1), *e.kids[i]);
    }
    for (auto &a : e.arms) {
      line(d + 1, "Arm");
      pattern(d + 2, *a.pattern);
      expr(d + 2, *a.body);
    }
  }

  const SourceManager &sm_;
};

} // namespace

std::string dumpAST(const Program &p, const SourceManager &sm) {
  Dumper d(sm);
  d.program(p);
  return d.out;
}

} // namespace dfir::ast
