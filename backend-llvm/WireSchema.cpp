//===- WireSchema.cpp - The wire schema of a channel's element type -------===//
#include "backend-llvm/WireSchema.h"

extern "C" {
#include "dfir_rt.h"
}

#include "ir/Check.h"

#include <map>

namespace dfir::backend {
namespace {

class SchemaBuilder {
public:
  explicit SchemaBuilder(const TypeContext &types) : types_(types) {}

  std::vector<uint32_t> build(const Type *t) {
    words_ = {0, DFIR_WIRE_VARIABLE, 0};
    uint32_t root = node(t);
    words_[0] = static_cast<uint32_t>(words_.size());
    words_[2] = root;
    uint64_t size = 0;
    if (plainFixed(t, size) && size < DFIR_WIRE_VARIABLE) words_[1] = static_cast<uint32_t>(size);
    return words_;
  }

private:
  /// Whether every value of `t` is `size` bytes with nothing else to check
  /// (integers, floats, units and tuples of them).
  bool plainFixed(const Type *t, uint64_t &size) {
    switch (t->kind) {
    case Type::Lattice: return plainFixed(t->repr(), size);
    case Type::Unit: return true;
    case Type::Int:
    case Type::Float: size += t->bits / 8; return true;
    case Type::Tuple:
    case Type::Struct:
      for (const Type *f : fields(t))
        if (!plainFixed(f, size)) return false;
      return true;
    default: return false;
    }
  }

  std::vector<const Type *> fields(const Type *t) {
    if (t->kind == Type::Tuple) return t->elems;
    std::vector<const Type *> out;
    for (auto &[name, ft] : types_.structInfo(t->id).fields) out.push_back(ft);
    return out;
  }

  /// Appends a node of `kind` with room for `operands` operand words.
  uint32_t append(uint32_t kind, size_t operands) {
    uint32_t at = static_cast<uint32_t>(words_.size());
    words_.push_back(kind);
    words_.resize(words_.size() + operands, 0);
    return at;
  }

  uint32_t tuple(const std::vector<const Type *> &elems) {
    uint32_t at = append(DFIR_WIRE_TUPLE, 1 + elems.size());
    words_[at + 1] = static_cast<uint32_t>(elems.size());
    for (size_t i = 0; i < elems.size(); ++i) {
      uint32_t child = node(elems[i]);
      words_[at + 2 + i] = child;
    }
    return at;
  }

  uint32_t node(const Type *t) {
    // Named types once each: recursive ones refer back to themselves.
    if (auto it = done_.find(t); it != done_.end()) return it->second;
    switch (t->kind) {
    case Type::Unit: return append(DFIR_WIRE_UNIT, 0);
    case Type::Bool: return append(DFIR_WIRE_BOOL, 0);
    case Type::Int:
    case Type::Float: {
      uint32_t at = append(DFIR_WIRE_FIXED, 1);
      words_[at + 1] = t->bits / 8;
      return at;
    }
    case Type::Str: return append(DFIR_WIRE_STR, 0);
    case Type::Map: return node(t->elems[2]); // encoded as its entries
    case Type::Lattice: return node(t->repr()); // encoded as its representation
    case Type::Option:
    case Type::List: {
      uint32_t at = append(t->kind == Type::Option ? DFIR_WIRE_OPTION : DFIR_WIRE_LIST, 1);
      done_[t] = at;
      uint32_t child = node(t->elems[0]);
      words_[at + 1] = child;
      return at;
    }
    case Type::Tuple: return tuple(t->elems);
    case Type::Struct: {
      uint32_t at = append(DFIR_WIRE_TUPLE, 1 + types_.structInfo(t->id).fields.size());
      done_[t] = at;
      std::vector<const Type *> fs = fields(t);
      words_[at + 1] = static_cast<uint32_t>(fs.size());
      for (size_t i = 0; i < fs.size(); ++i) {
        uint32_t child = node(fs[i]);
        words_[at + 2 + i] = child;
      }
      return at;
    }
    case Type::Enum: {
      const EnumInfo &info = types_.enumInfo(t->id);
      uint32_t at = append(DFIR_WIRE_ENUM, 1 + info.variants.size());
      done_[t] = at;
      words_[at + 1] = static_cast<uint32_t>(info.variants.size());
      for (size_t k = 0; k < info.variants.size(); ++k) {
        uint32_t child = tuple(info.variants[k].fields);
        words_[at + 2 + k] = child;
      }
      return at;
    }
    default: DFIR_CHECK(false, "a wire schema of a type that is not a value type");
    }
    return 0;
  }

  const TypeContext &types_;
  std::vector<uint32_t> words_;
  std::map<const Type *, uint32_t> done_;
};

} // namespace

std::vector<uint32_t> wireSchema(const Type *t, const TypeContext &types) { return SchemaBuilder(types).build(t); }

} // namespace dfir::backend
