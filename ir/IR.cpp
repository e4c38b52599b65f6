#include "ir/IR.h"

#include "ir/Check.h"

namespace dfir::ir {

const char *persistenceName(Persistence p) {
  switch (p) {
  case Persistence::Tick: return "tick";
  case Persistence::Static: return "static";
  case Persistence::None: return "none";
  case Persistence::Loop: return "loop";
  }
  return "tick";
}

bool Program::loopWithin(int inner, int outer) const {
  for (int l = inner; l != kNone; l = loops[l].parent)
    if (l == outer) return true;
  return outer == kNone;
}

std::vector<OpId> Program::opsIn(LocId location) const {
  std::vector<OpId> out;
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].location == location) out.push_back(OpId(static_cast<int>(i)));
  return out;
}

EdgeId Program::connect(OpId from, unsigned fromPort, OpId to, unsigned toPort, const Type *type) {
  DFIR_CHECK(from >= 0 && static_cast<size_t>(from) < ops.size(), "edge from a missing operator");
  DFIR_CHECK(to >= 0 && static_cast<size_t>(to) < ops.size(), "edge to a missing operator");
  EdgeId id(static_cast<int>(edges.size()));
  edges.push_back({from, to, fromPort, toPort, type, SourceRange()});
  auto &outs = ops[from].outputs;
  if (outs.size() <= fromPort) outs.resize(fromPort + 1);
  outs[fromPort] = id;
  auto &ins = ops[to].inputs;
  if (ins.size() <= toPort) ins.resize(toPort + 1);
  ins[toPort] = id;
  return id;
}

} // namespace dfir::ir
