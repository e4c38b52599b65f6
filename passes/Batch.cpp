//===- Batch.cpp - Frame a channel's items in batches ----------------------===//
//
// `batch{channel=c count=N micros=T}` (`--batch c=N[/T]`) sets channel c's
// policy: a deployed sender frames its items once it holds N of them or the
// oldest has waited T microseconds (default 1000), across its ticks; the
// receiver takes what has arrived into one tick, as always.
//
// Always legal: channels are asynchronous, so any delay of a message is a
// schedule the original program could already see. It changes no operator
// and no edge, only the channel's policy, which is IR data (printed as
// `batch(N, Tus)` on the channel) and part of the build's fingerprint.
// Embedded runs (`dfirc run`) deliver as their scheduler chooses, which
// already includes every delay a batch can cause.
//
//===----------------------------------------------------------------------===//
#include "passes/Transforms.h"

namespace dfir::passes {

bool runBatch(ir::Program &p, const PassInvocation &inv, TransformContext &ctx) {
  if (!checkOptionKeys(inv, "channel count micros?", ctx)) return false;
  const std::string &name = inv.find("channel")->value;
  int channel = ir::kNone;
  std::string names;
  for (size_t c = 0; c < p.channels.size(); ++c) {
    if (p.channels[c].name == name) channel = static_cast<int>(c);
    names += (names.empty() ? "" : ", ") + p.channels[c].name;
  }
  if (channel == ir::kNone) {
    ctx.usage = "`batch`: the program has no channel `" + name + "`" +
                (names.empty() ? std::string("; it has no channels") : "; its channels are " + names);
    return false;
  }
  uint64_t count = 0, micros = 1000;
  if (!numberOption("batch", *inv.find("count"), 1, ir::kMaxBatchCount, "the count", count, ctx)) return false;
  if (auto *m = inv.find("micros"))
    if (!numberOption("batch", *m, 0, ir::kMaxBatchMicros, "the delay in microseconds", micros, ctx)) return false;
  p.channels[channel].batch = {static_cast<uint32_t>(count), static_cast<uint32_t>(micros)};
  return true;
}

} // namespace dfir::passes
