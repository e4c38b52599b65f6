//===- ExprAnalysis.h - What passes can learn from a closure --------------===//
//
// Closures are typed trees, not opaque code, so passes can ask:
//  - is it pure (no output, randomness, clock or extern calls)? Then it may
//    be moved, duplicated or run on another member.
//  - which parts of its result are plain copies of parts of its input?
//    (`|(k, v)| (v, k)` copies field 1 then field 0.) Partitioning follows a
//    key through such closures.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Expr.h"

#include <optional>
#include <vector>

namespace dfir::ir {

/// A position inside a value: tuple indexes, or struct field indexes in
/// declaration order, from the outside in (`[]` is the whole value,
/// `[1, 0]` is `.1.0`).
using FieldPath = std::vector<unsigned>;

/// True when evaluating `e` has no effect besides computing its value.
bool isPure(const Expr &e);

/// For a closure of one parameter: the part of the parameter that the whole
/// result copies unchanged (`|x| x` -> `[]`, `|(k, _)| k` -> `[0]`), if any.
std::optional<FieldPath> copiedPath(const Expr &lambda);

/// For a closure of one parameter: the parts of the parameter it reads (a
/// variable bound to a part stands for it; `[]` when it reads it whole).
/// Its result is a function of these.
std::optional<std::vector<FieldPath>> fieldsRead(const Expr &lambda);

/// For a closure of one parameter returning a tuple (or a struct: by field
/// index): per element of the
/// result, the part of the parameter it copies, if any. A closure that does
/// not return a tuple literal gives one entry for the whole result.
std::vector<std::optional<FieldPath>> fieldCopies(const Expr &lambda);

/// Closures over values that only grow (what a lattice operator emits:
/// docs/language.md, "Lattices"). The lattice parts of the parameter grow
/// from one time the closure sees the value to the next; the other parts
/// (a key) stay the same.
///
/// Whether a predicate, once true, stays true as the lattice parts grow (a
/// monotone threshold): `len(reveal(s)) >= 3`, `reveal(m) > 10` of a
/// `Max`, `reveal(m) < 5` of a `Min`, `s >= c`, `contains(reveal(s), x)`,
/// and `&&`/`||` of such, compared with values that do not grow.
bool monotonePredicate(const Expr &lambda);

/// Whether a closure's result reads no lattice part of its parameter.
bool ignoresLattices(const Expr &lambda);

/// Whether a closure is `|x| reveal(x)` of a `SetUnion` or `MapUnion` (what
/// `flat_map` makes of a growing set or map: its elements or entries, which
/// only grow in number, and an entry's value only grows).
bool revealsWhole(const Expr &lambda);

} // namespace dfir::ir
