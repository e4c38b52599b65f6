#include "frontend/TypeInference.h"

namespace dfir {

const Type *Inference::fresh(Flavor f) {
  unsigned id = static_cast<unsigned>(bindings_.size());
  bindings_.push_back(nullptr);
  flavors_.push_back(f);
  return types_.var(id);
}

void Inference::set(unsigned var, const Type *binding, Flavor flavor) const {
  if (trials_) trail_.push_back({var, bindings_[var], flavors_[var]});
  bindings_[var] = binding;
  flavors_[var] = flavor;
}

const Type *Inference::resolve(const Type *t) const {
  const Type *root = t;
  while (root && root->kind == Type::Var && bindings_[root->id]) root = bindings_[root->id];
  // Point every variable on the way straight at the end of the chain.
  while (t != root) {
    const Type *next = bindings_[t->id];
    if (next != root) set(t->id, root, flavors_[t->id]);
    t = next;
  }
  return root;
}

const Type *Inference::zonk(const Type *t) {
  t = resolve(t);
  if (!t || t->elems.empty()) return t;
  std::vector<const Type *> elems;
  bool changed = false;
  for (const Type *e : t->elems) {
    elems.push_back(zonk(e));
    changed = changed || elems.back() != e;
  }
  if (!changed) return t;
  switch (t->kind) {
  case Type::Tuple: return types_.tuple(std::move(elems));
  case Type::List: return types_.list(elems[0]);
  case Type::Option: return types_.option(elems[0]);
  case Type::Range: return types_.range(elems[0]);
  case Type::Map: return types_.map(elems[0], elems[1]);
  case Type::Lattice: elems.pop_back(); return types_.lattice(t->name, std::move(elems));
  default: return t;
  }
}

bool Inference::hasVars(const Type *t) {
  t = resolve(t);
  if (t->kind == Type::Var) return true;
  for (const Type *e : t->elems)
    if (hasVars(e)) return true;
  return false;
}

std::string Inference::display(const Type *t) {
  t = zonk(t);
  if (t->kind == Type::Var) {
    switch (flavors_[t->id]) {
    case Flavor::Integer: return "{integer}";
    case Flavor::Float: return "{float}";
    case Flavor::Any:
    case Flavor::Error: return "_";
    }
  }
  if (t->elems.empty() || !hasVars(t)) return typeToString(t);
  // Spell composites by hand so nested variables keep their flavour names.
  switch (t->kind) {
  case Type::Tuple: {
    std::string s = "(";
    for (size_t i = 0; i < t->elems.size(); ++i) s += (i ? ", " : "") + display(t->elems[i]);
    return s + (t->elems.size() == 1 ? ",)" : ")");
  }
  case Type::List: return "[" + display(t->elems[0]) + "]";
  case Type::Option: return "Option<" + display(t->elems[0]) + ">";
  case Type::Map: return "Map<" + display(t->elems[0]) + ", " + display(t->elems[1]) + ">";
  case Type::Range: return "range of " + display(t->elems[0]);
  case Type::Lattice: {
    std::string s = t->name + "<";
    for (size_t i = 0; i + 1 < t->elems.size(); ++i) s += (i ? ", " : "") + display(t->elems[i]);
    return s + ">";
  }
  default: return typeToString(t);
  }
}

bool Inference::occurs(unsigned var, const Type *t) {
  t = resolve(t);
  if (t->kind == Type::Var) return t->id == var;
  for (const Type *e : t->elems)
    if (occurs(var, e)) return true;
  return false;
}

bool Inference::unify(const Type *a, const Type *b) {
  a = resolve(a);
  b = resolve(b);
  if (a == b) return true;
  if (isError(b)) std::swap(a, b);
  if (isError(a)) {
    if (b->kind == Type::Var && !isError(b)) set(b->id, a, flavors_[b->id]);
    return true;
  }
  if (a->kind != Type::Var && b->kind == Type::Var) std::swap(a, b);
  if (a->kind == Type::Var) {
    Flavor fa = flavors_[a->id];
    if (b->kind == Type::Var) {
      Flavor fb = flavors_[b->id];
      if (fa != Flavor::Any && fb != Flavor::Any && fa != fb) return false;
      if (fb == Flavor::Any) set(b->id, nullptr, fa);
      set(a->id, b, fa);
      return true;
    }
    if (fa == Flavor::Integer && b->kind != Type::Int) return false;
    if (fa == Flavor::Float && b->kind != Type::Float) return false;
    if (occurs(a->id, b)) return false;
    set(a->id, b, fa);
    return true;
  }
  if (a->kind != b->kind) return false;
  switch (a->kind) {
  case Type::Int:
  case Type::Float:
  case Type::Struct:
  case Type::Enum:
  case Type::Bool:
  case Type::Str:
  case Type::Unit: return false; // interned: equal types are the same pointer
  case Type::Tuple:
  case Type::List:
  case Type::Option:
  case Type::Map:
  case Type::Lattice:
  case Type::Range: {
    if (a->elems.size() != b->elems.size() || a->name != b->name) return false;
    // A failed unification leaves nothing bound: undo what the elements
    // that did unify changed.
    size_t mark = trail_.size();
    ++trials_;
    bool ok = true;
    for (size_t i = 0; ok && i < a->elems.size(); ++i) ok = unify(a->elems[i], b->elems[i]);
    --trials_;
    if (!ok)
      for (; trail_.size() > mark; trail_.pop_back()) {
        bindings_[trail_.back().var] = trail_.back().binding;
        flavors_[trail_.back().var] = trail_.back().flavor;
      }
    if (!trials_) trail_.clear();
    return ok;
  }
  case Type::Var: return false;
  }
  return false;
}

bool Inference::expect(const Type *expected, const Type *found, SourceRange range, DiagID kind) {
  if (unify(expected, found)) return true;
  diags_.report(kind, range) << display(expected) << display(found);
  return false;
}

void Inference::defer(SourceRange range, std::function<bool()> tryDischarge) {
  if (!tryDischarge()) pending_.push_back({range, std::move(tryDischarge)});
}

bool Inference::runObligations() {
  bool any = false;
  bool progress = true;
  while (progress) {
    progress = false;
    // Keeps the undischarged ones in order, compacted in place (erasing
    // each discharged one would be quadratic). Obligations may add
    // obligations at the end: take each out before running it.
    size_t kept = 0;
    for (size_t i = 0; i < pending_.size(); ++i) {
      Pending p = std::move(pending_[i]);
      if (p.fn()) progress = any = true;
      else pending_[kept++] = std::move(p);
    }
    pending_.resize(kept);
  }
  return any;
}

void Inference::solve() {
  runObligations();
  for (;;) {
    bool defaulted = false;
    for (size_t i = 0; i < bindings_.size(); ++i) {
      if (bindings_[i]) continue;
      if (flavors_[i] == Flavor::Integer) bindings_[i] = types_.i64();
      else if (flavors_[i] == Flavor::Float) bindings_[i] = types_.f64();
      else continue;
      defaulted = true;
    }
    if (!defaulted || !runObligations()) break;
  }
  for (auto &p : pending_) diags_.report(DiagID::err_type_annotations_needed, p.range);
  pending_.clear();
  // Whatever nothing constrains (the items of `null()`, an empty list) is `()`.
  // Error variables stay unbound: they mark what was already reported.
  for (size_t i = 0; i < bindings_.size(); ++i)
    if (!bindings_[i] && flavors_[i] != Flavor::Error) bindings_[i] = types_.unitType();
}

} // namespace dfir
