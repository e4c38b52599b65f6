//===- AutoRewrite.cpp - Rewrites chosen from a profile --------------------===//
#include "tools/dfirc/AutoRewrite.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <set>

namespace dfir::driver {

namespace {

constexpr size_t kDecouplesPerLocation = 6; // tried per location and step, the best balanced first
constexpr size_t kBeam[] = {3, 2};          // sequences extended at the second and third step
constexpr uint64_t kMaxPartition = 16;
constexpr uint32_t kBatchCount = 16;  // items per batch, framed after 1 ms at the latest
constexpr uint64_t kSmallFrame = 4;   // frames of fewer items than this are worth batching
constexpr double kWorthIt = 1.05; // predicted gain below this is not worth a rewrite

struct Step {
  enum Kind { Decouple, Partition, Batch } kind;
  std::string location, select, fresh, channel;
  uint64_t count = 0;

  std::string passText() const {
    switch (kind) {
    case Decouple: return "decouple{location=" + location + " select=" + select + " new=" + fresh + "}";
    case Partition: return "partition{location=" + location + " count=" + std::to_string(count) + "}";
    case Batch: return "batch{channel=" + channel + " count=" + std::to_string(count) + "}";
    }
    return "";
  }
  std::string flag() const {
    switch (kind) {
    case Decouple: return "--decouple " + location + ":" + select + "=" + fresh;
    case Partition: return "--partition " + location + "=" + std::to_string(count);
    case Batch: return "--batch " + channel + "=" + std::to_string(count);
    }
    return "";
  }
};

std::string pipelineOf(const std::vector<Step> &steps) {
  std::string text;
  for (auto &s : steps) text += (text.empty() ? "" : ",") + s.passText();
  return text;
}

/// The flags that reproduce `steps`: the per-transform flags when the
/// steps are in the order the driver runs those (decouple, partition,
/// batch), else one `--passes`.
std::string flagsOf(const std::vector<Step> &steps) {
  bool ordered = true;
  for (size_t i = 1; i < steps.size(); ++i) ordered = ordered && steps[i - 1].kind <= steps[i].kind;
  if (!ordered) return "--passes='" + pipelineOf(steps) + "'";
  std::string out;
  for (auto &s : steps) out += (out.empty() ? "" : " ") + s.flag();
  return out;
}

struct Node {
  std::vector<Step> steps;
  std::unique_ptr<ir::Program> program;
  std::map<std::string, std::string> origin; // new location -> the one it came from
  passes::Prediction prediction;
  double speedup = 1.0;
};

struct Rejected {
  std::string flags, why;
  bool refused;
  double speedup;
};

class Search {
public:
  Search(const ir::Program &base, const passes::Profile &profile, uint64_t extra, const TrialFn &trial)
      : base_(base), profile_(profile), channels_(profile.channels()), model_(base, profile), extra_(extra),
        trial_(trial) {
    for (auto &l : base.locations) baseProcesses_ += l.size;
    basePrediction_ = model_.predict(base, {});
  }

  AutoChoice run();

private:
  std::vector<Step> candidates(const Node &from);
  bool nameTaken(const ir::Program &p, const std::string &name) const;
  void tryStep(const Node &from, const Step &step, std::vector<Node> &out);
  std::string report(const Node *best) const;

  const ir::Program &base_;
  const passes::Profile &profile_;
  std::vector<passes::ProfileChannel> channels_;
  passes::CostModel model_;
  uint64_t extra_;
  const TrialFn &trial_;
  uint64_t baseProcesses_ = 0;
  passes::Prediction basePrediction_;
  std::vector<Rejected> rejected_;
  std::set<std::string> tried_;
  size_t trials_ = 0;
};

bool Search::nameTaken(const ir::Program &p, const std::string &name) const {
  for (auto &l : p.locations)
    if (l.name == name) return true;
  for (auto &c : p.channels)
    if (c.name == name) return true;
  return false;
}

std::vector<Step> Search::candidates(const Node &from) {
  const ir::Program &p = from.program ? *from.program : base_;
  uint64_t used = 0;
  for (auto &l : p.locations) used += l.size;
  uint64_t room = baseProcesses_ + extra_ > used ? baseProcesses_ + extra_ - used : 0;
  std::vector<Step> out;
  auto baseOf = [&](const std::string &loc) {
    std::string at = loc;
    for (auto it = from.origin.find(at); it != from.origin.end(); it = from.origin.find(at)) at = it->second;
    return at;
  };
  for (size_t l = 0; l < p.locations.size(); ++l) {
    const ir::Location &loc = p.locations[l];
    std::vector<ir::OpId> ops = p.opsIn(ir::LocId(static_cast<int>(l)));
    double total = 0;
    for (ir::OpId o : ops) total += model_.costOf(baseOf(loc.name), p.ops[o].name);
    // Decouple at each operator: it moves what it reaches within the
    // location. The most balanced splits are tried.
    if (loc.size <= room && total > 0) {
      std::vector<std::pair<double, ir::OpId>> splits;
      for (ir::OpId o : ops) {
        std::set<int> moved{o};
        std::vector<int> work{o};
        while (!work.empty()) {
          int at = work.back();
          work.pop_back();
          for (ir::EdgeId e : p.ops[at].outputs) {
            if (!e.valid()) continue;
            int to = p.edges[e].to;
            if (p.ops[to].location == static_cast<int>(l) && moved.insert(to).second) work.push_back(to);
          }
        }
        double cost = 0;
        for (int m : moved) cost += model_.costOf(baseOf(loc.name), p.ops[m].name);
        if (cost < 0.05 * total || cost > 0.95 * total) continue;
        splits.push_back({std::max(cost, total - cost), o});
      }
      std::sort(splits.begin(), splits.end());
      for (size_t i = 0; i < splits.size() && i < kDecouplesPerLocation; ++i) {
        Step s{Step::Decouple, loc.name, p.ops[splits[i].second].name, "", "", 0};
        std::string fresh = loc.name + "_" + s.select;
        for (int n = 2; nameTaken(p, fresh); ++n) fresh = loc.name + "_" + s.select + "_" + std::to_string(n);
        s.fresh = fresh;
        out.push_back(s);
      }
    }
    // Partition by each count the budget allows (once: partitioning the
    // instances again is a partition by the product, tried as such).
    bool partitioned = false;
    for (const Step &s : from.steps) partitioned = partitioned || (s.kind == Step::Partition && s.location == loc.name);
    for (uint64_t k = 2; !partitioned && k <= kMaxPartition && loc.size * (k - 1) <= room; ++k)
      out.push_back({Step::Partition, loc.name, "", "", "", k});
  }
  // Batch channels whose frames were small when the profile was measured
  // launched (an embedded run's frames say nothing of the network's).
  // Batches commute, so a sequence batches channels in name order.
  std::string lastBatched;
  for (const Step &s : from.steps)
    if (s.kind == Step::Batch) lastBatched = std::max(lastBatched, s.channel);
  for (const ir::Channel &ch : p.channels) {
    if (!profile_.deployed || ch.batch.count != 0 || ch.name <= lastBatched) continue;
    auto it = std::find_if(channels_.begin(), channels_.end(),
                           [&](const passes::ProfileChannel &c) { return c.name == ch.name; });
    if (it == channels_.end() || it->items < kBatchCount || it->frames * kSmallFrame < it->items) continue;
    // A batch that does not fill before its timer (1 ms) only delays.
    double perMs = static_cast<double>(it->items) / (static_cast<double>(profile_.wallNs) / 1e6 + 1e-9);
    if (perMs < kBatchCount) continue;
    out.push_back({Step::Batch, "", "", "", ch.name, kBatchCount});
  }
  return out;
}

void Search::tryStep(const Node &from, const Step &step, std::vector<Node> &out) {
  Node n;
  n.steps = from.steps;
  n.steps.push_back(step);
  std::string text = pipelineOf(n.steps);
  if (!tried_.insert(text).second) return;
  ++trials_;
  Trial t = trial_(text);
  if (!t.program) {
    rejected_.push_back({flagsOf(n.steps), t.refusal, true, 0});
    return;
  }
  n.origin = from.origin;
  if (step.kind == Step::Decouple) n.origin[step.fresh] = step.location;
  n.program = std::move(t.program);
  n.prediction = model_.predict(*n.program, n.origin);
  double after = n.prediction.bottleneckNs();
  n.speedup = after > 0 ? basePrediction_.bottleneckNs() / after : 1.0;
  out.push_back(std::move(n));
}

AutoChoice Search::run() {
  Node root;
  std::deque<Node> all; // parents point into it: a deque keeps them in place
  std::vector<const Node *> parents{&root};
  for (int depth = 0; depth < 3 && !parents.empty(); ++depth) {
    std::vector<Node> level;
    for (const Node *parent : parents)
      for (const Step &s : candidates(*parent)) tryStep(*parent, s, level);
    std::stable_sort(level.begin(), level.end(), [](const Node &a, const Node &b) { return a.speedup > b.speedup; });
    for (auto &n : level) all.push_back(std::move(n));
    // Extend the best of this level that improved on their parent.
    // The best of each kind of step and location, so that one location's
    // partitions by 2, 3, 4 ... do not fill the beam.
    parents.clear();
    std::set<std::pair<int, std::string>> kinds;
    if (depth < 2)
      for (auto &n : all) {
        if (n.steps.size() != static_cast<size_t>(depth + 1) || parents.size() >= kBeam[depth] || n.speedup <= kWorthIt)
          continue;
        const Step &last = n.steps.back();
        if (kinds.insert({last.kind, last.kind == Step::Batch ? last.channel : last.location}).second)
          parents.push_back(&n);
      }
  }
  const Node *best = nullptr;
  for (const Node &n : all) {
    if (n.speedup < kWorthIt) continue;
    if (!best || n.speedup > best->speedup * 1.02 ||
        (n.speedup > best->speedup / 1.02 && (n.prediction.processes < best->prediction.processes ||
                                              (n.prediction.processes == best->prediction.processes &&
                                               n.steps.size() < best->steps.size()))))
      best = &n;
  }
  for (const Node &n : all)
    if (&n != best) {
      char why[96];
      std::snprintf(why, sizeof why, "predicted x%.2f", n.speedup);
      rejected_.push_back({flagsOf(n.steps), why, false, n.speedup});
    }
  AutoChoice choice;
  if (best) {
    choice.pipeline = pipelineOf(best->steps);
    choice.speedup = best->speedup;
  }
  choice.report = report(best);
  return choice;
}

std::string fmtMs(double ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", ns / 1e6);
  return buf;
}

std::string Search::report(const Node *best) const {
  std::string out = "dfirc: auto-rewrite: " + std::to_string(trials_) + " candidate pipelines tried within " +
                    std::to_string(extra_) + " extra process" + (extra_ == 1 ? "" : "es") +
                    (model_.sampled() ? "" : " (the profile has few samples: time split by items)") + "\n";
  if (model_.calibrated()) {
    char line[120];
    std::snprintf(line, sizeof line,
                  "  moving messages, fitted to the time outside ticks: %.2f us per item and %.2f us per frame\n",
                  model_.params().transitItemNs / 1000, model_.params().frameNs / 1000);
    out += line;
  }
  if (!profile_.deployed)
    out += "  batching is not considered: the profile is of an embedded run, whose frames say nothing of the "
           "network's (profile a launched run: dfirc launch --profile-dir)\n";
  if (best) {
    char gain[32];
    std::snprintf(gain, sizeof gain, "%.2f", best->speedup);
    out += "  chosen: " + flagsOf(best->steps) + "  (predicted throughput x" + gain + ")\n";
    out += "  as a pipeline: --passes='" + pipelineOf(best->steps) + "'\n";
  } else {
    out += "  nothing legal is predicted to help by " + std::to_string(static_cast<int>((kWorthIt - 1) * 100 + 0.5)) +
           "% or more: the program is built unchanged\n";
  }
  // Loads per location, before and after.
  std::vector<std::vector<std::string>> rows = {{"location", "instances", "before ms/instance", "after ms/instance"}};
  const passes::Prediction &after = best ? best->prediction : basePrediction_;
  std::set<std::string> seen;
  for (auto &l : basePrediction_.loads) {
    std::string afterMs = "-", instances = std::to_string(l.instances);
    for (auto &a : after.loads)
      if (a.name == l.name) {
        afterMs = fmtMs(a.perInstanceNs());
        instances = a.instances == l.instances ? instances : instances + " -> " + std::to_string(a.instances);
      }
    rows.push_back({l.name, instances, fmtMs(l.perInstanceNs()), afterMs});
    seen.insert(l.name);
  }
  for (auto &a : after.loads)
    if (!seen.count(a.name)) rows.push_back({a.name, "-> " + std::to_string(a.instances), "-", fmtMs(a.perInstanceNs())});
  std::vector<size_t> width(4, 0);
  for (auto &r : rows)
    for (size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], r[c].size());
  out += "  predicted load (CPU time of the profiled run, per instance):\n";
  for (auto &r : rows) {
    std::string line = "    " + r[0] + std::string(width[0] - r[0].size(), ' ');
    for (size_t c = 1; c < 4; ++c) line += "  " + std::string(width[c] - r[c].size(), ' ') + r[c];
    out += line + "\n";
  }
  out += "  bottleneck: " + basePrediction_.bottleneck() + " -> " + after.bottleneck() + "\n";
  // Why the others were not chosen: refusals first (the transform's
  // reason), then the best of the rest by prediction.
  std::vector<const Rejected *> refused, worse;
  for (auto &r : rejected_) (r.refused ? refused : worse).push_back(&r);
  std::stable_sort(worse.begin(), worse.end(), [](const Rejected *a, const Rejected *b) { return a->speedup > b->speedup; });
  size_t shown = 0;
  if (!rejected_.empty()) out += "  not chosen:\n";
  for (const Rejected *r : refused) {
    if (shown++ >= 8) break;
    out += "    " + r->flags + ": refused: " + r->why + "\n";
  }
  size_t shownWorse = 0;
  for (const Rejected *r : worse) {
    if (shownWorse++ >= 6) break;
    out += "    " + r->flags + ": " + r->why + "\n";
  }
  size_t rest = rejected_.size() - std::min(refused.size(), size_t(8)) - std::min(worse.size(), size_t(6));
  if (rest) out += "    (and " + std::to_string(rest) + " more)\n";
  return out;
}

} // namespace

AutoChoice chooseRewrites(const ir::Program &base, const passes::Profile &profile, uint64_t extra,
                          const TrialFn &trial) {
  Search search(base, profile, extra, trial);
  return search.run();
}

} // namespace dfir::driver
