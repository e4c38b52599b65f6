//===- Type.h - Value types of DFIR ---------------------------------------===//
//
// Types are interned in a TypeContext: two types are equal iff their pointers
// are. `Var` types are inference variables owned by the type checker; they
// never survive into a checked program. `Range` is the type of `a..b`, which
// only source_iter and flat_map accept.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace dfir {

class Type {
public:
  enum Kind { Bool, Int, Float, Str, Unit, Tuple, List, Option, Struct, Enum, Range, Var, Map, Lattice };
  explicit Type(Kind k) : kind(k) {}
  Kind kind;
  unsigned bits = 0;     // Int, Float
  bool isSigned = false; // Int
  // Tuple fields; List/Option/Range element; Map: K, V, then `[(K, V)]`;
  // Lattice: its type arguments, then the type it is represented as.
  std::vector<const Type *> elems;
  std::string name;      // Struct, Enum; Lattice: `Max`, `SetUnion`, ...
  unsigned id = 0;       // Struct/Enum: declaration index; Var: variable id

  bool isInt() const { return kind == Int; }
  bool isFloat() const { return kind == Float; }
  bool isNumeric() const { return kind == Int || kind == Float; }
  bool isVar() const { return kind == Var; }
  bool isLattice() const { return kind == Lattice; }
  /// A lattice's representation (`Max<T>`: T, `SetUnion<T>`: `[T]`, ...),
  /// through every lattice wrapper; any other type itself.
  const Type *repr() const {
    const Type *t = this;
    while (t->kind == Lattice) t = t->elems.back();
    return t;
  }
};

/// The built-in lattice types (docs/language.md, "Lattices"), with the
/// number of type arguments each takes and which of them must be lattices
/// (bit i: argument i).
struct LatticeKindInfo {
  const char *name;
  unsigned params;
  unsigned latticeParams;
};
/// Null if `name` is no lattice type.
const LatticeKindInfo *findLatticeKind(const std::string &name);

struct StructInfo {
  std::string name;
  std::vector<std::pair<std::string, const Type *>> fields;
};

struct VariantInfo {
  std::string name;
  std::vector<const Type *> fields;
};

struct EnumInfo {
  std::string name;
  std::vector<VariantInfo> variants;
  int variantIndex(const std::string &n) const {
    for (size_t i = 0; i < variants.size(); ++i)
      if (variants[i].name == n) return static_cast<int>(i);
    return -1;
  }
};

class TypeContext {
public:
  TypeContext();
  const Type *boolType() const { return bool_; }
  const Type *strType() const { return str_; }
  const Type *unitType() const { return unit_; }
  const Type *intType(unsigned bits, bool isSigned);
  const Type *floatType(unsigned bits);
  const Type *i64() { return intType(64, true); }
  const Type *u64() { return intType(64, false); }
  const Type *u32() { return intType(32, false); }
  const Type *f64() { return floatType(64); }
  const Type *tuple(std::vector<const Type *> elems);
  const Type *list(const Type *elem);
  const Type *option(const Type *elem);
  const Type *range(const Type *elem);
  /// `Map<K, V>`: its entries, sorted by key, laid out and encoded as the
  /// list `[(K, V)]` (its third element).
  const Type *map(const Type *key, const Type *value);
  /// A lattice type: `name` one of findLatticeKind's, `params` its type
  /// arguments (the right number; whether they are lattices is the
  /// checker's business). Its representation is computed here.
  const Type *lattice(const std::string &name, std::vector<const Type *> params);
  const Type *var(unsigned id);
  const Type *structType(unsigned id);
  const Type *enumType(unsigned id);

  /// Primitive type names (`i64`, `str`, ...); null if `name` is none.
  const Type *primitive(const std::string &name);

  unsigned addStruct(StructInfo info);
  unsigned addEnum(EnumInfo info);
  StructInfo &structInfo(unsigned id) { return structs_[id]; }
  EnumInfo &enumInfo(unsigned id) { return enums_[id]; }
  const StructInfo &structInfo(unsigned id) const { return structs_[id]; }
  const EnumInfo &enumInfo(unsigned id) const { return enums_[id]; }
  unsigned numStructs() const { return static_cast<unsigned>(structs_.size()); }
  unsigned numEnums() const { return static_cast<unsigned>(enums_.size()); }

private:
  const Type *intern(Type t);
  std::unordered_map<std::string, std::unique_ptr<Type>> interned_;
  std::vector<const Type *> vars_; // var(id), by id
  std::vector<StructInfo> structs_;
  std::vector<EnumInfo> enums_;
  const Type *bool_, *str_, *unit_;
};

/// Whether values of `t` hold a lattice value (struct and enum fields are
/// not looked into).
bool holdsLattice(const Type *t);

/// Spells a type as the user writes it: `(i64, [str])`, `Option<u8>`.
/// Inference variables print as `_`, `{integer}` or `{float}` via `varName`.
std::string typeToString(const Type *t);

} // namespace dfir
