//===- Rewriter.h - Changing a program in place ---------------------------===//
//
// The one way transforms change an ir::Program: every operation keeps the
// port tables, channel ends and names consistent, so that the program
// verifies again once a transform's rewrite is complete. Ids stay stable
// while a transform runs: an erased operator or edge is a tombstone until
// `compact()` renumbers what is left (and rewrites every reference).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include <string>
#include <vector>

namespace dfir::ir {

/// What cutting an edge into a channel made.
struct CutEdge {
  ChanId channel;
  OpId send, recv;  // the channel's ends
  EdgeId sendEdge;  // the edge now ending at `send` (the old edge, or an adapter's)
  EdgeId recvEdge;  // the edge from `recv` (or its adapter) to the old target
};

class Rewriter {
public:
  explicit Rewriter(Program &p) : p_(p) {}

  /// A name for a new operator of `location`: `base_N` for the first N
  /// that no operator of that location uses.
  std::string freshOperatorName(LocId location, const std::string &base) const;
  /// A name for a new location or channel: `base`, or `base_N`, used by no
  /// location, channel, type, extern or const.
  std::string freshGlobalName(const std::string &base) const;
  /// Whether `name` names a location, channel, struct, enum, extern or const.
  bool globalNameTaken(const std::string &name) const;

  /// A new location. A program whose only location was the implicit
  /// `main` now has two: `main` becomes an ordinary process.
  LocId addLocation(const std::string &name, bool isCluster, uint64_t size);
  /// A new operator with no edges yet; ports sized for `inTypes`/`outTypes`.
  OpId addOperator(OpKind kind, LocId location, const std::string &name, std::vector<std::unique_ptr<Expr>> args,
                  std::vector<const Type *> inTypes, std::vector<const Type *> outTypes, SourceRange range);
  /// Puts an operator in another location; the caller keeps edges within
  /// one location (e.g. by cutting them into channels).
  void moveOperator(OpId op, LocId location);
  /// Makes edge `e` end at input `toPort` of `to` (which must be free).
  void setEdgeTarget(EdgeId e, OpId to, unsigned toPort);
  /// Replaces edge `from -> to` by a channel between their locations:
  /// `from -> send(c)` and `recv(c) -> to`, member-paired (member i of the
  /// sending location sends to member i of the receiving one, which must
  /// have the same kind and size): for clusters, a `map` on each side adds
  /// and removes the member id the channel needs.
  CutEdge cutEdge(EdgeId e, const std::string &channelName);

  /// Removes an operator and every edge at its ports (tombstones until
  /// `compact()`). A `send` or `recv` takes its channel with it.
  void eraseOperator(OpId op);
  void eraseEdge(EdgeId e);
  /// Renumbers operators, edges and channels without the erased ones and
  /// rewrites every reference. Returns the new id of each old operator
  /// (none for erased ones).
  std::vector<OpId> compact();

  /// `|x: T| (member_id(), x)` and `|p: (u32, T)| p.1`.
  std::unique_ptr<Expr> pairWithMemberId(const Type *t);
  std::unique_ptr<Expr> dropMemberId(const Type *t);

private:
  Program &p_;
  std::vector<bool> erasedOps_, erasedEdges_, erasedChannels_;
  void grow();
};

} // namespace dfir::ir
