#include "ir/Expr.h"

#include <cstdio>

namespace dfir {

/// Quotes a string the way the language writes it, so control characters
/// (and NUL) stay visible in the dump.
std::string quoteString(const std::string &v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
    case '\n': out += "\\n"; break;
    case '\t': out += "\\t"; break;
    case '\r': out += "\\r"; break;
    case '\0': out += "\\0"; break;
    case '\\': out += "\\\\"; break;
    case '"': out += "\\\""; break;
    default:
      if (c < 0x20 || c == 0x7f) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u{%x}", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out + "\"";
}


const char *spelling(BinOp op) {
  switch (op) {
  case BinOp::Mul: return "*";
  case BinOp::Div: return "/";
  case BinOp::Rem: return "%";
  case BinOp::Add: return "+";
  case BinOp::Sub: return "-";
  case BinOp::Shl: return "<<";
  case BinOp::Shr: return ">>";
  case BinOp::BitAnd: return "&";
  case BinOp::BitXor: return "^";
  case BinOp::BitOr: return "|";
  case BinOp::Eq: return "==";
  case BinOp::Ne: return "!=";
  case BinOp::Lt: return "<";
  case BinOp::Le: return "<=";
  case BinOp::Gt: return ">";
  case BinOp::Ge: return ">=";
  case BinOp::And: return "&&";
  case BinOp::Or: return "||";
  }
  return "?";
}

const char *spelling(UnOp op) { return op == UnOp::Neg ? "-" : "!"; }

namespace ir {

PatternPtr clone(const Pattern &p) {
  auto out = std::make_unique<Pattern>();
  out->kind = p.kind;
  out->range = p.range;
  out->slot = p.slot;
  out->name = p.name;
  out->index = p.index;
  for (auto &e : p.elems) out->elems.push_back(clone(*e));
  out->fields = p.fields;
  out->fieldNames = p.fieldNames;
  out->rest = p.rest;
  out->negative = p.negative;
  out->intValue = p.intValue;
  out->floatValue = p.floatValue;
  out->strValue = p.strValue;
  out->boolValue = p.boolValue;
  out->type = p.type;
  return out;
}

ExprPtr clone(const Expr &e) {
  auto out = std::make_unique<Expr>();
  out->kind = e.kind;
  out->range = e.range;
  out->slot = e.slot;
  out->index = e.index;
  out->builtin = e.builtin;
  out->name = e.name;
  out->intValue = e.intValue;
  out->floatValue = e.floatValue;
  out->strValue = e.strValue;
  out->boolValue = e.boolValue;
  out->binop = e.binop;
  out->unop = e.unop;
  for (auto &k : e.kids) out->kids.push_back(clone(*k));
  out->fields = e.fields;
  out->fieldNames = e.fieldNames;
  for (auto &a : e.arms) out->arms.push_back({clone(*a.pattern), clone(*a.body)});
  for (auto &s : e.stmts) out->stmts.push_back({s.pattern ? clone(*s.pattern) : nullptr, clone(*s.expr)});
  out->hasTail = e.hasTail;
  for (auto &p : e.params) out->params.push_back(clone(*p));
  out->slots = e.slots;
  out->type = e.type;
  return out;
}

} // namespace ir
} // namespace dfir
