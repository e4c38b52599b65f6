//===- Instantiate.cpp - Subgraph instances -> plain statements -----------===//
//
// A `subgraph` is expanded where it is used, before the checks, into
// ordinary statements of the location that uses it:
//
//   - each instance gets a prefix: the statement's name for `q =
//     quorum(3);`, else `<subgraph>_<n>`;
//   - its body is parsed again (from the source, so diagnostics point into
//     the body), and every pipeline name the body defines or takes as an
//     input port is renamed `<prefix>__<name>`;
//   - each input port becomes `<prefix>__<port> = union();` (several edges
//     may feed it), each parameter a constant `<prefix>__<param>` holding the
//     instance's argument, and the body's closures refer to it;
//   - where the instance stands in a pipeline, the pipeline is cut in two:
//     what comes before it ends at the chosen input port, what comes after
//     starts at the chosen output; `[p]q` and `q[p]` name ports of a named
//     instance elsewhere, and a subgraph of one input or output needs no
//     port name.
//
//===----------------------------------------------------------------------===//

#include "frontend/Instantiate.h"

#include "frontend/Parser.h"
#include "ir/Operators.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace dfir {

using namespace ast;

namespace {

TypeExprPtr cloneType(const TypeExpr &t) {
  auto out = std::make_unique<TypeExpr>();
  out->kind = t.kind;
  out->range = t.range;
  out->name = t.name;
  for (auto &a : t.args) out->args.push_back(cloneType(*a));
  return out;
}

/// Renames free uses of the subgraph's parameters in a closure: a name
/// bound by a closure parameter, `let` or match arm shadows them.
class ParamRenamer {
public:
  explicit ParamRenamer(const std::map<std::string, std::string> &names) : names_(names) {}
  /// `#name` of one of `local` (the body's statements) gets `prefix`.
  void statements(const std::set<std::string> &local, const std::string &prefix) {
    local_ = &local;
    prefix_ = prefix;
  }

  void expr(Expr &e) {
    switch (e.kind) {
    case Expr::Name:
      if (auto it = names_.find(e.name); it != names_.end() && !bound(e.name)) e.name = it->second;
      return;
    case Expr::StateRef: // `#name` of a statement of the body
      if (local_ && local_->count(e.name)) e.name = prefix_ + "__" + e.name;
      return;
    case Expr::Lambda: {
      size_t depth = scopes_.size();
      scopes_.emplace_back();
      for (auto &p : e.params) bind(*p.pattern);
      for (auto &k : e.kids) expr(*k);
      scopes_.resize(depth);
      return;
    }
    case Expr::Block: {
      size_t depth = scopes_.size();
      for (auto &s : e.stmts) {
        expr(*s.expr);
        if (s.isLet && s.pattern) {
          scopes_.emplace_back();
          bind(*s.pattern);
        }
      }
      for (auto &k : e.kids) expr(*k);
      scopes_.resize(depth);
      return;
    }
    case Expr::Match: {
      for (auto &k : e.kids) expr(*k);
      for (auto &arm : e.arms) {
        scopes_.emplace_back();
        bind(*arm.pattern);
        expr(*arm.body);
        scopes_.pop_back();
      }
      return;
    }
    default:
      for (auto &k : e.kids) expr(*k);
    }
  }

private:
  void bind(const Pattern &p) {
    if (p.kind == Pattern::Bind) scopes_.back().insert(p.name);
    for (auto &sub : p.elems) bind(*sub);
  }
  bool bound(const std::string &name) const {
    for (auto &s : scopes_)
      if (s.count(name)) return true;
    return false;
  }
  const std::map<std::string, std::string> &names_;
  std::vector<std::set<std::string>> scopes_;
  const std::set<std::string> *local_ = nullptr;
  std::string prefix_;
};

struct Instance {
  const SubgraphDef *def;
  std::string prefix;
};

class Instantiator {
public:
  Instantiator(Program &p, SourceManager &sm, DiagnosticEngine &diags) : p_(p), sm_(sm), diags_(diags) {}

  bool run() {
    for (auto &d : p_.subgraphs) {
      if (lookupOperator(d.name)) {
        diags_.report(DiagID::err_subgraph_operator_name, d.nameRange) << d.name;
        continue;
      }
      auto [it, fresh] = defs_.emplace(d.name, &d);
      if (!fresh) {
        (diags_.report(DiagID::err_duplicate_name, d.nameRange) << d.name)
            .note(DiagID::note_previous_definition, it->second->nameRange);
        continue;
      }
      checkOutputs(d);
    }
    if (diags_.hasErrors()) return false;
    if (defs_.empty()) return true;
    p_.topStatements = expand(std::move(p_.topStatements));
    for (auto &b : p_.blocks) b.statements = expand(std::move(b.statements));
    singleInputPorts(p_.topStatements);
    for (auto &b : p_.blocks) singleInputPorts(b.statements);
    return !diags_.hasErrors();
  }

  /// An input port fed by one edge is an `identity()`, not a `union()` of
  /// one input (which would be warned about).
  void singleInputPorts(std::vector<Statement> &stmts) {
    std::map<std::string, unsigned> fed;
    std::function<void(const Pipeline &)> count = [&](const Pipeline &pl) {
      for (size_t i = 0; i < pl.elements.size(); ++i) {
        const Element &e = pl.elements[i];
        if (e.kind == Element::Name && i > 0 && ports_.count(e.name)) ++fed[e.name];
        if (e.kind == Element::Nested && e.nested) count(*e.nested);
      }
    };
    for (auto &s : stmts) count(s.pipeline);
    for (auto &s : stmts)
      if (s.named && ports_.count(s.name) && fed[s.name] <= 1) s.pipeline.elements[0].op.name = "identity";
  }

private:
  /// Every output port is the name of a statement of the body, and ports
  /// and parameters are distinct.
  void checkOutputs(const SubgraphDef &d) {
    std::set<std::string> named;
    for (auto &s : d.statements)
      if (s.named) named.insert(s.name);
    std::map<std::string, SourceRange> seen;
    auto unique = [&](const std::string &name, SourceRange r) {
      auto [it, fresh] = seen.emplace(name, r);
      if (!fresh)
        (diags_.report(DiagID::err_subgraph_duplicate, r) << name << d.name)
            .note(DiagID::note_previous_definition, it->second);
    };
    for (auto &prm : d.params) unique(prm.name, prm.range);
    for (auto &[name, r] : d.inputs) {
      unique(name, r);
      if (named.count(name)) diags_.report(DiagID::err_subgraph_input_defined, r) << name << d.name;
    }
    for (auto &[name, r] : d.outputs) {
      unique(name, r);
      if (!named.count(name)) diags_.report(DiagID::err_subgraph_output_undefined, r) << name << d.name;
    }
  }

  /// The statements, with every instance expanded (instances inside the
  /// expansion too).
  std::vector<Statement> expand(std::vector<Statement> in) {
    std::vector<Statement> out;
    // Named instances first, so that other statements may refer to them
    // wherever they are.
    // What a statement becomes stays in its loop block.
    auto inLoop = [&](size_t from, int loop) {
      for (size_t i = from; i < out.size(); ++i)
        if (out[i].loop < 0) out[i].loop = loop;
    };
    for (auto &s : in) {
      if (!s.named || s.pipeline.elements.size() != 1) continue;
      Element &e = s.pipeline.elements[0];
      if (e.kind != Element::Operator || !defs_.count(e.op.name) || e.inPort.present || e.outPort.present) continue;
      size_t from = out.size();
      named_[s.name] = instantiate(e, s.name, out);
      inLoop(from, s.loop);
      s.pipeline.elements.clear();
    }
    for (auto &s : in) {
      if (s.pipeline.elements.empty()) continue;
      size_t from = out.size();
      int loop = s.loop;
      pipeline(std::move(s), out);
      inLoop(from, loop);
    }
    return out;
  }

  /// Cuts a pipeline at each instance (or named instance) it passes through.
  void pipeline(Statement s, std::vector<Statement> &out) {
    std::vector<Element> &els = s.pipeline.elements;
    for (size_t i = 0; i < els.size(); ++i) {
      Element &e = els[i];
      const Instance *inst = nullptr;
      Instance fresh;
      if (e.kind == Element::Operator && defs_.count(e.op.name)) {
        fresh = instantiate(e, "", out);
        inst = &fresh;
      } else if (e.kind == Element::Name && named_.count(e.name)) {
        inst = &named_[e.name];
      }
      if (!inst || !inst->def) continue;
      bool fed = i > 0, feeds = i + 1 < els.size();
      std::string in = fed ? port(*inst, e.inPort, e, true) : "";
      std::string outName = feeds || s.named ? port(*inst, e.outPort, e, false) : "";
      if (fed && in.empty()) return;
      if ((feeds || s.named) && outName.empty()) return;
      // Before: ... -> <prefix>__<in>.
      if (fed) {
        Statement before;
        before.range = s.range;
        before.pipeline.range = s.pipeline.range;
        for (size_t j = 0; j < i; ++j) before.pipeline.elements.push_back(std::move(els[j]));
        for (size_t j = 0; j + 1 < i + 1 && j < s.pipeline.arrows.size(); ++j)
          before.pipeline.arrows.push_back(s.pipeline.arrows[j]);
        before.pipeline.elements.push_back(nameElement(in, e));
        out.push_back(std::move(before));
      }
      if (!feeds && !s.named) return;
      // After: <prefix>__<out> -> ..., named as the statement was.
      Statement after;
      after.named = s.named;
      after.name = s.name;
      after.nameRange = s.nameRange;
      after.range = s.range;
      after.pipeline.range = s.pipeline.range;
      after.pipeline.elements.push_back(nameElement(outName, e));
      for (size_t j = i + 1; j < els.size(); ++j) after.pipeline.elements.push_back(std::move(els[j]));
      for (size_t j = i; j < s.pipeline.arrows.size(); ++j) after.pipeline.arrows.push_back(s.pipeline.arrows[j]);
      pipeline(std::move(after), out); // `x = a -> quorum(3);`: `x` names the output
      return;
    }
    out.push_back(std::move(s));
  }

  static Element nameElement(const std::string &name, const Element &at) {
    Element e;
    e.kind = Element::Name;
    e.name = name;
    e.nameRange = at.op.nameRange.valid() ? at.op.nameRange : at.nameRange;
    e.range = at.range;
    return e;
  }

  /// The node of port `p` of an instance (input or output), or "" after an
  /// error.
  std::string port(const Instance &inst, const Port &p, const Element &at, bool input) {
    const auto &ports = input ? inst.def->inputs : inst.def->outputs;
    const char *side = input ? "input" : "output";
    if (!p.present) {
      if (ports.size() == 1) return inst.prefix + "__" + ports[0].first;
      std::string names;
      for (auto &[n, r] : ports) names += (names.empty() ? "`" : ", `") + n + "`";
      diags_.report(DiagID::err_subgraph_port_needed, at.range)
          << inst.def->name << side << ports.size() << (names.empty() ? "none" : names);
      return "";
    }
    for (auto &[n, r] : ports)
      if (p.isName && p.name == n) return inst.prefix + "__" + n;
    std::string names;
    for (auto &[n, r] : ports) names += (names.empty() ? "`" : ", `") + n + "`";
    diags_.report(DiagID::err_subgraph_unknown_port, p.range)
        << p.text() << inst.def->name << side << (names.empty() ? "none" : names);
    return "";
  }

  /// Adds the statements of a new instance to `out`.
  Instance instantiate(Element &e, const std::string &name, std::vector<Statement> &out) {
    const SubgraphDef &d = *defs_.at(e.op.name);
    Instance inst{&d, name.empty() ? d.name + "_" + std::to_string(counter_[d.name]++) : name};
    if (e.op.args.size() != d.params.size()) {
      diags_.report(DiagID::err_arg_count, e.op.argsRange.valid() ? e.op.argsRange : e.range)
          << d.name << d.params.size() << (d.params.size() == 1 ? "" : "s") << e.op.args.size();
      return {nullptr, ""};
    }
    if (!e.op.generics.empty()) diags_.report(DiagID::err_subgraph_generics, e.op.genericsRange) << d.name;
    if (std::find(stack_.begin(), stack_.end(), d.name) != stack_.end()) {
      diags_.report(DiagID::err_subgraph_recursive, e.op.nameRange) << d.name;
      return {nullptr, ""};
    }
    // Parameters: constants of this instance.
    std::map<std::string, std::string> params;
    for (size_t i = 0; i < d.params.size(); ++i) {
      ConstDef c;
      c.name = inst.prefix + "__" + d.params[i].name;
      c.nameRange = d.params[i].range;
      c.range = e.op.args[i]->range;
      c.type = cloneType(*d.params[i].type);
      c.value = std::move(e.op.args[i]);
      params[d.params[i].name] = c.name;
      p_.consts.push_back(std::move(c));
    }
    auto body = parseBody(d);
    if (!body) return {nullptr, ""};
    // Pipeline names of the body, and its input ports, get the prefix.
    std::set<std::string> local;
    for (auto &s : body->topStatements)
      if (s.named) local.insert(s.name);
    for (auto &[n, r] : d.inputs) local.insert(n);
    ParamRenamer renamer(params);
    renamer.statements(local, inst.prefix);
    std::vector<Statement> stmts;
    for (auto &[n, r] : d.inputs) {
      Statement s;
      s.named = true;
      s.name = inst.prefix + "__" + n;
      ports_.insert(s.name);
      s.nameRange = s.range = r;
      Element u;
      u.kind = Element::Operator;
      u.op.name = "union";
      u.op.nameRange = u.op.range = u.range = r;
      s.pipeline.elements.push_back(std::move(u));
      s.pipeline.range = r;
      stmts.push_back(std::move(s));
    }
    for (auto &s : body->topStatements) {
      if (s.named) s.name = inst.prefix + "__" + s.name;
      renameIn(s.pipeline, local, inst.prefix, renamer);
      stmts.push_back(std::move(s));
    }
    stack_.push_back(d.name);
    std::vector<Statement> expanded = expand(std::move(stmts));
    stack_.pop_back();
    for (auto &s : expanded) out.push_back(std::move(s));
    return inst;
  }

  void renameIn(Pipeline &pl, const std::set<std::string> &local, const std::string &prefix, ParamRenamer &renamer) {
    for (auto &el : pl.elements) {
      if (el.kind == Element::Name && local.count(el.name)) el.name = prefix + "__" + el.name;
      if (el.kind == Element::Nested && el.nested) renameIn(*el.nested, local, prefix, renamer);
      if (el.kind == Element::Operator)
        for (auto &a : el.op.args) renamer.expr(*a);
    }
  }

  /// The statements of a subgraph's body, parsed again from its source
  /// (the text before `{` and after `}` blanked, so lines and columns stay).
  std::unique_ptr<Program> parseBody(const SubgraphDef &d) {
    uint32_t file = d.open.begin.file;
    std::string_view text = sm_.text(file);
    uint32_t from = d.open.begin.offset + 1, to = d.close.begin.offset;
    uint32_t lineStart = from;
    while (lineStart > 0 && text[lineStart - 1] != '\n') --lineStart;
    std::string body(text.substr(lineStart, to - lineStart));
    for (uint32_t i = 0; i < from - lineStart; ++i)
      if (body[i] != '\t') body[i] = ' ';
    unsigned line = sm_.lineCol(SourceLoc{file, from}).line;
    uint32_t buffer = sm_.addBuffer(sm_.name(file), body, line);
    return parseProgram(sm_, buffer, diags_);
  }

  Program &p_;
  SourceManager &sm_;
  DiagnosticEngine &diags_;
  std::map<std::string, const SubgraphDef *> defs_;
  std::map<std::string, Instance> named_;
  std::map<std::string, unsigned> counter_;
  std::set<std::string> ports_; // the statements made for input ports
  std::vector<std::string> stack_;
};

} // namespace

bool instantiateSubgraphs(Program &program, SourceManager &sm, DiagnosticEngine &diags) {
  return Instantiator(program, sm, diags).run();
}

} // namespace dfir
