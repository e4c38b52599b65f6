//===- HostHeader.cpp - The C header of one location, for its host --------===//

#include "backend-llvm/HostHeader.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

namespace dfir::backend {

using namespace ir;

namespace {

/// C and C++ keywords (and names the header itself uses) that a DFIR field,
/// variant or parameter may be called: they get a `_` after them.
const std::set<std::string> kReserved = {
    "auto", "bool", "break", "case", "char", "class", "const", "continue", "default", "delete", "do", "double",
    "else", "enum", "explicit", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
    "namespace", "new", "operator", "private", "protected", "public", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true", "try", "typedef",
    "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while", "out", "context", "instance"};

std::string cIdent(const std::string &name) { return kReserved.count(name) ? name + "_" : name; }

struct Layout {
  uint64_t size = 0, align = 1;
};

uint64_t roundUp(uint64_t n, uint64_t align) { return (n + align - 1) / align * align; }

class HeaderWriter {
public:
  explicit HeaderWriter(const HostHeaderInput &in) : in_(in), types_(*in.program.types) {}

  std::string run(std::optional<HostHeaderError> &error);

private:
  /// Size and alignment of a value of `t` in memory (as TypeLowering lays it out).
  Layout layout(const Type *t);
  Layout structLayout(const std::vector<const Type *> &fields);
  uint64_t enumWords(const Type *t);
  /// How a field or parameter of type `t` is spelled (not `()`).
  std::string spell(const Type *t);
  /// Defines `t` (and what it holds by value) before anything that uses it.
  void define(const Type *t);
  std::string fieldsOf(const std::vector<std::pair<std::string, const Type *>> &fields, const std::string &indent);
  bool composite(const Type *t) const {
    t = t->repr(); // a lattice: as its representation
    return t->kind == Type::Tuple || t->kind == Type::Struct || t->kind == Type::Enum ||
           t->kind == Type::Option || t->kind == Type::List || t->kind == Type::Map;
  }
  /// An error when a value of `t` would be an empty C struct (C has none).
  void checkNotEmpty(const Type *t, SourceRange at);
  void hostChannels(std::string &out);
  void externs(std::string &out);

  const HostHeaderInput &in_;
  const TypeContext &types_;
  std::map<std::string, std::string> names_; // typeToString -> C name
  std::set<std::string> defined_;
  std::vector<const Type *> later_; // list elements: defined after their list
  std::string forward_, defs_;
  unsigned tuples_ = 0, options_ = 0, lists_ = 0;
  std::optional<HostHeaderError> error_;
};

Layout HeaderWriter::structLayout(const std::vector<const Type *> &fields) {
  Layout l;
  for (const Type *f : fields) {
    Layout fl = layout(f);
    l.size = roundUp(l.size, fl.align) + fl.size;
    l.align = std::max(l.align, fl.align);
  }
  l.size = roundUp(l.size, l.align);
  return l;
}

uint64_t HeaderWriter::enumWords(const Type *t) {
  uint64_t words = 0;
  for (const VariantInfo &v : types_.enumInfo(t->id).variants)
    words = std::max(words, (structLayout(v.fields).size + 7) / 8);
  return words;
}

Layout HeaderWriter::layout(const Type *t) {
  switch (t->kind) {
  case Type::Lattice: return layout(t->repr());
  case Type::Bool: return {1, 1};
  case Type::Int: return {t->bits / 8u, t->bits / 8u};
  case Type::Float: return {t->bits / 8u, t->bits / 8u};
  case Type::Str:
  case Type::List:
  case Type::Map: return {16, 8};
  case Type::Unit: return {0, 1};
  case Type::Tuple: return structLayout(t->elems);
  case Type::Option: return structLayout({types_.boolType(), t->elems[0]});
  case Type::Struct: {
    std::vector<const Type *> fields;
    for (auto &[n, ft] : types_.structInfo(t->id).fields) fields.push_back(ft);
    return structLayout(fields);
  }
  case Type::Enum: return {8 + 8 * enumWords(t), 8};
  default: return {0, 1};
  }
}

std::string HeaderWriter::spell(const Type *t) {
  switch (t->kind) {
  case Type::Lattice: return spell(t->repr());
  case Type::Bool: return "bool";
  case Type::Int: return std::string(t->isSigned ? "int" : "uint") + std::to_string(t->bits) + "_t";
  case Type::Float: return t->bits == 32 ? "float" : "double";
  case Type::Str: return "dfir_str";
  case Type::Unit: return "void";
  case Type::Map: return spell(t->elems[2]); // its entries, sorted by key
  default: break;
  }
  std::string key = typeToString(t);
  auto it = names_.find(key);
  if (it != names_.end()) return it->second;
  std::string name = in_.prefix + "_";
  switch (t->kind) {
  case Type::Struct: name += types_.structInfo(t->id).name; break;
  case Type::Enum: name += types_.enumInfo(t->id).name; break;
  case Type::Tuple: name += "tuple" + std::to_string(tuples_++); break;
  case Type::Option: name += "option" + std::to_string(options_++); break;
  default: name += "list" + std::to_string(lists_++); break;
  }
  names_[key] = name;
  forward_ += "typedef struct " + name + " " + name + ";\n";
  return name;
}

std::string HeaderWriter::fieldsOf(const std::vector<std::pair<std::string, const Type *>> &fields,
                                   const std::string &indent) {
  std::string out;
  for (auto &[name, t] : fields) {
    if (t->kind == Type::Unit) {
      out += indent + "/* " + name + ": () takes no room */\n";
      continue;
    }
    define(t);
    out += indent + spell(t) + " " + cIdent(name) + ";\n";
  }
  return out;
}

void HeaderWriter::define(const Type *t) {
  if (!composite(t)) return;
  if (t->kind == Type::Map) return define(t->elems[2]);
  if (t->kind == Type::Lattice) return define(t->repr());
  std::string name = spell(t);
  if (!defined_.insert(name).second) return;
  std::string body;
  std::vector<std::pair<std::string, const Type *>> fields;
  switch (t->kind) {
  case Type::Tuple:
    for (size_t i = 0; i < t->elems.size(); ++i) fields.push_back({"_" + std::to_string(i), t->elems[i]});
    body = fieldsOf(fields, "  ");
    break;
  case Type::Struct:
    body = fieldsOf(types_.structInfo(t->id).fields, "  ");
    break;
  case Type::Option:
    body = "  bool has;\n" + fieldsOf({{"value", t->elems[0]}}, "  ");
    break;
  case Type::List: {
    const Type *elem = t->elems[0];
    body = "  const " + spell(elem) + " *data;\n  uint64_t len;\n";
    later_.push_back(elem);
    break;
  }
  case Type::Enum: {
    const EnumInfo &info = types_.enumInfo(t->id);
    std::string tags = "enum {";
    std::string variants;
    for (size_t v = 0; v < info.variants.size(); ++v) {
      tags += (v ? ", " : " ") + name + "_" + info.variants[v].name + " = " + std::to_string(v);
      std::vector<std::pair<std::string, const Type *>> vf;
      for (size_t i = 0; i < info.variants[v].fields.size(); ++i)
        vf.push_back({"_" + std::to_string(i), info.variants[v].fields[i]});
      if (structLayout(info.variants[v].fields).size == 0) continue;
      variants += "    struct {\n" + fieldsOf(vf, "      ") + "    } " + cIdent(info.variants[v].name) + ";\n";
    }
    defs_ += tags + " };\n";
    body = "  DFIR_ALIGN8 uint32_t tag; /* " + name + "_<variant> */\n";
    if (uint64_t words = enumWords(t))
      body += "  union {\n    uint64_t words[" + std::to_string(words) + "];\n" + variants + "  } as;\n";
    break;
  }
  default: break;
  }
  defs_ += "/* " + typeToString(t) + " */\nstruct " + name + " {\n" + body + "};\n";
}

void HeaderWriter::checkNotEmpty(const Type *t, SourceRange at) {
  if (error_) return;
  auto empty = [&](const Type *u) {
    return (u->kind == Type::Tuple || u->kind == Type::Struct) && layout(u).size == 0;
  };
  std::vector<const Type *> work{t};
  std::set<std::string> seen;
  while (!work.empty()) {
    const Type *u = work.back();
    work.pop_back();
    if (!seen.insert(typeToString(u)).second) continue;
    if (empty(u) && !(u == t && t->kind == Type::Unit)) {
      error_ = HostHeaderError{at, "a value of type `" + typeToString(u) +
                                       "` takes no room, and C has no empty struct: give it a field, or use `()`"};
      return;
    }
    for (const Type *e : u->elems) work.push_back(e);
    if (u->kind == Type::Struct)
      for (auto &[n, ft] : types_.structInfo(u->id).fields) work.push_back(ft);
    if (u->kind == Type::Enum)
      for (auto &v : types_.enumInfo(u->id).variants)
        for (const Type *ft : v.fields) work.push_back(ft);
  }
}

void HeaderWriter::hostChannels(std::string &out) {
  const Program &p = in_.program;
  const std::string &P = in_.prefix;
  for (OpId id : p.opsIn(LocId(in_.location))) {
    const Operator &op = p.ops[id];
    bool stream = op.kind == OpKind::SourceStream;
    if (!stream && op.kind != OpKind::DestSink) continue;
    const std::string &name = op.args[0]->strValue;
    const Type *t = stream ? op.outTypes[0] : op.inTypes[0];
    checkNotEmpty(t, op.range);
    define(t);
    std::string item = P + "_" + name + "_item";
    std::string where = "line " + std::to_string(in_.lineOf(op.range.begin));
    if (stream) {
      out += "\n/* source_stream::<" + typeToString(t) + ">(\"" + name + "\") at " + where +
             ": each push is a copy (strings and lists included) that the next tick emits. */\n";
      if (t->kind == Type::Unit) {
        out += "static inline int " + P + "_push_" + name + "(dfir_instance *instance) {\n  static const char unit = 0;\n" +
               "  return dfir_instance_push(instance, \"" + name + "\", &unit);\n}\n";
        continue;
      }
      out += "typedef " + spell(t) + " " + item + ";\n";
      out += "static inline int " + P + "_push_" + name + "(dfir_instance *instance, const " + item + " *item) {\n" +
             "  return dfir_instance_push(instance, \"" + name + "\", item);\n}\n";
    } else {
      out += "\n/* dest_sink(\"" + name + "\") at " + where + ", items of type `" + typeToString(t) +
             "`: the callback sees each during the tick (copy what it keeps). */\n";
      out += "typedef " + (t->kind == Type::Unit ? std::string("void") : spell(t)) + " " + item + ";\n";
      std::string fn = P + "_" + name + "_fn";
      out += "typedef void (*" + fn + ")(void *context, const " + item + " *item);\n";
      // The runtime stores the callback generically; this converts it back
      // to its own type for each call.
      out += "static inline void " + P + "_call_" + name + "(dfir_any_fn fn, void *context, const void *item) {\n" +
             "  ((" + fn + ")fn)(context, (const " + item + " *)item);\n}\n";
      out += "static inline int " + P + "_on_" + name + "(dfir_instance *instance, " + fn +
             " fn, void *context) {\n  return dfir_instance_on_call(instance, \"" + name + "\", " + P + "_call_" +
             name + ", (dfir_any_fn)fn, context);\n}\n";
    }
  }
}

void HeaderWriter::externs(std::string &out) {
  const Program &p = in_.program;
  if (p.externs.empty()) return;
  out += "\n/* ---- extern fns: the host (or a linked object) defines them ---- */\n";
  auto scalar = [](const Type *t) {
    return t->kind == Type::Int || t->kind == Type::Float || t->kind == Type::Bool;
  };
  for (const ExternDecl &x : p.externs) {
    std::vector<std::string> params;
    for (auto &[name, t] : x.params) {
      checkNotEmpty(t, x.range);
      std::string n = cIdent(name);
      if (t->kind == Type::Str) {
        params.push_back("const char *" + n + "_ptr");
        params.push_back("uint64_t " + n + "_len");
      } else if (scalar(t)) {
        params.push_back(spell(t) + " " + n);
      } else {
        define(t);
        params.push_back("const " + spell(t) + " *" + n);
      }
    }
    const Type *r = x.result;
    checkNotEmpty(r, x.range);
    std::string result = "void";
    if (r->kind == Type::Str) result = "dfir_str";
    else if (scalar(r)) result = spell(r);
    else if (r->kind != Type::Unit) {
      define(r);
      params.push_back(spell(r) + " *out");
    }
    std::string list;
    for (size_t i = 0; i < params.size(); ++i) list += (i ? ", " : "") + params[i];
    out += result + " " + x.name + "(" + (list.empty() ? "void" : list) + ");\n";
  }
}

std::string HeaderWriter::run(std::optional<HostHeaderError> &error) {
  const Program &p = in_.program;
  const std::string &P = in_.prefix;
  std::string guard;
  for (char c : P) guard += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  guard += "_H";
  std::string api, ext;
  hostChannels(api);
  externs(ext);
  while (!later_.empty()) {
    const Type *t = later_.back();
    later_.pop_back();
    define(t);
  }
  if ((error = error_)) return "";
  char print[32];
  std::snprintf(print, sizeof print, "0x%016llxull", static_cast<unsigned long long>(in_.fingerprint));
  const std::string &loc = p.locations[in_.location].name;
  std::string out;
  out += "/* " + P + ".h: location `" + loc + "` of " + in_.sourceName + ", for a C or C++ host.\n";
  out += " * Generated by `dfirc build --emit=header`: do not edit; regenerate it with the\n";
  out += " * object, from the same source and options (" + P + "_create checks that they match).\n";
  out += " *\n";
  out += " *   dfir_instance *i = " + P + "_create();   NULL: see dfir_last_error()\n";
  out += " *   " + P + "_push_<stream>(i, &item); " + P + "_on_<sink>(i, callback, context);\n";
  out += " *   dfir_instance_tick(i) / dfir_instance_run(i) / dfir_instance_join(i, deploy, id);\n";
  out += " *   dfir_instance_free(i);\n";
  out += " *\n";
  out += " * Threads: one thread at a time may call these and the runtime (its state is per\n";
  out += " * process); callbacks run on that thread, inside dfir_instance_tick/run/join. A\n";
  out += " * callback may push into any instance (for its next tick), but not tick, run, join\n";
  out += " * or free one. Pushes copy the item; a callback's item is valid during the call.\n";
  out += " * More in dfir_rt.h and docs/embedding.md. */\n";
  out += "#ifndef " + guard + "\n#define " + guard + "\n\n";
  out += "#include <dfir_rt.h>\n\n";
  out += "#ifndef __cplusplus\n#include <stdbool.h>\n#endif\n";
  out += "#ifndef DFIR_ALIGN8\n#ifdef __cplusplus\n#define DFIR_ALIGN8 alignas(8)\n#else\n"
         "#define DFIR_ALIGN8 _Alignas(8)\n#endif\n#endif\n\n";
  out += "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  out += "#define " + guard.substr(0, guard.size() - 2) + "_FINGERPRINT " + print + "\n";
  out += "extern const dfir_location " + P + "_location;\n";
  if (!forward_.empty()) out += "\n/* ---- the C types of the values below, as dfirc lays them out ---- */\n" + forward_;
  out += defs_;
  out += "\nstatic inline dfir_instance *" + P + "_create(void) {\n  return dfir_instance_new(&" + P + "_location, " +
         guard.substr(0, guard.size() - 2) + "_FINGERPRINT);\n}\n";
  out += api;
  out += ext;
  out += "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* " + guard + " */\n";
  return out;
}

} // namespace

std::string hostHeader(const HostHeaderInput &in, std::optional<HostHeaderError> &error) {
  return HeaderWriter(in).run(error);
}

} // namespace dfir::backend
