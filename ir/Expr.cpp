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

namespace {
template <class T> std::unique_ptr<T> cloneOrNull(const std::unique_ptr<T> &p) { return p ? clone(*p) : nullptr; }
} // namespace

std::unique_ptr<TypeExpr> clone(const TypeExpr &t) {
  auto out = std::make_unique<TypeExpr>();
  out->kind = t.kind;
  out->range = t.range;
  out->name = t.name;
  for (auto &a : t.args) out->args.push_back(clone(*a));
  return out;
}

std::unique_ptr<Pattern> clone(const Pattern &p) {
  auto out = std::make_unique<Pattern>();
  *out = Pattern{p.kind,     p.range,      p.name,       p.variant,  p.hasArgs,    {},           p.fieldNames,
                 p.fieldRanges, p.rest,    p.negative,   p.intValue, p.suffix,     p.floatValue, p.strValue,
                 p.boolValue,  p.type};
  for (auto &e : p.elems) out->elems.push_back(clone(*e));
  return out;
}

std::unique_ptr<Expr> clone(const Expr &e) {
  auto out = std::make_unique<Expr>();
  out->kind = e.kind;
  out->range = e.range;
  out->name = e.name;
  out->name2 = e.name2;
  out->nameRange = e.nameRange;
  out->intValue = e.intValue;
  out->suffix = e.suffix;
  out->floatValue = e.floatValue;
  out->strValue = e.strValue;
  out->boolValue = e.boolValue;
  out->binop = e.binop;
  out->unop = e.unop;
  for (auto &k : e.kids) out->kids.push_back(clone(*k));
  out->fieldNames = e.fieldNames;
  out->fieldRanges = e.fieldRanges;
  out->castType = cloneOrNull(e.castType);
  for (auto &a : e.arms) out->arms.push_back({clone(*a.pattern), clone(*a.body)});
  for (auto &s : e.stmts)
    out->stmts.push_back({s.isLet, cloneOrNull(s.pattern), cloneOrNull(s.type), cloneOrNull(s.expr), s.range});
  out->hasTail = e.hasTail;
  for (auto &prm : e.params) out->params.push_back({clone(*prm.pattern), cloneOrNull(prm.type)});
  out->type = e.type;
  out->hadErrors = e.hadErrors;
  return out;
}

} // namespace dfir
