//===- ParseTree.h - Shared internals of Parser.cpp and ASTBuilder.cpp ----===//
//
// Private to frontend/: includes the generated ANTLR headers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "DfirLexer.h"
#include "DfirParser.h"
#include "frontend/AST.h"
#include "frontend/Diagnostics.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dfir {

/// Maps ANTLR's code-point indexes back to byte offsets in the buffer.
class TokenLocator {
public:
  /// ANTLR's input stream drops a leading byte order mark; so does the map.
  TokenLocator(uint32_t file, std::string_view text);
  SourceRange range(const antlr4::Token *t) const;
  SourceRange range(antlr4::ParserRuleContext *ctx) const;
  SourceRange range(antlr4::tree::TerminalNode *n) const { return range(n->getSymbol()); }
  uint32_t file() const { return file_; }

private:
  uint32_t byteOffset(size_t codePoint) const {
    return codePoint < cpToByte_.size() ? cpToByte_[codePoint] : cpToByte_.back();
  }
  uint32_t file_;
  std::vector<uint32_t> cpToByte_; // one entry per code point, plus the end
};

/// The input of the lexer: ANTLR's stream (token texts are read from it),
/// whose code points the lexer scans directly.
class CodePointStream : public antlr4::ANTLRInputStream {
public:
  using antlr4::ANTLRInputStream::ANTLRInputStream;
  const std::u32string &codePoints() const { return _data; }
};

/// The tokens of `codePoints` (frontend/Lexer.cpp), as the lexer rules of
/// grammar/Dfir.g4 define them. Token types come from `vocabulary`.
std::unique_ptr<antlr4::TokenSource> newTokenSource(antlr4::CharStream *input, const std::u32string &codePoints,
                                                    const antlr4::dfa::Vocabulary &vocabulary);

/// Builds the AST from the items that parsed, taken one at a time from
/// `next` until it returns null; reports the literal and token-adjacency
/// errors the grammar leaves to it. `next` may free the parse tree of the
/// item before, so that only one item's tree is alive at a time.
std::unique_ptr<ast::Program> buildAST(const std::function<grammar::DfirParser::ItemContext *()> &next,
                                       const TokenLocator &loc, DiagnosticEngine &diags);

} // namespace dfir
