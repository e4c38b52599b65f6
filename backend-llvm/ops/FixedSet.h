//===- FixedSet.h - Sets of fixed-width keys, probed inline ---------------===//
//
// Part of ops/Ops.cpp (OpGen.h). Where an operator keeps a set of keys that
// are integers (or bools), or tuples of two, it uses a `dfir_fset`
// (runtime/rt_fset.c) instead of a table of byte-encoded keys: the key's
// words are hashed, probed and inserted here, in the operator's code, with
// no encoding and no call but to grow, empty or free the set.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backend-llvm/ops/OpGen.h"

#include "llvm/IR/MDBuilder.h"

#include <functional>

namespace dfir::backend::ops {

/// The 64-bit words that hold a key of type `t` in a fixed-width set: 1
/// for an integer or a bool, one per field for a tuple of one or two of
/// them; 0 when such keys go to a table of encoded bytes.
inline unsigned fixedKeyWords(const Type *t) {
  auto word = [](const Type *e) { return e->kind == Type::Int || e->kind == Type::Bool; };
  if (word(t)) return 1;
  if (t->kind != Type::Tuple || t->elems.empty() || t->elems.size() > 2) return 0;
  for (const Type *e : t->elems)
    if (!word(e)) return 0;
  return static_cast<unsigned>(t->elems.size());
}

/// A set (or, with a payload word per key, a map to 64-bit numbers) of
/// fixed-width keys: slots of a tag word, the key's words, the payload.
/// The set has slots from init on (LocationCodegen::addFsetField), so a
/// probe starts at once; room is made only when a key is added.
class FixedSet {
public:
  /// The words after each tag in a set of keys of type `key`.
  static unsigned wordsOf(const Type *key, unsigned payload = 0) { return fixedKeyWords(key) + payload; }

  /// The set in field `field` of the state, for keys of type `key`.
  FixedSet(Site &x, int field, const Type *key, unsigned payload = 0)
      : x_(x), field_(field), key_(key), keyWords_(fixedKeyWords(key)), words_(wordsOf(key, payload)) {
    type_ = x.g.rt().fsetType();
  }

  /// Adds `key`; true when it was not in the set.
  llvm::Value *insert(llvm::Value *key) { return probe(key, true, nullptr).first; }
  /// Whether `key` is in the set.
  llvm::Value *contains(llvm::Value *key) { return probe(key, false, nullptr).first; }
  /// With a payload word: adds `key`, which a probe did not find, with
  /// `payload`, through the runtime (where new keys are rare: no probe or
  /// growth inline).
  void addMissing(llvm::Value *key, llvm::Value *payload) {
    auto &b = x_.b;
    std::vector<llvm::Value *> w = words(key);
    llvm::Value *slot = b.CreateCall(x_.g.rt().fsetAdd(), {set(), b.getInt64(words_), b.getInt64(w.size()), tag(w),
                                                          w[0], w.size() > 1 ? w[1] : b.getInt64(0)});
    slotAccess(b.CreateStore(payload, b.CreateConstGEP1_64(b.getInt64Ty(), slot, keyWords_ + 1)));
  }
  /// With a payload word: whether `key` is in the set, and its payload.
  std::pair<llvm::Value *, llvm::Value *> find(llvm::Value *key) {
    std::function<llvm::Value *()> none = [this] { return x_.b.getInt64(0); };
    auto [found, payload] = probe(key, false, &none);
    return {payload, found};
  }
  void clear() { x_.b.CreateCall(x_.g.rt().fsetClear(), {set(), x_.b.getInt64(words_)}); }

private:
  llvm::Value *set() { return x_.field(field_); }
  /// Slots live in the set's own memory, never in the state or a buffer:
  /// tagged so, a probe's loads of the set's fields stay in registers
  /// across stores to slots and to accumulators (which are "items").
  template <typename I> I *slotAccess(I *inst) {
    inst->setMetadata(llvm::LLVMContext::MD_tbaa, x_.g.rt().aliasTag("slots"));
    return inst;
  }
  llvm::Value *loadSlot(llvm::Value *at) { return slotAccess(x_.b.CreateLoad(x_.b.getInt64Ty(), at)); }
  llvm::Value *member(unsigned i) { return x_.b.CreateStructGEP(type_, set(), i); }

  std::vector<llvm::Value *> words(llvm::Value *key) {
    auto &b = x_.b;
    auto widen = [&](llvm::Value *v, const Type *t) -> llvm::Value * {
      if (v->getType()->isIntegerTy(64)) return v;
      return t->kind == Type::Int && t->isSigned ? b.CreateSExt(v, b.getInt64Ty()) : b.CreateZExt(v, b.getInt64Ty());
    };
    if (key_->kind != Type::Tuple) return {widen(key, key_)};
    std::vector<llvm::Value *> out;
    for (unsigned i = 0; i < key_->elems.size(); ++i) out.push_back(widen(b.CreateExtractValue(key, {i}), key_->elems[i]));
    return out;
  }

  /// The tag of a key: a hash of its words, with the low bit set (0 marks
  /// an empty slot). Multiplicative (Fibonacci) hashing: the slot is the
  /// hash's top bits (`tag >> shift`), which spread consecutive keys over
  /// distinct slots and keys that differ only in high bits as well.
  llvm::Value *tag(const std::vector<llvm::Value *> &w) {
    auto &b = x_.b;
    llvm::Value *h = w[0];
    if (w.size() > 1) h = b.CreateXor(b.CreateMul(h, b.getInt64(0xC2B2AE3D27D4EB4Full)), w[1]);
    h = b.CreateMul(h, b.getInt64(0x9E3779B97F4A7C15ull));
    return b.CreateOr(h, b.getInt64(1));
  }

  /// Whether the key was added (`add`, a set without payloads) or found
  /// (otherwise), and with `fresh`, the payload: the slot's when the key
  /// was there, else `fresh()`.
  std::pair<llvm::Value *, llvm::Value *> probe(llvm::Value *key, bool add,
                                                const std::function<llvm::Value *()> *fresh) {
    auto &b = x_.b;
    llvm::Type *i64 = b.getInt64Ty();
    std::vector<llvm::Value *> w = words(key);
    llvm::Value *t = tag(w);
    llvm::BasicBlock *ready = x_.block("fset.ready"), *loop = x_.block("fset.probe"), *check = x_.block("fset.check");
    llvm::BasicBlock *next = x_.block("fset.next"), *empty = x_.block("fset.empty"), *done = x_.block("fset.done");
    b.CreateBr(ready);
    b.SetInsertPoint(ready);
    llvm::Value *slots = b.CreateLoad(b.getPtrTy(), member(0));
    llvm::Value *mask = b.CreateLoad(i64, member(1));
    llvm::Value *first = b.CreateLShr(t, b.CreateLoad(i64, member(4)));
    b.CreateBr(loop);
    b.SetInsertPoint(loop);
    llvm::PHINode *i = b.CreatePHI(i64, 2);
    i->addIncoming(first, ready);
    llvm::Value *slot = b.CreateGEP(i64, slots, b.CreateMul(i, b.getInt64(words_ + 1)));
    llvm::Value *found = loadSlot(slot);
    b.CreateCondBr(b.CreateICmpEQ(found, b.getInt64(0)), empty, check);
    b.SetInsertPoint(check);
    // One word: the key itself decides (the tag only marks the slot taken).
    llvm::Value *same = w.size() == 1 ? b.getTrue() : b.CreateICmpEQ(found, t);
    for (size_t k = 0; k < w.size(); ++k)
      same = b.CreateAnd(same, b.CreateICmpEQ(loadSlot(b.CreateConstGEP1_64(i64, slot, k + 1)), w[k]));
    llvm::BasicBlock *checkEnd = b.GetInsertBlock();
    llvm::Value *kept = fresh ? loadSlot(b.CreateConstGEP1_64(i64, slot, keyWords_ + 1)) : nullptr;
    b.CreateCondBr(same, done, next);
    b.SetInsertPoint(next);
    i->addIncoming(b.CreateAnd(b.CreateAdd(i, b.getInt64(1)), mask), next);
    // A probe rarely goes round more than once or twice: not worth
    // unrolling or vectorizing (which cost compile time per operator).
    b.CreateBr(loop)->setMetadata(llvm::LLVMContext::MD_loop, plainLoopMetadata(x_.g.context()));
    b.SetInsertPoint(empty);
    llvm::Value *made = nullptr;
    if (add) {
      DFIR_CHECK(!fresh, "a payload is added with addMissing");
      // Room for one more (at most half full), else twice the room and
      // the probe again (the key is not there: it ends at an empty slot).
      llvm::BasicBlock *grow = x_.block("fset.grow"), *store = x_.block("fset.store");
      llvm::Value *count = b.CreateLoad(i64, member(2));
      // Growing doubles the room: rare (and the set's fields stay in
      // registers across it, Optimize.cpp).
      b.CreateCondBr(b.CreateICmpUGE(count, b.CreateLoad(i64, member(3))), grow, store,
                     llvm::MDBuilder(x_.g.context()).createBranchWeights(1, 1000));
      b.SetInsertPoint(grow);
      b.CreateCall(x_.g.rt().fsetGrow(), {set(), b.getInt64(words_)});
      b.CreateBr(ready)->setMetadata(llvm::LLVMContext::MD_loop, plainLoopMetadata(x_.g.context()));
      b.SetInsertPoint(store);
      slotAccess(b.CreateStore(t, slot));
      for (size_t k = 0; k < w.size(); ++k) slotAccess(b.CreateStore(w[k], b.CreateConstGEP1_64(i64, slot, k + 1)));
      b.CreateStore(b.CreateAdd(count, b.getInt64(1)), member(2));
    } else if (fresh) {
      made = (*fresh)();
    }
    llvm::BasicBlock *emptyEnd = b.GetInsertBlock();
    b.CreateBr(done);
    b.SetInsertPoint(done);
    llvm::PHINode *result = b.CreatePHI(b.getInt1Ty(), 2);
    // Inserting: true when the key was added; looking up: when it was found.
    result->addIncoming(b.getInt1(add), emptyEnd);
    result->addIncoming(b.getInt1(!add), checkEnd);
    if (!fresh) return {result, nullptr};
    llvm::PHINode *payload = b.CreatePHI(i64, 2);
    payload->addIncoming(made, emptyEnd);
    payload->addIncoming(kept, checkEnd);
    return {result, payload};
  }

  Site &x_;
  int field_;
  const Type *key_;
  unsigned keyWords_, words_; // the key's, and all after the tag

  llvm::StructType *type_;
};

} // namespace dfir::backend::ops
