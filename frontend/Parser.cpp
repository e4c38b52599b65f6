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
  uint32_t start = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  for (uint32_t i = start; i < text.size(); ++i)
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
  for (size_t i = 0; i < s.size();) {
    size_t len = utf8CharLength(s, i);
    if (len == 0) return i;
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
  std::unique_ptr<CodePointStream> input;
  std::unique_ptr<DfirLexer> lexer; // its vocabulary; the tokens come from `source`
  std::unique_ptr<antlr4::TokenSource> source;
  std::unique_ptr<antlr4::CommonTokenStream> tokens;
};


constexpr unsigned kMaxNesting = 256;

/// True when every `/*` in a block comment token has its `*/`.
bool commentClosed(const std::string &text) {
  int depth = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '/' && text[i + 1] == '*') {
      ++depth;
      ++i;
    } else if (text[i] == '*' && text[i + 1] == '/') {
      --depth;
      ++i;
    }
  }
  return depth == 0;
}

/// Lexes the whole buffer and reports lexical errors: bad characters, an
/// unterminated string or comment (everything after one is suspect, so it
/// ends the scan), and pathological nesting. Returns false if there were any;
/// the file is then not parsed, so a lexical mistake gives no syntax errors.
bool lexBuffer(const SourceManager &sm, uint32_t file, DiagnosticEngine &diags,
               const TokenLocator &loc, Lexed &out) {
  std::string_view text = sm.text(file);
  out.input = std::make_unique<CodePointStream>(std::string(text));
  out.lexer = std::make_unique<DfirLexer>(out.input.get());
  out.lexer->removeErrorListeners();
  out.source = newTokenSource(out.input.get(), out.input->codePoints(), out.lexer->getVocabulary());
  out.tokens = std::make_unique<antlr4::CommonTokenStream>(out.source.get());
  out.tokens->fill();
  // What the nesting scan needs of each token kind, from its literal text
  // (`'('`): looked up by type, so the scan allocates nothing per token.
  enum Role : uint8_t { Other, Open, Close, Less, Greater, Semi, PathSep, Prefix, UpperKeyword };
  const auto &voc = out.lexer->getVocabulary();
  std::vector<Role> roles(voc.getMaxTokenType() + 1, Other);
  for (size_t k = 0; k < roles.size(); ++k) {
    std::string lit = voc.getLiteralName(k);
    if (lit.size() < 3) continue;
    lit = lit.substr(1, lit.size() - 2);
    roles[k] = lit == "(" || lit == "[" || lit == "{"               ? Open
               : lit == ")" || lit == "]" || lit == "}"             ? Close
               : lit == "<"                                         ? Less
               : lit == ">"                                         ? Greater
               : lit == ";"                                         ? Semi
               : lit == "::"                                        ? PathSep
               : lit == "-" || lit == "!" || lit == "||" || lit == "if" || lit == "match" ? Prefix
               : std::isupper(static_cast<unsigned char>(lit[0])) ? UpperKeyword
                                                                   : Other;
  }
  bool ok = true;
  unsigned depth = 0, prefixRun = 0, genericDepth = 0;
  bool prevTypeLike = false; // the token before may start a generic: `::`, `Option`
  for (antlr4::Token *t : out.tokens->getTokens()) {
    switch (t->getType()) {
    case DfirLexer::BAD_CHAR:
      diags.report(DiagID::err_bad_char, loc.range(t)) << showLine(t->getText(), 0, 0).text;
      ok = false;
      continue;
    case DfirLexer::UNTERMINATED_STRING: {
      SourceRange r = loc.range(t);
      diags.report(DiagID::err_unterminated_string, SourceRange(r.begin, r.begin.offset + 1));
      return false;
    }
    case DfirLexer::BLOCK_COMMENT:
      if (!commentClosed(t->getText())) {
        SourceRange r = loc.range(t);
        diags.report(DiagID::err_unterminated_comment, SourceRange(r.begin, r.begin.offset + 2));
        return false;
      }
      continue;
    default: break;
    }
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL || t->getType() == antlr4::Token::EOF) continue;
    Role role = t->getType() < roles.size() ? roles[t->getType()] : Other;
    // `<` opens a generic after a type-like name (`Option<`, `::<`); the
    // count restarts at every `;` so comparisons cannot add up.
    bool genericOpen = role == Less && prevTypeLike;
    if (role == Open || genericOpen) ++depth;
    else if ((role == Close || (role == Greater && genericDepth)) && depth) --depth;
    if (genericOpen) ++genericDepth;
    else if (role == Greater && genericDepth) --genericDepth;
    if (role == Semi) genericDepth = 0;
    prefixRun = role == Prefix ? prefixRun + 1 : 0;
    if (depth > kMaxNesting || prefixRun > kMaxNesting) {
      diags.report(DiagID::err_nesting_too_deep, loc.range(t)) << kMaxNesting;
      return false;
    }
    prevTypeLike = role == PathSep || role == UpperKeyword ||
                   (t->getType() == DfirLexer::IDENT && std::isupper(static_cast<unsigned char>(text[loc.range(t).begin.offset])));
  }
  return ok;
}

/// Turns ANTLR's recognition errors into our diagnostics and abandons the
/// item at its first error: parseProgram then skips to the next item, so one
/// mistake gives one error and later items are still checked.
class DiagnosingErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  DiagnosingErrorStrategy(DiagnosticEngine &diags, const TokenLocator &loc)
      : diags_(diags), loc_(loc) {}
  unsigned errors = 0;
  size_t errorToken = 0; // index of the token the last error was reported at

  void recover(antlr4::Parser *, std::exception_ptr) override {
    throw antlr4::ParseCancellationException();
  }
  antlr4::Token *recoverInline(antlr4::Parser *p) override {
    antlr4::InputMismatchException e(p);
    report(p, e.getOffendingToken(), e.getExpectedTokens());
    throw antlr4::ParseCancellationException();
  }
  void sync(antlr4::Parser *) override {}

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

private:
  void report(antlr4::Parser *p, antlr4::Token *found, const antlr4::misc::IntervalSet &expected) {
    ++errors;
    if (!found) found = p->getCurrentToken();
    // A call whose argument list is broken (`f(a b)`) is left by ANTLR's
    // prediction, which then reports the call's `(` in the enclosing
    // context; point at the token that breaks the list instead.
    if (antlr4::Token *breaker = brokenArgument(p, found)) {
      errorToken = breaker->getTokenIndex();
      diags_.report(DiagID::err_expected_token, loc_.range(breaker)) << "`)` or `,`" << foundDisplay(breaker);
      return;
    }
    errorToken = found->getTokenIndex();
    // `loop {` is read as a loop block wherever the front end reads
    // statements one at a time; the grammar meets it only in a subgraph's
    // body.
    if (antlr4::Token *prev = previousVisible(p, errorToken);
        prev && found->getText() == "{" && prev->getText() == "loop") {
      diags_.report(DiagID::err_loop_in_subgraph, loc_.range(prev));
      return;
    }
    const auto &voc = p->getVocabulary();
    std::vector<std::string> names;
    bool wantsSemicolon = false;
    for (size_t t : expected.toList()) {
      if (t == antlr4::Token::EPSILON) continue;
      std::string name = tokenDisplay(voc, t);
      wantsSemicolon = wantsSemicolon || name == "`;`";
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    SourceRange r = loc_.range(found);
    // A `;` missing at the end of a line (or anything missing at the end of
    // the file) is reported just after the last token, not on the next line.
    bool atEnd = found->getType() == antlr4::Token::EOF;
    if (auto *prev = previousVisible(p, errorToken); prev && (wantsSemicolon || atEnd)) {
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
  /// When `open` is the `(` of a call (it follows an operand), the first
  /// operand in its argument list that directly follows another (no `,` or
  /// operator between them), if any.
  static antlr4::Token *brokenArgument(antlr4::Parser *p, antlr4::Token *open) {
    auto *ts = dynamic_cast<antlr4::BufferedTokenStream *>(p->getTokenStream());
    if (!ts || open->getText() != "(") return nullptr;
    antlr4::Token *before = previousVisible(p, open->getTokenIndex());
    if (!before || !endsOperand(before)) return nullptr;
    int depth = 0;
    bool afterOperand = false;
    for (size_t i = open->getTokenIndex() + 1; i < ts->size(); ++i) {
      antlr4::Token *t = ts->get(i);
      if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
      if (t->getType() == antlr4::Token::EOF) return nullptr;
      std::string s = t->getText();
      if (s == "(" || s == "[" || s == "{") {
        ++depth;
        afterOperand = false;
      } else if (s == ")" || s == "]" || s == "}") {
        if (depth-- == 0) return nullptr; // the list closes without a break
        afterOperand = depth == 0;
      } else if (startsOperand(t)) {
        if (depth == 0 && afterOperand) return t;
        afterOperand = depth == 0;
      } else {
        afterOperand = false;
      }
    }
    return nullptr;
  }
  static bool startsOperand(const antlr4::Token *t) {
    size_t k = t->getType();
    std::string s = t->getText();
    return k == DfirLexer::IDENT || k == DfirLexer::INT || k == DfirLexer::FLOAT || k == DfirLexer::STRING ||
           s == "true" || s == "false";
  }
  static bool endsOperand(const antlr4::Token *t) {
    std::string s = t->getText();
    return startsOperand(t) || s == ")" || s == "]" || s == "}" || s == "Some" || s == "None";
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
  DiagnosticEngine &diags_;
  const TokenLocator &loc_;
};

/// After an error in the item that started at token `start`, finds where
/// the next item starts: after a `;` or the `}` closing the item at its own
/// nesting level, or at a line that begins like an item (`x =`, `process`,
/// ...), whichever comes first. Always moves past `start`.
size_t resync(antlr4::BufferedTokenStream &ts, size_t start, size_t error) {
  static const char *itemKeywords[] = {"import", "type", "struct", "enum", "extern", "fn", "subgraph", "const",
                                       "process", "cluster", "channel"};
  auto visible = [&](size_t i) {
    for (; i < ts.size(); ++i)
      if (ts.get(i)->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return i;
    return ts.size() - 1;
  };
  auto isOpen = [](const std::string &s) { return s == "(" || s == "[" || s == "{"; };
  auto isClose = [](const std::string &s) { return s == ")" || s == "]" || s == "}"; };
  int depth = 0;
  for (size_t i = start; i < error && i < ts.size(); ++i) {
    std::string s = ts.get(i)->getText();
    if (ts.get(i)->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    if (isOpen(s)) ++depth;
    else if (isClose(s)) --depth;
  }
  size_t lastLine = ts.get(visible(start))->getLine();
  for (size_t i = visible(error > start ? error : start); i < ts.size(); i = visible(i + 1)) {
    antlr4::Token *t = ts.get(i);
    if (t->getType() == antlr4::Token::EOF) return i;
    std::string s = t->getText();
    bool startsLine = t->getLine() != lastLine;
    lastLine = t->getLine();
    if (i > start && depth <= 0 && startsLine) {
      bool keyword = std::find(std::begin(itemKeywords), std::end(itemKeywords), s) != std::end(itemKeywords);
      std::string next = ts.get(visible(i + 1))->getText();
      bool named = t->getType() == DfirLexer::IDENT &&
                   (next == "=" || next == "{" || next == "->" || next == "(" || next == "::");
      if (keyword || named) return i;
    }
    if (isOpen(s)) ++depth;
    if (isClose(s) && --depth <= 0 && s == "}" && depth == 0 && i > start) return visible(i + 1);
    if (s == ";" && depth <= 0) return visible(i + 1);
  }
  return ts.size() - 1;
}

} // namespace

/// Source is UTF-8 text. A NUL byte means a binary file (no text has one):
/// one error for the file, rather than one per byte or a screen of them.
static bool checkEncoding(const SourceManager &sm, uint32_t file, DiagnosticEngine &diags) {
  std::string_view text = sm.text(file);
  size_t bad = text.find('\0');
  DiagID kind = DiagID::err_binary_file;
  if (bad == std::string_view::npos) {
    bad = findInvalidUtf8(text);
    kind = DiagID::err_invalid_utf8;
  }
  if (bad == std::string_view::npos) return true;
  uint32_t off = static_cast<uint32_t>(bad);
  diags.report(kind, SourceRange(SourceLoc{file, off}, off + 1));
  return false;
}

std::unique_ptr<ast::Program> parseProgram(const SourceManager &sm, uint32_t file,
                                           DiagnosticEngine &diags) {
  if (!checkEncoding(sm, file, diags)) return nullptr;
  TokenLocator loc(file, sm.text(file));
  Lexed lexed;
  unsigned before = diags.errorCount();
  try {
    if (!lexBuffer(sm, file, diags, loc, lexed)) return nullptr;
    DfirParser parser(lexed.tokens.get());
    parser.removeErrorListeners();
    auto strategy = std::make_shared<DiagnosingErrorStrategy>(diags, loc);
    parser.setErrorHandler(strategy);
    antlr4::CommonTokenStream &ts = *lexed.tokens;
    // Items are parsed one at a time, each built into the AST and its parse
    // tree freed before the next: parse trees take more than 100 bytes per
    // byte of input, and only one is alive at a time. A location block is
    // read a statement at a time for the same reason.
    const antlr4::atn::ATN &atn = parser.getATN();
    const antlr4::misc::IntervalSet statementStart =
        atn.nextTokens(atn.ruleToStartState[DfirParser::RuleStatement]);
    size_t blockStart = 0;
    bool inBlock = false;
    unsigned loopDepth = 0; // loop blocks open (in the location block, or at the top)
    size_t loopStart = 0;   // where the outermost one opened, outside a location block
    auto isText = [&](size_t k, const char *text) { return ts.LT(k)->getText() == text; };
    auto nextPiece = [&]() -> ParsedPiece {
      parser.getTreeTracker().reset();
      ParsedPiece piece;
      while (ts.LA(1) != antlr4::Token::EOF || inBlock || loopDepth > 0) {
        // After an error, resume after the block (or the top-level loop)
        // that held it, or after the item.
        size_t start = inBlock ? blockStart : loopDepth > 0 ? loopStart : ts.index();
        try {
          // `loop {` is a loop block wherever a statement may stand.
          if (ts.LA(1) == DfirParser::IDENT && isText(1, "loop") && isText(2, "{")) {
            piece.loopOpen = ts.LT(1);
            if (loopDepth == 0) loopStart = ts.index();
            ts.consume();
            ts.consume();
            ++loopDepth;
            return piece;
          }
          if (loopDepth > 0 && !statementStart.contains(ts.LA(1))) {
            piece.loopClose = parser.locationClose()->getStart();
            if (isText(1, ";")) ts.consume();
            --loopDepth;
            return piece;
          }
          if (loopDepth > 0) {
            piece.statement = parser.statement();
            return piece;
          }
          if (!inBlock && ts.LA(1) == DfirParser::IDENT && isText(2, "{")) {
            blockStart = ts.index();
            inBlock = true;
            piece.blockName = ts.LT(1);
            ts.consume();
            ts.consume();
            return piece;
          }
          if (!inBlock) {
            piece.item = parser.item();
            return piece;
          }
          if (statementStart.contains(ts.LA(1))) {
            piece.statement = parser.statement();
            return piece;
          }
          piece.blockClose = parser.locationClose()->getStart();
          inBlock = false;
          return piece;
        } catch (const antlr4::ParseCancellationException &) {
          // As for a whole item: resume at what looks like the next item
          // after the block (or the item) that held the error.
          inBlock = false;
          loopDepth = 0;
          size_t next = resync(ts, start, std::max(strategy->errorToken, ts.index()));
          ts.seek(next);
          strategy->reset(&parser);
        }
      }
      return piece;
    };
    auto program = buildAST(nextPiece, loc, diags);
    if (diags.errorCount() != before) return nullptr;
    return program;
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
  if (!checkEncoding(sm, file, diags)) return false;
  TokenLocator loc(file, sm.text(file));
  Lexed lexed;
  bool ok = lexBuffer(sm, file, diags, loc, lexed);
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
