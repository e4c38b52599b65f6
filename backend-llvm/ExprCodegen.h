//===- ExprCodegen.h - Closure expressions -> LLVM IR ---------------------===//
//
// Types lower to plain LLVM values: integers to iN, `bool` to i1, floats to
// float/double, `()` to an empty struct, tuples to literal structs, `str` to
// { ptr, i64 }. Closures are compiled inline at their operator (their
// parameters bound to the incoming values), so no closure is ever called
// through a pointer. Integer arithmetic wraps; division by zero is a
// runtime error naming the operator and its line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IR.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dfir::backend {

using ir::Expr;
using ir::Pattern;

/// for (i = lo; i < hi; ++i) body(i), leaving the builder after the loop.
/// `plain`: LLVM is told not to unroll or vectorize it (a loop whose body
/// is large and whose trip count is small: doing so costs compile time).
void countedLoop(llvm::IRBuilder<> &b, llvm::Value *lo, llvm::Value *hi, bool isSigned,
                 const std::function<void(llvm::Value *)> &body, bool plain = false);
/// Loop metadata: neither unrolled nor vectorized.
llvm::MDNode *plainLoopMetadata(llvm::LLVMContext &ctx);

class TypeLowering {
public:
  TypeLowering(llvm::LLVMContext &ctx, const TypeContext &types, const llvm::DataLayout &layout)
      : ctx_(ctx), types_(types), layout_(layout) {}
  llvm::Type *lower(const Type *t);
  llvm::StructType *strType();
  /// An enum's variant payload as a struct of its fields.
  llvm::StructType *variantType(const Type *en, unsigned variant);
  const TypeContext &context() const { return types_; }

private:
  llvm::LLVMContext &ctx_;
  const TypeContext &types_;
  const llvm::DataLayout &layout_;
};

/// Declarations of the runtime functions (runtime/dfir_rt.h) in a module.
class Runtime {
public:
  explicit Runtime(llvm::Module &m) : m_(m) {}
  /// One per row of backend-llvm/RuntimeCalls.def (its C signature there).
#define DFIR_RT_FN(NAME, SYMBOL, RESULT, ...) llvm::FunctionCallee NAME();
#include "backend-llvm/RuntimeCalls.def"
  llvm::StructType *vecType();
  /// `dfir_fset`: slots, mask, count, limit, shift.
  llvm::StructType *fsetType();
  /// Type-based alias tags that keep the optimizer from assuming stores to
  /// operator state may change hash-table memory (and back): "state" (the
  /// location's state struct), "entry" (table entries) and "bytes" (values
  /// stored in tables). Distinct tags never alias.
  llvm::MDNode *aliasTag(const char *name);
  /// The alias scope of a buffer's fields (data, length, room) as a push
  /// reads and writes them, and which its call to grow the buffer is
  /// declared not to touch (dfir_rt_vec_grow only touches the buffer's
  /// memory).
  llvm::MDNode *bufferFieldsScope();
  /// An entry's value count and its `index`th value's bytes, read inline
  /// (the entry layout is part of the runtime ABI).
  llvm::Value *entryCount(llvm::IRBuilder<> &b, llvm::Value *entry);
  llvm::Value *entryValue(llvm::IRBuilder<> &b, llvm::Value *entry, llvm::Value *index);
  /// A runtime string function: `dfir_rt_str_<name>`.
  llvm::FunctionCallee strFn(const std::string &name);
  /// A constant string's bytes (not NUL-terminated use; NUL added anyway).
  llvm::Constant *bytes(const std::string &text);

private:
  llvm::FunctionCallee declare(const char *name, llvm::Type *result, std::vector<llvm::Type *> params);
  llvm::Module &m_;
  std::map<std::string, llvm::Constant *> strings_;
  llvm::MDNode *bufferFields_ = nullptr;
};

class ExprCodegen {
public:
  ExprCodegen(llvm::IRBuilder<> &b, TypeLowering &types, Runtime &rt, const ir::Program &p, const char *op,
              unsigned line)
      : b_(b), types_(types), rt_(rt), p_(p), op_(op), line_(line) {}

  /// The first construct of `e` the code generator cannot compile, if any.
  static std::optional<std::pair<SourceRange, std::string>> unsupportedIn(const Expr &e, const ir::Program &p);

  /// Evaluates a closure on `args` (or, for a non-closure argument such as
  /// a fold's initial value, the expression itself).
  llvm::Value *call(const Expr &closure, const std::vector<llvm::Value *> &args);
  /// Evaluates `part` (a piece of the closure's body) with the closure's
  /// parameters bound to `args`.
  llvm::Value *callWith(const Expr &closure, const std::vector<llvm::Value *> &args, const Expr &part);
  llvm::Value *value(const Expr &e);

  /// The canonical encoding of a value (docs/runtime.md): equal values
  /// encode to equal bytes. Returns (pointer, length) in scratch `slot`.
  std::pair<llvm::Value *, llvm::Value *> encode(llvm::Value *v, const Type *t, unsigned slot);
  /// Reads back a value of type `t` from encoded bytes.
  llvm::Value *decode(llvm::Value *bytes, const Type *t);
  /// Writes the encoding of `v` at `bytes` (which has room for it).
  void encodeInto(llvm::Value *bytes, llvm::Value *v, const Type *t) { writeEncoded(bytes, b_.getInt64(0), v, t); }
  /// The encoded size of every value of `t`, when it does not depend on the value.
  std::optional<uint64_t> fixedEncodedSize(const Type *t);
  /// The encoded size of `v` (a constant when fixedEncodedSize knows it).
  llvm::Value *encodedLength(llvm::Value *v, const Type *t) {
    if (std::optional<uint64_t> k = fixedEncodedSize(t)) return b_.getInt64(*k);
    return encodedSize(v, t);
  }
  /// A deep copy of `v` whose strings and lists live in this tick's memory.
  llvm::Value *copyToTick(llvm::Value *v, const Type *t) { return decode(encode(v, t, 2).first, t); }
  /// for (i = 0; i < count; ++i) body(i).
  void forEachIndex(llvm::Value *count, const std::function<void(llvm::Value *)> &body);
  /// Writes `v` on `stream` (1: standard output) as `println` does.
  void printLine(int stream, llvm::Value *v, const Type *t) {
    display(stream, v, t, true);
    writeText(stream, "\n");
  }
  /// Where `key` is in a map: its index, or -(i + 1) for the index i where
  /// it would go.
  llvm::Value *mapFind(llvm::Value *map, llvm::Value *key, const Type *mapType);
  /// Until `forgetFind`: a call of a closure (callWith) in which `get(m,
  /// k)`, with `m` its parameter in `mapSlot` and `k` its local in
  /// `keySlot`, takes its index from `index` instead of searching again (a
  /// fold's `insert(m, k, f(get(m, k)))` searches once).
  void knowFind(int mapSlot, int keySlot, llvm::Value *index) {
    known_ = KnownFind{frames_.size() + 1, mapSlot, keySlot, index};
  }
  void forgetFind() { known_.reset(); }
  llvm::Value *sortedFind(llvm::Value *list, llvm::Value *key, const Type *listType, const Type *keyType, bool keyed);
  /// The language's total order: an i32 <0, 0 or >0.
  /// Lattices (docs/language.md, "Lattices"): the least upper bound of two
  /// values of lattice type `t`, and whether `a` is below or equal to `b`
  /// in its partial order.
  llvm::Value *mergeValues(llvm::Value *a, llvm::Value *b, const Type *t);
  llvm::Value *latticeLeq(llvm::Value *a, llvm::Value *b, const Type *t);
  /// The merge of `count` (at least 1) values of lattice type `t` in the
  /// array at `values` (which it overwrites): merged in pairs, round after
  /// round, so that sets and maps cost n log n in all, not n squared.
  llvm::Value *mergeAll(llvm::Value *values, llvm::Value *count, const Type *t);
  /// `SetUnion(list)`: a sorted copy without repeats.
  llvm::Value *setFromList(llvm::Value *list, const Type *listType);
  llvm::Value *order(llvm::Value *a, llvm::Value *b, const Type *t);
  /// Stops the program with a runtime error of this operator when `failed`,
  /// naming the line of `at` (the operator's line without `setLineOf`).
  void runtimeError(llvm::Value *failed, const std::string &message, const Expr *at = nullptr);
  /// How to find the line of an expression, for runtime errors.
  void setLineOf(std::function<unsigned(SourceLoc)> lineOf) { lineOf_ = std::move(lineOf); }
  /// What `#name` reads: the value of operator `op`'s state, and for a
  /// `reduce` whether it has one (null for a `fold`). Set where an
  /// operator's closures are compiled (ops/Ops.cpp, Site::gen).
  using StateReader = std::function<std::pair<llvm::Value *, llvm::Value *>(int op)>;
  void setStateReader(StateReader read) { readState_ = std::move(read); }
  /// `loop_iteration()`: the iteration of the operator's loop block.
  void setIterationReader(std::function<llvm::Value *()> read) { readIteration_ = std::move(read); }
  /// The fields of variant `variant` of an enum value, as a struct.
  llvm::Value *variantFields(llvm::Value *v, const Type *en, unsigned variant);
  const char *opName() const { return op_; }
  unsigned line() const { return line_; }

private:
  llvm::Value *encodedSize(llvm::Value *v, const Type *t);
  llvm::Value *writeEncoded(llvm::Value *base, llvm::Value *offset, llvm::Value *v, const Type *t);
  llvm::Value *readEncoded(llvm::Value *base, llvm::Value *&offset, const Type *t);
  llvm::Value *binary(const Expr &e);
  llvm::Value *compare(BinOp op, const Type *t, llvm::Value *l, llvm::Value *r);
  llvm::Value *arithmetic(const Expr &e, llvm::Value *l, llvm::Value *r);
  llvm::Value *cast(const Expr &e);
  llvm::Value *ifExpr(const Expr &e);
  llvm::Value *shortCircuit(const Expr &e);
  llvm::Value *builtin(const Expr &e);
  llvm::Value *concatLists(llvm::Value *a, llvm::Value *b, const Type *listType);
  llvm::Value *slice(const Expr &e);
  llvm::Value *sortedList(llvm::Value *list, const Type *listType);
  llvm::Value *listContains(llvm::Value *list, llvm::Value *v, const Type *listType);
  llvm::Value *mapBuiltin(const Expr &e);
  llvm::Value *sortedMap(llvm::Value *map, const Type *mapType);
  llvm::Value *externCall(const ir::ExternDecl &x, const Expr &e);
  llvm::Value *functionCall(const Expr &e);
  void display(int stream, llvm::Value *v, const Type *t, bool topLevel);
  void displayElements(int stream, llvm::Value *v, const Type *t, const Type *elem, const char *open,
                       const char *close, const std::function<void(llvm::Value *)> &show);
  void writeText(int stream, const std::string &text);
  llvm::Value *takeString();
  llvm::Value *makeStr(llvm::Value *ptr, llvm::Value *len);
  llvm::Value *strCall(const std::string &fn, const std::vector<llvm::Value *> &strs);
  llvm::Value *strCompare(llvm::Value *a, llvm::Value *b);
  llvm::Value *matchExpr(const Expr &e);
  void matchOrFail(const Pattern &p, llvm::Value *v, llvm::BasicBlock *fail);
  void require(llvm::Value *cond, llvm::BasicBlock *fail);
  llvm::Value *makeEnum(const Type *en, unsigned variant, const std::vector<llvm::Value *> &fields);
  llvm::Value *equalValues(llvm::Value *a, llvm::Value *b, const Type *t);
  llvm::Value *optionValue(const Type *t, llvm::Value *has, llvm::Value *value);
  std::vector<const Type *> fieldTypes(const Type *t); // of a tuple or struct
  llvm::Value *entryAlloca(llvm::Type *t);
  /// Merges two sorted lists (a set's elements, or a map's entries keyed by
  /// field `keyField`; -1: the whole element, of `keyType`) in one walk:
  /// equal keys once, combined by `both`.
  llvm::Value *mergeSorted(llvm::Value *x, llvm::Value *y, llvm::Type *elem, uint64_t size, int keyField,
                           const Type *keyType, const std::function<llvm::Value *(llvm::Value *, llvm::Value *)> &both);
  /// The module's function `name`, made by `body` the first time. Code over
  /// lists is outlined this way, so a type holding a list of itself gets
  /// finite code (the function calls itself).
  llvm::Function *outlined(const std::string &name, llvm::Type *result, const std::vector<llvm::Type *> &params,
                           const std::function<void(llvm::Function *)> &body);
  /// switch (tag) { case k: body(k); } over the variants of `en` that have
  /// fields (the others go straight to `done`); the builder ends in `done`.
  void switchVariants(llvm::Value *tag, const Type *en, const char *name, llvm::BasicBlock *done,
                      const std::function<void(unsigned)> &body);
  llvm::Value *listOrder(llvm::Value *a, llvm::Value *b, const Type *t);
  void bind(const Pattern &p, llvm::Value *v);
  /// Binds local `slot` of the closure being generated.
  void setLocal(int slot, llvm::Value *v);

  llvm::IRBuilder<> &b_;
  TypeLowering &types_;
  Runtime &rt_;
  const ir::Program &p_;
  const char *op_;
  unsigned line_;
  std::function<unsigned(SourceLoc)> lineOf_;
  StateReader readState_;
  std::function<llvm::Value *()> readIteration_;
  /// The locals of each closure being generated, innermost last, by slot
  /// (a constant's value or a called closure gets a frame of its own).
  std::vector<std::vector<llvm::Value *>> frames_{1};
  struct KnownFind {
    size_t depth; // of the closure's frame: nested closures number their own slots
    int mapSlot, keySlot;
    llvm::Value *index;
  };
  std::optional<KnownFind> known_;
};

} // namespace dfir::backend
