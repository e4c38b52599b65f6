//===- LocationCodegen.h - One location's module, and the operators' toolkit ===//
//
// Private to the backend. `LocationCodegen` (Codegen.cpp) compiles one
// location: it lays out the state struct, declares one push function per
// operator input port, and generates `init`, `tick` and `fini`, calling each
// operator's hooks (backend-llvm/ops/) at fixed points:
//
//   layout      the operator's fields in the state struct
//   init, fini  once, when the location starts and stops
//   tickStart   at the start of every tick ('tick state starts afresh)
//   push        the body of push.<op>.<port>: what one item does
//   pull        items the operator starts pushing by itself, at a phase of
//               its stratum (sources, history, blocking results, ...)
//   tickEnd     at the end of every tick (batches go out, state is saved)
//
// The hooks see the location through `LocationCodegen`'s public toolkit
// (fields, emit, loops over vectors and tables) and `Site` (one operator at
// one insertion point).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/Codegen.h"
#include "backend-llvm/ExprCodegen.h"

#include "llvm/IR/IRBuilder.h"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dfir::backend {

/// Field indexes of one operator's state in the location's state struct
/// (-1: none). What each holds is the operator's own business
/// (backend-llvm/ops/); the names say what they usually hold.
struct OpState {
  int acc = -1;  // an accumulator, counter or single value
  int has = -1;  // whether `acc` holds a value; a second counter
  int cur = -1;  // a vector of items (this tick's)
  int next = -1; // a second vector (the next tick's, the other side's)
  int t0 = -1;   // a hash table
  int t1 = -1;   // a second hash table
};

/// When, in a stratum of a tick, an operator's `pull` hook runs. In order:
enum class Phase {
  DeferredBlocking, // items deferred from the last tick into blocking inputs
  History,          // what 'static state stored before this tick re-emits
                    // (after the blocking inputs it may meet are complete)
  PosHistory,       // [neg] is complete: a 'static [pos] re-emits
  Deferred,         // the other deferred items
  Sources,          // sources, messages, input lines, timers
  Blocking,         // blocking operators, all of whose input has arrived
  Release,          // after the stratum's fixpoint: what waited for all of it
};

class LocationCodegen;

/// One operator at one insertion point: what a hook works with.
struct Site {
  LocationCodegen &g;
  llvm::IRBuilder<> &b;
  llvm::Value *state; // the location's state struct
  int id;
  const ir::Operator &op;
  const OpState &st;

  /// Sends `value` out of output `port`.
  void emit(unsigned port, llvm::Value *value);
  /// The address of a field of the state struct.
  llvm::Value *field(int index);
  ExprCodegen gen();
  llvm::Function *function() { return b.GetInsertBlock()->getParent(); }
  llvm::BasicBlock *block(const char *name) { return llvm::BasicBlock::Create(b.getContext(), name, function()); }
};

class LocationCodegen {
public:
  LocationCodegen(const CodegenInput &in, int loc, llvm::LLVMContext &ctx, std::vector<Unsupported> &unsupported);
  std::unique_ptr<llvm::Module> run(const llvm::DataLayout &layout);

  // ------------------------------------------------ what the hooks see --
  const ir::Program &program() const { return p_; }
  const CodegenInput &input() const { return in_; }
  llvm::LLVMContext &context() { return ctx_; }
  const llvm::DataLayout &dataLayout() const { return module_->getDataLayout(); }
  Runtime &rt() { return *rt_; }
  TypeLowering &types();
  const OpState &stateOf(int id) const { return state_.at(id); }
  /// Whether an edge is buffered (delivered by a stratum's fixpoint loop,
  /// or when a later stratum starts) rather than pushed directly.
  bool isBuffered(int edge) const { return bufferOf_.count(edge) != 0; }
  unsigned lineOf(const ir::Operator &op) const { return in_.lineOf(op.range.begin); }
  /// The index of a `source_stream` among the location's streams, or of a
  /// `dest_sink` among its sinks (program order): the runtime's numbering.
  unsigned hostIndex(int id) const;

  // State fields, while `layout` hooks run.
  int addField(llvm::Type *t);
  /// Fields that own memory, freed by fini: vectors and hash tables.
  int addVecField();
  int addTableField();
  /// A set of fixed-width keys (`dfir_fset`, probed inline: ops/FixedSet.h)
  /// of `words` words after each tag; init gives it its first slots.
  int addFsetField(unsigned words);
  llvm::Value *field(llvm::IRBuilder<> &b, llvm::Value *state, int index);

  llvm::Function *newFunction(llvm::FunctionType *ty, const std::string &name, bool exported);
  /// The rarely taken part of operator `id`'s item code in a function of
  /// its own, `push.<op>.<what>(state, args...)`, made once by `body`:
  /// never inlined and marked cold, so that the hot part has no call but
  /// this one and needs no registers saved.
  llvm::Function *coldFunction(int id, const std::string &what, llvm::ArrayRef<llvm::Type *> args,
                               const std::function<void(Site &, llvm::Function *)> &body);
  /// `-g`: a subprogram for every function, each instruction at the line
  /// of the operator whose code it is (others at the location's).
  void addLineTables();
  ExprCodegen exprGen(llvm::IRBuilder<> &b, const ir::Operator &op);
  /// The iteration of loop block `loop` that runs now (0 for the first).
  llvm::Value *iteration(llvm::IRBuilder<> &b, llvm::Value *state, int loop);
  /// The operators whose input comes out of loop block `loop`
  /// (`all_iterations`, `last_iteration`).
  std::vector<int> exitsOf(int loop) const;
  /// `#name` of operator `target` (a fold or a reduce, finished for the
  /// tick): its accumulator, and for a reduce whether it has one.
  std::pair<llvm::Value *, llvm::Value *> readState(llvm::IRBuilder<> &b, llvm::Value *state, int target);

  /// Sends `value` out of output `port` of operator `id`.
  void emit(llvm::IRBuilder<> &b, llvm::Value *state, int id, unsigned port, llvm::Value *value);
  /// Generates, through `items`, the loop in which `id` emits its items one
  /// by one. When what an item makes in tick memory dies with it (nothing
  /// downstream keeps it), that memory is given back after each item, so a
  /// long tick reuses the same few, warm, bytes.
  void releasingEachItem(llvm::IRBuilder<> &b, int id, const std::function<void()> &items);

  /// Appends to a vector field: stored inline while there is room, through
  /// the runtime (which grows it) when full.
  void pushVec(llvm::IRBuilder<> &b, llvm::Value *state, int vecField, llvm::Value *item);
  /// Emits the items of a vector field in order, then empties it.
  void emitVec(llvm::IRBuilder<> &b, llvm::Value *state, int id, int vecField, const Type *t);
  /// Emits every element of a list value.
  void emitElements(llvm::IRBuilder<> &b, ExprCodegen &gen, llvm::Value *state, int id, llvm::Value *list,
                    const Type *elemType);
  /// Emits the items stored in a table under the empty key: all of them,
  /// or the first `count`.
  void emitStored(llvm::IRBuilder<> &b, llvm::Value *state, int id, int tableField, const Type *t,
                  llvm::Value *count = nullptr);

  void ifThen(llvm::IRBuilder<> &b, llvm::Value *cond, const std::function<void()> &then);
  /// for (i = lo; i < hi; ++i) body(i), for 64-bit integers.
  void loop(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi, const std::function<void(llvm::Value *)> &body,
            bool isSigned = false);
  /// while (more()) body(): the loops over what the runtime hands out one
  /// at a time (table entries, messages, input lines).
  void whileMore(llvm::IRBuilder<> &b, const std::string &name, const std::function<llvm::Value *()> &more,
                 const std::function<void()> &body);
  /// Runs `body` on every entry of a table, in insertion order.
  void forEachEntry(llvm::IRBuilder<> &b, llvm::Value *table, const std::string &name,
                    const std::function<void(llvm::Value *entry)> &body);
  llvm::Value *sizeOf(llvm::Type *t);
  static llvm::Value *entryAlloca(llvm::IRBuilder<> &b, llvm::Type *t);

  /// True when values of `t` point into memory (strings, lists), directly
  /// or through tuples, options, structs and enums.
  bool holdsPointers(const Type *t) const;
  /// Whether an operator's state (that of input `side`) outlives the unit
  /// of time whose start its `tickStart` hook marks: `'static` across
  /// ticks, and in a loop block `'loop` across iterations, as `'static` is
  /// across ticks (it re-emits what it holds per iteration, and so on).
  /// While a loop's run starts (`FreshRun`), nothing does: its state
  /// starts afresh as `'tick` state does.
  static bool isStatic(const ir::Operator &op) { return sideStatic(op, 0); }
  static bool sideStatic(const ir::Operator &op, int side) {
    if (static_cast<int>(op.persistence.size()) <= side) return false;
    ir::Persistence p = op.persistence[side];
    return p == ir::Persistence::Static || (p == ir::Persistence::Loop && !freshRun_);
  }
  /// Whether its state outlives ticks, so that a value that points into
  /// tick memory must be saved at a tick's end.
  static bool keepsAcrossTicks(const ir::Operator &op) {
    return !op.persistence.empty() && op.persistence[0] == ir::Persistence::Static;
  }
  /// While alive, `tickStart` hooks start `'loop` state afresh (a loop
  /// block's run begins).
  struct FreshRun {
    FreshRun() { freshRun_ = true; }
    ~FreshRun() { freshRun_ = false; }
    FreshRun(const FreshRun &) = delete;
    FreshRun &operator=(const FreshRun &) = delete;
  };

private:
  struct Buffer {
    int edge;
    int pending, working;
  };
  struct ItemMemory {
    bool makes = false, keeps = false;
  };

  static std::vector<const Expr *> childrenOf(const Expr &e);
  void unsupported(const ir::Operator &op, const std::string &what);
  void checkSupported(int id);
  void layoutState();
  void tagMemoryAccesses();
  void declarePushFunctions();
  void definePush(int id, unsigned port);
  void followItems(int id, std::set<int> &seen, ItemMemory &m);
  bool allocates(const Expr &e) const;
  llvm::Function *stateFunction(const char *what, llvm::Type *result);
  /// Calls `hook` on every operator of the location, in order.
  void eachSite(llvm::IRBuilder<> &b, llvm::Value *state, const std::function<void(Site &)> &hook);
  llvm::Function *defineInit();
  llvm::Function *defineFini();
  llvm::Function *defineTick();
  /// The strata [from, to) of `scope` (kNone: the location's top, or a loop
  /// block), each loop block nested directly in it run where its range is.
  void emitScope(llvm::IRBuilder<> &b, llvm::Value *state, llvm::Value *first, int scope, int from, int to);
  /// One stratum: the phases of `Phase`, with its fixpoint loop.
  void emitStratum(llvm::IRBuilder<> &b, llvm::Value *state, llvm::Value *first, int stratum);
  /// A loop block's run: its `'loop` state starts afresh, then its strata
  /// run once per iteration, as many as its `repeat_n`s ask (at least one),
  /// each iteration starting its `'none` state afresh and taking what
  /// `next_iteration` held.
  void emitLoop(llvm::IRBuilder<> &b, llvm::Value *state, llvm::Value *first, int loop);
  /// `early`: only the buffers into blocking inputs of operators that
  /// read state (`#name`), delivered when their stratum starts.
  void runFixpoint(llvm::IRBuilder<> &b, llvm::Value *state, int stratum, bool early = false);
  llvm::Function *drainFunction(const Buffer &buf);
  /// The stratum in which an operator's `pull` runs: its own, or for an
  /// operator that crosses ticks, its successor's.
  int pullStratum(int id) const;
  void defineMain(llvm::GlobalVariable *desc);
  /// The descriptor's tables of host channels: {streams, sinks}.
  std::pair<llvm::Constant *, llvm::Constant *> defineHostChannels();
  /// `void push(const T *item, dfir_vec *out)` for a `source_stream`.
  llvm::Function *defineStreamPush(int id);
  llvm::GlobalVariable *defineDescriptor(const std::string &name, llvm::Function *init, llvm::Function *tick,
                                         llvm::Function *fini, const llvm::DataLayout &layout);

  const CodegenInput &in_;
  const ir::Program &p_;
  int loc_;
  llvm::LLVMContext &ctx_;
  std::vector<Unsupported> &unsupported_;
  std::unique_ptr<llvm::Module> module_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<TypeLowering> types_;
  std::vector<int> ops_;
  std::map<int, int> loopIter_; // loop block -> the field of its iteration counter
  static thread_local bool freshRun_;
  std::vector<llvm::Type *> fields_;
  std::vector<int> vecFields_, tableFields_;                // owning fields, freed by fini
  std::vector<std::pair<int, unsigned>> fsetFields_;       // the same, with their words per slot
  llvm::StructType *stateType_ = nullptr;
  std::map<int, OpState> state_;
  std::map<std::pair<int, unsigned>, llvm::Function *> push_;
  std::set<const llvm::Function *> stateTaking_; // functions whose first argument is the state
  std::map<const llvm::Function *, int> coldOf_;  // coldFunction's, and their operators
  std::vector<Buffer> buffers_;
  std::map<int, int> bufferOf_; // edge -> index in buffers_
  std::map<int, llvm::Function *> drains_; // edge -> its dfir.drain function
  std::pair<int, llvm::Value *> releaseAfter_{ir::kNone, nullptr}; // the operator whose items give memory back, the mark

  // Profiles (in_.profile): the counters field (2 x i64 per operator), the
  // running operator's field (i32), and each operator's index in the
  // location's order, which the descriptor's tables follow.
  int countersField_ = -1, currentField_ = -1;
  std::map<int, int> profileIndex_;
  /// Says that operator `id` (kNone: none) runs from here on.
  void markRunning(llvm::IRBuilder<> &b, llvm::Value *state, int id);
  /// Adds one to counter `which` (0: in, 1: out) of operator `id`.
  void count(llvm::IRBuilder<> &b, llvm::Value *state, int id, int which);
  /// Runs `hook` as operator `id`'s work: marked running while its code runs.
  void asRunning(llvm::IRBuilder<> &b, llvm::Value *state, int id, const std::function<void()> &hook);
  llvm::Constant *defineProfileInfo();
};

// ------------------------------------------- the hooks, by operator kind --
// Defined in ops/Ops.cpp: each forwards to the operator's OpGen<Kind>.
namespace ops {
void layout(LocationCodegen &g, const ir::Operator &op, OpState &s);
void init(Site &site);
void fini(Site &site);
void tickStart(Site &site);
void push(Site &site, unsigned port, llvm::Value *item);
void pull(Site &site, Phase phase, llvm::Value *firstTick);
/// Null, or an i1 that is true when the operator has work for the next tick.
llvm::Value *tickEnd(Site &site);
/// At a loop block's boundaries (ops/Loops.h), for its operators.
void loopStart(Site &site);
void iterationStart(Site &site);
void loopEnd(Site &site);
/// Whether the operator's push code is large enough (a keyed fold's inline
/// map) that it may stay in its own function rather than being inlined
/// where items come from (LocationCodegen::declarePushFunctions decides).
bool ownFunction(LocationCodegen &g, const ir::Operator &op);
/// The iterations a `repeat_n` asks for.
llvm::Value *repeatCount(Site &site);
/// Whether the operator passes items on (or drops them) without keeping them.
bool streams(OpKind kind);
/// Whether the items the operator emits may be made in tick memory by the
/// operator itself (read from a channel, input, or the last tick).
bool makesItems(OpKind kind);
/// Whether the operator keeps what arrives on `port` (or a value made from
/// it) beyond the push, and that value may point into tick memory.
bool keepsPointers(LocationCodegen &g, const ir::Operator &op, unsigned port);
} // namespace ops

} // namespace dfir::backend
