//===- Lexer.cpp - The tokens of grammar/Dfir.g4, without the ATN ---------===//
//
// The parser reads its tokens from here rather than from the lexer ANTLR
// generates: the generated one interprets an automaton per character and
// took a third of `dfirc check` on large files (about 2 us per token). This
// one follows the lexer rules of the grammar to the letter (longest match,
// the earlier rule on a tie, keywords and punctuation as the grammar's
// literals); the grammar stays the specification, and test/unit/LexerTest
// compares the two token by token on every test input.
//
//===----------------------------------------------------------------------===//
#include "frontend/ParseTree.h"

#include <algorithm>
#include <unordered_map>

namespace dfir {

using grammar::DfirLexer;

namespace {

bool isDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool isIdentStart(char32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool isIdentPart(char32_t c) { return isIdentStart(c) || isDigit(c); }
bool isHexDigit(char32_t c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '_'; }
bool isSpace(char32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

class DfirTokenSource : public antlr4::TokenSource {
public:
  DfirTokenSource(antlr4::CharStream *input, const std::u32string &text, const antlr4::dfa::Vocabulary &voc)
      : input_(input), s_(text) {
    for (size_t type = 1; type <= voc.getMaxTokenType(); ++type) {
      std::string lit = voc.getLiteralName(type);
      if (lit.size() < 3) continue;
      lit = lit.substr(1, lit.size() - 2);
      if (isIdentStart(static_cast<unsigned char>(lit[0]))) keywords_[lit] = type;
      else punct_[lit] = type;
    }
  }

  std::unique_ptr<antlr4::Token> nextToken() override {
    while (pos_ < s_.size() && isSpace(s_[pos_])) advance(1); // WS -> skip
    size_t start = pos_, line = line_, column = column_;
    size_t type = antlr4::Token::EOF, channel = antlr4::Token::DEFAULT_CHANNEL;
    if (pos_ < s_.size()) {
      size_t length = match(type, channel);
      advance(length);
    }
    auto token = std::make_unique<antlr4::CommonToken>(std::make_pair(this, input_), type, channel, start, pos_ - 1);
    token->setLine(line);
    token->setCharPositionInLine(column);
    return token;
  }

  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() override { return column_; }
  antlr4::CharStream *getInputStream() override { return input_; }
  std::string getSourceName() override { return input_->getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken> *getTokenFactory() override {
    return antlr4::CommonTokenFactory::DEFAULT.get();
  }

private:
  char32_t at(size_t i) const { return i < s_.size() ? s_[i] : 0; }

  void advance(size_t n) {
    for (size_t end = pos_ + n; pos_ < end; ++pos_) {
      if (s_[pos_] == '\n') {
        ++line_;
        column_ = 0;
      } else {
        ++column_;
      }
    }
  }

  /// The token at pos_: its length, type and channel.
  size_t match(size_t &type, size_t &channel) {
    char32_t c = s_[pos_], next = at(pos_ + 1);
    if (isDigit(c)) return number(type);
    if (isIdentStart(c)) {
      size_t end = pos_ + 1;
      while (end < s_.size() && isIdentPart(s_[end])) ++end;
      std::string word(s_.begin() + pos_, s_.begin() + end); // ASCII
      auto kw = keywords_.find(word);
      type = kw != keywords_.end() ? kw->second : size_t(DfirLexer::IDENT);
      return end - pos_;
    }
    if (c == '/' && (next == '/' || next == '*')) {
      channel = antlr4::Token::HIDDEN_CHANNEL;
      type = next == '/' ? size_t(DfirLexer::LINE_COMMENT) : size_t(DfirLexer::BLOCK_COMMENT);
      return next == '/' ? lineComment() : blockComment();
    }
    if (c == '"') return string(type);
    if (c == '\'' && isIdentStart(next)) {
      size_t end = pos_ + 2;
      while (end < s_.size() && isIdentPart(s_[end])) ++end;
      type = DfirLexer::LIFETIME;
      return end - pos_;
    }
    if (c < 0x80) {
      for (size_t len : {2, 1}) {
        if (pos_ + len > s_.size() || (len == 2 && next >= 0x80)) continue;
        std::string p(s_.begin() + pos_, s_.begin() + pos_ + len);
        if (auto it = punct_.find(p); it != punct_.end()) {
          type = it->second;
          return len;
        }
      }
    }
    type = DfirLexer::BAD_CHAR;
    channel = antlr4::Token::HIDDEN_CHANNEL;
    return 1;
  }

  size_t lineComment() const {
    size_t end = pos_ + 2;
    while (end < s_.size() && s_[end] != '\r' && s_[end] != '\n') ++end;
    return end - pos_;
  }

  /// Nested pairs counted; an unclosed comment runs to the end.
  size_t blockComment() const {
    size_t end = pos_ + 2, depth = 1;
    while (depth > 0 && end < s_.size()) {
      char32_t c = s_[end], next = at(end + 1);
      if ((c == '/' && next == '*') || (c == '*' && next == '/')) {
        depth = c == '/' ? depth + 1 : depth - 1;
        ++end;
      }
      ++end;
    }
    return std::min(end, s_.size()) - pos_;
  }

  /// STRING, or UNTERMINATED_STRING up to where it cannot go on.
  size_t string(size_t &type) const {
    size_t end = pos_ + 1;
    type = DfirLexer::UNTERMINATED_STRING;
    while (end < s_.size()) {
      char32_t c = s_[end];
      if (c == '"') {
        type = DfirLexer::STRING;
        return end + 1 - pos_;
      }
      if (c == '\r' || c == '\n') break;
      if (c == '\\') {
        if (end + 1 >= s_.size() || s_[end + 1] == '\r' || s_[end + 1] == '\n') break;
        ++end;
      }
      ++end;
    }
    return end - pos_;
  }

  // ------------------------------------------------------------ numbers --
  size_t digits(size_t i) const { // DEC's tail: [0-9_]*
    while (i < s_.size() && (isDigit(s_[i]) || s_[i] == '_')) ++i;
    return i;
  }
  size_t exponent(size_t i) const { // [eE] [+-]? [0-9_]+, or i
    if (at(i) != 'e' && at(i) != 'E') return i;
    size_t j = i + 1;
    if (at(j) == '+' || at(j) == '-') ++j;
    size_t end = digits(j);
    return end > j ? end : i;
  }
  size_t floatSuffix(size_t i) const { // 'f32' | 'f64', or i
    if (at(i) == 'f' && ((at(i + 1) == '3' && at(i + 2) == '2') || (at(i + 1) == '6' && at(i + 2) == '4')))
      return i + 3;
    return i;
  }
  size_t intSuffix(size_t i) const { // [iu] ('8' | '16' | '32' | '64'), or i
    if (at(i) != 'i' && at(i) != 'u') return i;
    char32_t a = at(i + 1), b = at(i + 2);
    if (a == '8') return i + 2;
    if ((a == '1' && b == '6') || (a == '3' && b == '2') || (a == '6' && b == '4')) return i + 3;
    return i;
  }

  /// The longest of the FLOAT and INT alternatives; FLOAT first on a tie.
  size_t number(size_t &type) const {
    size_t dec = digits(pos_ + 1), best = 0;
    auto consider = [&](size_t end, size_t kind) {
      if (end - pos_ > best) {
        best = end - pos_;
        type = kind;
      }
    };
    if (at(dec) == '.' && isDigit(at(dec + 1))) { // DEC '.' DEC EXPONENT? FLOAT_SUFFIX?
      size_t end = exponent(digits(dec + 2));
      consider(floatSuffix(end), DfirLexer::FLOAT);
    }
    if (size_t e = exponent(dec); e != dec) consider(floatSuffix(e), DfirLexer::FLOAT); // DEC EXPONENT FLOAT_SUFFIX?
    if (size_t f = floatSuffix(dec); f != dec) consider(f, DfirLexer::FLOAT);           // DEC FLOAT_SUFFIX
    consider(intSuffix(dec), DfirLexer::INT);                                             // DEC INT_SUFFIX?
    if (s_[pos_] == '0' && at(pos_ + 1) == 'x' && isHexDigit(at(pos_ + 2))) {            // '0x' HEX+ INT_SUFFIX?
      size_t end = pos_ + 2;
      while (end < s_.size() && isHexDigit(s_[end])) ++end;
      consider(intSuffix(end), DfirLexer::INT);
    }
    return best;
  }

  antlr4::CharStream *input_;
  const std::u32string &s_;
  size_t pos_ = 0, line_ = 1, column_ = 0;
  std::unordered_map<std::string, size_t> keywords_, punct_;
};

} // namespace

std::unique_ptr<antlr4::TokenSource> newTokenSource(antlr4::CharStream *input, const std::u32string &codePoints,
                                                    const antlr4::dfa::Vocabulary &vocabulary) {
  return std::make_unique<DfirTokenSource>(input, codePoints, vocabulary);
}

} // namespace dfir
