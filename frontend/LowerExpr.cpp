//===- LowerExpr.cpp - Checked closures -> the IR's closures ---------------===//
//
// Turns the typed syntax of a closure (frontend/Expr.h) into the IR's form
// (ir/Expr.h): every local variable becomes a slot of its closure (a new
// one for every binding, so shadowing needs no scopes later), and every
// other name the index it refers to: constants and extern functions in the
// program's tables, builtins by BuiltinId, fields and enum variants in their
// types, locations in the program. Runs only on a program that passed every
// check, so every name resolves.
//
//===----------------------------------------------------------------------===//
#include "frontend/LowerExpr.h"

#include "ir/Check.h"
#include "ir/Type.h"

#include <map>

namespace dfir {

namespace {

class ExprLowering {
public:
  ExprLowering(const ClosureNames &names, const TypeContext &types) : names_(names), types_(types) {}

  ir::ExprPtr root(const Expr &e) {
    scopes_.assign(1, {});
    next_ = 0;
    ir::ExprPtr out = lower(e);
    out->slots = next_;
    return out;
  }

private:
  ir::ExprPtr make(ir::Expr::Kind kind, const Expr &from) {
    auto out = std::make_unique<ir::Expr>();
    out->kind = kind;
    out->range = from.range;
    out->type = from.type;
    return out;
  }

  const int *local(const std::string &name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
      if (auto f = it->find(name); f != it->end()) return &f->second;
    return nullptr;
  }

  ir::ExprPtr lower(const Expr &e) {
    switch (e.kind) {
    case Expr::Int: {
      auto out = make(ir::Expr::Int, e);
      out->intValue = e.intValue;
      return out;
    }
    case Expr::Float: {
      auto out = make(ir::Expr::Float, e);
      out->floatValue = e.floatValue;
      return out;
    }
    case Expr::Str: {
      auto out = make(ir::Expr::Str, e);
      out->strValue = e.strValue;
      return out;
    }
    case Expr::Bool: {
      auto out = make(ir::Expr::Bool, e);
      out->boolValue = e.boolValue;
      return out;
    }
    case Expr::Unit: return make(ir::Expr::Unit, e);
    case Expr::Name: return name(e);
    case Expr::Path: {
      auto out = make(ir::Expr::Variant, e);
      out->index = variantOf(e.type, e.name2);
      out->name = e.name2;
      return out;
    }
    case Expr::Tuple:
    case Expr::List:
    case Expr::Index:
    case Expr::Unary:
    case Expr::Binary:
    case Expr::Cast:
    case Expr::If:
    case Expr::Range: {
      static const std::map<Expr::Kind, ir::Expr::Kind> same = {
          {Expr::Tuple, ir::Expr::Tuple}, {Expr::List, ir::Expr::List},   {Expr::Index, ir::Expr::Index},
          {Expr::Unary, ir::Expr::Unary}, {Expr::Binary, ir::Expr::Binary}, {Expr::Cast, ir::Expr::Cast},
          {Expr::If, ir::Expr::If},       {Expr::Range, ir::Expr::Range}};
      auto out = make(same.at(e.kind), e);
      out->binop = e.binop;
      out->unop = e.unop;
      for (auto &k : e.kids) out->kids.push_back(lower(*k));
      return out;
    }
    case Expr::Struct: {
      auto out = make(ir::Expr::Struct, e);
      for (size_t i = 0; i < e.kids.size(); ++i) {
        out->kids.push_back(lower(*e.kids[i]));
        out->fields.push_back(fieldOf(e.type, e.fieldNames[i]));
      }
      out->fieldNames = e.fieldNames;
      return out;
    }
    case Expr::Field: {
      auto out = make(ir::Expr::Field, e);
      out->kids.push_back(lower(*e.kids[0]));
      out->index = fieldOf(e.kids[0]->type, e.name);
      out->name = e.name;
      return out;
    }
    case Expr::TupleIndex: {
      auto out = make(ir::Expr::TupleIndex, e);
      out->kids.push_back(lower(*e.kids[0]));
      out->index = static_cast<int>(e.intValue);
      return out;
    }
    case Expr::Call: return call(e);
    case Expr::Match: {
      auto out = make(ir::Expr::Match, e);
      out->kids.push_back(lower(*e.kids[0]));
      for (auto &arm : e.arms) {
        scopes_.emplace_back();
        ir::PatternPtr p = pattern(*arm.pattern);
        out->arms.push_back({std::move(p), lower(*arm.body)});
        scopes_.pop_back();
      }
      return out;
    }
    case Expr::Block: {
      auto out = make(ir::Expr::Block, e);
      scopes_.emplace_back();
      for (auto &st : e.stmts) {
        ir::ExprPtr value = lower(*st.expr); // before the names it binds
        out->stmts.push_back({st.isLet ? pattern(*st.pattern) : nullptr, std::move(value)});
      }
      out->hasTail = e.hasTail;
      if (e.hasTail) out->kids.push_back(lower(*e.kids[0]));
      scopes_.pop_back();
      return out;
    }
    case Expr::StateRef: {
      auto out = make(ir::Expr::StateRef, e);
      out->index = static_cast<int>(e.intValue); // the node, which is the operator's id
      out->name = e.name;
      return out;
    }
    case Expr::Lambda: {
      auto out = make(ir::Expr::Lambda, e);
      scopes_.emplace_back();
      for (auto &p : e.params) out->params.push_back(pattern(*p.pattern));
      out->kids.push_back(lower(*e.kids[0]));
      scopes_.pop_back();
      return out;
    }
    }
    DFIR_CHECK(false, "an expression kind the lowering does not know");
    return nullptr;
  }

  ir::ExprPtr name(const Expr &e) {
    if (e.name == "None" && e.type->kind == Type::Option) return make(ir::Expr::NoneValue, e);
    if (const int *slot = local(e.name)) {
      auto out = make(ir::Expr::Local, e);
      out->slot = *slot;
      out->name = e.name;
      return out;
    }
    auto c = names_.consts.find(e.name);
    DFIR_CHECK(c != names_.consts.end(), "a name the checker resolved is not a local or a constant");
    auto out = make(ir::Expr::Const, e);
    out->index = c->second;
    out->name = e.name;
    return out;
  }

  ir::ExprPtr call(const Expr &e) {
    const Expr &callee = *e.kids[0];
    ir::ExprPtr out;
    if (callee.kind == Expr::Path) {
      out = make(ir::Expr::Variant, e);
      out->index = variantOf(e.type, callee.name2);
      out->name = callee.name2;
    } else if (auto f = names_.functions.find(callee.name); f != names_.functions.end()) {
      out = make(ir::Expr::Function, e);
      out->index = f->second;
      out->name = callee.name;
    } else if (auto x = names_.externs.find(callee.name); x != names_.externs.end()) {
      out = make(ir::Expr::Extern, e);
      out->index = x->second;
      out->name = callee.name;
    } else if (callee.name == "Some") {
      out = make(ir::Expr::Some, e);
    } else {
      const BuiltinInfo *b = findBuiltin(callee.name);
      DFIR_CHECK(b, "a call the checker accepted names no function");
      out = make(ir::Expr::Builtin, e);
      out->builtin = b->id;
      out->name = callee.name;
      if (b->id == BuiltinId::ClusterSize) {
        // Its argument names a location: not a value.
        const Expr &arg = *e.kids[1];
        auto loc = make(ir::Expr::Location, arg);
        auto l = names_.locations.find(arg.name);
        DFIR_CHECK(l != names_.locations.end(), "cluster_size of a location the checker resolved is missing");
        loc->index = l->second;
        loc->name = arg.name;
        out->kids.push_back(std::move(loc));
        return out;
      }
    }
    for (size_t i = 1; i < e.kids.size(); ++i) out->kids.push_back(lower(*e.kids[i]));
    return out;
  }

  ir::PatternPtr pattern(const Pattern &p) {
    auto out = std::make_unique<ir::Pattern>();
    out->range = p.range;
    out->type = p.type;
    out->rest = p.rest;
    out->negative = p.negative;
    out->intValue = p.intValue;
    out->floatValue = p.floatValue;
    out->strValue = p.strValue;
    out->boolValue = p.boolValue;
    static const std::map<Pattern::Kind, ir::Pattern::Kind> kinds = {
        {Pattern::Wildcard, ir::Pattern::Wildcard}, {Pattern::Bind, ir::Pattern::Bind},
        {Pattern::Int, ir::Pattern::Int},           {Pattern::Float, ir::Pattern::Float},
        {Pattern::Str, ir::Pattern::Str},           {Pattern::Bool, ir::Pattern::Bool},
        {Pattern::Unit, ir::Pattern::Unit},         {Pattern::Tuple, ir::Pattern::Tuple},
        {Pattern::Some, ir::Pattern::Some},         {Pattern::None, ir::Pattern::None},
        {Pattern::Variant, ir::Pattern::Variant},   {Pattern::Struct, ir::Pattern::Struct}};
    out->kind = kinds.at(p.kind);
    if (p.kind == Pattern::Bind) {
      out->slot = next_++;
      out->name = p.name;
      scopes_.back()[p.name] = out->slot;
    }
    if (p.kind == Pattern::Variant) {
      out->index = variantOf(p.type, p.variant);
      out->name = p.variant;
    }
    if (p.kind == Pattern::Struct) out->fieldNames = p.fieldNames;
    for (size_t i = 0; i < p.elems.size(); ++i) {
      out->elems.push_back(pattern(*p.elems[i]));
      if (p.kind == Pattern::Struct) out->fields.push_back(fieldOf(p.type, p.fieldNames[i]));
    }
    return out;
  }

  int variantOf(const Type *t, const std::string &variant) const {
    int index = types_.enumInfo(t->id).variantIndex(variant);
    DFIR_CHECK(index >= 0, "an enum variant the checker resolved is missing");
    return index;
  }

  int fieldOf(const Type *t, const std::string &field) const {
    const auto &fields = types_.structInfo(t->id).fields;
    for (size_t i = 0; i < fields.size(); ++i)
      if (fields[i].first == field) return static_cast<int>(i);
    DFIR_CHECK(false, "a struct field the checker resolved is missing");
    return -1;
  }

  const ClosureNames &names_;
  const TypeContext &types_;
  std::vector<std::map<std::string, int>> scopes_;
  int next_ = 0;
};

} // namespace

ir::ExprPtr lowerClosure(const Expr &e, const ClosureNames &names, const TypeContext &types) {
  return ExprLowering(names, types).root(e);
}

ir::ExprPtr lowerChannelName(const Expr &e, const ClosureNames &names) {
  auto out = std::make_unique<ir::Expr>();
  out->kind = ir::Expr::Channel;
  out->range = e.range;
  out->name = e.name;
  auto c = names.channels.find(e.name);
  DFIR_CHECK(c != names.channels.end(), "a channel the checker resolved is missing");
  out->index = c->second;
  return out;
}

} // namespace dfir
