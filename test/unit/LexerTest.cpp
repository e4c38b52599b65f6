// The hand-written lexer (frontend/Lexer.cpp) against the lexer ANTLR
// generates from grammar/Dfir.g4, the specification: the same tokens (type,
// channel, position, line, column) on every .dfir file of the test suite and
// on random text made of the characters where lexing rules meet.
#include "frontend/ParseTree.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace dfir;

namespace {

std::string describe(const antlr4::Token &t) {
  return std::to_string(t.getType()) + "/" + std::to_string(t.getChannel()) + " [" + std::to_string(t.getStartIndex()) +
         "," + std::to_string(t.getStopIndex()) + "] " + std::to_string(t.getLine()) + ":" +
         std::to_string(t.getCharPositionInLine());
}

/// Every token from `source` until EOF, described.
std::vector<std::string> drain(antlr4::TokenSource &source) {
  std::vector<std::string> out;
  for (;;) {
    auto t = source.nextToken();
    out.push_back(describe(*t));
    if (t->getType() == antlr4::Token::EOF || out.size() > 1000000) return out;
  }
}

void expectSameTokens(const std::string &text, const std::string &what) {
  CodePointStream reference(text), input(text);
  grammar::DfirLexer lexer(&reference);
  lexer.removeErrorListeners();
  auto source = newTokenSource(&input, input.codePoints(), lexer.getVocabulary());
  std::vector<std::string> expected = drain(lexer), actual = drain(*source);
  size_t n = std::min(expected.size(), actual.size());
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(expected[i], actual[i]) << "token " << i << " of " << what << ":\n" << text;
  ASSERT_EQ(expected.size(), actual.size()) << what << ":\n" << text;
}

TEST(LexerTest, TheTestSuiteLexesAsTheGrammarSays) {
  unsigned files = 0;
  for (auto &entry : std::filesystem::recursive_directory_iterator(DFIR_TEST_DIR)) {
    if (entry.path().extension() != ".dfir") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    expectSameTokens(text.str(), entry.path().string());
    ++files;
  }
  EXPECT_GT(files, 100u);
}

TEST(LexerTest, EdgesOfTheRules) {
  for (const char *text : {"1.e5", "1.5.0", "t.0.1", "1e", "1e+", "1e_", "1E-3f32", "1f3", "1f64x", "1u", "1u1",
                           "1u16", "1i8i8", "0x", "0xg", "0x1fu8", "0x_", "1_000.0_1e1_", "'", "'a", "'_1 '",
                           "\"abc", "\"a\\", "\"a\\\n", "\"a\\\"b\"", "\"\\", "/", "/*", "/* /* */", "*/", "//x\r\ny",
                           "->-", "::<", "..=", "=>==", "!!=", "<<=", "&&&", "|||", "_", "_a", "Some None", "\t\f\r\n",
                           "\xEF\xBB\xBFx", "x\xC3\xA9y", "-\xC4\xBE>", "\xE2\x82\xAC", "a\nb\n\nc"})
    expectSameTokens(text, "edge case");
}

TEST(LexerTest, RandomTextLexesAsTheGrammarSays) {
  // Characters that start, end or continue more than one rule.
  static const char *pieces[] = {"0", "1", "9", "_", "x", "e", "E", "f", "i", "u", "3", "2", "6", "4", "8", ".",
                                 "+", "-", ">", "<", "=", "!", "&", "|", ":", "/", "*", "\"", "\\", "'", " ",
                                 "\n", "\r", "\t", "a", "Z", "\xC3\xA9", "\xE2\x82\xAC", "{", "}", "(", ")", ";",
                                 "if", "as", "let", "fn", "None"};
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    size_t length = rng() % 24;
    for (size_t i = 0; i < length; ++i) text += pieces[rng() % (sizeof pieces / sizeof *pieces)];
    expectSameTokens(text, "random text " + std::to_string(round));
  }
}

} // namespace
