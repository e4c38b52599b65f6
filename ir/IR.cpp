#include "ir/IR.h"

#include "ir/Check.h"

namespace dfir::ir {

const char *persistenceName(Persistence p) { return p == Persistence::Static ? "static" : "tick"; }

std::vector<int> Program::opsIn(int location) const {
  std::vector<int> out;
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].location == location) out.push_back(static_cast<int>(i));
  return out;
}

int Program::connect(int from, unsigned fromPort, int to, unsigned toPort, const Type *type) {
  DFIR_CHECK(from >= 0 && static_cast<size_t>(from) < ops.size(), "edge from a missing operator");
  DFIR_CHECK(to >= 0 && static_cast<size_t>(to) < ops.size(), "edge to a missing operator");
  int id = static_cast<int>(edges.size());
  edges.push_back({from, to, fromPort, toPort, type, SourceRange()});
  auto &outs = ops[from].outputs;
  if (outs.size() <= fromPort) outs.resize(fromPort + 1, kNone);
  outs[fromPort] = id;
  auto &ins = ops[to].inputs;
  if (ins.size() <= toPort) ins.resize(toPort + 1, kNone);
  ins[toPort] = id;
  return id;
}

} // namespace dfir::ir
