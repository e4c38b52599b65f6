//===- TypeInference.h - Unification with deferred obligations ------------===//
//
// Types flow through the graph and into closures by unification of interned
// types with inference variables (general, `{integer}` and `{float}`
// flavours). What cannot be decided yet -- a field of a value whose type is
// still unknown, "must be numeric" -- becomes an obligation, retried until
// no more progress is made; then integer and float variables take their
// defaults (`i64`, `f64`) and the remaining obligations are reported as
// "type annotations needed".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostics.h"
#include "ir/Type.h"

#include <functional>
#include <string>
#include <vector>

namespace dfir {

class Inference {
public:
  enum class Flavor { Any, Integer, Float, Error };

  Inference(TypeContext &types, DiagnosticEngine &diags) : types_(types), diags_(diags) {}

  TypeContext &types() { return types_; }
  const Type *fresh(Flavor f = Flavor::Any);
  /// The type of something already reported as wrong: it unifies with
  /// everything and satisfies every obligation, so one mistake gives one error.
  const Type *errorType() { return fresh(Flavor::Error); }
  bool isError(const Type *t) const {
    t = resolve(t);
    return t->kind == Type::Var && flavors_[t->id] == Flavor::Error;
  }

  /// Follows variable bindings at the top level only. Shortens the chain it
  /// followed (path compression), so long chains of variables bound to
  /// variables (a pipeline of thousands of operators) cost no more than
  /// short ones.
  const Type *resolve(const Type *t) const;
  /// Substitutes every bound variable, recursively.
  const Type *zonk(const Type *t);
  /// Spells a type for a message; unbound variables print as `_`,
  /// `{integer}` or `{float}`.
  std::string display(const Type *t);
  /// True when `t` (after zonking) still contains a variable.
  bool hasVars(const Type *t);
  Flavor flavor(const Type *var) const { return flavors_[var->id]; }

  /// Makes `a` and `b` equal; false (and nothing bound) when they cannot be.
  bool unify(const Type *a, const Type *b);

  /// Unifies or reports `kind` at `range` with the expected and found types.
  bool expect(const Type *expected, const Type *found, SourceRange range,
              DiagID kind = DiagID::err_type_mismatch);

  /// `tryDischarge` returns false while the types it needs are unknown.
  void defer(SourceRange range, std::function<bool()> tryDischarge);
  /// Runs obligations to a fixpoint, applies defaults, reports leftovers.
  void solve();

private:
  bool occurs(unsigned var, const Type *t);
  bool runObligations();
  /// Every change of a variable goes through here, so that a failed
  /// unification of composites can undo exactly what it did (the trail)
  /// instead of copying all bindings before it starts.
  void set(unsigned var, const Type *binding, Flavor flavor) const;
  struct Pending {
    SourceRange range;
    std::function<bool()> fn;
  };
  struct Undo {
    unsigned var;
    const Type *binding;
    Flavor flavor;
  };
  TypeContext &types_;
  DiagnosticEngine &diags_;
  // Mutable: resolve() compresses paths, which changes no meaning.
  mutable std::vector<const Type *> bindings_;
  mutable std::vector<Flavor> flavors_;
  mutable std::vector<Undo> trail_; // recorded only while trials_ > 0
  unsigned trials_ = 0;
  std::vector<Pending> pending_;
};

} // namespace dfir
