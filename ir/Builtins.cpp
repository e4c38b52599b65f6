#include "ir/Builtins.h"

namespace dfir {

const std::vector<BuiltinInfo> &allBuiltins() {
  static const std::vector<BuiltinInfo> table = {
#define BUILTIN(ID, NAME, ARITY, EFFECT, NAMING) {BuiltinId::ID, NAME, ARITY, #EFFECT[0] == 'P', #NAMING[0] == 'H'},
#include "ir/Builtins.def"
  };
  return table;
}

const BuiltinInfo &builtinInfo(BuiltinId id) { return allBuiltins()[static_cast<size_t>(id)]; }

const BuiltinInfo *findBuiltin(const std::string &name) {
  for (auto &b : allBuiltins())
    if (name == b.name) return &b;
  return nullptr;
}

} // namespace dfir
