//===- ASTBuilder.cpp - ANTLR parse tree -> AST ---------------------------===//
//
// Walks a parse tree that has no syntax errors. Decodes literals (underscores,
// hex, suffixes, escapes) and checks what the grammar deliberately accepts
// loosely: `> >` written apart, `of` in channel declarations, duplicated
// channel options, tuple indexes, commas between match arms.
//
//===----------------------------------------------------------------------===//
#include "frontend/ParseTree.h"
#include "ir/IR.h"

#include <cerrno>
#include <cstdlib>
#include <typeinfo>

namespace dfir {

using grammar::DfirParser;
using namespace ast;

namespace {

/// `c` as labelled alternative `Alt` of its rule, or null. The generated
/// alternative classes are leaves, so comparing the dynamic type is enough;
/// a chain of dynamic_casts (walking the class hierarchy, comparing type
/// names) cost a fifth of the time of parsing a large file.
template <typename Alt> Alt *alt(antlr4::ParserRuleContext *c) {
  return typeid(*c) == typeid(Alt) ? static_cast<Alt *>(c) : nullptr;
}

class Builder {
public:
  Builder(const TokenLocator &loc, DiagnosticEngine &diags) : loc_(loc), diags_(diags) {}

  std::unique_ptr<Program> program(const std::function<ParsedPiece()> &next) {
    auto p = std::make_unique<Program>();
    p->file = loc_.file();
    bool inBlock = false;
    std::vector<int> loops; // the loop blocks open, innermost last
    for (ParsedPiece piece = next(); !piece.end(); piece = next()) {
      if (piece.item) {
        item(piece.item, *p);
      } else if (piece.blockName) {
        LocationBlock b;
        b.name = piece.blockName->getText();
        b.nameRange = b.range = r(piece.blockName);
        p->blocks.push_back(std::move(b));
        inBlock = true;
      } else if (piece.loopOpen) {
        LoopBlock l;
        l.parent = loops.empty() ? -1 : loops.back();
        l.keyword = l.range = r(piece.loopOpen);
        loops.push_back(static_cast<int>(p->loops.size()));
        p->loops.push_back(l);
      } else if (piece.loopClose) {
        if (loops.empty()) continue; // after a syntax error (reported)
        LoopBlock &l = p->loops[loops.back()];
        l.range = SourceRange::join(l.range, r(piece.loopClose));
        loops.pop_back();
      } else if (piece.statement) {
        Statement st = statement(piece.statement);
        st.loop = loops.empty() ? -1 : loops.back();
        (inBlock ? p->blocks.back().statements : p->topStatements).push_back(std::move(st));
      } else {
        LocationBlock &b = p->blocks.back();
        b.range = SourceRange::join(b.range, r(piece.blockClose));
        inBlock = false;
      }
    }
    return p;
  }

private:
  SourceRange r(antlr4::ParserRuleContext *c) const { return loc_.range(c); }
  SourceRange r(antlr4::Token *t) const { return loc_.range(t); }
  SourceRange r(antlr4::tree::TerminalNode *n) const { return loc_.range(n); }

  // ------------------------------------------------------------- items --
  /// `name: T, ...` of an extern fn, a fn or a subgraph.
  std::vector<FieldDecl> params(const std::vector<DfirParser::ExternParamContext *> &list) {
    std::vector<FieldDecl> out;
    for (auto *prm : list) out.push_back({prm->IDENT()->getText(), r(prm->IDENT()), type(prm->type())});
    return out;
  }

  void item(DfirParser::ItemContext *c, Program &p) {
    if (auto *x = c->typeDef()) {
      TypeDef d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      d.type = type(x->type());
      p.typeDefs.push_back(std::move(d));
    } else if (auto *x = c->structDef()) {
      StructDef d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      for (auto *f : x->fieldDecl())
        d.fields.push_back({f->IDENT()->getText(), r(f->IDENT()), type(f->type())});
      p.structs.push_back(std::move(d));
    } else if (auto *x = c->enumDef()) {
      EnumDef d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      for (auto *v : x->variantDecl()) {
        VariantDecl vd;
        vd.name = v->IDENT()->getText();
        vd.range = r(v->IDENT());
        for (auto *t : v->type()) vd.types.push_back(type(t));
        d.variants.push_back(std::move(vd));
      }
      p.enums.push_back(std::move(d));
    } else if (auto *x = c->externFn()) {
      ExternFn d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      d.params = params(x->externParam());
      if (x->type()) d.result = type(x->type());
      p.externs.push_back(std::move(d));
    } else if (auto *x = c->subgraphDef()) {
      SubgraphDef d;
      d.name = x->name->getText();
      d.nameRange = r(x->name);
      d.range = r(x);
      d.params = params(x->externParam());
      for (auto *t : x->ins) d.inputs.push_back({t->getText(), r(t)});
      for (auto *t : x->outs) d.outputs.push_back({t->getText(), r(t)});
      for (auto *st : x->statement()) d.statements.push_back(statement(st));
      d.open = r(x->open);
      d.close = r(x->close);
      p.subgraphs.push_back(std::move(d));
    } else if (auto *x = c->importDecl()) {
      p.imports.push_back({stringLiteral(x->STRING()->getSymbol()), r(x), r(x->STRING())});
    } else if (auto *x = c->fnDef()) {
      FnDef d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      d.params = params(x->externParam());
      if (x->type()) d.result = type(x->type());
      // Checked and lowered as a closure of its parameters.
      d.body = make(Expr::Lambda, r(x));
      for (auto &prm : d.params) {
        LambdaParam lp;
        lp.pattern = std::make_unique<Pattern>();
        lp.pattern->kind = Pattern::Bind;
        lp.pattern->name = prm.name;
        lp.pattern->range = prm.range;
        d.body->params.push_back(std::move(lp));
      }
      d.body->kids.push_back(block(x->block()));
      p.functions.push_back(std::move(d));
    } else if (auto *x = c->constDef()) {
      ConstDef d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      d.type = type(x->type());
      d.value = expr(x->expr());
      p.consts.push_back(std::move(d));
    } else if (auto *x = c->processDecl()) {
      LocationDecl d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      p.locations.push_back(std::move(d));
    } else if (auto *x = c->clusterDecl()) {
      LocationDecl d;
      d.name = x->IDENT()->getText();
      d.nameRange = r(x->IDENT());
      d.range = r(x);
      d.isCluster = true;
      if (x->INT()) {
        d.hasSize = true;
        d.sizeRange = r(x->INT());
        std::string suffix;
        if (!intLiteral(x->INT()->getSymbol(), d.size, suffix)) d.size = UINT64_MAX; // too large (Decls.cpp)
      }
      p.locations.push_back(std::move(d));
    } else if (auto *x = c->channelDecl()) {
      p.channels.push_back(channel(x));
    } else if (auto *x = c->locationBlock()) {
      LocationBlock b;
      b.name = x->IDENT()->getText();
      b.nameRange = r(x->IDENT());
      b.range = r(x);
      for (auto *s : x->statement()) b.statements.push_back(statement(s));
      p.blocks.push_back(std::move(b));
    } else if (auto *x = c->statement()) {
      p.topStatements.push_back(statement(x));
    }
  }

  /// `batch(N)` or `batch(N, T us|ms)`: the delay defaults to 1000 us.
  void batchOption(ChannelDecl &d, DfirParser::ChannelBatchContext *b) {
    if (b->IDENT(0)->getText() != "batch") {
      diags_.report(DiagID::err_unknown_channel_option, r(b->IDENT(0))) << b->IDENT(0)->getText();
      return;
    }
    if (d.batchRange.valid()) {
      (diags_.report(DiagID::err_duplicate_channel_option, r(b)) << "`batch`").note(DiagID::note_previous_option,
                                                                                d.batchRange);
      return;
    }
    std::string suffix;
    uint64_t count = 0, delay = 1000;
    if (!intLiteral(b->INT(0)->getSymbol(), count, suffix) || !suffix.empty()) {
      diags_.report(DiagID::err_batch_option, r(b->INT(0))) << "a count of items from 1 to 16777216"
                                                            << b->INT(0)->getText();
      return;
    }
    if (b->INT().size() > 1) {
      antlr4::Token *num = b->INT(1)->getSymbol(), *unit = b->IDENT(1)->getSymbol();
      std::string u = unit->getText();
      bool adjacent = r(num).end == r(unit).begin.offset;
      if (!intLiteral(num, delay, suffix) || !suffix.empty() || !adjacent || (u != "us" && u != "ms")) {
        diags_.report(DiagID::err_batch_option, SourceRange::join(r(num), r(unit)))
            << "a delay such as `500us` or `2ms`" << num->getText() + (adjacent ? "" : " ") + u;
        return;
      }
      if (u == "ms") delay = delay > UINT64_MAX / 1000 ? UINT64_MAX : delay * 1000;
      if (delay > ir::kMaxBatchMicros) {
        diags_.report(DiagID::err_batch_range, SourceRange::join(r(num), r(unit)))
            << "delay" << "0us" << "60s (60000000us)" << num->getText() + u;
        return;
      }
    }
    if (count < 1 || count > ir::kMaxBatchCount) {
      diags_.report(DiagID::err_batch_range, r(b->INT(0)))
          << "count" << 1 << ir::kMaxBatchCount << b->INT(0)->getText();
      return;
    }
    d.batchCount = count;
    d.batchMicros = delay;
    d.batchRange = r(b);
  }

  ChannelDecl channel(DfirParser::ChannelDeclContext *x) {
    ChannelDecl d;
    d.name = x->IDENT(0)->getText();
    d.nameRange = r(x->IDENT(0));
    d.from = x->IDENT(1)->getText();
    d.fromRange = r(x->IDENT(1));
    d.to = x->IDENT(2)->getText();
    d.toRange = r(x->IDENT(2));
    d.range = r(x);
    SourceRange ofRange;
    for (auto *o : x->channelOption()) {
      if (auto *h = alt<DfirParser::ChannelHashContext>(o)) {
        if (!setMode(d, ChannelDecl::Hash, r(h))) continue;
        d.hashFn = expr(h->expr());
      } else if (alt<DfirParser::ChannelBroadcastContext>(o)) {
        setMode(d, ChannelDecl::Broadcast, r(o));
      } else if (auto *b = alt<DfirParser::ChannelBatchContext>(o)) {
        batchOption(d, b);
      } else if (auto *of = alt<DfirParser::ChannelOfContext>(o)) {
        if (of->IDENT()->getText() != "of") {
          diags_.report(DiagID::err_unknown_channel_option, r(of->IDENT())) << of->IDENT()->getText();
          continue;
        }
        if (!of->type()) {
          diags_.report(DiagID::err_expected_token, SourceRange(SourceLoc{loc_.file(), r(of).end}, r(of).end))
              << "a type after `of`" << "`;`";
          continue;
        }
        if (d.elemType) {
          (diags_.report(DiagID::err_duplicate_channel_option, r(of)) << "`of T`")
              .note(DiagID::note_previous_option, ofRange);
          continue;
        }
        ofRange = r(of);
        d.elemType = type(of->type());
      }
    }
    return d;
  }

  bool setMode(ChannelDecl &d, ChannelDecl::Mode m, SourceRange range) {
    if (d.mode != ChannelDecl::Direct) {
      (diags_.report(DiagID::err_duplicate_channel_option, range) << "mode")
          .note(DiagID::note_previous_option, d.modeRange);
      return false;
    }
    d.mode = m;
    d.modeRange = range;
    return true;
  }

  // --------------------------------------------------------- pipelines --
  Statement statement(DfirParser::StatementContext *c) {
    Statement s;
    s.range = r(c);
    if (c->IDENT()) {
      s.named = true;
      s.name = c->IDENT()->getText();
      s.nameRange = r(c->IDENT());
    }
    s.pipeline = pipeline(c->pipeline());
    return s;
  }

  Pipeline pipeline(DfirParser::PipelineContext *c) {
    Pipeline p;
    p.range = r(c);
    for (auto *e : c->element()) p.elements.push_back(element(e));
    for (auto *child : c->children)
      if (auto *t = dynamic_cast<antlr4::tree::TerminalNode *>(child))
        if (t->getText() == "->") p.arrows.push_back(r(t));
    return p;
  }

  Element element(DfirParser::ElementContext *c) {
    Element e;
    e.range = r(c);
    if (c->inPort) e.inPort = port(c->inPort);
    if (c->outPort) e.outPort = port(c->outPort);
    auto *body = c->elementBody();
    if (auto *op = alt<DfirParser::ElemOperatorContext>(body)) {
      e.kind = Element::Operator;
      e.op = operatorCall(op->operatorCall());
    } else if (auto *n = alt<DfirParser::ElemNameContext>(body)) {
      e.kind = Element::Name;
      e.name = n->IDENT()->getText();
      e.nameRange = r(n->IDENT());
    } else if (auto *n = alt<DfirParser::ElemNestedContext>(body)) {
      e.kind = Element::Nested;
      e.nested = std::make_unique<Pipeline>(pipeline(n->pipeline()));
    }
    return e;
  }

  Port port(DfirParser::PortContext *c) {
    Port p;
    p.present = true;
    p.range = r(c);
    if (c->IDENT()) {
      p.isName = true;
      p.name = c->IDENT()->getText();
    } else {
      std::string suffix;
      intLiteral(c->INT()->getSymbol(), p.index, suffix);
    }
    return p;
  }

  OperatorCall operatorCall(DfirParser::OperatorCallContext *c) {
    OperatorCall op;
    op.name = c->IDENT()->getText();
    op.nameRange = r(c->IDENT());
    op.range = r(c);
    auto gens = c->generic();
    if (!gens.empty())
      op.genericsRange = SourceRange::join(r(gens.front()), r(gens.back()));
    for (auto *g : gens) {
      Generic gen;
      gen.range = r(g);
      if (g->LIFETIME()) {
        gen.isLifetime = true;
        gen.lifetime = g->LIFETIME()->getText().substr(1);
      } else {
        gen.type = type(g->type());
      }
      op.generics.push_back(std::move(gen));
    }
    auto args = c->expr();
    for (auto *a : args) op.args.push_back(expr(a));
    // The argument list is everything between the call's parentheses.
    op.argsRange = args.empty() ? SourceRange(SourceLoc{loc_.file(), op.range.end - 1}, op.range.end)
                                : SourceRange::join(r(args.front()), r(args.back()));
    return op;
  }

  // ------------------------------------------------------------- types --
  TypeExprPtr type(DfirParser::TypeContext *c) {
    auto t = std::make_unique<TypeExpr>();
    t->range = r(c);
    if (alt<DfirParser::UnitTypeContext>(c)) {
      t->kind = TypeExpr::Unit;
    } else if (auto *x = alt<DfirParser::ParenTypeContext>(c)) {
      auto inner = type(x->type());
      inner->range = t->range;
      return inner;
    } else if (auto *x = alt<DfirParser::TupleTypeContext>(c)) {
      t->kind = TypeExpr::Tuple;
      for (auto *e : x->type()) t->args.push_back(type(e));
    } else if (auto *x = alt<DfirParser::ListTypeContext>(c)) {
      t->kind = TypeExpr::List;
      t->args.push_back(type(x->type()));
    } else if (auto *x = alt<DfirParser::NamedTypeContext>(c)) {
      t->kind = TypeExpr::Named;
      t->name = x->IDENT()->getText();
      for (auto *e : x->type()) t->args.push_back(type(e));
    }
    return t;
  }

  // -------------------------------------------------------- literals --
  bool intLiteral(antlr4::Token *tok, uint64_t &value, std::string &suffix) {
    std::string text = tok->getText();
    std::string digits;
    bool hex = text.size() > 1 && text[0] == '0' && (text[1] == 'x');
    size_t i = hex ? 2 : 0;
    for (; i < text.size(); ++i) {
      char ch = text[i];
      if (ch == '_') continue;
      if (ch == 'i' || ch == 'u') break;
      digits += ch;
    }
    suffix = text.substr(i);
    if (digits.empty()) {
      diags_.report(DiagID::err_bad_int_literal, r(tok)) << text;
      return false;
    }
    value = 0;
    unsigned base = hex ? 16 : 10;
    for (char ch : digits) {
      unsigned d = ch >= '0' && ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
      if (value > (UINT64_MAX - d) / base) {
        diags_.report(DiagID::err_int_literal_too_large, r(tok)) << text;
        return false;
      }
      value = value * base + d;
    }
    return true;
  }

  std::string stringLiteral(antlr4::Token *tok) {
    std::string text = tok->getText();
    SourceRange tr = r(tok);
    std::string out;
    // Byte offsets inside the token equal offsets inside the buffer.
    for (size_t i = 1; i + 1 < text.size(); ++i) {
      char ch = text[i];
      if (ch != '\\') {
        out += ch;
        continue;
      }
      uint32_t at = tr.begin.offset + static_cast<uint32_t>(i);
      char e = text[i + 1];
      switch (e) {
      case 'n': out += '\n'; ++i; continue;
      case 't': out += '\t'; ++i; continue;
      case 'r': out += '\r'; ++i; continue;
      case '0': out += '\0'; ++i; continue;
      case '\\': out += '\\'; ++i; continue;
      case '"': out += '"'; ++i; continue;
      case '\'': out += '\''; ++i; continue;
      case 'u': {
        size_t close = text.find('}', i);
        uint32_t cp = 0;
        bool ok = i + 2 < text.size() && text[i + 2] == '{' && close != std::string::npos &&
                  close > i + 3 && close - i - 3 <= 6;
        if (ok) {
          for (size_t k = i + 3; k < close && ok; ++k) {
            char h = text[k];
            if (!std::isxdigit(static_cast<unsigned char>(h))) ok = false;
            else cp = cp * 16 + (h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
          }
        }
        if (!ok || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          uint32_t end = close != std::string::npos ? tr.begin.offset + static_cast<uint32_t>(close) + 1 : at + 2;
          diags_.report(DiagID::err_bad_unicode_escape, SourceRange(SourceLoc{tr.begin.file, at}, end));
          i = close != std::string::npos ? close : i + 1;
          continue;
        }
        appendUtf8(out, cp);
        i = close;
        continue;
      }
      default:
        diags_.report(DiagID::err_bad_escape, SourceRange(SourceLoc{tr.begin.file, at}, at + 2))
            << std::string(1, e);
        ++i;
        continue;
      }
    }
    return out;
  }

  static void appendUtf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void floatLiteral(antlr4::Token *tok, double &value, std::string &suffix) {
    std::string text = tok->getText();
    if (text.size() > 3 && (text.compare(text.size() - 3, 3, "f32") == 0 ||
                            text.compare(text.size() - 3, 3, "f64") == 0)) {
      suffix = text.substr(text.size() - 3);
      text.resize(text.size() - 3);
    }
    std::string clean;
    for (char ch : text)
      if (ch != '_') clean += ch;
    value = std::strtod(clean.c_str(), nullptr);
  }

  ExprPtr literal(DfirParser::LiteralContext *c) {
    auto e = std::make_unique<Expr>();
    e->range = r(c);
    if (c->INT()) {
      e->kind = Expr::Int;
      intLiteral(c->INT()->getSymbol(), e->intValue, e->suffix);
    } else if (c->FLOAT()) {
      e->kind = Expr::Float;
      floatLiteral(c->FLOAT()->getSymbol(), e->floatValue, e->suffix);
    } else if (c->STRING()) {
      e->kind = Expr::Str;
      e->strValue = stringLiteral(c->STRING()->getSymbol());
    } else {
      e->kind = Expr::Bool;
      e->boolValue = c->getText() == "true";
    }
    return e;
  }

  // -------------------------------------------------------- expressions --
  ExprPtr make(Expr::Kind k, SourceRange range) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->range = range;
    return e;
  }

  void checkAdjacent(antlr4::Token *a, antlr4::Token *b, const char *op) {
    if (b->getStartIndex() != a->getStopIndex() + 1)
      diags_.report(DiagID::err_split_operator, SourceRange::join(r(a), r(b))) << op;
  }

  static BinOp binop(const std::string &s) {
    static const std::pair<const char *, BinOp> table[] = {
        {"*", BinOp::Mul}, {"/", BinOp::Div}, {"%", BinOp::Rem}, {"+", BinOp::Add},
        {"-", BinOp::Sub}, {"<<", BinOp::Shl}, {">>", BinOp::Shr}, {"&", BinOp::BitAnd},
        {"^", BinOp::BitXor}, {"|", BinOp::BitOr}, {"==", BinOp::Eq}, {"!=", BinOp::Ne},
        {"<", BinOp::Lt}, {"<=", BinOp::Le}, {">", BinOp::Gt}, {">=", BinOp::Ge},
        {"&&", BinOp::And}, {"||", BinOp::Or}};
    for (auto &[text, op] : table)
      if (s == text) return op;
    return BinOp::Add;
  }

  ExprPtr binary(antlr4::ParserRuleContext *c, BinOp op, DfirParser::ExprContext *lhs,
                 DfirParser::ExprContext *rhs) {
    auto e = make(Expr::Binary, r(c));
    e->binop = op;
    e->kids.push_back(expr(lhs));
    e->kids.push_back(expr(rhs));
    return e;
  }

  ExprPtr expr(DfirParser::ExprContext *c) {
    if (++depth_ > kMaxDepth) {
      if (!depthReported_) diags_.report(DiagID::err_nesting_too_deep, r(c)) << kMaxDepth;
      depthReported_ = true;
      --depth_;
      return make(Expr::Unit, r(c));
    }
    ExprPtr e = exprImpl(c);
    --depth_;
    return e;
  }

  ExprPtr exprImpl(DfirParser::ExprContext *c) {
    if (auto *x = alt<DfirParser::PrimaryExprContext>(c)) return primary(x->primary());
    if (auto *x = alt<DfirParser::FieldExprContext>(c)) return field(x);
    if (auto *x = alt<DfirParser::IndexExprContext>(c)) {
      auto e = make(Expr::Index, r(x));
      e->kids.push_back(expr(x->expr(0)));
      e->kids.push_back(expr(x->expr(1)));
      return e;
    }
    if (auto *x = alt<DfirParser::CallExprContext>(c)) {
      auto e = make(Expr::Call, r(x));
      for (auto *a : x->expr()) e->kids.push_back(expr(a));
      return e;
    }
    if (auto *x = alt<DfirParser::RefExprContext>(c)) {
      // `&x`, `&mut x`: reported, then read as `x`.
      diags_.report(DiagID::err_rust_reference, r(x));
      return expr(x->expr());
    }
    if (auto *x = alt<DfirParser::UnaryExprContext>(c)) {
      auto e = make(Expr::Unary, r(x));
      e->unop = x->op->getText() == "-" ? UnOp::Neg : UnOp::Not;
      e->kids.push_back(expr(x->expr()));
      return e;
    }
    if (auto *x = alt<DfirParser::CastExprContext>(c)) {
      auto e = make(Expr::Cast, r(x));
      e->kids.push_back(expr(x->expr()));
      e->castType = type(x->type());
      return e;
    }
    if (auto *x = alt<DfirParser::BinaryExprContext>(c))
      return binary(x, binop(x->op->getText()), x->expr(0), x->expr(1));
    if (auto *x = alt<DfirParser::ShiftExprContext>(c)) {
      if (x->gt1) checkAdjacent(x->gt1, x->gt2, ">>");
      return binary(x, x->gt1 ? BinOp::Shr : BinOp::Shl, x->expr(0), x->expr(1));
    }
    if (auto *x = alt<DfirParser::CompareExprContext>(c)) {
      BinOp op = BinOp::Gt;
      if (x->op) op = binop(x->op->getText());
      else if (x->ge) {
        checkAdjacent(x->gt1, x->ge, ">=");
        op = BinOp::Ge;
      }
      return binary(x, op, x->expr(0), x->expr(1));
    }
    if (auto *x = alt<DfirParser::RangeExprContext>(c)) {
      auto e = make(Expr::Range, r(x));
      e->kids.push_back(expr(x->expr(0)));
      e->kids.push_back(expr(x->expr(1)));
      return e;
    }
    if (auto *x = alt<DfirParser::LambdaExprContext>(c)) {
      auto e = make(Expr::Lambda, r(x));
      for (auto *p : x->lambdaParam()) {
        LambdaParam lp;
        lp.pattern = pattern(p->pattern());
        if (p->type()) lp.type = type(p->type());
        e->params.push_back(std::move(lp));
      }
      e->kids.push_back(expr(x->expr()));
      return e;
    }
    return make(Expr::Unit, r(c));
  }

  ExprPtr field(DfirParser::FieldExprContext *x) {
    ExprPtr base = expr(x->expr());
    SourceRange full = r(x);
    if (x->IDENT()) {
      auto e = make(Expr::Field, full);
      e->name = x->IDENT()->getText();
      e->nameRange = r(x->IDENT());
      e->kids.push_back(std::move(base));
      return e;
    }
    // `t.0` is an INT token; `t.0.1` lexes `0.1` as one FLOAT token.
    antlr4::Token *tok = x->INT() ? x->INT()->getSymbol() : x->FLOAT()->getSymbol();
    std::string text = tok->getText();
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == '.') {
        parts.push_back(text.substr(start, i - start));
        start = i + 1;
      }
    }
    for (auto &part : parts) {
      bool ok = !part.empty() && part.size() <= 9 &&
                part.find_first_not_of("0123456789") == std::string::npos;
      if (!ok) {
        diags_.report(DiagID::err_bad_tuple_index, r(tok)) << text;
        return base;
      }
      auto e = make(Expr::TupleIndex, full);
      e->intValue = std::stoul(part);
      e->nameRange = r(tok);
      e->kids.push_back(std::move(base));
      base = std::move(e);
    }
    return base;
  }

  ExprPtr primary(DfirParser::PrimaryContext *c) {
    SourceRange range = r(c);
    if (auto *x = alt<DfirParser::LiteralPrimaryContext>(c)) return literal(x->literal());
    if (alt<DfirParser::UnitPrimaryContext>(c)) return make(Expr::Unit, range);
    if (auto *x = alt<DfirParser::ParenPrimaryContext>(c)) return expr(x->expr());
    if (auto *x = alt<DfirParser::TuplePrimaryContext>(c)) {
      auto e = make(Expr::Tuple, range);
      for (auto *a : x->expr()) e->kids.push_back(expr(a));
      return e;
    }
    if (auto *x = alt<DfirParser::ListPrimaryContext>(c)) {
      auto e = make(Expr::List, range);
      for (auto *a : x->expr()) e->kids.push_back(expr(a));
      return e;
    }
    if (auto *x = alt<DfirParser::MacroPrimaryContext>(c)) {
      // `println!(...)`, `format!(...)`, `vec![...]`: reported, then read as
      // the call (or for `vec!`, the list) it stands for.
      std::string name = x->IDENT()->getText();
      bool list = x->children.size() > 2 && x->children[2]->getText() == "[";
      diags_.report(DiagID::err_rust_macro, r(x)) << (list ? std::string("[...]") : name + "(...)");
      auto e = make(list ? Expr::List : Expr::Call, range);
      if (!list) {
        auto callee = make(Expr::Name, r(x->IDENT()));
        callee->name = name;
        callee->nameRange = r(x->IDENT());
        e->kids.push_back(std::move(callee));
      }
      for (auto *a : x->expr()) e->kids.push_back(expr(a));
      return e;
    }
    if (auto *x = alt<DfirParser::StructPrimaryContext>(c)) {
      auto e = make(Expr::Struct, range);
      e->name = x->IDENT()->getText();
      e->nameRange = r(x->IDENT());
      for (auto *f : x->fieldInit()) {
        std::string field = f->IDENT()->getText();
        e->fieldNames.push_back(field);
        e->fieldRanges.push_back(r(f->IDENT()));
        if (f->expr()) {
          e->kids.push_back(expr(f->expr()));
          continue;
        }
        // `B { x }`: reported, then read as `B { x: x }`.
        diags_.report(DiagID::err_field_shorthand, r(f->IDENT())) << field;
        auto value = make(Expr::Name, r(f->IDENT()));
        value->name = field;
        value->nameRange = r(f->IDENT());
        e->kids.push_back(std::move(value));
      }
      return e;
    }
    if (auto *x = alt<DfirParser::PathPrimaryContext>(c)) {
      auto e = make(Expr::Path, range);
      e->name = x->IDENT(0)->getText();
      e->name2 = x->IDENT(1)->getText();
      e->nameRange = range;
      return e;
    }
    if (auto *x = alt<DfirParser::NamePrimaryContext>(c)) {
      auto e = make(Expr::Name, range);
      e->name = x->IDENT()->getText();
      e->nameRange = range;
      return e;
    }
    if (auto *x = alt<DfirParser::StateRefPrimaryContext>(c)) {
      auto e = make(Expr::StateRef, range);
      e->name = x->IDENT()->getText();
      e->nameRange = r(x->IDENT());
      return e;
    }
    if (auto *x = alt<DfirParser::KeywordPrimaryContext>(c)) {
      auto e = make(Expr::Name, range);
      e->name = x->kw->getText();
      e->nameRange = range;
      return e;
    }
    if (auto *x = alt<DfirParser::IfPrimaryContext>(c)) return ifExpr(x->ifExpr());
    if (auto *x = alt<DfirParser::MatchPrimaryContext>(c)) {
      auto e = make(Expr::Match, range);
      e->kids.push_back(expr(x->expr()));
      auto arms = x->matchArm();
      for (size_t i = 0; i < arms.size(); ++i) {
        MatchArm arm;
        arm.pattern = pattern(arms[i]->pattern());
        arm.body = expr(arms[i]->expr());
        bool last = i + 1 == arms.size();
        bool blockLike = arm.body->kind == Expr::Block || arm.body->kind == Expr::If ||
                         arm.body->kind == Expr::Match;
        if (!last && !arms[i]->comma && !blockLike)
          diags_.report(DiagID::err_match_arm_comma, SourceRange(SourceLoc{loc_.file(), arm.body->range.end}, arm.body->range.end));
        e->arms.push_back(std::move(arm));
      }
      return e;
    }
    if (auto *x = alt<DfirParser::BlockPrimaryContext>(c)) return block(x->block());
    return make(Expr::Unit, range);
  }

  ExprPtr ifExpr(DfirParser::IfExprContext *x) {
    auto e = make(Expr::If, r(x));
    e->kids.push_back(expr(x->expr()));
    e->kids.push_back(block(x->block(0)));
    if (x->block().size() > 1) e->kids.push_back(block(x->block(1)));
    else if (x->ifExpr()) e->kids.push_back(ifExpr(x->ifExpr()));
    return e;
  }

  ExprPtr block(DfirParser::BlockContext *x) {
    auto e = make(Expr::Block, r(x));
    for (auto *s : x->blockStmt()) {
      BlockStmt st;
      st.range = r(s);
      if (auto *l = alt<DfirParser::LetStmtContext>(s)) {
        st.isLet = true;
        st.pattern = pattern(l->pattern());
        if (l->type()) st.type = type(l->type());
        st.expr = expr(l->expr());
      } else if (auto *es = alt<DfirParser::ExprStmtContext>(s)) {
        st.expr = expr(es->expr());
      }
      e->stmts.push_back(std::move(st));
    }
    if (x->expr()) {
      e->hasTail = true;
      e->kids.push_back(expr(x->expr()));
    }
    return e;
  }

  // ----------------------------------------------------------- patterns --
  PatternPtr pattern(DfirParser::PatternContext *c) {
    auto p = std::make_unique<Pattern>();
    p->range = r(c);
    if (alt<DfirParser::WildcardPatternContext>(c)) {
      p->kind = Pattern::Wildcard;
    } else if (auto *x = alt<DfirParser::NumberPatternContext>(c)) {
      p->negative = x->getStart()->getText() == "-";
      if (x->INT()) {
        p->kind = Pattern::Int;
        intLiteral(x->INT()->getSymbol(), p->intValue, p->suffix);
      } else {
        p->kind = Pattern::Float;
        floatLiteral(x->FLOAT()->getSymbol(), p->floatValue, p->suffix);
        if (p->negative) p->floatValue = -p->floatValue;
      }
    } else if (auto *x = alt<DfirParser::LiteralPatternContext>(c)) {
      if (x->STRING()) {
        p->kind = Pattern::Str;
        p->strValue = stringLiteral(x->STRING()->getSymbol());
      } else {
        p->kind = Pattern::Bool;
        p->boolValue = x->getText() == "true";
      }
    } else if (alt<DfirParser::UnitPatternContext>(c)) {
      p->kind = Pattern::Unit;
    } else if (auto *x = alt<DfirParser::ParenPatternContext>(c)) {
      return pattern(x->pattern());
    } else if (auto *x = alt<DfirParser::TuplePatternContext>(c)) {
      p->kind = Pattern::Tuple;
      for (auto *e : x->pattern()) p->elems.push_back(pattern(e));
    } else if (auto *x = alt<DfirParser::SomePatternContext>(c)) {
      p->kind = Pattern::Some;
      p->elems.push_back(pattern(x->pattern()));
    } else if (alt<DfirParser::NonePatternContext>(c)) {
      p->kind = Pattern::None;
    } else if (auto *x = alt<DfirParser::VariantPatternContext>(c)) {
      p->kind = Pattern::Variant;
      p->name = x->IDENT(0)->getText();
      p->variant = x->IDENT(1)->getText();
      p->hasArgs = x->getText().back() == ')';
      for (auto *e : x->pattern()) p->elems.push_back(pattern(e));
    } else if (auto *x = alt<DfirParser::StructPatternContext>(c)) {
      p->kind = Pattern::Struct;
      p->name = x->IDENT()->getText();
      for (auto *child : x->children)
        if (auto *t = dynamic_cast<antlr4::tree::TerminalNode *>(child))
          p->rest = p->rest || t->getText() == "..";
      for (auto *f : x->fieldPattern()) {
        p->fieldNames.push_back(f->IDENT()->getText());
        p->fieldRanges.push_back(r(f->IDENT()));
        if (f->pattern()) {
          p->elems.push_back(pattern(f->pattern()));
        } else {
          auto b = std::make_unique<Pattern>();
          b->kind = Pattern::Bind;
          b->name = f->IDENT()->getText();
          b->range = r(f->IDENT());
          p->elems.push_back(std::move(b));
        }
      }
    } else if (auto *x = alt<DfirParser::BindPatternContext>(c)) {
      p->kind = Pattern::Bind;
      p->name = x->IDENT()->getText();
    }
    return p;
  }

  static constexpr unsigned kMaxDepth = 2000;
  const TokenLocator &loc_;
  DiagnosticEngine &diags_;
  unsigned depth_ = 0;
  bool depthReported_ = false;
};

} // namespace

std::unique_ptr<Program> buildAST(const std::function<ParsedPiece()> &next, const TokenLocator &loc,
                                  DiagnosticEngine &diags) {
  Builder b(loc, diags);
  return b.program(next);
}

} // namespace dfir
