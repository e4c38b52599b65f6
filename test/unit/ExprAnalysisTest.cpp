// Checks what passes can read from closures: purity and which result
// fields copy which parameter fields.
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "ir/Builtins.h"
#include "ir/ExprAnalysis.h"
#include "ir/ExprBuilder.h"
#include "ir/Printer.h"

#include <gtest/gtest.h>

#include <set>

using namespace dfir;

namespace {

/// The closure argument of the single `map` in `source_iter(...) -> map(F) -> null()`.
struct Closure {
  SourceManager sm;
  std::unique_ptr<ir::Program> program;
  const ir::Expr *lambda = nullptr;
};

std::unique_ptr<Closure> mapClosure(const std::string &source, const std::string &fn) {
  auto c = std::make_unique<Closure>();
  uint32_t f = c->sm.addBuffer("t.dfir", "extern fn ext(x: i64) -> i64;\nsource_iter(" + source + ") -> map(" + fn +
                                             ") -> null();\n");
  DiagnosticEngine diags(c->sm);
  CollectingConsumer sink;
  diags.addConsumer(&sink);
  auto ast = parseProgram(c->sm, f, diags);
  if (ast) c->program = lowerProgram(*ast, c->sm, diags);
  if (!c->program) return c;
  for (auto &op : c->program->ops)
    if (op.kind == OpKind::Map) c->lambda = op.args[0].get();
  return c;
}

} // namespace

TEST(ExprAnalysis, Purity) {
  auto pure = mapClosure("[1]", "|x| { let y = x * 2; if y > 3 { abs(y) } else { min(y, 1) } }");
  ASSERT_TRUE(pure->lambda);
  EXPECT_TRUE(ir::isPure(*pure->lambda));
  auto printing = mapClosure("[1]", "|x| { println(x); x }");
  ASSERT_TRUE(printing->lambda);
  EXPECT_FALSE(ir::isPure(*printing->lambda));
  auto random = mapClosure("[1]", "|x| x + (rand_u64() as i64)");
  ASSERT_TRUE(random->lambda);
  EXPECT_FALSE(ir::isPure(*random->lambda));
  auto external = mapClosure("[1]", "|x| ext(x)");
  ASSERT_TRUE(external->lambda);
  EXPECT_FALSE(ir::isPure(*external->lambda));
}

TEST(ExprAnalysis, SwappedPairCopiesBothFields) {
  auto c = mapClosure("[(1, \"a\")]", "|(k, v)| (v, k)");
  ASSERT_TRUE(c->lambda);
  auto copies = ir::fieldCopies(*c->lambda);
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0], std::optional<ir::FieldPath>(ir::FieldPath{1}));
  EXPECT_EQ(copies[1], std::optional<ir::FieldPath>(ir::FieldPath{0}));
}

TEST(ExprAnalysis, ComputedFieldsAreNotCopies) {
  auto c = mapClosure("[((1, 2), 3)]", "|p| (p.0.1, p.1 + 1, p)");
  ASSERT_TRUE(c->lambda);
  auto copies = ir::fieldCopies(*c->lambda);
  ASSERT_EQ(copies.size(), 3u);
  EXPECT_EQ(copies[0], std::optional<ir::FieldPath>(ir::FieldPath{0, 1}));
  EXPECT_FALSE(copies[1].has_value());
  EXPECT_EQ(copies[2], std::optional<ir::FieldPath>(ir::FieldPath{}));
}

TEST(ExprAnalysis, CopiedPathOfKeyExtraction) {
  auto c = mapClosure("[(1, (\"a\", true))]", "|(k, (name, _))| name");
  ASSERT_TRUE(c->lambda);
  EXPECT_EQ(ir::copiedPath(*c->lambda), std::optional<ir::FieldPath>(ir::FieldPath{1, 0}));
  auto computed = mapClosure("[1]", "|x| x + 1");
  ASSERT_TRUE(computed->lambda);
  EXPECT_FALSE(ir::copiedPath(*computed->lambda).has_value());
}

// ir/Builtins.def is the one list of builtins: what the analyses call pure
// is what the table says, for every row, and names are unique.
TEST(ExprAnalysis, PurityOfBuiltinsComesFromTheTable) {
  std::set<std::string> names;
  for (const BuiltinInfo &b : allBuiltins()) {
    EXPECT_TRUE(names.insert(b.name).second) << b.name;
    EXPECT_EQ(findBuiltin(b.name), &b);
    ir::Expr call;
    call.kind = ir::Expr::Builtin;
    call.builtin = b.id;
    EXPECT_EQ(&builtinInfo(b.id), &b);
    EXPECT_EQ(ir::isPure(call), b.pure) << b.name;
  }
  EXPECT_EQ(findBuiltin("no_such_builtin"), nullptr);
}

// What a closure reads of its parameter: the fields it names, through
// variables bound to them; the whole parameter when it uses it whole.
TEST(ExprAnalysis, FieldsRead) {
  auto len = mapClosure("[(1, \"a\")]", "|(n, w)| len(w) + 1");
  ASSERT_TRUE(len->lambda);
  auto read = ir::fieldsRead(*len->lambda);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, (std::vector<ir::FieldPath>{{1}}));
  auto let = mapClosure("[((1, 2), 3)]", "|p| { let q = p.0; q.1 * 2 }");
  ASSERT_TRUE(let->lambda);
  read = ir::fieldsRead(*let->lambda);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, (std::vector<ir::FieldPath>{{0, 1}}));
  auto whole = mapClosure("[(1, 2)]", "|p| hash(p)");
  ASSERT_TRUE(whole->lambda);
  read = ir::fieldsRead(*whole->lambda);
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, (std::vector<ir::FieldPath>{{}}));
}

// A closure applied to a variable's field is its body with the field in
// place of the parameter; applied to anything else, a block binding it.
// Either way its locals move past those of the closure it goes into.
TEST(ExprBuilder, ApplySubstitutesFieldsOrBinds) {
  auto c = mapClosure("[(1, 2)]", "|(a, b)| a * 10 + b");
  ASSERT_TRUE(c->lambda);
  ir::ExprBuilder b(*c->program->types);
  const Type *pair = c->lambda->params[0]->type;
  int slot = 1;
  ir::ExprPtr onField = b.apply(*c->lambda, b.local(0, "x", pair), slot);
  EXPECT_EQ(ir::printExpr(*onField), "x.0 * 10i64 + x.1");
  EXPECT_EQ(slot, 1 + c->lambda->slots);
  int slot2 = 1;
  ir::ExprPtr onCall = b.apply(*c->lambda, b.builtin(BuiltinId::Sort, {}, pair), slot2);
  EXPECT_EQ(onCall->kind, ir::Expr::Block);
  EXPECT_EQ(onCall->stmts[0].pattern->elems[0]->slot, 1); // `a`, renumbered
  // A path into a tuple literal takes the element.
  ir::ExprPtr first = b.path(b.tuple(ir::ExprBuilder::vec(b.u32(7), b.u64(9))), {1});
  EXPECT_EQ(ir::printExpr(*first), "9u64");
}

TEST(ExprAnalysis, MonotoneThresholds) {
  struct Case {
    const char *items, *fn;
    bool monotone;
  };
  const Case cases[] = {
      {"[SetUnion([1])]", "|s| len(reveal(s)) >= 3", true},
      {"[SetUnion([1])]", "|s| 3 <= len(reveal(s))", true},
      {"[SetUnion([1])]", "|s| len(reveal(s)) > 2 && contains(reveal(s), 7)", true},
      {"[SetUnion([1])]", "|s| len(reveal(s)) >= 3 || true", true},
      {"[SetUnion([1])]", "|s| s >= SetUnion([1, 2])", true},
      {"[SetUnion([1])]", "|s| SetUnion([4]) < s", true},
      {"[SetUnion([1])]", "|s| len(reveal(s)) == 3", false},
      {"[SetUnion([1])]", "|s| len(reveal(s)) <= 3", false},
      {"[SetUnion([1])]", "|s| !contains(reveal(s), 7)", false},
      {"[SetUnion([1])]", "|s| s <= SetUnion([1, 2])", false},
      {"[SetUnion([1])]", "|s| { let n = len(reveal(s)); n >= 3 }", false},
      {"[Max(1)]", "|m| reveal(m) >= 10", true},
      {"[Max(1)]", "|m| reveal(m) < 10", false},
      {"[Min(1)]", "|m| reveal(m) < 10", true},
      {"[Min(1)]", "|m| reveal(m) >= 10", false},
      {"[Pair(Max(1), SetUnion([2]))]", "|p| reveal(reveal(p).0) > 3 && len(reveal(reveal(p).1)) >= 2", true},
      {"[DomPair(Max(1), Max(2))]", "|p| reveal(reveal(p).1) > 3", false},
      {"[(\"k\", Max(1))]", "|(k, m)| k == \"a\" && reveal(m) >= 2", true},
      {"[(\"k\", Max(1))]", "|p| p.0 == \"a\" && reveal(p.1) >= 2", true},
      {"[(\"k\", Max(1))]", "|p| reveal(p.1) == 2", false},
      // A merge grows only when what it merges with stays the same.
      {"[Max(1)]", "|m| reveal(merge(m, Max(3))) >= 10", true},
      {"[Max(1)]", "|m| reveal(merge(m, Max(0 - reveal(m)))) >= 10", false},
      {"[DomPair(Max(1), Max(2))]", "|d| reveal(merge(reveal(d).0, reveal(d).1)) >= 3", false},
  };
  for (const Case &c : cases) {
    auto closure = mapClosure(c.items, c.fn);
    ASSERT_TRUE(closure->lambda) << c.fn;
    EXPECT_EQ(ir::monotonePredicate(*closure->lambda), c.monotone) << c.fn;
  }
}

TEST(ExprAnalysis, IgnoresLattices) {
  struct Case {
    const char *items, *fn;
    bool ignores;
  };
  const Case cases[] = {
      {"[SetUnion([1])]", "|_| \"quorum\"", true},
      {"[SetUnion([1])]", "|s| len(reveal(s))", false},
      {"[(\"k\", (SetUnion([1]), Max(2)))]", "|(k, _)| k", true},
      {"[(\"k\", (SetUnion([1]), Max(2)))]", "|(k, (s, m))| (k, reveal(m))", false},
      {"[(\"k\", (SetUnion([1]), Max(2)))]", "|p| (p.0, 1)", true},
      {"[(\"k\", (SetUnion([1]), Max(2)))]", "|p| p.1", false},
  };
  for (const Case &c : cases) {
    auto closure = mapClosure(c.items, c.fn);
    ASSERT_TRUE(closure->lambda) << c.fn;
    EXPECT_EQ(ir::ignoresLattices(*closure->lambda), c.ignores) << c.fn;
  }
}

TEST(ExprAnalysis, RevealsWholeOnlyOfSetsAndMaps) {
  auto set = mapClosure("[SetUnion([1])]", "|s| reveal(s)");
  ASSERT_TRUE(set->lambda);
  EXPECT_TRUE(ir::revealsWhole(*set->lambda));
  auto max = mapClosure("[Max([1])]", "|m| reveal(m)");
  ASSERT_TRUE(max->lambda);
  EXPECT_FALSE(ir::revealsWhole(*max->lambda)); // a `Max` of a list is replaced whole
  auto other = mapClosure("[SetUnion([1])]", "|s| reveal(SetUnion([2]))");
  ASSERT_TRUE(other->lambda);
  EXPECT_FALSE(ir::revealsWhole(*other->lambda));
}
