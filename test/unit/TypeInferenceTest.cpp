// Checks unification: flavoured variables, structural types, occurs check,
// rollback on failure, defaults, and obligations deferred until types are known.
#include "frontend/TypeInference.h"

#include <gtest/gtest.h>

using namespace dfir;
using Flavor = Inference::Flavor;

namespace {
struct Fixture : ::testing::Test {
  SourceManager sm;
  DiagnosticEngine diags{sm};
  CollectingConsumer collected;
  TypeContext types;
  Inference inf{types, diags};
  void SetUp() override { diags.addConsumer(&collected); }
};
} // namespace

TEST_F(Fixture, InternedTypesAreEqualByPointer) {
  EXPECT_EQ(types.tuple({types.i64(), types.strType()}), types.tuple({types.i64(), types.strType()}));
  EXPECT_NE(types.intType(32, true), types.intType(32, false));
  EXPECT_EQ(typeToString(types.option(types.list(types.tuple({types.u32(), types.f64()})))),
            "Option<[(u32, f64)]>");
  EXPECT_EQ(typeToString(types.tuple({types.boolType()})), "(bool,)");
}

TEST_F(Fixture, IntegerVariablesOnlyBindToIntegers) {
  const Type *v = inf.fresh(Flavor::Integer);
  EXPECT_FALSE(inf.unify(v, types.strType()));
  EXPECT_FALSE(inf.unify(v, types.f64()));
  EXPECT_EQ(inf.display(v), "{integer}");
  EXPECT_TRUE(inf.unify(v, types.u32()));
  EXPECT_EQ(inf.zonk(v), types.u32());
}

TEST_F(Fixture, FlavoursMergeAndConflict) {
  const Type *a = inf.fresh(), *i = inf.fresh(Flavor::Integer), *f = inf.fresh(Flavor::Float);
  EXPECT_TRUE(inf.unify(a, i));
  EXPECT_EQ(inf.display(a), "{integer}");
  EXPECT_FALSE(inf.unify(a, f));
}

TEST_F(Fixture, FailedStructuralUnificationBindsNothing) {
  const Type *a = inf.fresh();
  // (a, str) vs (i64, bool): the first element would bind, the second fails.
  EXPECT_FALSE(inf.unify(types.tuple({a, types.strType()}), types.tuple({types.i64(), types.boolType()})));
  EXPECT_TRUE(inf.resolve(a)->isVar());
}

TEST_F(Fixture, OccursCheckRejectsInfiniteTypes) {
  const Type *a = inf.fresh();
  EXPECT_FALSE(inf.unify(a, types.list(a)));
}

TEST_F(Fixture, SolveAppliesDefaults) {
  const Type *i = inf.fresh(Flavor::Integer), *f = inf.fresh(Flavor::Float), *any = inf.fresh();
  inf.solve();
  EXPECT_EQ(inf.zonk(i), types.i64());
  EXPECT_EQ(inf.zonk(f), types.f64());
  EXPECT_EQ(inf.zonk(any), types.unitType());
  EXPECT_TRUE(collected.diags.empty());
}

TEST_F(Fixture, ObligationsWaitForTypes) {
  const Type *a = inf.fresh();
  bool ran = false;
  inf.defer(SourceRange(), [&] {
    if (inf.resolve(a)->isVar()) return false;
    ran = true;
    return true;
  });
  EXPECT_FALSE(ran);
  inf.unify(a, types.strType());
  inf.solve();
  EXPECT_TRUE(ran);
  EXPECT_TRUE(collected.diags.empty());
}

TEST_F(Fixture, UndecidableObligationIsReported) {
  const Type *a = inf.fresh();
  inf.defer(SourceRange(), [&] { return !inf.resolve(a)->isVar(); });
  inf.solve();
  ASSERT_EQ(collected.diags.size(), 1u);
  EXPECT_EQ(collected.diags[0].id, DiagID::err_type_annotations_needed);
}
