//===- Imports.cpp - `import "file.dfir";` ------------------------------===//

#include "frontend/Imports.h"

#include "frontend/Parser.h"

#include <climits>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>

namespace dfir {

namespace {

/// Appends every item of `from` to `to`, after `to`'s own.
template <typename T> void moveAll(std::vector<T> &to, std::vector<T> &from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  from.clear();
}

void merge(ast::Program &to, ast::Program &from) {
  // Loop blocks are numbered per program: `from`'s come after `to`'s.
  int offset = static_cast<int>(to.loops.size());
  auto shift = [&](int &loop) {
    if (loop >= 0) loop += offset;
  };
  for (auto &l : from.loops) shift(l.parent);
  for (auto &st : from.topStatements) shift(st.loop);
  for (auto &b : from.blocks)
    for (auto &st : b.statements) shift(st.loop);
  moveAll(to.loops, from.loops);
  moveAll(to.typeDefs, from.typeDefs);
  moveAll(to.structs, from.structs);
  moveAll(to.enums, from.enums);
  moveAll(to.externs, from.externs);
  moveAll(to.functions, from.functions);
  moveAll(to.subgraphs, from.subgraphs);
  moveAll(to.consts, from.consts);
  moveAll(to.locations, from.locations);
  moveAll(to.channels, from.channels);
  moveAll(to.topStatements, from.topStatements);
  moveAll(to.blocks, from.blocks);
}

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

class Importer {
public:
  Importer(ast::Program &root, SourceManager &sm, DiagnosticEngine &diags, std::vector<std::string> &files)
      : root_(root), sm_(sm), diags_(diags), files_(files) {}

  bool run() {
    std::string self = canonical(sm_.name(root_.file));
    if (!self.empty()) stack_.push_back({self, sm_.name(root_.file)});
    importAll(root_, sm_.name(root_.file));
    return ok_;
  }

private:
  struct Open {
    std::string canonical, shown;
  };

  static std::string canonical(const std::string &path) {
    char buf[PATH_MAX];
    return realpath(path.c_str(), buf) ? std::string(buf) : std::string();
  }

  /// Imports what `program` (read from `path`) imports, depth first; the
  /// items of each imported file go after those already in the program.
  void importAll(ast::Program &program, const std::string &path) {
    std::vector<ast::ImportDecl> imports = std::move(program.imports);
    for (const ast::ImportDecl &d : imports) {
      std::string target = !d.path.empty() && d.path[0] == '/' ? d.path : directoryOf(path) + d.path;
      std::string real = canonical(target);
      if (real.empty()) {
        diags_.report(DiagID::err_import_missing, d.pathRange) << d.path << target;
        ok_ = false;
        continue;
      }
      if (cycle(d, real)) continue;
      if (done_.count(real)) continue;
      std::string error;
      auto file = sm_.addFile(target, error);
      if (!file) {
        diags_.report(DiagID::err_import_unreadable, d.pathRange) << d.path << error;
        ok_ = false;
        continue;
      }
      done_[real] = true;
      files_.push_back(target);
      auto imported = parseProgram(sm_, *file, diags_);
      if (!imported) {
        ok_ = false;
        continue;
      }
      stack_.push_back({real, target});
      importAll(*imported, target);
      stack_.pop_back();
      merge(root_, *imported);
    }
  }

  /// A file that imports itself, directly or through others: one error at
  /// the import that closes the cycle, listing its files.
  bool cycle(const ast::ImportDecl &d, const std::string &real) {
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].canonical != real) continue;
      std::string files;
      for (size_t j = i; j < stack_.size(); ++j) files += "`" + stack_[j].shown + "` imports ";
      files += "`" + stack_[i].shown + "`";
      diags_.report(DiagID::err_import_cycle, d.range) << files;
      ok_ = false;
      return true;
    }
    return false;
  }

  ast::Program &root_;
  SourceManager &sm_;
  DiagnosticEngine &diags_;
  std::vector<std::string> &files_;
  std::vector<Open> stack_;
  std::map<std::string, bool> done_;
  bool ok_ = true;
};

} // namespace

bool resolveImports(ast::Program &program, SourceManager &sm, DiagnosticEngine &diags,
                    std::vector<std::string> &files) {
  return Importer(program, sm, diags, files).run();
}

} // namespace dfir
