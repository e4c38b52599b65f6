// One test per invariant of ir/Verifier.h: a valid program verifies, and
// breaking the invariant by hand is reported with a message that names it.
#include "test/unit/Lowered.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

using namespace dfir;

namespace {

using test::lower;

int opNamed(const ir::Program &p, const std::string &name) {
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (p.ops[i].name == name) return static_cast<int>(i);
  return ir::kNone;
}

bool reports(const ir::Program &p, const std::string &needle) {
  for (auto &m : ir::verify(p))
    if (m.find(needle) != std::string::npos) return true;
  return false;
}

const char *kPipeline = "src = source_iter([(1, \"a\")]);\n"
                        "j = join();\n"
                        "src -> [0]j;\n"
                        "source_iter([(1, 2.5)]) -> [1]j;\n"
                        "m = j -> map(|(k, (a, b))| k);\n"
                        "m -> for_each(|x| println(x));\n";

} // namespace

TEST(Verifier, ValidProgramVerifies) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  EXPECT_TRUE(ir::verify(*p).empty());
}

TEST(Verifier, OperatorTable) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  p->ops[opNamed(*p, "m")].args.clear();
  EXPECT_TRUE(reports(*p, "has 0 arguments, the table says 1"));
}

TEST(Verifier, PortArity) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  ir::Operator &j = p->ops[opNamed(*p, "j")];
  j.inputs.push_back(ir::EdgeId());
  j.inTypes.push_back(nullptr);
  EXPECT_TRUE(reports(*p, "3 input ports do not fit its shape"));
}

TEST(Verifier, OneProducerPerInputPort) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  p->ops[opNamed(*p, "j")].inputs[1] = ir::EdgeId();
  EXPECT_TRUE(reports(*p, "input port 1 has no producer"));
}

TEST(Verifier, PortTablesAgreeWithEdges) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  int m = opNamed(*p, "m");
  p->edges[p->ops[m].outputs[0]].fromPort = 3;
  EXPECT_TRUE(reports(*p, "missing from its source's output ports"));
  EXPECT_TRUE(reports(*p, "output port 0 names edge"));
}

TEST(Verifier, UnconnectedSingleOutput) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  p->ops[opNamed(*p, "m")].outputs[0] = ir::EdgeId();
  EXPECT_TRUE(reports(*p, "output port 0 is not connected"));
}

TEST(Verifier, EdgeTypesAgree) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  int m = opNamed(*p, "m");
  p->edges[p->ops[m].outputs[0]].type = p->types->strType();
  EXPECT_TRUE(reports(*p, "type str differs from its source port's i64"));
}

TEST(Verifier, EdgeTypesAreConcrete) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  int m = opNamed(*p, "m");
  p->edges[p->ops[m].outputs[0]].type = p->types->var(0);
  EXPECT_TRUE(reports(*p, "has no concrete type"));
}

TEST(Verifier, NoEdgeCrossesLocations) {
  auto p = lower("process a;\nprocess b;\n"
                 "a { source_iter([1]) -> map(|x| x) -> null(); }\n"
                 "b { source_iter([2]) -> null(); }\n");
  ASSERT_TRUE(p);
  EXPECT_TRUE(ir::verify(*p).empty());
  p->ops[opNamed(*p, "map_0")].location = ir::LocId(1);
  EXPECT_TRUE(reports(*p, "crosses from one location to another"));
}

TEST(Verifier, ChannelsHaveBothEnds) {
  auto p = lower("process a;\nprocess b;\nchannel c: a -> b;\n"
                 "a { source_iter([1]) -> send(c); }\n"
                 "b { recv(c) -> for_each(|x| println(x)); }\n");
  ASSERT_TRUE(p);
  EXPECT_TRUE(ir::verify(*p).empty());
  p->channels[0].recvOp = ir::OpId();
  EXPECT_TRUE(reports(*p, "channel `c`: has no recv"));
  p->channels[0].recvOp = p->channels[0].sendOp;
  EXPECT_TRUE(reports(*p, "its recv `send_0` (send) does not name it"));
}

// Invariant 1 also covers the argument of send/recv: it names the operator's own channel.
TEST(Verifier, SendAndRecvNameTheirChannel) {
  auto p = lower("process a;\nprocess b;\nchannel c: a -> b;\nchannel d: a -> b;\n"
                 "a { source_iter([1]) -> send(c); source_iter([2]) -> send(d); }\n"
                 "b { recv(c) -> for_each(|x| println(x)); recv(d) -> null(); }\n");
  ASSERT_TRUE(p);
  EXPECT_TRUE(ir::verify(*p).empty());
  int send = opNamed(*p, "send_0");
  ASSERT_NE(send, ir::kNone);
  p->ops[send].args[0]->index = 1 - p->ops[send].args[0]->index;
  EXPECT_TRUE(reports(*p, "`send_0` (send): argument 0 does not name its channel as the table says"));
  p->ops[send].args[0]->kind = ir::Expr::Local;
  EXPECT_TRUE(reports(*p, "`send_0` (send): argument 0 does not name its channel"));
}

TEST(Verifier, InTickCyclesAreMonotone) {
  auto p = lower("x = union() -> fold(0, |a, v| a + v) -> tee();\n"
                 "source_iter([1]) -> x;\n"
                 "d = defer_tick();\n"
                 "x -> d -> x;\n"
                 "x -> for_each(|v| println(v));\n");
  ASSERT_TRUE(p);
  ASSERT_NE(opNamed(*p, "d"), ir::kNone);
  EXPECT_TRUE(ir::verify(*p).empty());
  // Without the tick boundary the cycle runs through fold's blocking input.
  p->ops[opNamed(*p, "d")].kind = OpKind::Identity;
  EXPECT_TRUE(reports(*p, "lies on a cycle within one tick"));
}

namespace {
const char *kChannels = "cluster w[2];\nprocess p;\nchannel up: w -> p;\nchannel down: p -> w hash(|x| x);\n"
                        "w { source_iter([1]) -> send(up); recv(down) -> null(); }\n"
                        "p { recv(up) -> map(|(m, x)| x) -> send(down); }\n";
}

TEST(Verifier, ChannelEndsTakeAndYieldTheElementType) {
  auto p = lower(kChannels);
  ASSERT_TRUE(p);
  ASSERT_TRUE(ir::verify(*p).empty());
  // `recv(up)` from a cluster yields (u32, i64); pretend it yields i64.
  int recv = p->channels[0].recvOp;
  p->ops[recv].outTypes[0] = p->types->i64();
  EXPECT_TRUE(reports(*p, "its recv yields i64, not what the channel's element type i64 asks for"));
}

TEST(Verifier, HashChannelsHaveTheirFunction) {
  auto p = lower(kChannels);
  ASSERT_TRUE(p);
  p->channels[1].hashFn.reset();
  EXPECT_TRUE(reports(*p, "is a hash channel without its function"));
}

TEST(Verifier, NamesAreUnique) {
  auto p = lower(kChannels);
  ASSERT_TRUE(p);
  int a = p->channels[0].sendOp, b = p->channels[1].recvOp; // both in `w`
  p->ops[b].name = p->ops[a].name;
  EXPECT_TRUE(reports(*p, "another operator of its location has the same name"));
  p = lower(kChannels);
  p->channels[1].name = "up";
  EXPECT_TRUE(reports(*p, "channel `up`: the name is used twice"));
}

TEST(Verifier, ImplicitMainIsTheOnlyLocation) {
  auto p = lower(kPipeline);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->locations[0].implicit);
  p->locations.push_back({"other", false, 1, false, SourceRange()});
  EXPECT_TRUE(reports(*p, "implicit, but the program has other locations"));
}

namespace {
const char *kLoop = "nums = source_iter([1, 2]);\n"
                    "loop {\n"
                    "  s = nums -> repeat_n(2) -> fold::<'loop>(0, |a, x| a + x);\n"
                    "}\n"
                    "out = s -> all_iterations();\n"
                    "out -> for_each(|x| println(x));\n";
} // namespace

TEST(Verifier, LoopBlocks) {
  auto p = lower(kLoop);
  ASSERT_TRUE(p);
  EXPECT_TRUE(ir::verify(*p).empty());
  ASSERT_EQ(p->loops.size(), 1u);
  // Items leave the loop only through all_iterations/last_iteration.
  p->ops[opNamed(*p, "out")].loop = 0;
  EXPECT_TRUE(reports(*p, "crosses a loop block's boundary where it may not"));
  p = lower(kLoop);
  p->ops[opNamed(*p, "s")].persistence[0] = ir::Persistence::Static;
  EXPECT_TRUE(reports(*p, "lifetime 'static where it is"));
  p = lower(kLoop);
  p->ops[opNamed(*p, "s")].loop = 3;
  EXPECT_TRUE(reports(*p, "in no loop block"));
  p = lower(kLoop);
  p->loops.push_back({ir::LocId(0), 1, SourceRange()});
  EXPECT_TRUE(reports(*p, "its parent is not a loop before it"));
}
