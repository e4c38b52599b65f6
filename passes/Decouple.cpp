//===- Decouple.cpp - Move part of a location onto a new one ---------------===//
//
// `decouple{location=L select=S[,S...] new=N}` (`--decouple L:S[,S...]=N`)
// moves the selected operators of L (by name, or `@LINE`: every operator
// whose text starts on that line), and everything downstream of them
// within L, to a new location N of L's kind and size. Member i of N pairs
// with member i of L, so `member_id()` in moved code keeps its meaning.
// Every edge from the rest of L into the moved set becomes a member-paired
// channel `L -> N`; a channel whose `recv` moves now ends at N, one whose
// `send` moves now starts there; code in other locations is unchanged.
//
// Legality (the coordination-free cases of "Optimizing Distributed
// Protocols with Query Rewrites", SIGMOD 2024). Items that crossed a cut
// edge within one tick of L now arrive at N in later ticks, possibly split
// over several, so the rewrite is accepted only if:
//   - no edge is cut (mutually independent: the moved part only receives
//     from channels and sources of its own); or
//   - everything reachable from a cut edge inside the moved set works on
//     each item alone (functional: Decoupling = PerItem in Operators.def);
//   - or is monotone with `'static` state (monotonic): `unique::<'static>`
//     emits each item once whatever the ticks; a 'static join or persist
//     only grows, but re-emits all of it every tick, and the new location
//     may run more ticks, so what it emits must reach a `unique::<'static>`
//     through pure per-item operators before anything else sees it.
// Anything else is refused: an error at the flag, and a note at the first
// operator that depends on which items share a tick, with the reason.
//
// The rewrite also changes how many ticks each side runs: the old location
// no longer ticks for what makes the moved part tick (a `recv`, a
// `defer_tick`, input, a timer), and the new location ticks when items
// cross the cut. Operators whose output shows how many ticks ran (a `fold`
// emits its accumulator every tick; a 'static `persist`, join or keyed fold
// re-emits its state every tick; `multiset_delta` compares with the tick
// before) are therefore refused on a side whose ticks change.
//
//===----------------------------------------------------------------------===//
#include "passes/Transforms.h"

#include "ir/ExprAnalysis.h"
#include "ir/GraphAlgo.h"
#include "ir/Rewriter.h"
#include "passes/RewriteRules.h"

#include <algorithm>
#include <set>

namespace dfir::passes {

namespace {
/// Why operator `id` cannot take items that arrive in other ticks than
/// they were sent in; empty if it can.
std::string blocker(const ir::Program &p, int id) {
  const ir::Operator &op = p.ops[id];
  const OpInfo &info = op.info();
  std::string name = "`" + spelled(op) + "`";
  if (ir::readsState(op))
    return name + " reads another operator's state (`#name`) as it ends the tick; after decoupling, its items may "
                  "arrive in other ticks";
  switch (info.decoupling) {
  case Decoupling::PerItem:
  case Decoupling::Source: return "";
  case Decoupling::Monotone:
  case Decoupling::Accumulates: {
    if (!allStatic(op))
      return name + " keeps its state for one tick only: after decoupling, items that met in one tick may arrive "
                    "in different ticks (with `'static` state it would be monotone)";
    if (op.kind == OpKind::LatticeFold || op.kind == OpKind::LatticeReduce || op.kind == OpKind::LatticeJoin) {
      std::string why = latticeUnsettled(p, id);
      return why.empty() ? "" : name + " merges a value that only grows, but " + why;
    }
    if (info.decoupling == Decoupling::Monotone || dedupedDownstream(p, id)) return "";
    return name + " re-emits its whole result every tick: after decoupling it may run in more ticks and repeat "
                  "it; what it emits must reach `unique::<'static>()` through pure per-item operators only";
  }
  case Decoupling::TickBound: break;
  }
  // The reason in the user's terms; any other operator that depends on its
  // ticks gets the general one below.
  OpKind k = op.kind;
  if (k == OpKind::Fold || k == OpKind::Reduce || k == OpKind::FoldKeyed || k == OpKind::ReduceKeyed) {
    if (allStatic(op))
      return name + " emits its running result every tick: after decoupling, which items it has seen at each tick "
                    "would change";
    return name + " aggregates what arrives in one tick; after decoupling, items of one tick may arrive in "
                  "different ticks";
  }
  if (k == OpKind::Sort || k == OpKind::SortByKey)
    return name + " orders the items of one tick; after decoupling, they may arrive in different ticks";
  if (k == OpKind::AntiJoin || k == OpKind::Difference)
    return name + " removes what its `[neg]` input holds in the tick; after decoupling, an item may arrive before "
                  "the one that should remove it";
  return name + " depends on which items arrive together in one tick; after decoupling, items of one tick may "
                "arrive in different ticks";
}
} // namespace

bool runDecouple(ir::Program &p, const PassInvocation &inv, TransformContext &ctx) {
  if (!checkOptionKeys(inv, "location select new", ctx)) return false;
  const PassOption &locOpt = *inv.find("location"), &selOpt = *inv.find("select"), &newOpt = *inv.find("new");
  const SourceManager &sm = ctx.diags.sourceManager();

  ir::LocId loc = locationOption(p, "decouple", locOpt, ctx);
  if (!loc.valid()) return false;
  std::vector<ir::OpId> ops = p.opsIn(loc);
  std::vector<std::string> opNames;
  for (int id : ops) opNames.push_back(p.ops[id].name);

  // The selection.
  std::vector<ir::OpId> selected;
  std::string sel = selOpt.value;
  for (size_t start = 0; start <= sel.size();) {
    size_t comma = sel.find(',', start);
    if (comma == std::string::npos) comma = sel.size();
    std::string item = sel.substr(start, comma - start);
    start = comma + 1;
    if (item.empty()) {
      ctx.usage = "`decouple`: an empty item in the selection `" + sel + "`";
      return false;
    }
    if (item[0] == '@') {
      std::string digits = item.substr(1);
      if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) {
        ctx.usage = "`decouple`: `" + item + "` is not a line: expected `@` and a line number, such as `@12`";
        return false;
      }
      unsigned line = static_cast<unsigned>(std::stoul(digits));
      std::set<unsigned> lines;
      bool found = false;
      for (ir::OpId id : ops) {
        const ir::Operator &op = p.ops[id];
        if (!op.range.valid() || sm.name(op.range.begin.file) == "<command line>") continue;
        unsigned l = sm.lineCol(op.range.begin).line;
        lines.insert(l);
        if (l == line) {
          selected.push_back(id);
          found = true;
        }
      }
      if (!found) {
        std::vector<std::string> ls;
        for (unsigned l : lines) ls.push_back(std::to_string(l));
        ctx.usage = "`decouple`: no operator of `" + locOpt.value + "` starts on line " + digits +
                    (ls.empty() ? std::string() : "; its operators start on lines " + listOf(ls));
        return false;
      }
      continue;
    }
    auto it = std::find(opNames.begin(), opNames.end(), item);
    if (it == opNames.end()) {
      ctx.usage = "`decouple`: location `" + locOpt.value + "` has no operator `" + item + "`; its operators are " +
                  listOf(opNames) + " (the names `dfirc build --emit=ir` shows)";
      return false;
    }
    selected.push_back(ops[static_cast<size_t>(it - opNames.begin())]);
  }

  // The new location's name.
  ir::Rewriter rw(p);
  if (!isIdentifier(newOpt.value)) {
    ctx.usage = "`decouple`: `" + newOpt.value + "` is not a name for a location";
    return false;
  }
  if (rw.globalNameTaken(newOpt.value)) {
    ctx.diags.report(DiagID::err_decouple_name_taken, newOpt.range) << newOpt.value;
    return false;
  }

  // The moved set: the selection and everything downstream of it in `loc`.
  std::vector<bool> moved(p.ops.size(), false);
  std::vector<ir::OpId> work = selected;
  for (ir::OpId id : selected) moved[id] = true;
  while (!work.empty()) {
    ir::OpId id = work.back();
    work.pop_back();
    for (ir::EdgeId e : p.ops[id].outputs) {
      if (!e.valid()) continue;
      ir::OpId to = p.edges[e].to;
      if (!moved[to] && p.ops[to].location == loc) {
        moved[to] = true;
        work.push_back(to);
      }
    }
  }
  size_t count = 0;
  for (ir::OpId id : ops) count += moved[id];
  if (count == ops.size()) {
    ctx.diags.report(DiagID::err_decouple_everything, selOpt.range) << locOpt.value << count;
    return false;
  }

  // Cut edges, and what their items reach inside the moved set.
  std::vector<ir::EdgeId> cuts;
  for (size_t e = 0; e < p.edges.size(); ++e)
    if (moved[p.edges[e].to] && !moved[p.edges[e].from]) cuts.push_back(ir::EdgeId(static_cast<int>(e)));
  std::vector<bool> reached(p.ops.size(), false);
  std::vector<ir::OpId> order;
  for (ir::EdgeId e : cuts)
    if (!reached[p.edges[e].to]) {
      reached[p.edges[e].to] = true;
      order.push_back(p.edges[e].to);
    }
  for (size_t i = 0; i < order.size(); ++i)
    for (ir::EdgeId e : p.ops[order[i]].outputs)
      if (e.valid() && !reached[p.edges[e].to]) {
        reached[p.edges[e].to] = true;
        order.push_back(p.edges[e].to);
      }
  // A host channel belongs to the location its host embeds: moving it
  // would take it out of that location's header.
  for (ir::OpId id : ops) {
    const ir::Operator &op = p.ops[id];
    if (!moved[id] || (op.kind != OpKind::SourceStream && op.kind != OpKind::DestSink)) continue;
    (ctx.diags.report(DiagID::err_decouple_host, selOpt.range) << locOpt.value << op.name)
            .note(DiagID::note_decouple_blocker, op.range)
        << "`" + spelled(op) + "` is a host channel of `" + locOpt.value +
               "`: the program that embeds that location pushes into it or listens to it, so it cannot move";
    return false;
  }
  // A loop block runs in one location: it moves whole, or stays.
  for (size_t l = 0; l < p.loops.size(); ++l) {
    ir::OpId in, out;
    for (ir::OpId id : ops)
      if (p.loopWithin(p.ops[id].loop, static_cast<int>(l))) (moved[id] ? in : out) = id;
    if (!in.valid() || !out.valid()) continue;
    (ctx.diags.report(DiagID::err_decouple_loop, selOpt.range) << locOpt.value << p.ops[in].name << p.ops[out].name)
            .note(DiagID::note_decouple_blocker, p.loops[l].range)
        << "a loop block's iterations run in one location";
    return false;
  }
  // `#name` reads state of its own location, in the same tick.
  for (auto [target, reader] : ir::stateReferences(p))
    if (p.ops[target].location == loc && moved[target] != moved[reader]) {
      (ctx.diags.report(DiagID::err_decouple_state_ref, selOpt.range)
       << locOpt.value << p.ops[target].name)
              .note(DiagID::note_decouple_blocker, p.ops[reader].range)
          << "`" + spelled(p.ops[reader]) + "` reads `#" + p.ops[target].name + "`";
      return false;
    }
  for (ir::OpId id : order) {
    std::string why = blocker(p, id);
    if (why.empty()) continue;
    (ctx.diags.report(DiagID::err_decouple_illegal, selOpt.range) << locOpt.value << p.ops[id].name)
            .note(DiagID::note_decouple_blocker, p.ops[id].range)
        << why;
    return false;
  }

  // How many ticks each side runs changes: the old location no longer
  // ticks for what drives the moved part, and the new one ticks when items
  // cross the cut and for its own drivers only. Operators that show how
  // many ticks ran must not be on a side whose ticks change.
  ir::OpId movedDriver, keptDriver;
  for (ir::OpId id : ops) {
    if (!p.ops[id].info().drivesTicks()) continue;
    ir::OpId &d = moved[id] ? movedDriver : keptDriver;
    if (!d.valid()) d = id;
  }
  for (ir::OpId id : ops) {
    if (!seesEmptyTicks(p, id)) continue;
    std::string why;
    std::string what = p.ops[id].info().ticks == Ticks::Paces
                           ? "`" + spelled(p.ops[id]) + "` groups items by the tick numbers of "
                           : "`" + spelled(p.ops[id]) + "` emits in every tick of ";
    std::string idle = p.ops[id].info().ticks == Ticks::Paces ? "" : ", even one in which nothing reaches it";
    if (!moved[id] && movedDriver.valid())
      why = what + "`" + locOpt.value + "`" + idle + "; moving `" + p.ops[movedDriver].name +
            "` takes away the ticks it causes there";
    else if (moved[id] && (!cuts.empty() || keptDriver.valid()))
      why = what + "its location" + idle + "; at `" + newOpt.value + "` it would run in other ticks than at `" +
            locOpt.value + "`";
    if (why.empty()) continue;
    (ctx.diags.report(DiagID::err_decouple_ticks, selOpt.range) << locOpt.value << p.ops[id].name)
            .note(DiagID::note_decouple_blocker, p.ops[id].range)
        << why;
    return false;
  }

  // The rewrite: nothing above changed the program.
  const ir::Location from = {p.locations[loc].name, p.locations[loc].isCluster, p.locations[loc].size, false,
                             p.locations[loc].range};
  ir::LocId target = rw.addLocation(newOpt.value, from.isCluster, from.size); // `p.locations` may move
  p.locations[target].range = from.range;
  for (ir::OpId id : ops)
    if (moved[id]) rw.moveOperator(id, target);
  for (ir::Loop &l : p.loops)
    for (ir::OpId id : ops)
      if (moved[id] && p.loopWithin(p.ops[id].loop, static_cast<int>(&l - p.loops.data()))) l.location = target;
  for (ir::EdgeId e : cuts) rw.cutEdge(e, rw.freshGlobalName(newOpt.value + "_in"));
  return true;
}

} // namespace dfir::passes
