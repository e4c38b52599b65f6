#include "ir/Type.h"

namespace dfir {

TypeContext::TypeContext() {
  bool_ = intern(Type(Type::Bool));
  str_ = intern(Type(Type::Str));
  unit_ = intern(Type(Type::Unit));
}

const Type *TypeContext::intern(Type t) {
  // The key is the type's fields as raw bytes: element types are interned
  // already, so their addresses identify them. The name goes last, as the
  // only part of variable length.
  std::string key;
  auto add = [&key](const auto &v) { key.append(reinterpret_cast<const char *>(&v), sizeof v); };
  add(t.kind);
  add(t.bits);
  add(t.isSigned);
  add(t.id);
  add(t.elems.size());
  for (const Type *e : t.elems) add(e);
  key += t.name;
  auto &slot = interned_[key];
  if (!slot) slot = std::make_unique<Type>(std::move(t));
  return slot.get();
}

const Type *TypeContext::intType(unsigned bits, bool isSigned) {
  Type t(Type::Int);
  t.bits = bits;
  t.isSigned = isSigned;
  return intern(std::move(t));
}

const Type *TypeContext::floatType(unsigned bits) {
  Type t(Type::Float);
  t.bits = bits;
  return intern(std::move(t));
}

const Type *TypeContext::tuple(std::vector<const Type *> elems) {
  if (elems.empty()) return unit_;
  Type t(Type::Tuple);
  t.elems = std::move(elems);
  return intern(std::move(t));
}

static Type wrap(Type::Kind k, const Type *elem) {
  Type t(k);
  t.elems.push_back(elem);
  return t;
}

const Type *TypeContext::list(const Type *elem) { return intern(wrap(Type::List, elem)); }
const Type *TypeContext::option(const Type *elem) { return intern(wrap(Type::Option, elem)); }
const Type *TypeContext::range(const Type *elem) { return intern(wrap(Type::Range, elem)); }
const Type *TypeContext::map(const Type *key, const Type *value) {
  Type t(Type::Map);
  t.elems = {key, value, list(tuple({key, value}))};
  return intern(std::move(t));
}

const LatticeKindInfo *findLatticeKind(const std::string &name) {
  static const LatticeKindInfo kinds[] = {{"Max", 1, 0},     {"Min", 1, 0},     {"SetUnion", 1, 0}, {"MapUnion", 2, 2},
                                          {"Pair", 2, 3},    {"DomPair", 2, 3}, {"WithBot", 1, 1}};
  for (auto &k : kinds)
    if (name == k.name) return &k;
  return nullptr;
}

const Type *TypeContext::lattice(const std::string &name, std::vector<const Type *> params) {
  Type t(Type::Lattice);
  t.name = name;
  const Type *repr = nullptr;
  if (name == "Max" || name == "Min") repr = params[0];
  else if (name == "SetUnion") repr = list(params[0]);
  else if (name == "MapUnion") repr = map(params[0], params[1]);
  else if (name == "Pair" || name == "DomPair") repr = tuple({params[0], params[1]});
  else repr = option(params[0]); // WithBot
  t.elems = std::move(params);
  t.elems.push_back(repr);
  return intern(std::move(t));
}

const Type *TypeContext::var(unsigned id) {
  // Inference makes one variable per value it types: a table, not a lookup.
  if (id < vars_.size() && vars_[id]) return vars_[id];
  Type t(Type::Var);
  t.id = id;
  const Type *v = intern(std::move(t));
  if (id >= vars_.size()) vars_.resize(id + 1);
  vars_[id] = v;
  return v;
}

const Type *TypeContext::structType(unsigned id) {
  Type t(Type::Struct);
  t.id = id;
  t.name = structs_[id].name;
  return intern(std::move(t));
}

const Type *TypeContext::enumType(unsigned id) {
  Type t(Type::Enum);
  t.id = id;
  t.name = enums_[id].name;
  return intern(std::move(t));
}

const Type *TypeContext::primitive(const std::string &n) {
  if (n == "bool") return bool_;
  if (n == "str") return str_;
  if (n == "f32") return floatType(32);
  if (n == "f64") return floatType(64);
  static const struct { const char *name; unsigned bits; bool isSigned; } ints[] = {
      {"i8", 8, true},  {"i16", 16, true},  {"i32", 32, true},  {"i64", 64, true},
      {"u8", 8, false}, {"u16", 16, false}, {"u32", 32, false}, {"u64", 64, false}};
  for (auto &i : ints)
    if (n == i.name) return intType(i.bits, i.isSigned);
  return nullptr;
}

unsigned TypeContext::addStruct(StructInfo info) {
  structs_.push_back(std::move(info));
  return static_cast<unsigned>(structs_.size() - 1);
}

unsigned TypeContext::addEnum(EnumInfo info) {
  enums_.push_back(std::move(info));
  return static_cast<unsigned>(enums_.size() - 1);
}

bool holdsLattice(const Type *t) {
  if (!t) return false;
  if (t->isLattice()) return true;
  for (const Type *e : t->elems)
    if (holdsLattice(e)) return true;
  return false;
}

std::string typeToString(const Type *t) {
  if (!t) return "_";
  switch (t->kind) {
  case Type::Bool: return "bool";
  case Type::Int: return (t->isSigned ? "i" : "u") + std::to_string(t->bits);
  case Type::Float: return "f" + std::to_string(t->bits);
  case Type::Str: return "str";
  case Type::Unit: return "()";
  case Type::Tuple: {
    std::string s = "(";
    for (size_t i = 0; i < t->elems.size(); ++i) {
      if (i) s += ", ";
      s += typeToString(t->elems[i]);
    }
    if (t->elems.size() == 1) s += ",";
    return s + ")";
  }
  case Type::List: return "[" + typeToString(t->elems[0]) + "]";
  case Type::Option: return "Option<" + typeToString(t->elems[0]) + ">";
  case Type::Map: return "Map<" + typeToString(t->elems[0]) + ", " + typeToString(t->elems[1]) + ">";
  case Type::Range: return "range of " + typeToString(t->elems[0]);
  case Type::Lattice: {
    std::string s = t->name + "<";
    for (size_t i = 0; i + 1 < t->elems.size(); ++i) s += (i ? ", " : "") + typeToString(t->elems[i]);
    return s + ">";
  }
  case Type::Struct:
  case Type::Enum: return t->name;
  case Type::Var: return "_";
  }
  return "?";
}

} // namespace dfir
