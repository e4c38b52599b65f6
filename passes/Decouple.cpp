#include "passes/Transforms.h"

namespace dfir::passes {

bool runDecouple(ir::Program &, const PassInvocation &, TransformContext &ctx) {
  ctx.usage = "`decouple` is not available in this build";
  return false;
}

} // namespace dfir::passes
