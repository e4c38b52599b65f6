// The operator table (ir/Operators.def) as seen through OpInfo.
#include "ir/Operators.h"

#include <gtest/gtest.h>

using namespace dfir;

namespace {

// A `union` may have any number of inputs; a port past the blocking mask's
// width never blocks (and asking must not shift past the width: a union of
// 33 inputs hit that under UBSan). The port is volatile so the shift is done
// at run time, as when the index comes from a program.
TEST(OperatorsTest, PortsPastTheBlockingMaskNeverBlock) {
  volatile unsigned far = 32, further = 33, last = 4095;
  EXPECT_TRUE(opInfo(OpKind::Sort).isBlocking(0));
  EXPECT_FALSE(opInfo(OpKind::Sort).isBlocking(far));
  EXPECT_TRUE(opInfo(OpKind::Difference).isBlocking(1));
  EXPECT_FALSE(opInfo(OpKind::Difference).isBlocking(further));
  EXPECT_FALSE(opInfo(OpKind::Union).isBlocking(last));
}

} // namespace
