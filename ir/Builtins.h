//===- Builtins.h - The builtin functions of Builtins.def ------------------===//
#pragma once

#include <string>
#include <vector>

namespace dfir {

enum class BuiltinId {
#define BUILTIN(ID, NAME, ARITY, EFFECT, NAMING) ID,
#include "ir/Builtins.def"
};

struct BuiltinInfo {
  BuiltinId id;
  const char *name;
  int arity; // -1: any
  bool pure;
  bool hidable; // a `fn` of the same name hides it
};

const std::vector<BuiltinInfo> &allBuiltins();
const BuiltinInfo &builtinInfo(BuiltinId id);
/// Null when `name` is not a builtin.
const BuiltinInfo *findBuiltin(const std::string &name);

} // namespace dfir
