#include "ir/Printer.h"

#include <functional>

#include "ir/Check.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dfir::ir {

namespace {

// Binding strength, as in the grammar (higher binds tighter).
enum Prec { kLambda, kRange, kOr, kAnd, kCompare, kBitOr, kBitXor, kBitAnd, kShift, kAdd, kMul, kCast,
            kUnary, kPostfix, kPrimary };

Prec binaryPrec(BinOp op) {
  switch (op) {
  case BinOp::Mul:
  case BinOp::Div:
  case BinOp::Rem: return kMul;
  case BinOp::Add:
  case BinOp::Sub: return kAdd;
  case BinOp::Shl:
  case BinOp::Shr: return kShift;
  case BinOp::BitAnd: return kBitAnd;
  case BinOp::BitXor: return kBitXor;
  case BinOp::BitOr: return kBitOr;
  case BinOp::Eq:
  case BinOp::Ne:
  case BinOp::Lt:
  case BinOp::Le:
  case BinOp::Gt:
  case BinOp::Ge: return kCompare;
  case BinOp::And: return kAnd;
  case BinOp::Or: return kOr;
  }
  return kPrimary;
}

Prec precOf(const Expr &e) {
  switch (e.kind) {
  case Expr::Lambda: return kLambda;
  case Expr::Range: return kRange;
  case Expr::Binary: return binaryPrec(e.binop);
  case Expr::Cast: return kCast;
  case Expr::Unary: return kUnary;
  case Expr::Field:
  case Expr::TupleIndex:
  case Expr::Index:
  case Expr::Builtin:
  case Expr::Extern:
  case Expr::Function:
  case Expr::Some: return kPostfix;
  case Expr::Variant: return e.kids.empty() ? kPrimary : kPostfix;
  default: return kPrimary;
  }
}

std::string typeName(const Type *t) { return typeToString(t); }

/// The shortest text that reads back as `v`: plain decimals for ordinary
/// magnitudes (`2.5`, `100000.0`), an exponent otherwise (`1e20`, `1.5e-7`).
std::string floatLiteral(double v, const Type *t) {
  std::string suffix = t && t->isFloat() ? typeName(t) : "";
  if (std::isinf(v)) return std::string(v < 0 ? "-" : "") + "1e999" + suffix;
  char buf[512];
  double mag = std::fabs(v);
  std::string s;
  if (mag == 0 || (mag >= 1e-5 && mag < 1e16)) {
    for (int prec = 1; prec <= 40; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*f", prec, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    s = buf;
    while (s.size() > 2 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  } else {
    for (int prec = 1; prec <= 17; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    s = buf;
    // `1.50000e+07` -> `1.5e7`: no trailing zeros, no `+`, no leading zeros.
    size_t e = s.find('e');
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    if (mant.find('.') != std::string::npos) {
      while (mant.back() == '0') mant.pop_back();
      if (mant.back() == '.') mant.pop_back();
    }
    bool neg = exp[0] == '-';
    size_t digits = exp.find_first_not_of("+-0");
    exp = (neg ? "-" : "") + (digits == std::string::npos ? std::string("0") : exp.substr(digits));
    s = mant + "e" + exp;
  }
  return s + suffix;
}

std::string join(const std::vector<std::string> &parts, const char *sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::string print(const Expr &e, Prec min);

/// The arguments of a call, a variant or `Some`.
std::string args(const Expr &e) {
  std::vector<std::string> parts;
  for (auto &k : e.kids) parts.push_back(print(*k, kLambda));
  return join(parts, ", ");
}

std::string block(const Expr &e) {
  std::vector<std::string> parts;
  for (auto &s : e.stmts) {
    if (s.pattern) {
      std::string t = s.pattern->type ? ": " + typeName(s.pattern->type) : "";
      parts.push_back("let " + printPattern(*s.pattern) + t + " = " + print(*s.expr, kLambda) + ";");
    } else {
      parts.push_back(print(*s.expr, kLambda) + ";");
    }
  }
  if (e.hasTail) parts.push_back(print(*e.kids[0], kLambda));
  if (parts.empty()) return "{}";
  return "{ " + join(parts, " ") + " }";
}

std::string printImpl(const Expr &e) {
  switch (e.kind) {
  case Expr::Int: return std::to_string(e.intValue) + (e.type && e.type->isInt() ? typeName(e.type) : "");
  case Expr::Float: return floatLiteral(e.floatValue, e.type);
  case Expr::Str: return quoteString(e.strValue);
  case Expr::Bool: return e.boolValue ? "true" : "false";
  case Expr::Unit: return "()";
  case Expr::Local:
  case Expr::Const:
  case Expr::Location:
  case Expr::Channel: return e.name;
  case Expr::StateRef: return "#" + e.name;
  case Expr::NoneValue: return "None";
  case Expr::Variant: return e.type->name + "::" + e.name + (e.kids.empty() ? "" : "(" + args(e) + ")");
  case Expr::Some: return "Some(" + args(e) + ")";
  case Expr::Builtin:
  case Expr::Extern:
  case Expr::Function: return e.name + "(" + args(e) + ")";
  case Expr::Tuple: {
    std::vector<std::string> parts;
    for (auto &k : e.kids) parts.push_back(print(*k, kLambda));
    return "(" + join(parts, ", ") + (parts.size() == 1 ? ",)" : ")");
  }
  case Expr::List: {
    std::vector<std::string> parts;
    for (auto &k : e.kids) parts.push_back(print(*k, kLambda));
    return "[" + join(parts, ", ") + "]";
  }
  case Expr::Struct: {
    std::vector<std::string> parts;
    for (size_t i = 0; i < e.kids.size(); ++i) parts.push_back(e.fieldNames[i] + ": " + print(*e.kids[i], kLambda));
    return parts.empty() ? e.type->name + " {}" : e.type->name + " { " + join(parts, ", ") + " }";
  }
  case Expr::Field: return print(*e.kids[0], kPostfix) + "." + e.name;
  case Expr::TupleIndex: return print(*e.kids[0], kPostfix) + "." + std::to_string(e.index);
  case Expr::Index: return print(*e.kids[0], kPostfix) + "[" + print(*e.kids[1], kLambda) + "]";
  case Expr::Unary: {
    // `- -x`, not `--x`: keep two minus signs apart for the reader.
    std::string operand = print(*e.kids[0], kUnary);
    std::string op = spelling(e.unop);
    return op + (!operand.empty() && operand[0] == op[0] ? " " : "") + operand;
  }
  case Expr::Binary: {
    Prec p = binaryPrec(e.binop);
    // Left-associative; comparisons are parenthesized on both sides.
    Prec left = p == kCompare ? static_cast<Prec>(p + 1) : p;
    return print(*e.kids[0], left) + " " + spelling(e.binop) + " " + print(*e.kids[1], static_cast<Prec>(p + 1));
  }
  case Expr::Cast: return print(*e.kids[0], kCast) + " as " + typeName(e.type);
  case Expr::If: {
    std::string s = "if " + print(*e.kids[0], kRange) + " " + block(*e.kids[1]);
    if (e.kids.size() > 2)
      s += " else " + (e.kids[2]->kind == Expr::If ? printImpl(*e.kids[2]) : block(*e.kids[2]));
    return s;
  }
  case Expr::Match: {
    std::vector<std::string> arms;
    for (auto &a : e.arms) arms.push_back(printPattern(*a.pattern) + " => " + print(*a.body, kLambda));
    return "match " + print(*e.kids[0], kRange) + " { " + join(arms, ", ") + " }";
  }
  case Expr::Block: return block(e);
  case Expr::Lambda: {
    std::vector<std::string> params;
    for (auto &p : e.params) params.push_back(printPattern(*p) + (p->type ? ": " + typeName(p->type) : ""));
    if (params.empty()) return "|| " + print(*e.kids[0], kLambda);
    return "|" + join(params, ", ") + "| " + print(*e.kids[0], kLambda);
  }
  case Expr::Range: return print(*e.kids[0], kOr) + ".." + print(*e.kids[1], kOr);
  }
  return "()";
}

std::string print(const Expr &e, Prec min) {
  std::string s = printImpl(e);
  return precOf(e) < min ? "(" + s + ")" : s;
}

std::string outputPortText(const Program &p, const Operator &op, unsigned port) {
  switch (op.info().outputs) {
  case OutputShape::None:
  case OutputShape::One:
  case OutputShape::Optional: return "";
  case OutputShape::Many:
  case OutputShape::Indexed:
  case OutputShape::Ports01: return "[" + std::to_string(port) + "]";
  case OutputShape::Variants: {
    const Type *t = op.typeArg;
    DFIR_CHECK(t && t->kind == Type::Enum, "demux_enum without an enum type");
    return "[" + p.types->enumInfo(t->id).variants.at(port).name + "]";
  }
  }
  return "";
}

std::string inputPortText(const Operator &op, unsigned port) {
  switch (op.info().inputs) {
  case InputShape::None:
  case InputShape::One:
  case InputShape::Optional: return "";
  case InputShape::Many: return "[" + std::to_string(port) + "]";
  case InputShape::Ports01:
  case InputShape::PosNeg:
  case InputShape::InputSingle:
  case InputShape::InputSignal: return "[" + op.info().inputPortNames().at(port) + "]";
  }
  return "";
}

} // namespace

std::string printExpr(const Expr &e) { return print(e, kLambda); }

std::string printPattern(const Pattern &p) {
  auto elems = [&] {
    std::vector<std::string> parts;
    for (auto &e : p.elems) parts.push_back(printPattern(*e));
    return parts;
  };
  switch (p.kind) {
  case Pattern::Wildcard: return "_";
  case Pattern::Bind: return p.name;
  case Pattern::Int:
    return std::string(p.negative ? "-" : "") + std::to_string(p.intValue) +
           (p.type && p.type->isInt() ? typeToString(p.type) : "");
  case Pattern::Float: return floatLiteral(p.floatValue, p.type);
  case Pattern::Str: return quoteString(p.strValue);
  case Pattern::Bool: return p.boolValue ? "true" : "false";
  case Pattern::Unit: return "()";
  case Pattern::Tuple: {
    auto parts = elems();
    return "(" + join(parts, ", ") + (parts.size() == 1 ? ",)" : ")");
  }
  case Pattern::Some: return "Some(" + printPattern(*p.elems[0]) + ")";
  case Pattern::None: return "None";
  case Pattern::Variant: {
    std::string s = p.type->name + "::" + p.name;
    return p.elems.empty() ? s : s + "(" + join(elems(), ", ") + ")";
  }
  case Pattern::Struct: {
    std::vector<std::string> parts;
    for (size_t i = 0; i < p.elems.size(); ++i) parts.push_back(p.fieldNames[i] + ": " + printPattern(*p.elems[i]));
    if (p.rest) parts.push_back("..");
    return parts.empty() ? p.type->name + " {}" : p.type->name + " { " + join(parts, ", ") + " }";
  }
  }
  return "_";
}

std::string printOperatorCall(const Program &p, const Operator &op) {
  std::vector<std::string> generics;
  for (Persistence l : op.persistence) generics.push_back(std::string("'") + persistenceName(l));
  if (op.typeArg) generics.push_back(typeToString(op.typeArg));
  std::vector<std::string> args;
  for (auto &a : op.args) args.push_back(printExpr(*a));
  std::string s = op.info().name;
  if (!generics.empty()) s += "::<" + join(generics, ", ") + ">";
  return s + "(" + join(args, ", ") + ")";
}

std::string printInputPort(const Program &p, const Edge &e) { return inputPortText(p.ops[e.to], e.toPort); }
std::string printOutputPort(const Program &p, const Edge &e) {
  return outputPortText(p, p.ops[e.from], e.fromPort);
}

std::string printProgram(const Program &p) {
  std::string out;
  const TypeContext &tc = *p.types;
  // Declarations; structs and enums in declaration order (their ids).
  std::vector<std::string> decls;
  for (unsigned id = 0; id < tc.numStructs(); ++id) {
    const StructInfo &s = tc.structInfo(id);
    std::vector<std::string> fields;
    for (auto &[name, t] : s.fields) fields.push_back(name + ": " + typeToString(t));
    decls.push_back("struct " + s.name + (fields.empty() ? " {}" : " { " + join(fields, ", ") + " }"));
  }
  for (unsigned id = 0; id < tc.numEnums(); ++id) {
    const EnumInfo &en = tc.enumInfo(id);
    std::vector<std::string> variants;
    for (auto &v : en.variants) {
      std::vector<std::string> fields;
      for (const Type *f : v.fields) fields.push_back(typeToString(f));
      variants.push_back(fields.empty() ? v.name : v.name + "(" + join(fields, ", ") + ")");
    }
    decls.push_back("enum " + en.name + (variants.empty() ? " {}" : " { " + join(variants, ", ") + " }"));
  }
  for (auto &x : p.externs) {
    std::vector<std::string> params;
    for (auto &[name, t] : x.params) params.push_back(name + ": " + typeToString(t));
    std::string r = x.result && x.result->kind != Type::Unit ? " -> " + typeToString(x.result) : "";
    decls.push_back("extern fn " + x.name + "(" + join(params, ", ") + ")" + r + ";");
  }
  for (auto &c : p.consts) decls.push_back("const " + c.name + ": " + typeToString(c.type) + " = " + printExpr(*c.value) + ";");
  for (auto &f : p.functions) {
    std::vector<std::string> params;
    for (auto &[name, t] : f.params) params.push_back(name + ": " + typeToString(t));
    std::string r = f.result && f.result->kind != Type::Unit ? " -> " + typeToString(f.result) : "";
    const Expr &body = *f.body->kids[0];
    std::string text = printExpr(body);
    if (body.kind != Expr::Block) text = "{ " + text + " }";
    decls.push_back("fn " + f.name + "(" + join(params, ", ") + ")" + r + " " + text);
  }
  for (auto &l : p.locations) {
    if (l.implicit) continue;
    decls.push_back(l.isCluster ? "cluster " + l.name + "[" + std::to_string(l.size) + "];" : "process " + l.name + ";");
  }
  for (auto &c : p.channels) {
    std::string mode = c.mode == ChannelMode::Broadcast ? " broadcast"
                       : c.mode == ChannelMode::Hash    ? " hash(" + printExpr(*c.hashFn) + ")"
                                                        : "";
    if (c.batch.enabled())
      mode += " batch(" + std::to_string(c.batch.count) + ", " + std::to_string(c.batch.micros) + "us)";
    decls.push_back("channel " + c.name + ": " + p.locations[c.from].name + " -> " + p.locations[c.to].name + mode +
                    " of " + typeToString(c.elem) + ";");
  }
  for (auto &d : decls) out += d + "\n";

  for (size_t l = 0; l < p.locations.size(); ++l) {
    const size_t l0 = l;
    const Location &loc = p.locations[l];
    std::string indent = loc.implicit ? "" : "  ";
    std::vector<OpId> ops = p.opsIn(LocId(static_cast<int>(l)));
    if (!out.empty()) out += "\n";
    if (!loc.implicit) out += loc.name + " {\n";
    // Operators outside loop blocks, then each loop block (the nested ones
    // inside it) with its operators; a loop without any does nothing and
    // is left out.
    std::function<void(int, const std::string &)> scope = [&](int loop, const std::string &in) {
      for (int id : ops)
        if (p.ops[id].loop == loop) out += in + p.ops[id].name + " = " + printOperatorCall(p, p.ops[id]) + ";\n";
      for (size_t l = 0; l < p.loops.size(); ++l) {
        if (p.loops[l].parent != loop || p.loops[l].location != static_cast<int>(l0)) continue;
        bool empty = true;
        for (int id : ops) empty = empty && !p.loopWithin(p.ops[id].loop, static_cast<int>(l));
        if (empty) continue;
        out += in + "loop {\n";
        scope(static_cast<int>(l), in + "  ");
        out += in + "}\n";
      }
    };
    scope(kNone, indent);
    for (size_t e = 0; e < p.edges.size(); ++e) {
      const Edge &edge = p.edges[e];
      if (p.ops[edge.from].location != static_cast<int>(l)) continue;
      out += indent + p.ops[edge.from].name + printOutputPort(p, edge) + " -> " + printInputPort(p, edge) +
             p.ops[edge.to].name + "; // " + typeToString(edge.type) + "\n";
    }
    if (!loc.implicit) out += "}\n";
  }
  return out;
}

} // namespace dfir::ir
