//===- IR.h - The DFIR operator graph -------------------------------------===//
//
// A checked program: declarations, locations, channels, operators and the
// edges between them, every edge with one Type. Operators own their
// arguments as typed closure expressions (ir/Expr.h). Ports are normalized:
// input port i of an operator is `inputs[i]` (the id of the one edge that
// feeds it), output port i is `outputs[i]`; names such as `[neg]` or a
// variant of `demux_enum` are mapped to numbers by the operator table.
//
// Tables are indexed by typed ids (OpId, EdgeId, LocId, ChanId): each is
// made from a number only explicitly, so an edge cannot be stored where an
// operator belongs; read as an index, an id is an int.
//
// The invariants that every stage keeps are listed in ir/Verifier.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Expr.h"
#include "ir/Operators.h"
#include "support/SourceLoc.h"
#include "ir/Type.h"

#include <memory>
#include <string>
#include <vector>

namespace dfir::ir {

constexpr int kNone = -1;

/// An index into one of the program's tables, typed by the table: an
/// operator's id cannot be stored where an edge's or a location's belongs,
/// nor a plain number anywhere (construction is explicit). Reading one as
/// an index is implicit. `kNone` (the default) is no entry.
template <class Tag> class Id {
public:
  constexpr Id() = default;
  constexpr explicit Id(int value) : value_(value) {}
  constexpr operator int() const { return value_; }
  constexpr bool valid() const { return value_ != kNone; }

private:
  int value_ = kNone;
};
using OpId = Id<struct OperatorTag>;
using EdgeId = Id<struct EdgeTag>;
using LocId = Id<struct LocationTag>;
using ChanId = Id<struct ChannelTag>;

/// The most members a cluster may have (declared or `dfirc run --cluster`).
constexpr uint64_t kMaxClusterSize = 4096;

/// How long an operator's state lives: a tick, for ever, or inside a loop
/// block one iteration (`'none`) or one execution of the loop (`'loop`).
enum class Persistence { Tick, Static, None, Loop };
const char *persistenceName(Persistence p);

struct Location {
  std::string name;
  bool isCluster = false;
  uint64_t size = 1;
  bool implicit = false; // the `main` process of a program without locations
  SourceRange range;
};

enum class ChannelMode { Direct, Broadcast, Hash };

/// A channel's batching policy (`batch(N, Tus)`): the sender frames its
/// items once it holds `count` of them or the oldest has waited `micros`.
/// `count == 0`: not batched (each tick's items are framed at its end).
struct BatchPolicy {
  uint32_t count = 0;
  uint32_t micros = 0;
  bool enabled() const { return count > 0; }
};
constexpr uint32_t kMaxBatchCount = 1u << 24;
constexpr uint32_t kMaxBatchMicros = 60000000; // one minute

struct Channel {
  std::string name;
  LocId from, to;
  ChannelMode mode = ChannelMode::Direct;
  std::unique_ptr<Expr> hashFn; // Hash: a closure over the element type
  const Type *elem = nullptr;
  BatchPolicy batch;
  OpId sendOp, recvOp;
  SourceRange range;
};

/// A `loop { ... }` block: its operators run again in every iteration,
/// inside one stratum of the enclosing scope (docs/language.md).
struct Loop {
  LocId location;
  int parent = kNone; // the enclosing loop, none at the location's top
  SourceRange range;  // `loop` .. `}`
};

struct Edge {
  OpId from, to;
  unsigned fromPort = 0, toPort = 0;
  const Type *type = nullptr;
  SourceRange range;
};

struct Operator {
  OpKind kind;
  LocId location;
  std::string name;     // unique within its location; printed as `name = op(...)`
  std::vector<std::unique_ptr<Expr>> args;
  std::vector<Persistence> persistence; // one per stateful input, empty if stateless
  const Type *typeArg = nullptr;        // demux_enum::<E>
  ChanId channel;                        // send/recv
  int loop = kNone;                      // the innermost loop block it is in
  std::vector<EdgeId> inputs;           // the edge at each input port (none: unconnected)
  std::vector<EdgeId> outputs;          // the edge at each output port (none: unconnected)
  std::vector<const Type *> inTypes, outTypes;
  SourceRange range;

  const OpInfo &info() const { return opInfo(kind); }
};

struct ExternDecl {
  std::string name;
  std::vector<std::pair<std::string, const Type *>> params;
  const Type *result = nullptr;
  SourceRange range; // of the name in the declaration
};

/// `fn name(a: T, ...) -> R { ... }`: a pure function of the program,
/// callable from every closure (Expr::Function).
struct FunctionDecl {
  std::string name;
  std::vector<std::pair<std::string, const Type *>> params;
  const Type *result = nullptr;
  std::unique_ptr<Expr> body; // a Lambda of the parameters (Bind patterns, slots 0..n-1 first)
  SourceRange range;          // of the name in the declaration
};

struct ConstDecl {
  std::string name;
  const Type *type = nullptr;
  std::unique_ptr<Expr> value;
};

struct Program {
  std::unique_ptr<TypeContext> types = std::make_unique<TypeContext>();
  std::vector<ExternDecl> externs;
  std::vector<FunctionDecl> functions;
  std::vector<ConstDecl> consts;
  std::vector<Location> locations;
  std::vector<Channel> channels;
  std::vector<Operator> ops;
  std::vector<Edge> edges;
  std::vector<Loop> loops;

  /// Whether loop `inner` is `outer` or nested in it (kNone: the top).
  bool loopWithin(int inner, int outer) const;

  /// Operators of one location, in id order.
  std::vector<OpId> opsIn(LocId location) const;
  /// Adds an edge and records it on both operators' port tables.
  EdgeId connect(OpId from, unsigned fromPort, OpId to, unsigned toPort, const Type *type);
};

} // namespace dfir::ir
