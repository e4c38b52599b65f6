#include "frontend/Parser.h"
#include "frontend/ParseTree.h"

#include "antlr4-runtime.h"

#include <algorithm>
#include <cctype>

namespace dfir {

using grammar::DfirLexer;
using grammar::DfirParser;

// ------------------------------------------------------------ locations --

TokenLocator::TokenLocator(uint32_t file, std::string_view text) : file_(file) {
  for (uint32_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) cpToByte_.push_back(i);
  cpToByte_.push_back(static_cast<uint32_t>(text.size()));
}

SourceRange TokenLocator::range(const antlr4::Token *t) const {
  if (t->getType() == antlr4::Token::EOF) {
    uint32_t end = cpToByte_.back();
    return SourceRange(SourceLoc{file_, end}, end);
  }
  return SourceRange(SourceLoc{file_, byteOffset(t->getStartIndex())},
                     byteOffset(t->getStopIndex() + 1));
}

SourceRange TokenLocator::range(antlr4::ParserRuleContext *ctx) const {
  SourceRange b = range(ctx->getStart());
  const antlr4::Token *stop = ctx->getStop();
  if (!stop || stop->getTokenIndex() < ctx->getStart()->getTokenIndex()) return b;
  return SourceRange(b.begin, range(stop).end);
}

// ---------------------------------------------------------------- UTF-8 --

/// Returns the offset of the first invalid byte, or npos.
static size_t findInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const uint32_t minCp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < minCp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

// --------------------------------------------------------------- tokens --

static std::string tokenDisplay(const antlr4::dfa::Vocabulary &voc, size_t type) {
  if (type == antlr4::Token::EOF) return "end of file";
  switch (type) {
  case DfirLexer::IDENT: return "identifier";
  case DfirLexer::INT: return "integer literal";
  case DfirLexer::FLOAT: return "float literal";
  case DfirLexer::STRING: return "string literal";
  case DfirLexer::LIFETIME: return "lifetime";
  default: break;
  }
  std::string lit = voc.getLiteralName(type);
  if (lit.size() >= 2 && lit.front() == '\'') return "`" + lit.substr(1, lit.size() - 2) + "`";
  return voc.getSymbolicName(type);
}

static std::string foundDisplay(const antlr4::Token *t) {
  if (t->getType() == antlr4::Token::EOF) return "end of file";
  return "`" + t->getText() + "`";
}

namespace {

/// Lexes a whole buffer and reports lexical errors (bad characters,
/// unterminated strings and comments) and pathological nesting.
struct Lexed {
  std::unique_ptr<antlr4::ANTLRInputStream> input;
  std::unique_ptr<DfirLexer> lexer;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
};

constexpr unsigned kMaxNesting = 256;

/// Returns false when parsing cannot go on (an unterminated string or
/// pathological nesting); `lexicalErrors` counts every lexical error.
bool lexBuffer(const SourceManager &sm, uint32_t file, DiagnosticEngine &diags,
               const TokenLocator &loc, Lexed &out, unsigned &lexicalErrors) {
  std::string_view text = sm.text(file);
  out.input = std::make_unique<antlr4::ANTLRInputStream>(std::string(text));
  out.lexer = std::make_unique<DfirLexer>(out.input.get());
  out.lexer->removeErrorListeners();
  out.tokens = std::make_unique<antlr4::CommonTokenStream>(out.lexer.get());
  out.tokens->fill();
  bool ok = true;
  unsigned depth = 0, prefixRun = 0;
  for (antlr4::Token *t : out.tokens->getTokens()) {
    switch (t->getType()) {
    case DfirLexer::BAD_CHAR:
      diags.report(DiagID::err_bad_char, loc.range(t)) << t->getText();
      ++lexicalErrors;
      break;
    case DfirLexer::UNTERMINATED_STRING:
      diags.report(DiagID::err_unterminated_string, loc.range(t).begin.valid()
                                                        ? SourceRange(loc.range(t).begin, loc.range(t).begin.offset + 1)
                                                        : loc.range(t));
      ++lexicalErrors;
      ok = false;
      break;
    case DfirLexer::UNTERMINATED_COMMENT: {
      SourceRange r = loc.range(t);
      diags.report(DiagID::err_unterminated_comment, SourceRange(r.begin, r.begin.offset + 2));
      ++lexicalErrors;
      break;
    }
    default: break;
    }
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    std::string s = t->getType() == antlr4::Token::EOF ? "" : t->getText();
    if (s == "(" || s == "[" || s == "{") ++depth;
    else if ((s == ")" || s == "]" || s == "}") && depth) --depth;
    prefixRun = (s == "-" || s == "!" || s == "|" || s == "||" || s == "if" || s == "match")
                    ? prefixRun + 1 : 0;
    if (ok && (depth > kMaxNesting || prefixRun > kMaxNesting)) {
      diags.report(DiagID::err_nesting_too_deep, loc.range(t)) << kMaxNesting;
      ok = false;
      break;
    }
  }
  return ok;
}

/// Turns ANTLR's recognition errors into our diagnostics. After an error,
/// later errors are suppressed until the parser has moved past a `;` or `}`
/// (the end of the broken item), so one mistake gives one error.
class DiagnosingErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  DiagnosingErrorStrategy(DiagnosticEngine &diags, const TokenLocator &loc)
      : diags_(diags), loc_(loc) {}
  unsigned errors = 0;

protected:
  void reportNoViableAlternative(antlr4::Parser *p, const antlr4::NoViableAltException &e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportInputMismatch(antlr4::Parser *p, const antlr4::InputMismatchException &e) override {
    report(p, e.getOffendingToken(), e.getExpectedTokens());
  }
  void reportFailedPredicate(antlr4::Parser *p, const antlr4::FailedPredicateException &e) override {
    report(p, e.getOffendingToken(), antlr4::misc::IntervalSet());
  }
  void reportUnwantedToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p));
  }
  void reportMissingToken(antlr4::Parser *p) override {
    if (inErrorRecoveryMode(p)) return;
    beginErrorCondition(p);
    report(p, p->getCurrentToken(), getExpectedTokens(p));
  }

private:
  void report(antlr4::Parser *p, antlr4::Token *found, const antlr4::misc::IntervalSet &expected) {
    ++errors;
    if (!found) found = p->getCurrentToken();
    size_t idx = found->getTokenIndex();
    if (haveLast_ && !passedItemEnd(p, lastIndex_, idx)) return;
    haveLast_ = true;
    lastIndex_ = idx;
    const auto &voc = p->getVocabulary();
    std::vector<std::string> names;
    for (size_t t : expected.toList()) {
      // `_` can only start a pattern; listing it adds noise.
      if (t == antlr4::Token::EPSILON) continue;
      names.push_back(tokenDisplay(voc, t));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    SourceRange r = loc_.range(found);
    // A token missing at the end of a line (typically `;`) is reported just
    // after the previous token rather than at the start of the next line.
    if (auto *prev = previousVisible(p, idx)) {
      SourceRange pr = loc_.range(prev);
      if (lineOf(pr.end) != lineOf(r.begin.offset))
        r = SourceRange(SourceLoc{pr.begin.file, pr.end}, pr.end);
    }
    if (!names.empty() && names.size() <= 6) {
      std::string list;
      for (size_t i = 0; i < names.size(); ++i) {
        if (i) list += i + 1 == names.size() ? " or " : ", ";
        list += names[i];
      }
      diags_.report(DiagID::err_expected_token, r) << list << foundDisplay(found);
    } else {
      diags_.report(DiagID::err_unexpected_token, r) << foundDisplay(found);
    }
  }
  unsigned lineOf(uint32_t offset) const {
    return diags_.sourceManager().lineCol(SourceLoc{loc_.file(), offset}).line;
  }
  static antlr4::Token *previousVisible(antlr4::Parser *p, size_t idx) {
    auto *ts = dynamic_cast<antlr4::BufferedTokenStream *>(p->getTokenStream());
    if (!ts) return nullptr;
    for (size_t i = idx; i-- > 0;) {
      antlr4::Token *t = ts->get(i);
      if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return t;
    }
    return nullptr;
  }
  static bool passedItemEnd(antlr4::Parser *p, size_t from, size_t to) {
    auto *ts = dynamic_cast<antlr4::BufferedTokenStream *>(p->getTokenStream());
    if (!ts || to <= from) return false;
    for (size_t i = from; i < to; ++i) {
      std::string s = ts->get(i)->getText();
      if (s == ";" || s == "}") return true;
    }
    return false;
  }
  DiagnosticEngine &diags_;
  const TokenLocator &loc_;
  bool haveLast_ = false;
  size_t lastIndex_ = 0;
};

} // namespace

static bool checkUtf8(const SourceManager &sm, uint32_t file, DiagnosticEngine &diags) {
  size_t bad = findInvalidUtf8(sm.text(file));
  if (bad == std::string_view::npos) return true;
  uint32_t off = static_cast<uint32_t>(bad);
  diags.report(DiagID::err_invalid_utf8, SourceRange(SourceLoc{file, off}, off + 1));
  return false;
}

std::unique_ptr<ast::Program> parseProgram(const SourceManager &sm, uint32_t file,
                                           DiagnosticEngine &diags) {
  if (!checkUtf8(sm, file, diags)) return nullptr;
  TokenLocator loc(file, sm.text(file));
  Lexed lexed;
  try {
    unsigned lexicalErrors = 0;
    if (!lexBuffer(sm, file, diags, loc, lexed, lexicalErrors)) return nullptr;
    DfirParser parser(lexed.tokens.get());
    parser.removeErrorListeners();
    auto strategy = std::make_shared<DiagnosingErrorStrategy>(diags, loc);
    parser.setErrorHandler(strategy);
    DfirParser::ProgramContext *tree = parser.program();
    if (lexicalErrors || strategy->errors || parser.getNumberOfSyntaxErrors()) return nullptr;
    return buildAST(tree, loc, sm, diags);
  } catch (const std::exception &e) {
    // ANTLR reports through the strategy; anything thrown here is unexpected
    // input we failed to anticipate. Report it as a user-facing syntax error
    // rather than crashing.
    diags.report(DiagID::err_unexpected_token, SourceRange(SourceLoc{file, 0}, 0)) << e.what();
    return nullptr;
  }
}

bool dumpTokens(const SourceManager &sm, uint32_t file, DiagnosticEngine &diags,
                std::string &out) {
  if (!checkUtf8(sm, file, diags)) return false;
  TokenLocator loc(file, sm.text(file));
  Lexed lexed;
  unsigned lexicalErrors = 0;
  bool ok = lexBuffer(sm, file, diags, loc, lexed, lexicalErrors) && lexicalErrors == 0;
  const auto &voc = lexed.lexer->getVocabulary();
  for (antlr4::Token *t : lexed.tokens->getTokens()) {
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    LineCol lc = sm.lineCol(loc.range(t).begin);
    std::string kind = t->getType() == antlr4::Token::EOF ? "EOF" : voc.getSymbolicName(t->getType());
    if (kind.empty()) kind = std::isalpha(static_cast<unsigned char>(t->getText()[0])) ? "KEYWORD" : "PUNCT";
    out += kind;
    if (t->getType() != antlr4::Token::EOF) out += " '" + t->getText() + "'";
    out += " " + std::to_string(lc.line) + ":" + std::to_string(lc.column) + "\n";
  }
  return ok;
}

} // namespace dfir
