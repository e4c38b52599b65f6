//===- IR.h - The DFIR operator graph -------------------------------------===//
//
// A checked program: declarations, locations, channels, operators and the
// edges between them, every edge with one Type. Operators own their
// arguments as typed closure expressions (ir/Expr.h). Ports are normalized:
// input port i of an operator is `inputs[i]` (the id of the one edge that
// feeds it), output port i is `outputs[i]`; names such as `[neg]` or a
// variant of `demux_enum` are mapped to numbers by the operator table.
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
/// The most members a cluster may have (declared or `dfirc run --cluster`).
constexpr uint64_t kMaxClusterSize = 4096;

enum class Persistence { Tick, Static };
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
  int from = kNone, to = kNone; // location ids
  ChannelMode mode = ChannelMode::Direct;
  std::unique_ptr<Expr> hashFn; // Hash: a closure over the element type
  const Type *elem = nullptr;
  BatchPolicy batch;
  int sendOp = kNone, recvOp = kNone;
  SourceRange range;
};

struct Edge {
  int from = kNone, to = kNone; // operator ids
  unsigned fromPort = 0, toPort = 0;
  const Type *type = nullptr;
  SourceRange range;
};

struct Operator {
  OpKind kind;
  int location = kNone;
  std::string name;     // unique within its location; printed as `name = op(...)`
  std::vector<std::unique_ptr<Expr>> args;
  std::vector<Persistence> persistence; // one per stateful input, empty if stateless
  const Type *typeArg = nullptr;        // demux_enum::<E>
  int channel = kNone;                  // send/recv
  std::vector<int> inputs;              // edge id per input port (kNone: unconnected)
  std::vector<int> outputs;             // edge id per output port (kNone: unconnected)
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

struct ConstDecl {
  std::string name;
  const Type *type = nullptr;
  std::unique_ptr<Expr> value;
};

struct Program {
  std::unique_ptr<TypeContext> types = std::make_unique<TypeContext>();
  std::vector<ExternDecl> externs;
  std::vector<ConstDecl> consts;
  std::vector<Location> locations;
  std::vector<Channel> channels;
  std::vector<Operator> ops;
  std::vector<Edge> edges;

  /// Operators of one location, in id order.
  std::vector<int> opsIn(int location) const;
  /// Adds an edge and records it on both operators' port tables.
  int connect(int from, unsigned fromPort, int to, unsigned toPort, const Type *type);
};

} // namespace dfir::ir
