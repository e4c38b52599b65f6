// ir/Rewriter: every operation leaves a program that verifies once the
// rewrite is complete, and erasing then compacting renumbers every reference.
#include "test/unit/Lowered.h"
#include "ir/Printer.h"
#include "ir/Rewriter.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

using namespace dfir;

namespace {

using test::lower;

ir::OpId opNamed(const ir::Program &p, const std::string &name) {
  for (size_t i = 0; i < p.ops.size(); ++i)
    if (p.ops[i].name == name) return ir::OpId(static_cast<int>(i));
  return ir::OpId();
}

std::string problems(const ir::Program &p) {
  std::string out;
  for (auto &m : ir::verify(p)) out += m + "\n";
  return out;
}

} // namespace

TEST(Rewriter, CutEdgeBetweenProcesses) {
  auto p = lower("process a;\na { s = source_iter([1, 2]) -> map(|x| x + 1); s -> for_each(|x| println(x)); }\n");
  ASSERT_TRUE(p);
  ir::Rewriter rw(*p);
  ir::LocId b = rw.addLocation("b", false, 1);
  ir::OpId sink = opNamed(*p, "for_each_0");
  ASSERT_NE(sink, ir::kNone);
  rw.moveOperator(sink, b);
  ir::CutEdge cut = rw.cutEdge(p->ops[sink].inputs[0], rw.freshGlobalName("link"));
  EXPECT_EQ(problems(*p), "");
  EXPECT_EQ(p->channels[cut.channel].name, "link");
  EXPECT_EQ(p->ops[cut.send].location, 0);
  EXPECT_EQ(p->ops[cut.recv].location, b);
  EXPECT_EQ(p->edges[cut.recvEdge].to, sink);
  // The channel prints and its text reads back.
  std::string text = ir::printProgram(*p);
  EXPECT_NE(text.find("channel link: a -> b of i64;"), std::string::npos) << text;
  auto again = lower(text);
  ASSERT_TRUE(again);
  EXPECT_EQ(ir::printProgram(*again), text);
}

TEST(Rewriter, CutEdgeBetweenClustersPairsMembers) {
  auto p = lower("cluster a[3];\na { s = source_iter([1]) -> map(|x| x + 1); s -> for_each(|x| println(x)); }\n");
  ASSERT_TRUE(p);
  ir::Rewriter rw(*p);
  ir::LocId b = rw.addLocation("b", true, 3);
  ir::OpId sink = opNamed(*p, "for_each_0");
  rw.moveOperator(sink, b);
  ir::CutEdge cut = rw.cutEdge(p->ops[sink].inputs[0], "link");
  EXPECT_EQ(problems(*p), "");
  std::string text = ir::printProgram(*p);
  EXPECT_NE(text.find("map(|x: i64| (member_id(), x))"), std::string::npos) << text;
  EXPECT_NE(text.find("map(|p: (u32, i64)| p.1)"), std::string::npos) << text;
  EXPECT_EQ(p->ops[p->edges[cut.sendEdge].from].kind, OpKind::Map);
}

TEST(Rewriter, AddingALocationMakesTheImplicitMainExplicit) {
  auto p = lower("source_iter([1]) -> for_each(|x| println(x));\n");
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->locations[0].implicit);
  ir::Rewriter rw(*p);
  rw.addLocation("other", false, 1);
  EXPECT_FALSE(p->locations[0].implicit);
  EXPECT_NE(ir::printProgram(*p).find("process main;"), std::string::npos);
}

TEST(Rewriter, FreshNamesAvoidEveryName) {
  auto p = lower("struct link { x: i64 }\nprocess a;\nprocess link_1;\n"
                 "a { map_0 = source_iter([1]) -> map(|x| x); map_0 -> null(); }\nlink_1 { source_iter([1]) -> null(); }\n");
  ASSERT_TRUE(p);
  ir::Rewriter rw(*p);
  EXPECT_EQ(rw.freshGlobalName("link"), "link_2");
  EXPECT_EQ(rw.freshGlobalName("fresh"), "fresh");
  EXPECT_EQ(rw.freshOperatorName(ir::LocId(0), "map"), "map_1");
  EXPECT_TRUE(rw.globalNameTaken("a"));
  EXPECT_TRUE(rw.globalNameTaken("link"));
}

TEST(Rewriter, EraseAndCompactRenumberEveryReference) {
  auto p = lower("process a;\nprocess b;\nchannel c: a -> b;\nchannel d: a -> b;\n"
                 "a { x = source_iter([1]) -> tee(); x -> send(c); x -> send(d); }\n"
                 "b { recv(c) -> for_each(|v| println(v)); recv(d) -> for_each(|v| println(v)); }\n");
  ASSERT_TRUE(p);
  ASSERT_EQ(problems(*p), "");
  size_t opsBefore = p->ops.size(), edgesBefore = p->edges.size();
  ir::Rewriter rw(*p);
  // Channel c goes, with both its ends and what hangs off its recv.
  ir::OpId send = p->channels[0].sendOp, recv = p->channels[0].recvOp;
  ir::OpId printer = p->edges[p->ops[recv].outputs[0]].to;
  ir::EdgeId teeEdge = p->ops[send].inputs[0];
  ir::OpId tee = p->edges[teeEdge].from;
  unsigned teePort = p->edges[teeEdge].fromPort;
  rw.eraseOperator(send);
  rw.eraseOperator(recv);
  rw.eraseOperator(printer);
  // The tee keeps one output: renumber its remaining port to 0.
  std::vector<ir::OpId> ids = rw.compact();
  EXPECT_FALSE(ids[send].valid());
  EXPECT_FALSE(ids[recv].valid());
  EXPECT_EQ(p->ops.size(), opsBefore - 3);
  EXPECT_EQ(p->edges.size(), edgesBefore - 2);
  ASSERT_EQ(p->channels.size(), 1u);
  EXPECT_EQ(p->channels[0].name, "d");
  const ir::Operator &t = p->ops[ids[tee]];
  ASSERT_EQ(t.outputs.size(), 2u);
  EXPECT_FALSE(t.outputs[teePort].valid());
  // Everything else points at the new ids: channel d's ends and their edges.
  const ir::Channel &d = p->channels[0];
  EXPECT_EQ(p->ops[d.sendOp].kind, OpKind::Send);
  EXPECT_EQ(p->ops[d.sendOp].channel, 0);
  EXPECT_EQ(p->ops[d.recvOp].channel, 0);
  EXPECT_EQ(p->edges[p->ops[d.sendOp].inputs[0]].to, d.sendOp);
  // The one problem left is the tee's unconnected output, which the caller
  // of eraseOperator must fix: the verifier says so, and nothing else.
  std::string left = problems(*p);
  EXPECT_NE(left.find("output port"), std::string::npos) << left;
  EXPECT_EQ(std::count(left.begin(), left.end(), '\n'), 1) << left;
}

TEST(Rewriter, ClosuresCloneDeeply) {
  // Every kind of expression, pattern and type annotation the printer shows.
  auto p = lower("struct P { a: i64, b: [str] }\nenum E { A(i64), B }\n"
                 "source_iter([(1, \"x\")]) -> map(|(n, s): (i64, str)| {\n"
                 "  let q: P = P { a: n * 2 + 1, b: [s, \"y\"] };\n"
                 "  let e = if q.a > 2 { E::A(q.a) } else { E::B };\n"
                 "  match e { E::A(v) => (v as f64, len(q.b[0]) > 0 && !false), E::B => (-1.5, true) }\n"
                 "}) -> for_each(|x| println(x));\n");
  ASSERT_TRUE(p);
  ir::OpId map = opNamed(*p, "map_0");
  ASSERT_TRUE(map.valid());
  const ir::Expr &original = *p->ops[map].args[0];
  std::unique_ptr<ir::Expr> copy = ir::clone(original);
  EXPECT_EQ(ir::printExpr(*copy), ir::printExpr(original));
  EXPECT_EQ(copy->type, original.type);
  // Deep: changing the copy leaves the original alone.
  std::string before = ir::printExpr(original);
  copy->kids[0]->kids.clear();
  EXPECT_EQ(ir::printExpr(original), before);
}
