//===- CostModel.cpp - Predicted load of a program's locations -------------===//
#include "passes/CostModel.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace dfir::passes {

using ir::Expr;

namespace {
/// Fewer samples than this in a location: its time is split by items.
constexpr uint64_t kMinSamples = 20;
} // namespace

double Prediction::bottleneckNs() const {
  double worst = 0;
  for (auto &l : loads) worst = std::max(worst, l.perInstanceNs());
  return worst;
}

std::string Prediction::bottleneck() const {
  const LocationLoad *worst = nullptr;
  for (auto &l : loads)
    if (!worst || l.perInstanceNs() > worst->perInstanceNs()) worst = &l;
  return worst ? worst->name : "";
}

CostModel::CostModel(const ir::Program &base, const Profile &profile, CostParams params)
    : params_(params), deployed_(profile.deployed) {
  (void)base;
  sampled_ = true;
  for (const LocationProfile &l : profile.locations()) {
    uint64_t opSamples = 0, items = 0;
    for (auto &op : l.ops) {
      opSamples += op.samples;
      items += op.in + op.out;
    }
    bool bySamples = l.samples >= kMinSamples;
    sampled_ = sampled_ && bySamples;
    double busy = static_cast<double>(l.busyNs);
    for (auto &op : l.ops) {
      double share = bySamples ? static_cast<double>(op.samples) / static_cast<double>(l.samples)
                     : items     ? static_cast<double>(op.in + op.out) / static_cast<double>(items)
                                 : 0.0;
      ops_[{l.name, op.name}] = {busy * share, op.out};
    }
    overheadNs_[l.name] =
        bySamples ? busy * static_cast<double>(l.samples - opSamples) / static_cast<double>(l.samples) : 0.0;
    ticks_[l.name] = l.ticks;
  }
  for (const ProfileChannel &c : profile.channels()) channels_[c.name] = {c.items, c.frames};
  if (deployed_) calibrate(base, profile);
}

/// Fits outside(L) = transitItemNs * items(L) + frameNs * frames(L) over
/// the locations L of a launched profile: the time their processes spent
/// outside ticks against the items and frames they sent and received.
void CostModel::calibrate(const ir::Program &base, const Profile &profile) {
  std::map<std::string, double> outside, items, frames;
  for (const ProfileInstance &in : profile.instances) outside[in.location] += static_cast<double>(in.outsideNs);
  for (const ir::Channel &ch : base.channels) {
    auto it = channels_.find(ch.name);
    if (it == channels_.end()) continue;
    for (const std::string &end : {base.locations[ch.from].name, base.locations[ch.to].name}) {
      items[end] += static_cast<double>(it->second.first);
      frames[end] += static_cast<double>(it->second.second);
    }
  }
  // The normal equations of the two-parameter fit.
  double ii = 0, ff = 0, if_ = 0, io = 0, fo = 0, total = 0;
  for (auto &[loc, o] : outside) {
    double i = items[loc], f = frames[loc];
    ii += i * i, ff += f * f, if_ += i * f, io += i * o, fo += f * o, total += o;
  }
  if (total <= 0 || (ii <= 0 && ff <= 0)) return;
  double det = ii * ff - if_ * if_, item = -1, frame = -1;
  if (det > 1e-9 * ii * ff) {
    item = (io * ff - fo * if_) / det;
    frame = (fo * ii - io * if_) / det;
  }
  if (item < 0 || frame < 0) { // one of them alone: the better fit
    double itemOnly = ii > 0 ? io / ii : 0, frameOnly = ff > 0 ? fo / ff : 0;
    double errItem = 0, errFrame = 0;
    for (auto &[loc, o] : outside) {
      errItem += (o - itemOnly * items[loc]) * (o - itemOnly * items[loc]);
      errFrame += (o - frameOnly * frames[loc]) * (o - frameOnly * frames[loc]);
    }
    bool byItems = ii > 0 && (ff <= 0 || errItem <= errFrame);
    item = byItems ? itemOnly : 0;
    frame = byItems ? 0 : frameOnly;
  }
  params_.transitItemNs = std::clamp(item, 0.0, 1e6);
  params_.frameNs = std::clamp(frame, 0.0, 1e7);
  calibrated_ = true;
}

double CostModel::costOf(const std::string &location, const std::string &op) const {
  auto it = ops_.find({location, op});
  return it == ops_.end() ? 0.0 : it->second.ns;
}

std::string CostModel::baseLocation(const std::string &name,
                                    const std::map<std::string, std::string> &originOf) const {
  std::string at = name;
  for (int hops = 0; hops < 64; ++hops) {
    auto it = originOf.find(at);
    if (it == originOf.end()) return at;
    at = it->second;
  }
  return at;
}

const CostModel::OpFacts *CostModel::facts(const ir::Program &p, int op,
                                           const std::map<std::string, std::string> &originOf) const {
  const ir::Operator &o = p.ops[op];
  std::string base = baseLocation(p.locations[o.location].name, originOf);
  auto it = ops_.find({base, o.name});
  if (it == ops_.end()) return nullptr;
  // A rewrite may give an operator it adds the name of one it moved away
  // (`send_0` is free again once the old one left): the moved one, in the
  // location made from this one, is the profiled operator.
  if (p.locations[o.location].name == base)
    for (size_t other = 0; other < p.ops.size(); ++other) {
      const ir::Operator &m = p.ops[other];
      if (static_cast<int>(other) != op && m.name == o.name && m.kind == o.kind && m.location != o.location &&
          baseLocation(p.locations[m.location].name, originOf) == base)
        return nullptr;
    }
  return &it->second;
}

double CostModel::itemsInto(const ir::Program &p, int op, const std::map<std::string, std::string> &originOf,
                            int depth) const {
  if (depth > 64) return 0;
  const ir::Operator &o = p.ops[op];
  if (o.kind == OpKind::Recv && o.channel.valid()) {
    const ir::Channel &ch = p.channels[o.channel];
    if (auto it = channels_.find(ch.name); it != channels_.end()) return static_cast<double>(it->second.first);
    return ch.sendOp.valid() ? itemsInto(p, ch.sendOp, originOf, depth + 1) : 0.0;
  }
  double items = 0;
  for (ir::EdgeId e : o.inputs) {
    if (!e.valid()) continue;
    int from = p.edges[e].from;
    if (const OpFacts *f = facts(p, from, originOf)) items += static_cast<double>(f->out);
    else items += itemsInto(p, from, originOf, depth + 1);
  }
  return items;
}

namespace {
/// Whether `e` depends on anything but constants: a local (the item) or
/// the sender's member id.
bool varies(const Expr &e) {
  if (e.kind == Expr::Local || (e.kind == Expr::Builtin && e.builtin == BuiltinId::MemberId)) return true;
  for (auto &k : e.kids)
    if (k && varies(*k)) return true;
  return false;
}
} // namespace

std::vector<bool> CostModel::pinnedOps(const ir::Program &p) const {
  std::vector<bool> pinned(p.ops.size(), false);
  // A channel into a cluster whose sender computes the instance from
  // constants alone: `map(|x| (<constant>, x)) -> send(c)`.
  for (const ir::Channel &ch : p.channels) {
    if (!ch.sendOp.valid() || !ch.recvOp.valid() || p.locations[ch.to].size < 2) continue;
    const ir::Operator &send = p.ops[ch.sendOp];
    if (send.inputs.empty() || !send.inputs[0].valid()) continue;
    const ir::Operator &route = p.ops[p.edges[send.inputs[0]].from];
    if (route.kind != OpKind::Map || route.args.empty()) continue;
    const Expr &fn = *route.args[0];
    if (fn.kind != Expr::Lambda || fn.kids.empty() || fn.kids[0]->kind != Expr::Tuple || fn.kids[0]->kids.size() != 2)
      continue;
    if (!varies(*fn.kids[0]->kids[0])) pinned[ch.recvOp] = true;
  }
  // What only pinned operators feed is pinned too.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t id = 0; id < p.ops.size(); ++id) {
      const ir::Operator &o = p.ops[id];
      if (pinned[id] || o.inputs.empty()) continue;
      bool all = true;
      for (ir::EdgeId e : o.inputs) all = all && e.valid() && pinned[p.edges[e].from];
      if (all) pinned[id] = changed = true;
    }
  }
  return pinned;
}

Prediction CostModel::predict(const ir::Program &p, const std::map<std::string, std::string> &originOf) const {
  std::vector<bool> pinned = pinnedOps(p);
  Prediction out;
  for (const ir::Location &l : p.locations) {
    out.loads.push_back({l.name, l.size, 0.0});
    out.processes += l.size;
  }
  // Each base location's tick overhead stays with it (not with what moved).
  for (size_t l = 0; l < p.locations.size(); ++l)
    if (auto it = overheadNs_.find(p.locations[l].name); it != overheadNs_.end()) out.loads[l].totalNs += it->second;
  for (size_t id = 0; id < p.ops.size(); ++id) {
    const ir::Operator &o = p.ops[id];
    LocationLoad &where = out.loads[o.location];
    double before = where.totalNs;
    double &load = where.totalNs;
    if (const OpFacts *f = facts(p, static_cast<int>(id), originOf)) {
      load += f->ns;
      if (pinned[id]) where.pinnedNs += load - before;
      continue;
    }
    // Added by a rewrite.
    double items = itemsInto(p, static_cast<int>(id), originOf, 0);
    double perItem = o.kind == OpKind::Send ? params_.sendItemNs
                     : o.kind == OpKind::Recv ? params_.recvItemNs
                                                  : params_.routeItemNs;
    load += items * perItem;
    if (pinned[id]) where.pinnedNs += load - before;
  }
  // Frames, at both ends.
  for (const ir::Channel &ch : p.channels) {
    if (!ch.sendOp.valid()) continue;
    double items = itemsInto(p, ch.sendOp, originOf, 0);
    std::string sender = baseLocation(p.locations[ch.from].name, originOf);
    double ticks = 0;
    if (auto it = ticks_.find(sender); it != ticks_.end()) ticks = static_cast<double>(it->second);
    double frames = std::min(items, ticks);
    if (auto it = channels_.find(ch.name); it != channels_.end() && deployed_)
      frames = static_cast<double>(it->second.second);
    if (ch.batch.count > 1) frames = std::min(frames, std::ceil(items / ch.batch.count));
    double cost = frames * params_.frameNs + items * params_.transitItemNs;
    out.loads[ch.from].totalNs += cost;
    out.loads[ch.to].totalNs += cost;
    // Where partition keeps the items on one instance, it moves them all.
    if (pinned[ch.sendOp]) out.loads[ch.from].pinnedNs += cost;
    if (ch.recvOp.valid() && pinned[ch.recvOp]) out.loads[ch.to].pinnedNs += cost;
  }
  return out;
}

} // namespace dfir::passes
