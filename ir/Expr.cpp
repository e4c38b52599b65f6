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

} // namespace dfir
