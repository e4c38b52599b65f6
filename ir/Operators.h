//===- Operators.h - The operator table as data ---------------------------===//
#pragma once

#include <string>
#include <vector>

namespace dfir {

enum class OpKind {
#define OP(ID, ...) ID,
#include "ir/Operators.def"
};

enum class InputShape { None, One, Many, Ports01, PosNeg, InputSingle, InputSignal, Optional };
enum class OutputShape { None, One, Many, Indexed, Ports01, Variants, Optional };
enum class Flow { Pull, Push, Either };
enum class Partitioning { Stateless, ByKey, ByValue, Global, Pinned };
enum class Decoupling { PerItem, Monotone, Accumulates, TickBound, Source };
enum class Ticks { InTick, Wakes, Defers, DefersLazily, Paces, Iterates };
enum class EmptyTick { Silent, Initial, State, PosState, Compares };

/// The shape of one operator argument.
struct ArgShape {
  enum Kind { Value, Closure, Channel, Init } kind = Value;
  unsigned params = 0; // Closure: parameter count
};

struct OpInfo {
  OpKind kind;
  const char *name;
  InputShape inputs;
  OutputShape outputs;
  std::vector<ArgShape> args;
  unsigned maxLifetimes;
  unsigned typeGenerics;
  unsigned blockingMask;
  Flow flow;
  Partitioning partitioning;
  Decoupling decoupling;
  Ticks ticks;
  EmptyTick emptyTick;

  /// Whether it emits its items in the next tick, or (`next_iteration`)
  /// the next iteration of its loop block: either way its output edge does
  /// not order the strata of the unit of time it leaves.
  bool crossesTick() const { return ticks == Ticks::Defers || ticks == Ticks::DefersLazily || ticks == Ticks::Iterates; }
  /// Whether it makes its location run a tick (items from outside, or for the next tick).
  bool drivesTicks() const { return ticks == Ticks::Wakes || ticks == Ticks::Defers || ticks == Ticks::Paces; }

  /// Ports past the mask's width (a `union` has any number) never block;
  /// shifting by them would be undefined.
  bool isBlocking(unsigned inputPort) const {
    return inputPort < 8 * sizeof blockingMask && ((blockingMask >> inputPort) & 1u);
  }
  /// Names of the fixed input ports (`{"0","1"}`, `{"pos","neg"}`...), empty otherwise.
  std::vector<std::string> inputPortNames() const;
};

/// What `#name` reads of an operator (docs/language.md, "State
/// references"): nothing, its value (a fold's accumulator), or an `Option`
/// of it (none until an item came: reduce, singleton).
enum class StateRead { None, Value, Optional };

/// Whether items enter a loop block through it (`batch`, `all_once`,
/// `repeat_n`), or leave one (`all_iterations`, `last_iteration`).
inline bool entersLoop(OpKind k) { return k == OpKind::Batch || k == OpKind::AllOnce || k == OpKind::RepeatN; }
inline bool leavesLoop(OpKind k) { return k == OpKind::AllIterations || k == OpKind::LastIteration; }
StateRead stateRead(OpKind kind);

const OpInfo &opInfo(OpKind kind);
/// Null when `name` is not an operator.
const OpInfo *lookupOperator(const std::string &name);
const std::vector<OpInfo> &allOperators();

} // namespace dfir
