//===- Decls.cpp - Declarations: types, externs, consts, locations --------===//
//
// Registers every item name (one namespace for types, externs, consts,
// locations and channels; duplicates are errors), resolves type expressions
// (aliases on demand, with cycle detection), rejects recursive structs and
// enums (values are finite trees), checks const initialisers and their
// dependency cycles, and checks location and channel declarations.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaContext.h"

#include <algorithm>
#include <functional>
#include <set>

namespace dfir {

using namespace ast;

const Type *SemaContext::resolveType(const TypeExpr &t) {
  switch (t.kind) {
  case TypeExpr::Unit: return types.unitType();
  case TypeExpr::Tuple: {
    std::vector<const Type *> elems;
    for (auto &a : t.args) elems.push_back(resolveType(*a));
    return types.tuple(std::move(elems));
  }
  case TypeExpr::List: return types.list(resolveType(*t.args[0]));
  case TypeExpr::Named: break;
  }
  if (t.name == "Map") {
    if (t.args.size() != 2) {
      diags.report(DiagID::err_type_arg_count, t.range) << "Map" << 2 << t.args.size();
      return infer.errorType();
    }
    return types.map(resolveType(*t.args[0]), resolveType(*t.args[1]));
  }
  if (t.name == "Option") {
    if (t.args.size() != 1) {
      diags.report(DiagID::err_type_arg_count, t.range) << "Option" << 1 << t.args.size();
      return infer.errorType();
    }
    return types.option(resolveType(*t.args[0]));
  }
  const Type *found = types.primitive(t.name);
  if (!found) {
    if (auto it = typeNames.find(t.name); it != typeNames.end()) found = it->second;
  }
  if (!found) {
    if (auto it = aliasDefs.find(t.name); it != aliasDefs.end()) {
      for (size_t i = 0; i < aliasStack.size(); ++i) {
        if (aliasStack[i] != t.name) continue;
        DiagBuilder b = diags.report(DiagID::err_recursive_type, it->second->nameRange);
        b << t.name;
        for (size_t k = i + 1; k < aliasStack.size(); ++k)
          b.note(DiagID::note_recursion_through, aliasDefs[aliasStack[k]]->nameRange) << aliasStack[k];
        return infer.errorType();
      }
      aliasStack.push_back(t.name);
      found = resolveType(*it->second->type);
      aliasStack.pop_back();
      typeNames[t.name] = found;
    }
  }
  // A declared type of the same name hides a lattice type.
  if (!found) {
    if (const LatticeKindInfo *k = findLatticeKind(t.name)) {
      if (t.args.size() != k->params) {
        diags.report(DiagID::err_type_arg_count, t.range) << t.name << k->params << t.args.size();
        return infer.errorType();
      }
      std::vector<const Type *> params;
      for (size_t i = 0; i < t.args.size(); ++i) {
        params.push_back(resolveType(*t.args[i]));
        if ((k->latticeParams >> i & 1) && !params.back()->isLattice() && !infer.isError(params.back())) {
          diags.report(DiagID::err_not_lattice, t.args[i]->range)
              << "the " + std::string(i ? "second" : "first") + " type argument of `" + t.name + "`"
              << typeToString(params.back());
          return infer.errorType();
        }
      }
      return types.lattice(t.name, std::move(params));
    }
  }
  if (!found) {
    diags.report(DiagID::err_unknown_type, t.range) << t.name;
    return infer.errorType();
  }
  if (!t.args.empty()) {
    diags.report(DiagID::err_type_args_not_allowed, t.range) << t.name;
  }
  return found;
}

namespace {

class DeclChecker {
public:
  DeclChecker(Program &p, SemaContext &ctx) : p_(p), ctx_(ctx) {}

  void run() {
    registerNames();
    resolveStructsAndEnums();
    checkRecursiveTypes();
    for (auto &a : p_.typeDefs) ctx_.resolveType(TypeExpr{TypeExpr::Named, a.nameRange, a.name, {}});
    for (auto &e : p_.externs) ctx_.externs[e.name] = signature(e.nameRange, e.params, e.result);
    for (auto &f : p_.functions) {
      ctx_.functions[f.name] = signature(f.nameRange, f.params, f.result);
      if (const BuiltinInfo *b = findBuiltin(f.name); b && !b->hidable) ctx_.diags.report(DiagID::err_fn_builtin_name, f.nameRange) << f.name;
      std::map<std::string, SourceRange> seen;
      for (auto &prm : f.params)
        if (auto [it, fresh] = seen.emplace(prm.name, prm.range); !fresh)
          (ctx_.diags.report(DiagID::err_duplicate_param, prm.range) << prm.name << f.name)
              .note(DiagID::note_previous_definition, it->second);
    }
    for (auto &c : p_.consts) ctx_.consts[c.name] = ctx_.resolveType(*c.type);
    checkConstCycles();
    locations();
    channels();
  }

  /// Const initialisers are checked after the graph, with everything else.
  static void checkConstValues(Program &p, SemaContext &ctx) {
    for (auto &c : p.consts) {
      ExprChecker ec(ctx, -1);
      const Type *t = ec.check(*c.value);
      ctx.infer.expect(ctx.consts[c.name], t, c.value->range);
    }
    // Function bodies: a closure of the declared parameter types whose
    // value is the declared result.
    for (auto &f : p.functions) {
      ExprChecker ec(ctx, -1);
      ec.inFunction(f.name);
      const ExternSig &sig = ctx.functions[f.name];
      const Type *t = ec.checkClosure(*f.body, sig.params);
      const ast::Expr &block = *f.body->kids[0];
      SourceRange at = block.kind == ast::Expr::Block && !block.kids.empty() ? block.kids.back()->range : block.range;
      if (!ctx.infer.unify(sig.result, t))
        ctx.diags.report(DiagID::err_fn_result, at) << f.name << ctx.infer.display(sig.result) << ctx.infer.display(t);
    }
  }

private:
  /// The declared types of an extern fn or a fn (`()` without `-> R`).
  ExternSig signature(SourceRange range, const std::vector<FieldDecl> &params, const TypeExprPtr &result) {
    ExternSig sig;
    sig.range = range;
    for (auto &prm : params) sig.params.push_back(ctx_.resolveType(*prm.type));
    sig.result = result ? ctx_.resolveType(*result) : ctx_.types.unitType();
    return sig;
  }

  bool claim(const std::string &name, SourceRange range) {
    auto [it, fresh] = ctx_.itemRanges.emplace(name, range);
    if (!fresh) {
      (ctx_.diags.report(DiagID::err_duplicate_name, range) << name)
          .note(DiagID::note_previous_definition, it->second);
      return false;
    }
    return true;
  }

  bool claimType(const std::string &name, SourceRange range) {
    if (ctx_.types.primitive(name) || name == "Option" || name == "Map") {
      ctx_.diags.report(DiagID::err_reserved_type_name, range) << name;
      return false;
    }
    return claim(name, range);
  }

  /// Claims every item name in source order, so that a duplicate is
  /// reported at the later definition with a note at the earlier one.
  void registerNames() {
    struct Item {
      SourceRange range;
      std::string name;
      bool isType;
      std::function<void()> define;
    };
    std::vector<Item> items;
    for (auto &a : p_.typeDefs)
      items.push_back({a.nameRange, a.name, true, [&] { ctx_.aliasDefs[a.name] = &a; }});
    for (auto &st : p_.structs)
      items.push_back({st.nameRange, st.name, true, [&] {
                         unsigned id = ctx_.types.addStruct(StructInfo{st.name, {}});
                         ctx_.typeNames[st.name] = ctx_.types.structType(id);
                         ctx_.structDefs[st.name] = &st;
                       }});
    for (auto &e : p_.enums)
      items.push_back({e.nameRange, e.name, true, [&] {
                         unsigned id = ctx_.types.addEnum(EnumInfo{e.name, {}});
                         ctx_.typeNames[e.name] = ctx_.types.enumType(id);
                         ctx_.enumDefs[e.name] = &e;
                       }});
    for (auto &e : p_.externs) items.push_back({e.nameRange, e.name, false, [] {}});
    for (auto &f : p_.functions) items.push_back({f.nameRange, f.name, false, [] {}});
    for (auto &g : p_.subgraphs) items.push_back({g.nameRange, g.name, false, [] {}});
    for (auto &c : p_.consts) items.push_back({c.nameRange, c.name, false, [&] { ctx_.constDefs[c.name] = &c; }});
    for (auto &l : p_.locations) items.push_back({l.nameRange, l.name, false, [] {}});
    for (auto &c : p_.channels) items.push_back({c.nameRange, c.name, false, [] {}});
    std::stable_sort(items.begin(), items.end(), [](const Item &a, const Item &b) {
      return a.range.begin.offset < b.range.begin.offset;
    });
    for (auto &item : items)
      if (item.isType ? claimType(item.name, item.range) : claim(item.name, item.range)) item.define();
  }

  void resolveStructsAndEnums() {
    for (auto &[name, def] : ctx_.structDefs) {
      StructInfo &info = ctx_.types.structInfo(ctx_.typeNames[name]->id);
      std::map<std::string, SourceRange> seen;
      for (auto &f : def->fields) {
        if (auto [it, fresh] = seen.emplace(f.name, f.range); !fresh) {
          (ctx_.diags.report(DiagID::err_duplicate_field, f.range) << f.name << name)
              .note(DiagID::note_previous_definition, it->second);
          continue;
        }
        info.fields.emplace_back(f.name, ctx_.resolveType(*f.type));
      }
    }
    for (auto &[name, def] : ctx_.enumDefs) {
      EnumInfo &info = ctx_.types.enumInfo(ctx_.typeNames[name]->id);
      std::map<std::string, SourceRange> seen;
      for (auto &v : def->variants) {
        if (auto [it, fresh] = seen.emplace(v.name, v.range); !fresh) {
          (ctx_.diags.report(DiagID::err_duplicate_variant, v.range) << v.name << name)
              .note(DiagID::note_previous_definition, it->second);
          continue;
        }
        VariantInfo vi{v.name, {}};
        for (auto &t : v.types) vi.fields.push_back(ctx_.resolveType(*t));
        info.variants.push_back(std::move(vi));
      }
    }
  }

  /// A struct or enum that contains itself (other than through a list,
  /// which may be empty) would be an infinite value. One error per cycle, at
  /// its first type in source order, with a note on each other type of it.
  bool reaches(const Type *from, const Type *target, std::set<const Type *> &seen) {
    from = ctx_.infer.resolve(from);
    if (from->kind == Type::List || !seen.insert(from).second) return false;
    for (const Type *e : from->elems)
      if (e == target || reaches(e, target, seen)) return true;
    std::vector<const Type *> parts;
    if (from->kind == Type::Struct)
      for (auto &f : ctx_.types.structInfo(from->id).fields) parts.push_back(f.second);
    if (from->kind == Type::Enum)
      for (auto &v : ctx_.types.enumInfo(from->id).variants)
        parts.insert(parts.end(), v.fields.begin(), v.fields.end());
    for (const Type *p : parts) {
      const Type *r = ctx_.infer.resolve(p);
      if (r == target || reaches(r, target, seen)) return true;
    }
    return false;
  }

  bool reaches(const Type *from, const Type *target) {
    std::set<const Type *> seen;
    return reaches(from, target, seen);
  }

  void checkRecursiveTypes() {
    std::vector<std::pair<SourceRange, std::string>> decls;
    for (auto &[name, def] : ctx_.structDefs) decls.push_back({def->nameRange, name});
    for (auto &[name, def] : ctx_.enumDefs) decls.push_back({def->nameRange, name});
    std::sort(decls.begin(), decls.end(),
              [](auto &a, auto &b) { return a.first.begin.offset < b.first.begin.offset; });
    std::set<std::string> reported;
    for (auto &[range, name] : decls) {
      const Type *self = ctx_.typeNames[name];
      if (reported.count(name) || !reaches(self, self)) continue;
      DiagBuilder b = ctx_.diags.report(DiagID::err_recursive_type, range);
      b << name;
      for (auto &[otherRange, other] : decls) {
        const Type *t = ctx_.typeNames[other];
        if (other == name || !reaches(self, t) || !reaches(t, self)) continue;
        reported.insert(other);
        b.note(DiagID::note_recursion_through, otherRange) << other;
      }
    }
  }

  void collectNames(const Expr &e, std::vector<std::pair<std::string, SourceRange>> &out) {
    if (e.kind == Expr::Name) out.emplace_back(e.name, e.range);
    for (auto &k : e.kids) collectNames(*k, out);
    for (auto &s : e.stmts) collectNames(*s.expr, out);
    for (auto &a : e.arms) collectNames(*a.body, out);
  }

  void checkConstCycles() {
    std::map<std::string, int> state; // 1 = visiting, 2 = done
    std::vector<std::string> stack;
    std::function<void(const std::string &)> visit = [&](const std::string &name) {
      state[name] = 1;
      stack.push_back(name);
      std::vector<std::pair<std::string, SourceRange>> refs;
      collectNames(*ctx_.constDefs[name]->value, refs);
      for (auto &[ref, range] : refs) {
        if (!ctx_.constDefs.count(ref)) continue;
        if (state[ref] == 1) {
          DiagBuilder b = ctx_.diags.report(DiagID::err_recursive_const, ctx_.constDefs[ref]->nameRange);
          b << ref;
          b.note(DiagID::note_used_here, range) << ref;
          continue;
        }
        if (state[ref] == 0) visit(ref);
      }
      stack.pop_back();
      state[name] = 2;
    };
    for (auto &[name, def] : ctx_.constDefs)
      if (state[name] == 0) visit(name);
  }

  void locations() {
    for (auto &l : p_.locations) {
      if (ctx_.locationIndex.count(l.name)) continue;
      if (l.name == "loop") {
        ctx_.diags.report(DiagID::err_loop_location_name, l.nameRange);
      } else if (l.isCluster && l.hasSize && l.size == 0) {
        ctx_.diags.report(DiagID::err_cluster_size_zero, l.sizeRange) << l.name;
      } else if (l.isCluster && l.size > ir::kMaxClusterSize) {
        ctx_.diags.report(DiagID::err_cluster_size_too_large, l.sizeRange) << l.name << ir::kMaxClusterSize;
      }
      ctx_.locationIndex[l.name] = static_cast<int>(ctx_.locations.size());
      ctx_.locations.push_back({l.name, l.isCluster, l.size ? l.size : 1, l.nameRange});
    }
    if (p_.locations.empty()) {
      ctx_.implicitMain = true;
      ctx_.locationIndex["main"] = 0;
      ctx_.locations.push_back({"main", false, 1, SourceRange()});
    }
  }

  void channels() {
    for (auto &c : p_.channels) {
      ChannelInfo info;
      info.decl = &c;
      info.from = ctx_.findLocation(c.from);
      info.to = ctx_.findLocation(c.to);
      bool ok = true;
      for (auto [idx, name, range] : {std::tuple{info.from, c.from, c.fromRange},
                                      std::tuple{info.to, c.to, c.toRange}}) {
        if (idx < 0 || ctx_.implicitMain) {
          if (ctx_.unknownLocations.insert(name).second)
            ctx_.diags.report(DiagID::err_unknown_location, range) << name;
          ok = false;
        }
      }
      if (ok && c.mode != ChannelDecl::Direct && !ctx_.locations[info.to].isCluster) {
        ctx_.diags.report(DiagID::err_channel_mode_to_process, c.modeRange)
            << (c.mode == ChannelDecl::Broadcast ? "broadcast" : "hash") << c.to;
      }
      info.elem = c.elemType ? ctx_.resolveType(*c.elemType) : ctx_.infer.fresh();
      if (ctx_.channelIndex.count(c.name)) continue;
      ctx_.channelIndex[c.name] = static_cast<int>(ctx_.channels.size());
      ctx_.channels.push_back(info);
    }
  }

  Program &p_;
  SemaContext &ctx_;
};

} // namespace

void checkDeclarations(Program &program, SemaContext &ctx) { DeclChecker(program, ctx).run(); }

void checkConstValues(Program &program, SemaContext &ctx) {
  DeclChecker::checkConstValues(program, ctx);
}

} // namespace dfir
