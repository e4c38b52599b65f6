//===- Verifier.h - The invariants of the graph IR ------------------------===//
//
// This header is the specification of a well-formed ir::Program. The
// verifier checks, and every pass must preserve:
//
//  1. Operator table: every operator has as many arguments, lifetimes and
//     type arguments as its row of ir/Operators.def says; an argument that
//     names a channel (`send(c)`, `recv(c)`) names the operator's channel.
//  2. Port arity: the number of input and output ports fits the operator's
//     input and output shapes (e.g. `join` has exactly 2 inputs, `tee` at
//     least one output, `demux_enum` one output per variant).
//  3. One producer per input port: every input port of every operator is fed
//     by exactly one edge (only `null()` may have none), and the edge names
//     that operator and port.
//  4. Port tables and edges agree: an edge appears in the output table of
//     its source and the input table of its target; a single-output
//     operator's output and every `tee`/`unzip` output is connected.
//  5. Edge types agree: every edge has a concrete type (no inference
//     variables) equal to its source's output port type and its target's
//     input port type.
//  6. No edge crosses locations: data moves between locations only through
//     channels.
//  7. Every channel has both ends: exactly one `send` in its sending
//     location and one `recv` in its receiving location, both naming it.
//  8. Every cycle within a tick is monotone: no edge into a blocking input
//     lies on a cycle that does not pass `defer_tick()`/`defer_tick_lazy()`.
//  9. A channel's ends take and yield its element type as the language
//     says: `(u32, T)` where a member id goes with it (a send to a cluster
//     without broadcast or hash; a recv from a cluster), `T` otherwise.
// 10. A hash channel has its hash function and no other channel has one;
//     only a cluster is broadcast or hashed to; a batching policy is within
//     its limits.
// 11. Names: an operator's is unique within its location; location and
//     channel names are unique in the program; the implicit `main` is a
//     program's only location (a pass that adds one makes it explicit).
// 12. Loop blocks: an operator's loop is a block of its own location, and
//     loop parents lead out to the top; items enter a loop only into
//     `batch`/`all_once`/`repeat_n` of a block nested directly where they
//     come from, and leave one only into `all_iterations`/`last_iteration`
//     of the scope just around it; those operators (and `next_iteration`)
//     stand nowhere else; lifetimes inside a loop are `'none`/`'loop`,
//     outside `'tick`/`'static`.
//
// A violation is a compiler bug, never a user error: the driver reports it
// as an internal error naming the pass after which it was found.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include <string>
#include <vector>

namespace dfir::ir {

/// Returns one message per violated invariant (empty: the program is valid).
std::vector<std::string> verify(const Program &p);

} // namespace dfir::ir
