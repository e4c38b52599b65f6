// Checks name resolution and type checking end to end on small programs:
// which diagnostic kinds they produce, where, and what the graph looks like.
#include "frontend/Parser.h"
#include "frontend/Sema.h"

#include <gtest/gtest.h>

using namespace dfir;

namespace {

struct Result {
  bool ok;
  std::vector<Diagnostic> diags;
  SourceManager sm;
};

std::unique_ptr<Result> check(const std::string &text) {
  auto r = std::make_unique<Result>();
  uint32_t f = r->sm.addBuffer("t.dfir", text);
  DiagnosticEngine diags(r->sm);
  CollectingConsumer c;
  diags.addConsumer(&c);
  auto program = parseProgram(r->sm, f, diags);
  r->ok = program && checkProgram(*program, r->sm, diags);
  r->diags = c.diags;
  return r;
}

std::vector<DiagID> kinds(const Result &r) {
  std::vector<DiagID> out;
  for (auto &d : r.diags) out.push_back(d.id);
  return out;
}

unsigned lineOf(const Result &r, const Diagnostic &d) { return r.sm.lineCol(d.range.begin).line; }

} // namespace

TEST(NameResolution, ForwardReferencesResolve) {
  auto r = check("a -> for_each(|x| println(x));\n"
                 "a = b -> map(|x| x + 1);\n"
                 "b = source_iter(0..3);\n");
  EXPECT_TRUE(r->ok);
  EXPECT_TRUE(r->diags.empty());
}

TEST(NameResolution, DuplicateNameReportsBothPlaces) {
  auto r = check("a = source_iter([1]);\n"
                 "a = source_iter([2]);\n"
                 "a -> null();\n");
  ASSERT_FALSE(r->ok);
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_duplicate_name});
  EXPECT_EQ(lineOf(*r, r->diags[0]), 2u);
  ASSERT_EQ(r->diags[0].notes.size(), 1u);
  EXPECT_EQ(lineOf(*r, r->diags[0].notes[0]), 1u);
}

TEST(NameResolution, SelfAliasIsOneError) {
  auto r = check("a = b;\nb = a;\nsource_iter([1]) -> a;\n");
  ASSERT_FALSE(r->ok);
  ASSERT_EQ(r->diags.size(), 1u);
  EXPECT_EQ(r->diags[0].id, DiagID::err_self_alias);
}

TEST(NameResolution, NamesAreScopedPerLocation) {
  auto r = check("process a;\nprocess b;\n"
                 "a { x = source_iter([1]); }\n"
                 "b { x -> null(); }\n");
  ASSERT_FALSE(r->ok);
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_name_in_other_location});
  EXPECT_NE(r->diags[0].message.find("`a`"), std::string::npos);
}

TEST(NameResolution, UnknownOperatorSuggestsAndDoesNotCascade) {
  auto r = check("source_iter([1]) -> fitler(|x| x > 0) -> for_each(|x| println(x));\n");
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_unknown_operator});
  EXPECT_NE(r->diags[0].message.find("did you mean `filter`"), std::string::npos);
}

TEST(TypeCheck, TypesFlowFromSourcesIntoClosures) {
  auto r = check("source_iter([(1u32, \"a\")]) -> map(|p| p.1 + 2) -> for_each(|x| println(x));\n");
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_binary_mismatch});
  EXPECT_NE(r->diags[0].message.find("`str` and `{integer}`"), std::string::npos);
}

TEST(TypeCheck, EdgeMismatchNamesBothTypes) {
  auto r = check("struct P { x: i64 }\n"
                 "source_iter([1]) -> map(|x| P { x: x }) -> dest_file(\"out.txt\");\n");
  ASSERT_FALSE(r->ok);
  ASSERT_EQ(r->diags.size(), 1u);
  EXPECT_NE(r->diags[0].message.find("`P`"), std::string::npos);
  EXPECT_NE(r->diags[0].message.find("`str`"), std::string::npos);
}

TEST(TypeCheck, IntegerLiteralsTakeTheirTypeFromContext) {
  auto r = check("source_iter([1, 2]) -> map(|x: u8| x) -> for_each(|x| println(x));\n"
                 "source_iter([256]) -> map(|x: u8| x) -> for_each(|x| println(x));\n");
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_int_literal_out_of_range});
  EXPECT_EQ(lineOf(*r, r->diags[0]), 2u);
}

TEST(TypeCheck, JoinOutputShape) {
  auto r = check("j = join();\n"
                 "source_iter([(1, \"a\")]) -> [0]j;\n"
                 "source_iter([(1, 2.5)]) -> [1]j;\n"
                 "j -> for_each(|x: (i64, (str, f64))| println(x));\n");
  EXPECT_TRUE(r->ok) << (r->diags.empty() ? "" : r->diags[0].message);
}

TEST(TypeCheck, MatchExhaustiveness) {
  auto r = check("enum E { A, B(i64), C(str, bool) }\n"
                 "source_iter([E::A]) -> map(|e| match e { E::A => 0, E::B(n) => n, E::C(_, true) => 1 })"
                 " -> for_each(|x| println(x));\n");
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_match_not_exhaustive});
  EXPECT_NE(r->diags[0].message.find("E::C(_, false)"), std::string::npos);
}

TEST(Cycles, BlockingCycleListsEveryOperator) {
  auto r = check("x = union() -> sort() -> tee();\n"
                 "source_iter([1]) -> x;\n"
                 "x -> x;\n"
                 "x -> for_each(|v| println(v));\n");
  ASSERT_EQ(kinds(*r), std::vector<DiagID>{DiagID::err_blocking_cycle});
  EXPECT_EQ(r->diags[0].notes.size(), 3u);
}

TEST(Cycles, DeferTickBreaksTheCycle) {
  auto r = check("x = union() -> sort() -> tee();\n"
                 "source_iter([1]) -> x;\n"
                 "x -> filter(|v| v < 3) -> map(|v| v + 1) -> defer_tick() -> x;\n"
                 "x -> for_each(|v| println(v));\n");
  EXPECT_TRUE(r->ok) << (r->diags.empty() ? "" : r->diags[0].message);
}
