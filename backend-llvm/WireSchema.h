//===- WireSchema.h - The wire schema of a channel's element type ---------===//
//
// What a receiving instance checks each item from the network against before
// the generated decoder reads it (the format is in runtime/dfir_rt.h, the
// checker in runtime/rt_wire.c). It mirrors ExprCodegen's encoding.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include <cstdint>
#include <vector>

namespace dfir::backend {

/// The wire schema words of `t` (a value type: no Range or Var).
std::vector<uint32_t> wireSchema(const Type *t, const TypeContext &types);

} // namespace dfir::backend
