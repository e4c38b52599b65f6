// passes/CostModel: what it charges each location, where a rewrite moves
// work, and the fit of message costs to a launched profile.
#include "test/unit/Lowered.h"
#include "passes/CostModel.h"

#include <gtest/gtest.h>

using namespace dfir;

namespace {

const char *kProgram = R"(
process a;
process b;
channel c: a -> b;
a { x = source_iter(0..10) -> map(|v| v + 1); x -> send(c); }
b { y = recv(c) -> map(|v| v * 2); y -> for_each(|v| println(v)); }
)";

passes::ProfileOp op(const std::string &name, uint64_t in, uint64_t out, uint64_t samples) {
  passes::ProfileOp o;
  o.name = name;
  o.op = "map";
  o.in = in;
  o.out = out;
  o.samples = samples;
  return o;
}

/// `a` busy 10 ms, nearly all in `x`; `b` busy 4 ms, all in `y`.
passes::Profile profile(bool deployed) {
  passes::Profile p;
  p.sampleUs = 1000;
  p.deployed = deployed;
  passes::ProfileInstance a, b;
  a.location = "a";
  a.busyNs = 10'000'000;
  a.ticks = 10;
  a.ops = {op("source_iter_0", 0, 100, 0), op("x", 100, 100, 90), op("send_0", 100, 0, 10)};
  a.channels = {{"c", 100, 800, 10}};
  b.location = "b";
  b.busyNs = 4'000'000;
  b.ticks = 10;
  b.ops = {op("recv_0", 0, 100, 0), op("y", 100, 100, 40), op("for_each_0", 100, 0, 0)};
  p.instances = {a, b};
  return p;
}

} // namespace

TEST(CostModel, ChargesEachLocationItsProfiledTimeAndItsMessages) {
  auto prog = test::lower(kProgram);
  ASSERT_TRUE(prog);
  passes::CostParams params;
  params.frameNs = 1000;
  params.transitItemNs = 100;
  passes::CostModel model(*prog, profile(false), params);
  EXPECT_TRUE(model.sampled());
  EXPECT_DOUBLE_EQ(model.costOf("a", "x"), 9'000'000);
  passes::Prediction p = model.predict(*prog, {});
  ASSERT_EQ(p.loads.size(), 2u);
  // Messages: 10 frames (one per sending tick) and 100 items, at both ends.
  double messages = 10 * 1000 + 100 * 100;
  EXPECT_DOUBLE_EQ(p.loads[0].totalNs, 10'000'000 + messages);
  EXPECT_DOUBLE_EQ(p.loads[1].totalNs, 4'000'000 + messages);
  EXPECT_EQ(p.bottleneck(), "a");
  EXPECT_EQ(p.processes, 2u);
}

TEST(CostModel, AMovedOperatorTakesItsCostAlong) {
  auto base = test::lower(kProgram);
  // `x` moved to a new location `a2`, as decouple names it there.
  auto moved = test::lower(R"(
process a;
process a2;
process b;
channel c: a2 -> b;
channel cut: a -> a2;
a { source_iter(0..10) -> send(cut); }
a2 { x = recv(cut) -> map(|v| v + 1); x -> send(c); }
b { y = recv(c) -> map(|v| v * 2); y -> for_each(|v| println(v)); }
)");
  ASSERT_TRUE(base && moved);
  passes::CostParams params;
  params.frameNs = 0;
  params.transitItemNs = 0;
  params.sendItemNs = 1000;
  params.recvItemNs = 1000;
  passes::CostModel model(*base, profile(false), params);
  passes::Prediction p = model.predict(*moved, {{"a2", "a"}});
  ASSERT_EQ(p.loads.size(), 3u);
  // `a` keeps its source and gains a send of the cut's 100 items; `a2` has
  // `x`, the old send, and a recv of 100 items.
  EXPECT_DOUBLE_EQ(p.loads[0].totalNs, 0 + 100 * 1000);
  EXPECT_DOUBLE_EQ(p.loads[1].totalNs, 9'000'000 + 1'000'000 + 100 * 1000);
  EXPECT_EQ(p.bottleneck(), "a2");
}

TEST(CostModel, FitsMessageCostsToALaunchedProfile) {
  auto prog = test::lower(kProgram);
  ASSERT_TRUE(prog);
  passes::Profile prof = profile(true);
  // Outside ticks: 100 items and 10 frames at each end; 2 us per item and
  // 30 us per frame would make a 500 us, and b the same.
  prof.instances[0].outsideNs = 100 * 2000 + 10 * 30000;
  prof.instances[1].outsideNs = 100 * 2000 + 10 * 30000;
  passes::CostModel model(*prog, prof);
  EXPECT_TRUE(model.calibrated());
  // Both locations see the same items and frames: one equation, so the
  // fit puts the time on one of them; either way it predicts the same load.
  passes::Prediction p = model.predict(*prog, {});
  EXPECT_NEAR(p.loads[0].totalNs, 10'000'000 + 500'000, 1);
  EXPECT_NEAR(p.loads[1].totalNs, 4'000'000 + 500'000, 1);
}

TEST(CostModel, WorkRoutedToOneInstanceStaysThere) {
  // `b` partitioned into 2: the items of `c` all go to instance 0 (the
  // route is a constant, as partition writes it to keep one sender's
  // order), those of `d` are spread by value.
  auto base = test::lower(R"(
process a;
process b;
channel c: a -> b;
channel d: a -> b;
a { source_iter(0..10) -> send(c); source_iter(0..10) -> send(d); }
b { x = recv(c) -> map(|v| v + 1); x -> for_each(|v| println(v)); y = recv(d) -> map(|v| v * 2); y -> for_each(|v| println(v)); }
)");
  auto part = test::lower(R"(
process a;
cluster b[2];
channel c: a -> b;
channel d: a -> b;
a {
  source_iter(0..10) -> map(|v: i64| (((0u64 >> 32u64) % 2u64) as u32, v)) -> send(c);
  source_iter(0..10) -> map(|v: i64| (((hash(v) >> 32u64) % 2u64) as u32, v)) -> send(d);
}
b { x = recv(c) -> map(|v| v + 1); x -> for_each(|v| println(v)); y = recv(d) -> map(|v| v * 2); y -> for_each(|v| println(v)); }
)");
  ASSERT_TRUE(base && part);
  passes::Profile prof;
  prof.sampleUs = 1000;
  passes::ProfileInstance a, b;
  a.location = "a";
  b.location = "b";
  b.busyNs = 2'000'000;
  b.ops = {op("recv_0", 0, 100, 0), op("x", 100, 100, 50), op("for_each_0", 100, 0, 0),
           op("recv_1", 0, 100, 0), op("y", 100, 100, 50), op("for_each_1", 100, 0, 0)};
  prof.instances = {a, b};
  passes::CostParams params;
  params.frameNs = 0;
  params.transitItemNs = 0;
  passes::CostModel model(*base, prof, params);
  passes::Prediction p = model.predict(*part, {});
  ASSERT_EQ(p.loads.size(), 2u);
  // `x` (1 ms) stays on one instance; `y` (1 ms) is shared by two.
  EXPECT_DOUBLE_EQ(p.loads[1].pinnedNs, 1'000'000);
  EXPECT_DOUBLE_EQ(p.loads[1].perInstanceNs(), 1'000'000 + 500'000);
}
