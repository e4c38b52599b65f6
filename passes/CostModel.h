//===- CostModel.h - Predicted load of a program's locations ---------------===//
//
// `--auto-rewrite` (docs/passes.md) compares rewritten programs by the load
// this model predicts for their busiest instance. It starts from a profile
// of the program as written (passes/Profile.h) and charges:
//
//   - each operator the CPU time it took in the profile: its location's
//     busy time split by the operator's share of the samples (by its share
//     of items when the run was too short to sample), wherever a rewrite
//     puts it; the rest of a location's samples (the tick outside any
//     operator) stays with the location;
//   - each operator a rewrite adds (a channel's send and recv, the maps that
//     pair items with member ids, routing) a cost per item it handles, the
//     items being those the profile counted upstream of it;
//   - each channel a cost per frame at both ends, frames being what the
//     profile counted when it was measured deployed, at most one per
//     sending tick when it was measured embedded, and for a batched
//     channel one per batch, and a cost per item at both ends for moving
//     it outside ticks; both are fitted (least squares over the locations)
//     to what launched processes spent outside their ticks against the
//     items and frames they sent and received (defaults when the profile
//     is of an embedded run);
//
// and divides a location's load evenly among its instances (a partitioned
// location's keys are assumed spread evenly: the profile does not say how
// skewed they are), except the work on items that partition routes all to
// one instance (to keep one sender's order), which that instance does. The predicted throughput of a program is inversely
// proportional to its busiest instance's load, one instance per core.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"
#include "passes/Profile.h"

#include <map>
#include <string>
#include <vector>

namespace dfir::passes {

/// Costs of the work rewrites add, in nanoseconds.
struct CostParams {
  double sendItemNs = 150;  // encoding an item and queueing it
  double recvItemNs = 150;  // checking, decoding and emitting it
  double frameNs = 3000;    // a frame: a system call and a wake-up at each end
  double transitItemNs = 300; // an item moved between processes, outside ticks, at each end
  double routeItemNs = 20;  // a pairing map, a hash route
};

struct LocationLoad {
  std::string name;
  uint64_t instances = 1;
  double totalNs = 0;  // over all its instances
  double pinnedNs = 0; // of that, work that stays on one instance (a partition keeping a sender's order)
  double perInstanceNs() const {
    return (totalNs - pinnedNs) / static_cast<double>(instances ? instances : 1) + pinnedNs;
  }
};

struct Prediction {
  std::vector<LocationLoad> loads; // in the program's location order
  uint64_t processes = 0;          // instances of all locations
  double bottleneckNs() const;
  std::string bottleneck() const;
};

class CostModel {
public:
  CostModel(const ir::Program &base, const Profile &profile, CostParams params = {});

  /// The load of `p`, a rewrite of the base program. `originOf` names, for
  /// each location a rewrite created, the base location its operators came
  /// from (operators keep their names when they move).
  Prediction predict(const ir::Program &p, const std::map<std::string, std::string> &originOf) const;
  /// The profiled cost of operator `op` of base location `location` (0
  /// when the profile does not have it).
  double costOf(const std::string &location, const std::string &op) const;
  const CostParams &params() const { return params_; }
  /// Whether the profile had enough samples to split time by them.
  bool sampled() const { return sampled_; }
  /// Whether the cost of a frame was measured (a launched profile).
  bool calibrated() const { return calibrated_; }

private:
  struct OpFacts {
    double ns = 0;
    uint64_t out = 0;
  };
  std::string baseLocation(const std::string &name, const std::map<std::string, std::string> &originOf) const;
  /// Items into `op` of `p`: the profiled output of the nearest profiled
  /// operators upstream of it (through added operators and channels).
  double itemsInto(const ir::Program &p, int op, const std::map<std::string, std::string> &originOf, int depth) const;
  const OpFacts *facts(const ir::Program &p, int op, const std::map<std::string, std::string> &originOf) const;
  /// Operators of partitioned locations that only items routed to one
  /// instance reach (partition keeps a relay of one sender there).
  std::vector<bool> pinnedOps(const ir::Program &p) const;
  void calibrate(const ir::Program &base, const Profile &profile);

  CostParams params_;
  bool sampled_ = false;
  bool calibrated_ = false;
  bool deployed_ = false; // measured launched (real frames)
  std::map<std::pair<std::string, std::string>, OpFacts> ops_; // (location, operator)
  std::map<std::string, double> overheadNs_;                   // per base location
  std::map<std::string, uint64_t> ticks_;                      // per base location, all instances
  std::map<std::string, std::pair<uint64_t, uint64_t>> channels_; // name -> (items, frames)
};

} // namespace dfir::passes
