//===- LoopCheck.cpp - The rules of loop blocks ---------------------------===//
//
// A loop block (`loop { ... }`) runs its operators again in every iteration,
// inside one run of the scope around it (a tick, or an iteration of the
// enclosing loop). Items cross its boundary only through the operators made
// for it: they enter through `batch()`, `all_once()` or `repeat_n(n)`
// (written inside the block, fed from the scope around it) and leave through
// `all_iterations()` or `last_iteration()` (written in the scope around it,
// fed from inside), one level at a time. Inside, `next_iteration()` carries
// items to the next iteration and stays in its block. Operators whose work
// spans ticks (sources, channels, `defer_tick`, `persist`, windows) have no
// place in a loop.
//
// Checked after the graph is built (structure) and again after the types
// have found the `#name` reads (cycles): what leaves a loop may not come
// back into it within one run of the scope around it, unless a delay of
// that scope (`defer_tick()`, an outer `next_iteration()`) is on the way.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaContext.h"
#include "ir/GraphAlgo.h"

namespace dfir {

namespace {

/// Why an operator cannot be inside a loop block, or null when it can.
const char *notInLoop(const OpInfo &info) {
  if (info.decoupling == Decoupling::Source)
    return "a loop block takes its items from the scope around it, through `batch()`, `all_once()` or `repeat_n(n)`";
  switch (info.kind) {
  case OpKind::Send:
    return "a channel carries a location's items tick by tick; send them after the loop (through `all_iterations()` or "
           "`last_iteration()`)";
  case OpKind::DeferTick:
  case OpKind::DeferTickLazy:
    return "it delays items to the next tick; inside a loop, `next_iteration()` delays them to the next iteration";
  case OpKind::Persist:
  case OpKind::PersistMut:
  case OpKind::PersistMutKeyed:
    return "it keeps items across ticks; inside a loop, `'loop` keeps an operator's state over the iterations of a run";
  case OpKind::Window:
  case OpKind::SessionWindow:
  case OpKind::EventWindow:
  case OpKind::EventSessionWindow: return "a window holds items across ticks";
  default: return nullptr;
  }
}

class LoopChecker {
public:
  LoopChecker(const ast::Program &p, SemaContext &ctx) : p_(p), ctx_(ctx) {}

  void structure() {
    for (const GraphNode &n : ctx_.nodes) {
      OpKind k = n.info->kind;
      if (n.loop >= 0) {
        if (const char *why = notInLoop(*n.info)) ctx_.diags.report(DiagID::err_op_in_loop, n.range()) << n.info->name << why;
      } else if (entersLoop(k)) {
        ctx_.diags.report(DiagID::err_op_outside_loop, n.range()) << n.info->name << "brings items into a loop block";
      } else if (k == OpKind::NextIteration) {
        ctx_.diags.report(DiagID::err_op_outside_loop, n.range())
            << n.info->name << "delays items to the next iteration of a loop block";
      }
    }
    for (const GraphEdge &e : ctx_.edges) edge(e);
  }

  void cycles() {
    for (size_t l = 0; l < p_.loops.size(); ++l) {
      int loop = static_cast<int>(l);
      // Edges of this run of the scope around the loop: a delay of that
      // scope (or one further out) ends them; the loop's own do not.
      std::vector<std::vector<int>> succ(ctx_.nodes.size());
      for (const GraphEdge &e : ctx_.edges) {
        const GraphNode &from = ctx_.nodes[e.from];
        if (crossesTick(from.info->kind) && !within(from.loop, loop)) continue;
        succ[e.from].push_back(e.to);
      }
      for (const SemaContext::StateRef &r : ctx_.stateRefs) succ[r.target].push_back(r.reader);
      std::vector<int> comp = stronglyConnected(succ);
      // The way back in: an edge from outside the loop into it, both ends
      // on one cycle; named by what feeds it.
      for (const GraphEdge &e : ctx_.edges) {
        if (within(ctx_.nodes[e.from].loop, loop) || !within(ctx_.nodes[e.to].loop, loop)) continue;
        if (comp[e.from] != comp[e.to]) continue;
        const GraphNode &back = ctx_.nodes[e.from];
        std::string name = back.userName.empty() ? std::string(back.info->name) : back.userName;
        ctx_.diags.report(DiagID::err_loop_cycle, p_.loops[l].keyword) << name;
        break;
      }
    }
  }

private:
  /// Whether loop `inner` is `outer` or nested in it.
  bool within(int inner, int outer) const {
    if (outer < 0) return true;
    for (int l = inner; l >= 0; l = p_.loops[l].parent)
      if (l == outer) return true;
    return false;
  }
  int parentOf(int loop) const { return loop < 0 ? -1 : p_.loops[loop].parent; }

  void edge(const GraphEdge &e) {
    const GraphNode &from = ctx_.nodes[e.from], &to = ctx_.nodes[e.to];
    int lu = from.loop, lv = to.loop;
    OpKind k = to.info->kind;
    std::string what;
    int at = lu >= 0 ? lu : lv;
    if (from.info->kind == OpKind::NextIteration && lu >= 0 && lv != lu) {
      what = "`next_iteration()` delays items to the next iteration of its own loop block; they cannot leave the block "
             "from there";
    } else if (lu == lv) {
      if (entersLoop(k) && lv >= 0) // at the top, the operator itself is the error
        what = std::string("`") + to.info->name + "()` takes the items that enter its loop block; this edge comes from "
               "inside the same block (items go round a loop through `next_iteration()`)";
      else if (leavesLoop(k))
        what = std::string("`") + to.info->name + "()` takes the items that leave a loop block nested where it stands; "
               "this edge does not come out of one";
      if (!what.empty()) at = lu;
    } else if (within(lv, lu)) { // entering
      at = lv;
      if (!entersLoop(k))
        what = "items enter a loop block without `batch()`, `all_once()` or `repeat_n(n)`: put one where they enter, to "
               "say in which iterations they come";
      else if (parentOf(lv) != lu)
        what = "items enter two loop blocks at once; each loop block takes its items from the scope just around it";
    } else if (within(lu, lv)) { // leaving
      at = lu;
      if (!leavesLoop(k))
        what = "items leave a loop block without `all_iterations()` or `last_iteration()`: put one where they leave, to "
               "say which iterations' items go on";
      else if (parentOf(lu) != lv)
        what = "items leave two loop blocks at once; each loop block hands its items to the scope just around it";
    } else {
      what = "items go from one loop block straight into another: they leave the first through `all_iterations()` or "
             "`last_iteration()` and enter the second through `batch()`, `all_once()` or `repeat_n(n)`";
    }
    if (what.empty()) return;
    DiagBuilder b = ctx_.diags.report(DiagID::err_loop_edge, e.range);
    b << what;
    if (at >= 0) b.note(DiagID::note_loop_here, p_.loops[at].keyword);
  }

  const ast::Program &p_;
  SemaContext &ctx_;
};

} // namespace

void checkLoops(const ast::Program &program, SemaContext &ctx) {
  LoopChecker(program, ctx).structure();
}

void checkLoopCycles(const ast::Program &program, SemaContext &ctx) {
  if (!program.loops.empty()) LoopChecker(program, ctx).cycles();
}

} // namespace dfir
