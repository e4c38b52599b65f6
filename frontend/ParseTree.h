//===- ParseTree.h - Shared internals of Parser.cpp and ASTBuilder.cpp ----===//
//
// Private to frontend/: includes the generated ANTLR headers.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "DfirLexer.h"
#include "DfirParser.h"
#include "frontend/AST.h"
#include "support/Diagnostics.h"

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

/// One piece of a program as the parser hands it over: a whole item, or,
/// for a location block (which may be as large as a program), its opening,
/// each of its statements and its closing brace separately; a loop block's
/// opening and closing are pieces too, its statements those of the block
/// (or the top level) around it.
struct ParsedPiece {
  grammar::DfirParser::ItemContext *item = nullptr;
  antlr4::Token *blockName = nullptr;                         // `NAME {` opens a block
  grammar::DfirParser::StatementContext *statement = nullptr; // inside the open block
  antlr4::Token *blockClose = nullptr;                        // its `}`
  antlr4::Token *loopOpen = nullptr;                          // `loop {` opens a loop block
  antlr4::Token *loopClose = nullptr;                         // its `}` (an optional `;` after it is consumed)
  bool end() const { return !item && !blockName && !statement && !blockClose && !loopOpen && !loopClose; }
};

/// Builds the AST from the pieces that parsed, taken one at a time from
/// `next` until it returns an empty piece; reports the literal and
/// token-adjacency errors the grammar leaves to it. `next` may free the
/// parse tree of the piece before, so that only one piece's tree is alive
/// at a time.
std::unique_ptr<ast::Program> buildAST(const std::function<ParsedPiece()> &next, const TokenLocator &loc,
                                       DiagnosticEngine &diags);

} // namespace dfir
