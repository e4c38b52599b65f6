#include "tools/dfirc/Driver.h"

#include "support/Json.h"

#include "frontend/Imports.h"
#include "frontend/Instantiate.h"
#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "support/VerifyDiagnostics.h"
#include "ir/GraphWriter.h"
#include "ir/Printer.h"
#include "passes/PassManager.h"
#include "passes/Profile.h"
#include "tools/dfirc/AutoRewrite.h"
#include "tools/dfirc/Sim.h"
#include "backend-llvm/Codegen.h"
#include "backend-llvm/HostHeader.h"
#include "backend-llvm/Jit.h"
#include "backend-llvm/ObjectEmitter.h"
#include "dfir_rt.h"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <openssl/rand.h>
#include <set>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace dfir::driver {

namespace {

struct Chunk {
  uint32_t file;
};

/// Splits a file at lines `// -----` (for `--split-input-file`); each chunk
/// keeps the line numbers of the original file.
std::vector<uint32_t> loadInput(SourceManager &sm, const std::string &path, bool split,
                                std::string &error) {
  auto whole = sm.addFile(path, error);
  if (!whole) return {};
  if (!split) return {*whole};
  std::string_view text = sm.text(*whole);
  std::vector<uint32_t> out;
  size_t start = 0, pos = 0;
  unsigned line = 1, startLine = 1;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
    if (l == "// -----") {
      out.push_back(sm.addBuffer(path, std::string(text.substr(start, pos - start)), startLine));
      start = nl + 1;
      startLine = line + 1;
    }
    pos = nl + 1;
    ++line;
  }
  if (start <= text.size())
    out.push_back(sm.addBuffer(path, std::string(text.substr(start)), startLine));
  return out;
}

/// For the test suite's coverage check of DiagnosticKinds.def: when
/// DFIRC_DIAG_LOG names a directory, every kind reported is recorded there.
void logEmittedKinds(const DiagnosticEngine &diags) {
  const char *dir = std::getenv("DFIRC_DIAG_LOG");
  if (!dir || diags.emittedKinds().empty()) return;
  std::string path = std::string(dir) + "/" + std::to_string(getpid()) + ".log";
  if (std::FILE *f = std::fopen(path.c_str(), "a")) {
    for (DiagID id : diags.emittedKinds()) std::fprintf(f, "%s\n", diagKindInfo(id).name);
    std::fclose(f);
  }
}

bool useColor(const DiagOptions &o) {
  const char *noColor = std::getenv("NO_COLOR");
  if (o.noColor || (noColor && *noColor)) return false;
  return isatty(fileno(stderr));
}

/// Runs the requested stages on one buffer; returns false on user errors.
bool processBuffer(const CheckOptions &opts, SourceManager &sm, uint32_t file, DiagnosticEngine &diags) {
  if (opts.emit == "tokens") {
    std::string out;
    bool ok = dumpTokens(sm, file, diags, out);
    std::fputs(out.c_str(), stdout);
    return ok;
  }
  auto program = parseProgram(sm, file, diags);
  if (!program) return false;
  std::vector<std::string> imported;
  if (!resolveImports(*program, sm, diags, imported)) return false;
  if (opts.emit != "ast" && !instantiateSubgraphs(*program, sm, diags)) return false;
  if (opts.emit == "ast") {
    std::string dump = ast::dumpAST(*program, sm);
    std::fwrite(dump.data(), 1, dump.size(), stdout);
    return true;
  }
  return checkProgram(*program, sm, diags) && !diags.hasErrors();
}

} // namespace

int runCheck(const CheckOptions &opts) {
  SourceManager sm;
  std::string error;
  std::vector<uint32_t> files = loadInput(sm, opts.input, opts.diag.splitInputFile, error);
  if (files.empty()) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    return kExitUserError;
  }
  bool ok = true;
  for (uint32_t file : files) {
    DiagnosticEngine diags(sm);
    diags.setWarningsAsErrors(opts.diag.warningsAsErrors);
    CollectingConsumer collected;
    TextDiagnosticPrinter text(sm, stderr, useColor(opts.diag));
    JsonDiagnosticPrinter json(sm, stderr);
    if (opts.diag.verify) diags.addConsumer(&collected);
    else if (opts.diag.format == "json") diags.addConsumer(&json);
    else diags.addConsumer(&text);
    bool clean = processBuffer(opts, sm, file, diags);
    diags.finish();
    logEmittedKinds(diags);
    if (opts.diag.verify) {
      if (!verifyDiagnostics(sm, file, collected.diags, stderr)) ok = false;
    } else if (!clean || diags.hasErrors()) {
      ok = false;
    }
  }
  return ok ? kExitOk : kExitUserError;
}

namespace {

/// One file taken through the frontend and the pass pipeline; owns what
/// later stages need to report diagnostics at the user's text.
struct Session {
  std::string input; // the source file, as named on the command line
  SourceManager sm;
  std::unique_ptr<DiagnosticEngine> diags;
  std::unique_ptr<DiagnosticConsumer> printer;
  std::unique_ptr<ir::Program> program;
  std::unique_ptr<passes::AnalysisManager> analyses;
  std::string printed;  // requested analysis and IR printouts
  std::string compiled; // the IR as compiled (after the passes), as text: the build's fingerprint
  std::vector<std::string> imported; // files read for `import`s
  bool profile = false;              // generate code that counts and says what runs (profiles)
};

/// The transforms the command line asks for, in order (PipelineOptions).
/// Each flag is added to the source manager as a `<command line>` buffer,
/// so that a refusal can point at it. False (with `error`) for a flag that
/// does not parse.
bool buildPipeline(Session &s, const PipelineOptions &popts, std::vector<passes::PassInvocation> &out,
                   std::string &error) {
  auto buffer = [&](const std::string &text) {
    return SourceLoc{s.sm.addBuffer("<command line>", text), 0};
  };
  auto range = [](SourceLoc base, size_t from, size_t to) {
    return SourceRange(SourceLoc{base.file, static_cast<uint32_t>(from)}, static_cast<uint32_t>(to));
  };
  for (auto &text : popts.passes) {
    std::string flag = "--passes=" + text;
    SourceLoc base = buffer(flag);
    base.offset = 9;
    if (!passes::parsePipeline(text, base, out, error)) {
      error = "--passes: " + error;
      return false;
    }
  }
  for (auto &value : popts.decouple) {
    // LOC:SEL[,SEL...]=NEW
    std::string flag = "--decouple " + value;
    SourceLoc base = buffer(flag);
    size_t off = 11, colon = value.find(':'), eq = value.rfind('=');
    if (colon == std::string::npos || eq == std::string::npos || eq < colon || colon == 0 || eq == colon + 1 ||
        eq + 1 == value.size()) {
      error = "--decouple: expected LOCATION:SELECTION[,SELECTION...]=NEW, found `" + value + "`";
      return false;
    }
    passes::PassInvocation inv;
    inv.name = "decouple";
    inv.range = range(base, 0, flag.size());
    inv.options.push_back({"location", value.substr(0, colon), range(base, off, off + colon)});
    inv.options.push_back({"select", value.substr(colon + 1, eq - colon - 1), range(base, off + colon + 1, off + eq)});
    inv.options.push_back({"new", value.substr(eq + 1), range(base, off + eq + 1, off + value.size())});
    out.push_back(std::move(inv));
  }
  if (!popts.replicate.empty() && popts.partition.size() != 1) {
    error = popts.partition.empty()
                ? "--replicate needs --partition: it names a channel whose items every instance of a partitioned "
                  "location receives"
                : "--replicate with several --partition flags: say which location each channel is replicated to "
                  "with --passes='partition{location=LOC count=K replicate=CHAN}'";
    return false;
  }
  for (auto &value : popts.partition) {
    // LOC=K
    std::string flag = "--partition " + value;
    SourceLoc base = buffer(flag);
    size_t off = 12, eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
      error = "--partition: expected LOCATION=COUNT, found `" + value + "`";
      return false;
    }
    passes::PassInvocation inv;
    inv.name = "partition";
    inv.range = range(base, 0, flag.size());
    inv.options.push_back({"location", value.substr(0, eq), range(base, off, off + eq)});
    inv.options.push_back({"count", value.substr(eq + 1), range(base, off + eq + 1, off + value.size())});
    if (!popts.replicate.empty()) {
      // Each channel as typed, in a buffer of its own flag.
      std::string names;
      for (auto &r : popts.replicate) names += (names.empty() ? "" : ",") + r;
      SourceLoc rb = buffer("--replicate " + names);
      inv.options.push_back({"replicate", names, range(rb, 12, 12 + names.size())});
    }
    out.push_back(std::move(inv));
  }
  for (auto &value : popts.batch) {
    // CHAN=N[/MICROS]
    std::string flag = "--batch " + value;
    SourceLoc base = buffer(flag);
    size_t off = 8, eq = value.find('='), slash = value.find('/', eq == std::string::npos ? 0 : eq);
    if (eq == std::string::npos || eq == 0 || eq + 1 >= value.size() || slash == eq + 1 ||
        (slash != std::string::npos && slash + 1 == value.size())) {
      error = "--batch: expected CHANNEL=COUNT or CHANNEL=COUNT/MICROSECONDS, found `" + value + "`";
      return false;
    }
    size_t countEnd = slash == std::string::npos ? value.size() : slash;
    passes::PassInvocation inv;
    inv.name = "batch";
    inv.range = range(base, 0, flag.size());
    inv.options.push_back({"channel", value.substr(0, eq), range(base, off, off + eq)});
    inv.options.push_back({"count", value.substr(eq + 1, countEnd - eq - 1), range(base, off + eq + 1, off + countEnd)});
    if (slash != std::string::npos)
      inv.options.push_back({"micros", value.substr(slash + 1), range(base, off + slash + 1, off + value.size())});
    out.push_back(std::move(inv));
  }
  return true;
}

/// Parses, checks and lowers one file, then runs the pass pipeline. On user
/// errors (reported) returns null and sets `exitCode`; compiler bugs do
/// not return.
std::unique_ptr<Session> compile(const std::string &input, const DiagOptions &dopts, const PipelineOptions &popts,
                                 int &exitCode, std::string *quiet = nullptr);
bool chooseAutoRewrites(const std::string &input, const DiagOptions &dopts, const PipelineOptions &popts,
                        PipelineOptions &chosen, int &exitCode);

/// `quiet` (the trials of --auto-rewrite): nothing is printed; on failure
/// it holds why (the first error and its first note).
std::unique_ptr<Session> compile(const std::string &input, const DiagOptions &dopts, const PipelineOptions &popts,
                                 int &exitCode, std::string *quiet) {
  if (popts.autoRewrite) {
    PipelineOptions chosen;
    if (!chooseAutoRewrites(input, dopts, popts, chosen, exitCode)) return nullptr;
    return compile(input, dopts, chosen, exitCode);
  }
  auto s = std::make_unique<Session>();
  s->input = input;
  std::string error;
  auto file = s->sm.addFile(input, error);
  if (!file) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    exitCode = kExitUserError;
    return nullptr;
  }
  s->diags = std::make_unique<DiagnosticEngine>(s->sm);
  s->diags->setWarningsAsErrors(dopts.warningsAsErrors);
  if (dopts.verify || quiet) s->printer = std::make_unique<CollectingConsumer>();
  else if (dopts.format == "json") s->printer = std::make_unique<JsonDiagnosticPrinter>(s->sm, stderr);
  else s->printer = std::make_unique<TextDiagnosticPrinter>(s->sm, stderr, useColor(dopts));
  s->diags->addConsumer(s->printer.get());
  // `--verify-diagnostics` (dfirc opt): what was reported, compared with the
  // input's expectations, decides the exit code; nothing is compiled after.
  auto verified = [&]() -> std::unique_ptr<Session> {
    auto &seen = static_cast<CollectingConsumer &>(*s->printer).diags;
    exitCode = verifyDiagnostics(s->sm, *file, seen, stderr) ? kExitOk : kExitUserError;
    return nullptr;
  };
  passes::PassOptions opts;
  if (!buildPipeline(*s, popts, opts.pipeline, error)) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    exitCode = kExitUsage;
    return nullptr;
  }
  if (auto ast = parseProgram(s->sm, *file, *s->diags))
    if (resolveImports(*ast, s->sm, *s->diags, s->imported) && instantiateSubgraphs(*ast, s->sm, *s->diags))
      s->program = lowerProgram(*ast, s->sm, *s->diags);
  if (!s->program || s->diags->hasErrors()) {
    s->diags->finish();
    logEmittedKinds(*s->diags);
    if (dopts.verify) return verified();
    exitCode = kExitUserError;
    return nullptr;
  }
  opts.verifyEach = popts.verifyEach;
  opts.printAnalysis.insert(popts.printAnalysis.begin(), popts.printAnalysis.end());
  opts.disabled.insert(popts.disablePass.begin(), popts.disablePass.end());
  opts.printIrBefore.insert(popts.printIrBefore.begin(), popts.printIrBefore.end());
  opts.printIrAfter.insert(popts.printIrAfter.begin(), popts.printIrAfter.end());
  opts.printIrAfterAll = popts.printIrAfterAll;
  s->analyses = std::make_unique<passes::AnalysisManager>(*s->program);
  passes::PassStatus status = passes::runPasses(*s->program, opts, *s->analyses, *s->diags, s->printed, error);
  s->diags->finish();
  logEmittedKinds(*s->diags);
  if (quiet && status != passes::PassStatus::Ok) {
    *quiet = error;
    for (auto &d : static_cast<CollectingConsumer &>(*s->printer).diags)
      if (d.severity == Severity::Error) {
        *quiet = d.message + (d.notes.empty() ? "" : " (" + d.notes[0].message + ")");
        break;
      }
    exitCode = kExitUserError;
    return nullptr;
  }
  if (dopts.verify && status != passes::PassStatus::InternalError && status != passes::PassStatus::UsageError)
    return verified();
  switch (status) {
  case passes::PassStatus::Ok: break;
  case passes::PassStatus::InternalError: internalError(error);
  case passes::PassStatus::UsageError:
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    exitCode = kExitUsage;
    return nullptr;
  case passes::PassStatus::Refused:
    exitCode = kExitUserError;
    return nullptr;
  }
  if (s->diags->hasErrors()) { // -Werror and a pass's warning
    exitCode = kExitUserError;
    return nullptr;
  }
  s->compiled = ir::printProgram(*s->program);
  exitCode = kExitOk;
  return s;
}

bool writeOutput(const std::string &path, const std::string &text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "dfirc: error: cannot write `%s`: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  int writeErrno = ok ? 0 : errno;
  if (std::fclose(f) != 0 && ok) {
    ok = false;
    writeErrno = errno;
  }
  if (!ok) std::fprintf(stderr, "dfirc: error: cannot write `%s`: %s\n", path.c_str(), std::strerror(writeErrno));
  return ok;
}

} // namespace

namespace {
/// Generates the LLVM module of location 0 in `jit`'s context; reports what
/// the code generator cannot compile. Null after errors.
uint64_t fnv1a(const std::string &text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

/// A type spelled out to its leaves (struct and enum names with their
/// fields), so that two builds agree on it only if they encode it alike.
void spellType(const Type *t, const TypeContext &types, std::vector<const Type *> &seen, std::string &out) {
  if (t->kind == Type::Struct || t->kind == Type::Enum) {
    bool again = std::find(seen.begin(), seen.end(), t) != seen.end();
    out += typeToString(t);
    if (again) return;
    seen.push_back(t);
    out += "{";
    if (t->kind == Type::Struct)
      for (auto &[name, ft] : types.structInfo(t->id).fields) {
        out += name + ":";
        spellType(ft, types, seen, out);
        out += ",";
      }
    else
      for (auto &v : types.enumInfo(t->id).variants) {
        out += v.name + "(";
        for (const Type *ft : v.fields) {
          spellType(ft, types, seen, out);
          out += ",";
        }
        out += ")";
      }
    out += "}";
    seen.pop_back();
    return;
  }
  out += typeToString(t);
  out += "<";
  for (const Type *e : t->elems) {
    spellType(e, types, seen, out);
    out += ",";
  }
  out += ">";
}

std::unique_ptr<llvm::Module> generate(Session &s, llvm::LLVMContext &ctx, const llvm::DataLayout &layout,
                                       bool withMain = false, int location = 0, const std::string &symbol = "",
                                       bool debugInfo = false) {
  const ir::Program &program = *s.program;
  backend::CodegenInput in{program, s.analyses->strata(), s.analyses->subgraphs(),
                           [&](SourceLoc l) { return s.sm.lineCol(l).line; }, withMain};
  in.descriptorSymbol = symbol;
  in.debugInfo = debugInfo;
  in.sourcePath = s.input;
  in.fingerprint = fnv1a(s.compiled);
  in.profile = s.profile;
  for (auto &c : program.channels) {
    std::vector<const Type *> seen;
    std::string spelled;
    spellType(c.elem, *program.types, seen, spelled);
    in.channelFingerprints.push_back(fnv1a(spelled));
  }
  std::vector<backend::Unsupported> unsupported;
  auto module = backend::generateLocation(in, location, ctx, layout, unsupported);
  // The code generator compiles every checked program; what it could not
  // would be a bug of dfirc, reported as such with the place in the program.
  if (!module) {
    std::string what;
    for (auto &u : unsupported) {
      LineCol lc = s.sm.lineCol(u.range.begin);
      what += "\n  " + u.what + " at line " + std::to_string(lc.line) + ", column " + std::to_string(lc.column);
    }
    internalError("the code generator cannot compile:" + what);
  }
  return module;
}

/// The locations `--emit=KIND` writes: the one `--location` names, the
/// program's only one, or (for objects only) every one. Empty after an
/// error.
std::vector<int> emittedLocations(const ir::Program &program, const BuildOptions &opts) {
  std::vector<int> all;
  std::string names;
  for (size_t l = 0; l < program.locations.size(); ++l) {
    if (opts.location.empty() || program.locations[l].name == opts.location) all.push_back(static_cast<int>(l));
    names += (l ? ", " : "") + program.locations[l].name;
  }
  if (all.empty()) {
    std::fprintf(stderr, "dfirc: error: `--location %s`: the program has no such location; its locations are %s\n",
                 opts.location.c_str(), names.c_str());
  } else if (all.size() > 1 && opts.emit != "obj") {
    std::fprintf(stderr,
                 "dfirc: error: `build --emit=%s` writes the code of one location, and this program has %zu (%s); "
                 "name one with `--location`\n",
                 opts.emit.c_str(), all.size(), names.c_str());
    all.clear();
  }
  return all;
}

/// An identifier from any text: other characters become `_`.
std::string identifier(const std::string &text) {
  std::string id;
  for (char c : text) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0]))) id = "_" + id;
  return id;
}

/// The file name of `path` without its directory and `.dfir`.
std::string stemOf(const std::string &path) {
  std::string stem = path.substr(path.find_last_of('/') + 1);
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".dfir") == 0) stem.resize(stem.size() - 5);
  return stem;
}

/// The names of a location's object and header start with this:
/// `--prefix`, by default the file's name and the location's.
std::string prefixOf(const BuildOptions &opts, const std::string &location, bool several) {
  if (opts.prefix.empty()) return identifier(stemOf(opts.input) + "_" + location);
  return several ? opts.prefix + "_" + identifier(location) : opts.prefix;
}

/// Writes a make-style depfile (`-MD`, `-MF`): `target` depends on the
/// program's source and the files it imports.
bool writeDepfile(const BuildOptions &opts, const std::string &target, const std::vector<std::string> &imported) {
  if (!opts.depfile && opts.depfileName.empty()) return true;
  auto escape = [](const std::string &path) {
    std::string out;
    for (char c : path) {
      if (c == ' ' || c == '#') out += '\\';
      if (c == '$') out += '$';
      out += c;
    }
    return out;
  };
  std::string name = opts.depfileName.empty() ? target + ".d" : opts.depfileName;
  std::string deps = escape(opts.input);
  for (auto &f : imported) deps += " " + escape(f);
  return writeOutput(name, escape(target) + ": " + deps + "\n");
}
std::unique_ptr<backend::JitSession> startJit(unsigned optLevel) {
  auto jit = backend::JitSession::create(optLevel);
  if (!jit) internalError("cannot start the JIT: " + llvm::toString(jit.takeError()));
  return std::move(*jit);
}
} // namespace

namespace {

/// The directory of this dfirc.
std::string selfDir() {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
  return dir.substr(0, dir.rfind('/'));
}

#ifndef DFIRC_INSTALL_LIBDIR
#define DFIRC_INSTALL_LIBDIR "lib"
#endif

/// The runtime archive: in `--runtime-dir`, in `$DFIR_RUNTIME_DIR`, or
/// next to this dfirc: `bin/../lib` as built, `bin/../<libdir>` as
/// installed. Empty (with `searched` listing the places) if none has it.
std::string runtimeArchive(const std::string &given, std::string &searched) {
  std::vector<std::string> dirs;
  if (!given.empty()) {
    dirs = {given};
  } else if (const char *env = std::getenv("DFIR_RUNTIME_DIR"); env && *env) {
    dirs = {env};
  } else {
    std::string self = selfDir();
    dirs = {self + "/../" DFIRC_INSTALL_LIBDIR, self + "/../lib"};
  }
  for (auto &dir : dirs) {
    std::string path = dir + "/libdfir_rt.a";
    if (access(path.c_str(), R_OK) == 0) return path;
    if (searched.find(path) == std::string::npos) searched += (searched.empty() ? "`" : ", `") + path + "`";
  }
  return "";
}

#ifndef DFIRC_LINKER
#define DFIRC_LINKER "cc"
#define DFIRC_LINK_FLAGS ""
#endif
/// What links executables: `--linker`, `$CC`, or `cc` (in a sanitizer
/// build of dfirc, the compiler its instrumented runtime archive was built
/// with), and in a sanitizer build (unless `linkFlags` is false) the flags
/// that archive needs.
std::vector<std::string> linkerCommand(const std::string &given, bool linkFlags = true) {
  std::string command = given;
  if (command.empty())
    if (const char *cc = std::getenv("CC"); cc && *cc) command = cc;
  if (command.empty()) command = DFIRC_LINKER;
  // `CC` may carry flags (`ccache gcc`, `gcc -m64`): words split on spaces.
  std::vector<std::string> words;
  std::string word;
  for (char c : command + " " + (linkFlags ? DFIRC_LINK_FLAGS : "") + " ") {
    if (c != ' ') {
      word += c;
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  return words;
}

/// Creates `dir` and its parents, like `mkdir -p`.
bool makeDirectory(const std::string &dir) {
  for (size_t slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
    mkdir(dir.substr(0, slash).c_str(), 0777);
  if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "dfirc: error: cannot create directory `%s`: %s\n", dir.c_str(), std::strerror(errno));
    return false;
  }
  return true;
}

/// Whether `program` can be run: a path to an executable, or a name found
/// on $PATH.
bool runnable(const std::string &program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0;
  const char *path = std::getenv("PATH");
  for (std::string dirs = path ? path : ""; ;) {
    size_t colon = dirs.find(':');
    std::string dir = dirs.substr(0, colon);
    if (access(((dir.empty() ? "." : dir) + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string::npos) return false;
    dirs = dirs.substr(colon + 1);
  }
}

/// Compiles a location's module to the object `path` (`-`: standard
/// output). A large module is compiled in parts on threads of their own
/// (docs/backend.md, "Parallel code generation"), whose objects a
/// relocatable link (`cc -r`) joins, the symbols they share then made
/// local (`objcopy --localize-hidden`); without a linker or objcopy, in
/// one part.
/// `use`, when given, is called with the files that make up the object
/// (the parts while they are being joined, or `path`), and its answer is
/// returned.
bool writeObject(backend::ObjectEmitter &emitter, std::unique_ptr<llvm::Module> module, const std::string &path,
                 const BuildOptions &opts, const std::string &symbolPrefix,
                 const std::function<bool(const std::vector<std::string> &)> &use = nullptr) {
  // Without a sanitizer build's flags: with them, clang would put its
  // sanitizer runtime into the joined object.
  std::vector<std::string> link = linkerCommand(opts.linker, false);
  unsigned units = opts.codegenUnits;
  if (!runnable(link[0]) || !runnable("objcopy")) units = 1;
  auto fail = [](llvm::Error err) {
    std::fprintf(stderr, "dfirc: error: %s\n", llvm::toString(std::move(err)).c_str());
    return false;
  };
  auto objects = emitter.compile(std::move(module), units, symbolPrefix);
  if (!objects) return fail(objects.takeError());
  if (objects->size() == 1) {
    if (auto err = backend::ObjectEmitter::writeFile(path, objects->front())) return fail(std::move(err));
    return !use || use({path});
  }
  const char *tmpDir = std::getenv("TMPDIR");
  std::string dirName = std::string(tmpDir && *tmpDir ? tmpDir : "/tmp") + "/dfirc-parts-XXXXXX";
  std::vector<char> dirBuf(dirName.begin(), dirName.end());
  dirBuf.push_back('\0');
  if (!mkdtemp(dirBuf.data())) {
    std::fprintf(stderr, "dfirc: error: cannot make a temporary directory in `%s`: %s\n",
                 tmpDir && *tmpDir ? tmpDir : "/tmp", std::strerror(errno));
    return false;
  }
  std::string dir = dirBuf.data(), joined = path == "-" ? dir + "/joined.o" : path;
  std::vector<std::string> files;
  bool ok = true;
  for (size_t i = 0; i < objects->size() && ok; ++i) {
    files.push_back(dir + "/part" + std::to_string(i) + ".o");
    if (auto err = backend::ObjectEmitter::writeFile(files.back(), (*objects)[i])) ok = fail(std::move(err));
  }
  if (ok) {
    link.insert(link.end(), {"-r", "-nostdlib", "-o", joined});
    link.insert(link.end(), files.begin(), files.end());
    // The join and the caller's use of the parts (linking an executable)
    // run side by side.
    int rc = 0, localized = 0;
    std::thread join([&] {
      rc = runCommand(link);
      if (rc == 0) localized = runCommand({"objcopy", "--localize-hidden", joined});
    });
    bool used = !use || use(files);
    join.join();
    if (rc != 0)
      std::fprintf(stderr, "dfirc: error: joining the %zu parts of `%s` with `%s -r` failed%s\n", files.size(),
                   path.c_str(), link[0].c_str(), rc < 0 ? " (`--codegen-units 1` needs no linker)" : "");
    else if (localized != 0)
      std::fprintf(stderr, "dfirc: error: `objcopy --localize-hidden` failed on `%s`\n", joined.c_str());
    // A join that failed leaves no object behind (an unlocalized one
    // would export what it shares).
    if (rc != 0 || localized != 0) unlink(joined.c_str());
    ok = rc == 0 && localized == 0 && used;
  }
  if (ok && path == "-") {
    auto bytes = llvm::MemoryBuffer::getFile(joined);
    if (!bytes) ok = fail(llvm::errorCodeToError(bytes.getError()));
    else if (auto err = backend::ObjectEmitter::writeFile("-", (*bytes)->getBuffer())) ok = fail(std::move(err));
  }
  for (const std::string &f : files) unlink(f.c_str());
  if (path == "-") unlink(joined.c_str());
  rmdir(dir.c_str());
  return ok;
}

/// `build` without --emit: DIR/<location>.o and the executable DIR/<location>;
/// --emit=obj|asm: one file at -o, or with several locations DIR/<location>.o.
bool writeDeployFile(Session &s, const std::string &name, const std::string &dir, unsigned basePort);

int buildNative(const BuildOptions &opts) {
  int code = kExitOk;
  auto s = compile(opts.input, opts.diag, opts.pipeline, code);
  if (!s) return code;
  s->profile = opts.profiling;
  std::fputs(s->printed.c_str(), stderr); // stdout may be the output
  const ir::Program &program = *s->program;
  auto emitter = backend::ObjectEmitter::create(opts.optLevel);
  if (!emitter) internalError("cannot set up code generation: " + llvm::toString(emitter.takeError()));
  if (!opts.emit.empty()) {
    // Objects to link into a program of one's own: no `main`, the
    // descriptor named `<prefix>_location`.
    std::vector<int> locations = emittedLocations(program, opts);
    if (locations.empty()) return kExitUserError;
    bool several = locations.size() > 1;
    if (opts.output.empty() && opts.emit == "obj") {
      std::fprintf(stderr, "dfirc: error: `--emit=obj` needs an output: `-o FILE`, `-o DIR` for several locations, "
                           "or `-o -` for standard output\n");
      return kExitUsage;
    }
    if (several && opts.output == "-") {
      std::fprintf(stderr, "dfirc: error: `--emit=obj` writes %zu objects, one per location; `-o DIR` names their "
                           "directory (or `--location` one of them)\n", locations.size());
      return kExitUsage;
    }
    std::string out = opts.output.empty() ? "-" : opts.output;
    std::string dir = out;
    if (several && !makeDirectory(dir)) return kExitUserError;
    for (int l : locations) {
      const std::string &name = program.locations[l].name;
      std::string prefix = prefixOf(opts, name, several);
      auto module =
          generate(*s, (*emitter)->context(), (*emitter)->dataLayout(), false, l, prefix + "_location", opts.debugInfo);
      if (!module) return kExitUserError;
      std::string file = several ? dir + "/" + name + ".o" : out;
      if (opts.emit == "obj") {
        if (!writeObject(**emitter, std::move(module), file, opts, prefix + "_location")) return kExitUserError;
      } else if (auto err = (*emitter)->emit(*module, file, true)) {
        std::fprintf(stderr, "dfirc: error: %s\n", llvm::toString(std::move(err)).c_str());
        return kExitUserError;
      }
      if (file != "-" && !writeDepfile(opts, file, s->imported)) return kExitUserError;
    }
    return kExitOk;
  }
  std::string searched, runtime = runtimeArchive(opts.runtimeDir, searched);
  if (runtime.empty()) {
    std::fprintf(stderr,
                 "dfirc: error: cannot find the runtime archive: no %s; give its directory with `--runtime-dir` or "
                 "`DFIR_RUNTIME_DIR`\n",
                 searched.c_str());
    return kExitUserError;
  }
  std::string dir = opts.output.empty() || opts.output == "-" ? "." : opts.output;
  if (!makeDirectory(dir)) return kExitUserError;
  std::unique_ptr<llvm::Module> module;
  // One object and one executable per location.
  for (size_t l = 0; l < program.locations.size(); ++l) {
    module = generate(*s, (*emitter)->context(), (*emitter)->dataLayout(), true, static_cast<int>(l), "", opts.debugInfo);
    if (!module) return kExitUserError;
    const std::string &name = program.locations[l].name;
    std::string object = dir + "/" + name + ".o", exe = dir + "/" + name;
    // The executable is linked from the object's parts, while they are
    // joined into the object.
    auto linkExecutable = [&](const std::vector<std::string> &objects) {
      std::vector<std::string> link = linkerCommand(opts.linker);
      std::string linker = link[0];
      if (opts.staticLink) link.push_back("-static");
      link.insert(link.end(), {"-o", exe});
      link.insert(link.end(), objects.begin(), objects.end());
      link.insert(link.end(), opts.link.begin(), opts.link.end());
      if (opts.staticLink) {
        // libcrypto linked in, through libdfir_rt_crypto.a beside the runtime
        // (nothing refers to it but the runtime's weak reference: -u pulls it).
        std::string crypto = runtime.substr(0, runtime.rfind('/') + 1) + "libdfir_rt_crypto.a";
        if (access(crypto.c_str(), R_OK) != 0) {
          std::fprintf(stderr, "dfirc: error: `--static` needs `%s` beside the runtime archive\n", crypto.c_str());
          return false;
        }
        link.insert(link.end(), {"-Wl,-u,dfir_linked_crypto", crypto, runtime, "-lcrypto", "-lm", "-ldl", "-lpthread"});
      } else {
        link.insert(link.end(), {runtime, "-lm"});
      }
      // A static link with glibc warns that getaddrinfo and dlopen need
      // glibc's shared libraries at run time: not these (glibc's own `files`
      // and `dns` lookups are built in, and libcrypto is linked, not loaded).
      int rc = runCommand(link, [&](const std::string &line) {
        return opts.staticLink &&
               line.find("in statically linked applications requires at runtime") != std::string::npos;
      });
      if (rc != 0)
        std::fprintf(stderr, "dfirc: error: linking `%s` with `%s` failed%s\n", exe.c_str(), linker.c_str(),
                     rc < 0 ? " (is a C compiler installed? `--linker` or `CC` names another)" : "");
      return rc == 0;
    };
    if (!writeObject(**emitter, std::move(module), object, opts, backend::descriptorName(name), linkExecutable))
      return kExitUserError;
  }
  return writeDeployFile(*s, stemOf(opts.input), dir, opts.basePort) && writeDepfile(opts, dir + "/deploy.json", s->imported)
             ? kExitOk
             : kExitUserError;
}

std::string hex(uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// DIR/deploy.key: a new random deployment key, 64 hexadecimal digits,
/// readable by its owner only (docs/deployment.md).
bool writeDeployKey(const std::string &path) {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) {
    std::fprintf(stderr, "dfirc: error: cannot draw a random deployment key (OpenSSL failed)\n");
    return false;
  }
  std::string text;
  for (unsigned char b : key) text += hex(b).substr(14);
  text += "\n";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int saved = errno;
  if (fd >= 0 && close(fd) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (!ok) std::fprintf(stderr, "dfirc: error: cannot write `%s`: %s\n", path.c_str(), std::strerror(saved));
  return ok;
}

/// DIR/deploy.json: every instance of every location with a loopback
/// address, and DIR/deploy.key (docs/deployment.md describes the format).
bool writeDeployFile(Session &s, const std::string &name, const std::string &dir, unsigned basePort) {
  const ir::Program &program = *s.program;
  uint32_t instances = 0;
  for (auto &l : program.locations) instances += static_cast<uint32_t>(l.size);
  if (basePort != 0 && basePort + instances > 65536) {
    std::fprintf(stderr, "dfirc: error: `--base-port %u` leaves no room for %u instances below port 65536\n",
                 basePort, instances);
    return false;
  }
  if (!writeDeployKey(dir + "/deploy.key")) return false;
  std::vector<JsonRecord> locations, channels;
  uint32_t next = 0;
  for (const ir::Location &loc : program.locations) {
    std::vector<JsonRecord> instances;
    for (uint32_t i = 0; i < static_cast<uint32_t>(loc.size); ++i, ++next)
      instances.push_back(JsonRecord()
                              .add("id", static_cast<int64_t>(i))
                              .add("address", "127.0.0.1:" + std::to_string(basePort ? basePort + next : 0)));
    locations.push_back(JsonRecord()
                            .add("name", jsonString(loc.name))
                            .add("cluster", loc.isCluster)
                            .add("executable", jsonString(loc.name))
                            .add("instances", instances));
  }
  for (const ir::Channel &ch : program.channels) {
    std::vector<const Type *> seen;
    std::string spelled;
    spellType(ch.elem, *program.types, seen, spelled);
    channels.push_back(JsonRecord()
                           .add("name", jsonString(ch.name))
                           .add("from", jsonString(program.locations[ch.from].name))
                           .add("to", jsonString(program.locations[ch.to].name))
                           .add("type", jsonString(typeToString(ch.elem)))
                           .add("fingerprint", hex(fnv1a(spelled))));
  }
  std::string out = JsonDocument()
                        .add("program", jsonString(name))
                        .add("fingerprint", hex(fnv1a(s.compiled)))
                        .add("key_file", "deploy.key")
                        .add("profiling", s.profile)
                        .add("locations", locations)
                        .add("channels", channels)
                        .str();
  return writeOutput(dir + "/deploy.json", out);
}

/// Compiles the program for an `--emit` of one location: the session and
/// that location, or null with the exit code set.
std::unique_ptr<Session> compileOneLocation(const BuildOptions &opts, int &location, int &code) {
  code = kExitOk;
  auto s = compile(opts.input, opts.diag, opts.pipeline, code);
  if (!s) return nullptr;
  std::fputs(s->printed.c_str(), stderr);
  std::vector<int> locations = emittedLocations(*s->program, opts);
  if (locations.empty()) {
    code = kExitUserError;
    return nullptr;
  }
  location = locations[0];
  return s;
}

/// Whether `profile` was measured on the program as this session compiled
/// it (the same source, options and dfirc); if not, `error` says so.
bool profileMatches(const Session &s, const passes::Profile &profile, const std::string &path, std::string &error) {
  uint64_t mine = fnv1a(s.compiled);
  if (profile.fingerprint == mine) return true;
  error = "the profile `" + path + "` is of another program or build (fingerprint " + hex(profile.fingerprint) +
          "; this program, with these options, is " + hex(mine) +
          "): profile the program as it is compiled here, with the same transforms";
  return false;
}

/// `--auto-rewrite`: checks its options and the profile, compiles the
/// program as written, searches (tools/dfirc/AutoRewrite.h) and prints
/// the report; `chosen` is the pipeline to compile. False (with `exitCode`)
/// on errors, reported.
bool chooseAutoRewrites(const std::string &input, const DiagOptions &dopts, const PipelineOptions &popts,
                        PipelineOptions &chosen, int &exitCode) {
  auto usage = [&](const std::string &message) {
    std::fprintf(stderr, "dfirc: error: %s\n", message.c_str());
    exitCode = kExitUsage;
    return false;
  };
  if (popts.profileIn.empty())
    return usage("`--auto-rewrite` needs a profile of the program: `--use-profile FILE` (or `--profile FILE` with "
                 "build and opt), from `dfirc run FILE --profile OUT.json` or `dfirc launch --profile-dir`");
  if (!popts.passes.empty() || !popts.decouple.empty() || !popts.partition.empty() || !popts.batch.empty() ||
      !popts.replicate.empty())
    return usage("`--auto-rewrite` chooses the transforms itself: it cannot be combined with --passes, --decouple, "
                 "--partition, --replicate or --batch (its report prints the flags it chose, to use instead)");
  if (popts.extraProcesses < 0 || popts.extraProcesses > 64)
    return usage("`--extra-processes " + std::to_string(popts.extraProcesses) +
                 "`: expected a number of processes from 0 to 64");
  PipelineOptions plain = popts;
  plain.autoRewrite = false;
  auto base = compile(input, dopts, plain, exitCode);
  if (!base) return false;
  passes::Profile profile;
  std::string error;
  if (!passes::readProfile(popts.profileIn, profile, error) ||
      !profileMatches(*base, profile, popts.profileIn, error)) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    exitCode = kExitUserError;
    return false;
  }
  PipelineOptions quiet; // the trials print nothing
  TrialFn trial = [&](const std::string &pipeline) {
    quiet.passes = {pipeline};
    Trial t;
    int code = kExitOk;
    std::string why;
    if (auto s = compile(input, dopts, quiet, code, &why)) t.program = std::move(s->program);
    else t.refusal = why;
    return t;
  };
  AutoChoice choice = chooseRewrites(*base->program, profile, static_cast<uint64_t>(popts.extraProcesses), trial);
  std::fputs(choice.report.c_str(), stderr);
  chosen = plain;
  if (!choice.pipeline.empty()) chosen.passes = {choice.pipeline};
  return true;
}

/// `--emit=header`: the C header of one location (docs/embedding.md).
int buildHeader(const BuildOptions &opts) {
  int code = kExitOk, l = 0;
  auto s = compileOneLocation(opts, l, code);
  if (!s) return code;
  std::string source = s->input.substr(s->input.find_last_of('/') + 1);
  backend::HostHeaderInput in{*s->program, l, prefixOf(opts, s->program->locations[l].name, false), source,
                              fnv1a(s->compiled), [&](SourceLoc at) { return s->sm.lineCol(at).line; }};
  std::optional<backend::HostHeaderError> error;
  std::string text = backend::hostHeader(in, error);
  if (error) {
    s->diags->report(DiagID::err_no_c_layout, error->range) << error->message;
    logEmittedKinds(*s->diags);
    return kExitUserError;
  }
  std::string out = opts.output.empty() ? "-" : opts.output;
  if (!writeOutput(out, text)) return kExitUserError;
  return out == "-" || writeDepfile(opts, out, s->imported) ? kExitOk : kExitUserError;
}

} // namespace

int runCommand(const std::vector<std::string> &argv,
               const std::function<bool(const std::string &)> &quiet) {
  std::vector<char *> args;
  for (auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  int err[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet && pipe(err) == 0) {
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawn_file_actions_addclose(&actions, err[0]);
    posix_spawn_file_actions_addclose(&actions, err[1]);
  }
  pid_t pid;
  int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err[1] >= 0) close(err[1]);
  std::string text;
  if (err[0] >= 0) {
    char buf[4096];
    for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
      if (n > 0) text.append(buf, static_cast<size_t>(n));
    close(err[0]);
  }
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    bool hidden = quiet(lines[i]) || (i + 1 < lines.size() && quiet(lines[i + 1]));
    if (!hidden) std::fprintf(stderr, "%s\n", lines[i].c_str());
  }
  if (spawned != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


int runBuild(const BuildOptions &opts) {
  if (opts.emit == "llvm") {
    int code = kExitOk, location = 0;
    auto s = compileOneLocation(opts, location, code);
    if (!s) return code;
    // The IR `dfirc build` compiles: optimized for the same target.
    auto emitter = backend::ObjectEmitter::create(opts.optLevel);
    if (!emitter) internalError("cannot set up code generation: " + llvm::toString(emitter.takeError()));
    auto module = generate(*s, (*emitter)->context(), (*emitter)->dataLayout(), false, location, "", opts.debugInfo);
    if (!module) return kExitUserError;
    (*emitter)->optimize(*module);
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os, nullptr);
    os.flush();
    return writeOutput(opts.output.empty() ? "-" : opts.output, text) ? kExitOk : kExitUserError;
  }
  if (opts.emit.empty() || opts.emit == "obj" || opts.emit == "asm") return buildNative(opts);
  if (opts.emit == "header") return buildHeader(opts);
  // --emit=ir (and its older name ir-opt): what `dfirc opt` writes.
  return runOpt({opts.input, opts.output.empty() ? "-" : opts.output, opts.diag, opts.pipeline});
}

/// The program as compiled, after the passes, as DFIR text that compiles
/// again to the same program; requested printouts first.
int runOpt(const OptOptions &opts) {
  int code = kExitOk;
  auto s = compile(opts.input, opts.diag, opts.pipeline, code);
  if (!s) return code;
  std::fwrite(s->printed.data(), 1, s->printed.size(), stdout);
  return writeOutput(opts.output, s->compiled) ? kExitOk : kExitUserError;
}

int runGraph(const GraphOptions &opts) {
  int code = kExitOk;
  auto s = compile(opts.input, opts.diag, opts.pipeline, code);
  if (!s) return code;
  std::fwrite(s->printed.data(), 1, s->printed.size(), stdout);
  const passes::Subgraphs &subgraphs = s->analyses->subgraphs();
  const ir::Program &program = *s->program;
  ir::GraphLayout layout;
  layout.stratum = s->analyses->strata().stratum;
  layout.subgraph = subgraphs.subgraphOf;
  for (auto &sg : subgraphs.list) layout.cyclicSubgraph.push_back(sg.cyclic);
  for (auto &h : subgraphs.handoffs) layout.handoffEdges.insert(h.edge);
  if (!opts.profile.empty()) {
    passes::Profile profile;
    std::string error;
    if (!passes::readProfile(opts.profile, profile, error) || !profileMatches(*s, profile, opts.profile, error)) {
      std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
      return kExitUserError;
    }
    std::vector<passes::LocationProfile> locations = profile.locations();
    layout.heat.assign(program.ops.size(), 0.0);
    layout.note.assign(program.ops.size(), "");
    for (size_t i = 0; i < program.ops.size(); ++i) {
      const ir::Operator &op = program.ops[i];
      for (const passes::LocationProfile &l : locations) {
        if (l.name != program.locations[op.location].name) continue;
        for (const passes::ProfileOp &po : l.ops) {
          if (po.name != op.name) continue;
          double share = l.samples ? static_cast<double>(po.samples) / static_cast<double>(l.samples) : 0.0;
          layout.heat[i] = share;
          char note[96];
          std::snprintf(note, sizeof note, "%.1f%% cpu, %llu in, %llu out", 100 * share,
                        static_cast<unsigned long long>(po.in), static_cast<unsigned long long>(po.out));
          layout.note[i] = note;
        }
      }
    }
  }
  ir::GraphFormat format = opts.format == "dot"    ? ir::GraphFormat::Dot
                           : opts.format == "json" ? ir::GraphFormat::Json
                                                   : ir::GraphFormat::Mermaid;
  return writeOutput(opts.output, ir::writeGraph(program, layout, format)) ? kExitOk : kExitUserError;
}

namespace {
int simulate(Session &s, backend::JitSession &jit, const SimProgram &p, const SimOptions &sim);
bool setUpSchedule(const Session &s, const RunOptions &opts, const SimProgram &p, std::vector<uint32_t> &choices,
                   SimSetup &setup, uint64_t &seed);

/// `dfirc run`, or with `sim` the runs of `dfirc sim`: the program compiled
/// with the JIT, then run (or simulated).
int runOrSimulate(const RunOptions &opts, const SimOptions *sim) {
  int code = kExitOk;
  auto s = compile(opts.input, opts.diag, opts.pipeline, code);
  if (!s) return code;
  std::fputs(s->printed.c_str(), stderr); // stdout is the program's
  const ir::Program &program = *s->program;
  // `--fuzz` guides the search by the operators' counts, which profiling
  // code keeps.
  s->profile = !opts.profileOut.empty() || (sim && sim->fuzz);
  if (sim && sim->fuzz && !fuzzAvailable()) {
    std::fprintf(stderr, "dfirc: error: `--fuzz` needs libFuzzer, and this dfirc was built without it (install "
                         "Debian's libclang-rt-19-dev and build dfirc again); --random and --exhaustive work\n");
    return kExitUsage;
  }
  auto jit = startJit(opts.optLevel);
  for (auto &given : opts.load) {
    // A bare name of a file here is that file (dlopen would search only
    // the system's directories); other bare names are the system's.
    struct stat st;
    std::string lib = given.find('/') == std::string::npos && stat(given.c_str(), &st) == 0 ? "./" + given : given;
    if (auto err = jit->loadLibrary(lib)) {
      std::fprintf(stderr, "dfirc: error: %s\n", llvm::toString(std::move(err)).c_str());
      return kExitUserError;
    }
  }
  // After code generation (which reports what it cannot compile), before
  // the JIT would fail on a missing symbol: name the declaration of every
  // extern fn the generated code calls that nothing defines.
  std::set<std::string> called;
  auto noteCalls = [&](const llvm::Module &m) {
    for (auto &x : program.externs)
      if (m.getFunction(x.name)) called.insert(x.name);
  };
  auto externsDefined = [&] {
    bool ok = true;
    for (auto &x : program.externs)
      if (called.count(x.name) && !jit->hasSymbol(x.name)) {
        s->diags->report(DiagID::err_extern_undefined, x.range) << x.name;
        ok = false;
      }
    if (!ok) logEmittedKinds(*s->diags);
    return ok;
  };
  if (opts.seedGiven) dfir_rt_seed_random(opts.seed);
  // Instances per location; `--cluster` is checked whatever runs.
  std::vector<std::string> names;
  std::vector<uint32_t> counts;
  for (auto &l : program.locations) {
    names.push_back(l.name);
    counts.push_back(static_cast<uint32_t>(l.size));
  }
  for (auto &spec : opts.clusterSizes) {
    size_t eq = spec.find('=');
    std::string name = spec.substr(0, eq);
    auto it = std::find(names.begin(), names.end(), name);
    std::string count = eq == std::string::npos ? "" : spec.substr(eq + 1);
    bool digits = !count.empty() && count.size() <= 9 && count.find_first_not_of("0123456789") == std::string::npos;
    unsigned long n = digits ? std::stoul(count) : 0;
    if (it == names.end() || !program.locations[it - names.begin()].isCluster || n == 0 || n > ir::kMaxClusterSize) {
      std::fprintf(stderr,
                   "dfirc: error: `--cluster %s`: expected NAME=N with NAME a cluster of the program and N from 1 "
                   "to %llu\n",
                   spec.c_str(), static_cast<unsigned long long>(ir::kMaxClusterSize));
      return kExitUsage;
    }
    counts[it - names.begin()] = static_cast<uint32_t>(n);
  }
  // One process without channels runs alone; anything else (a process
  // sending to itself included) as a system of instances and channels.
  bool system = program.locations.size() > 1 || program.locations[0].isCluster || !program.channels.empty() ||
                opts.prefix || sim || !opts.schedule.empty() || !opts.trace.empty();
  dfir_rt_label_output(opts.prefix);
  // The profile is written when the run ends, and also if it stops with a
  // runtime error (the runtime writes it on exit).
  struct ProfileScope {
    bool on = false;
    ~ProfileScope() {
      if (on) dfir_rt_profile_close();
    }
  } profiling;
  auto startProfile = [&] {
    if (opts.profileOut.empty()) return true;
    profiling.on = dfir_rt_profile_open(opts.profileOut.c_str()) == 0;
    return profiling.on;
  };
  if (!system) {
    auto module = generate(*s, jit->context(), jit->dataLayout());
    if (!module) return kExitUserError;
    noteCalls(*module);
    if (!externsDefined()) return kExitUserError;
    if (auto err = jit->add(std::move(module))) internalError("JIT: " + llvm::toString(std::move(err)));
    if (!startProfile()) return kExitUserError;
    auto status = jit->run(program.locations[0].name);
    if (!status) internalError("JIT: " + llvm::toString(status.takeError()));
    return *status;
  }
  // Several locations (or a cluster): every instance in this process.
  bool ok = true;
  SimProgram simProgram; // what `dfirc sim` and `--schedule` need to know
  simProgram.locations = names;
  simProgram.counts = counts;
  for (auto &c : program.channels) {
    simProgram.channels.push_back(c.name);
    simProgram.ends.emplace_back(static_cast<uint32_t>(int(c.from)), static_cast<uint32_t>(int(c.to)));
  }
  for (size_t l = 0; l < program.locations.size(); ++l) {
    auto module = generate(*s, jit->context(), jit->dataLayout(), false, static_cast<int>(l));
    if (!module) {
      ok = false;
      simProgram.shared.push_back(true);
      continue;
    }
    // State every instance shares: the generator of rand_u64(), standard
    // input, whatever an extern fn keeps.
    bool shared = module->getFunction("dfir_rt_rand_u64") || module->getFunction("dfir_rt_rand_f64") ||
                  module->getFunction("dfir_rt_stdin_next");
    for (auto &x : program.externs) shared = shared || module->getFunction(x.name);
    simProgram.shared.push_back(shared);
    noteCalls(*module);
    if (auto err = jit->add(std::move(module))) internalError("JIT: " + llvm::toString(std::move(err)));
  }
  if (!ok || !externsDefined()) return kExitUserError;
  if (sim) return simulate(*s, *jit, simProgram, *sim);
  std::vector<uint32_t> replay; // these two live while the system runs
  SimSetup replaySetup;
  uint64_t seed = opts.seed;
  if (!setUpSchedule(*s, opts, simProgram, replay, replaySetup, seed)) return kExitUserError;
  std::vector<const char *> channelNames;
  for (auto &c : program.channels) channelNames.push_back(c.name.c_str());
  if (!opts.trace.empty()) dfir_rt_trace(opts.trace == "json" ? 2 : 1, channelNames.data());
  if (!startProfile()) return kExitUserError;
  auto status = jit->runSystem(names, counts, static_cast<uint32_t>(program.channels.size()), seed);
  if (!status) internalError("JIT: " + llvm::toString(status.takeError()));
  return *status;
}
} // namespace

namespace {
/// `--schedule FILE`: its choices, checked against this build, for the
/// runtime to replay (and its seed, for the generator and `rand_u64()`).
bool setUpSchedule(const Session &s, const RunOptions &opts, const SimProgram &p, std::vector<uint32_t> &choices,
                   SimSetup &setup, uint64_t &seed) {
  if (opts.schedule.empty()) return true;
  ScheduleFile f;
  std::string error;
  if (!readSchedule(opts.schedule, f, error)) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    return false;
  }
  uint64_t mine = fnv1a(s.compiled);
  if (f.fingerprint != mine) {
    std::fprintf(stderr,
                 "dfirc: error: the schedule `%s` was made for another program or build (fingerprint %s; this "
                 "program, with these options, is %s)\n",
                 opts.schedule.c_str(), hex(f.fingerprint).c_str(), hex(mine).c_str());
    return false;
  }
  if (!resolveFaults(f.faults, p, setup, error)) {
    std::fprintf(stderr, "dfirc: error: the schedule `%s`: %s\n", opts.schedule.c_str(), error.c_str());
    return false;
  }
  dfir_sim_options options = setup.options(false);
  dfir_rt_simulate(&options);
  choices = f.choices;
  seed = f.seed;
  dfir_rt_seed_random(seed);
  dfir_rt_schedule_use(choices.data(), static_cast<uint32_t>(choices.size()), f.thenFirst, 0);
  return true;
}

int simulate(Session &s, backend::JitSession &jit, const SimProgram &p, const SimOptions &sim) {
  SimSetup setup;
  std::string error;
  if (!resolveFaults(sim.faults, p, setup, error)) {
    std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
    return kExitUsage;
  }
  setup.maxTicks = sim.maxTicks;
  uint32_t channels = static_cast<uint32_t>(p.channels.size());
  if (auto err = jit.compileLocations(p.locations)) internalError("JIT: " + llvm::toString(std::move(err)));
  SystemRun run = [&](uint64_t seed) {
    auto status = jit.runSystem(p.locations, p.counts, channels, seed);
    if (!status) internalError("JIT: " + llvm::toString(status.takeError()));
    return *status;
  };
  return exploreSchedules(fnv1a(s.compiled), s.input, sim, setup, run);
}
} // namespace

int runRun(const RunOptions &opts) { return runOrSimulate(opts, nullptr); }
int runSim(const SimOptions &opts) { return runOrSimulate(opts.run, &opts); }

namespace {
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

/// Prints rows as columns, the first row a header; columns after the
/// first `left` are right-aligned.
void printTable(const std::vector<std::vector<std::string>> &rows, size_t left) {
  std::vector<size_t> width;
  for (auto &row : rows)
    for (size_t c = 0; c < row.size(); ++c) {
      if (width.size() <= c) width.push_back(0);
      width[c] = std::max(width[c], row[c].size());
    }
  for (auto &row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      std::string pad(width[c] - row[c].size(), ' ');
      line += c < left ? row[c] + pad : pad + row[c];
      if (c + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

std::string percent(double part, double whole) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole > 0 ? 100 * part / whole : 0.0);
  return buf;
}

std::string millis(double ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", ns / 1e6);
  return buf;
}
} // namespace

int runProfileShow(const ProfileShowOptions &opts) {
  passes::Profile profile;
  for (auto &path : opts.inputs) {
    std::string error;
    if (!passes::readProfile(path, profile, error)) {
      std::fprintf(stderr, "dfirc: error: %s\n", error.c_str());
      return kExitUserError;
    }
  }
  std::vector<passes::LocationProfile> locations = profile.locations();
  uint64_t samples = profile.runtimeSamples;
  for (auto &l : locations) samples += l.samples;
  std::printf("profile of %zu instance%s (fingerprint %s): %llu CPU samples (at most one per %u us of CPU time), "
              "%.1f ms wall\n\n",
              profile.instances.size(), profile.instances.size() == 1 ? "" : "s", hex(profile.fingerprint).c_str(),
              static_cast<unsigned long long>(samples), profile.sampleUs, static_cast<double>(profile.wallNs) / 1e6);
  // Locations, the busiest first.
  std::sort(locations.begin(), locations.end(),
            [](const passes::LocationProfile &a, const passes::LocationProfile &b) { return a.busyNs > b.busyNs; });
  std::vector<std::vector<std::string>> rows = {{"location", "instances", "ticks", "busy ms", "busy/instance ms", "cpu"}};
  for (auto &l : locations)
    rows.push_back({l.name, std::to_string(l.instances), grouped(l.ticks), millis(static_cast<double>(l.busyNs)),
                    millis(static_cast<double>(l.busyNs) / std::max(1u, l.instances)),
                    percent(static_cast<double>(l.samples), static_cast<double>(samples))});
  rows.push_back({"(between ticks)", "", "", "", "", percent(static_cast<double>(profile.runtimeSamples),
                                                              static_cast<double>(samples))});
  printTable(rows, 1);
  // Operators, the hottest first (by samples, then by items in).
  struct Hot {
    const passes::LocationProfile *loc;
    const passes::ProfileOp *op;
  };
  std::vector<Hot> hot;
  for (auto &l : locations)
    for (auto &op : l.ops) hot.push_back({&l, &op});
  std::stable_sort(hot.begin(), hot.end(), [](const Hot &a, const Hot &b) {
    if (a.op->samples != b.op->samples) return a.op->samples > b.op->samples;
    return a.op->in + a.op->out > b.op->in + b.op->out;
  });
  std::printf("\nhottest operators\n");
  rows = {{"location", "operator", "kind", "line", "cpu", "busy ms", "in", "out"}};
  for (size_t i = 0; i < hot.size() && i < opts.top; ++i)
    rows.push_back({hot[i].loc->name, hot[i].op->name, hot[i].op->op, std::to_string(hot[i].op->line),
                    percent(static_cast<double>(hot[i].op->samples), static_cast<double>(samples)),
                    millis(hot[i].loc->samples ? static_cast<double>(hot[i].loc->busyNs) * hot[i].op->samples /
                                                      hot[i].loc->samples
                                                : 0.0),
                    grouped(hot[i].op->in), grouped(hot[i].op->out)});
  printTable(rows, 3);
  std::vector<passes::ProfileChannel> channels = profile.channels();
  if (!channels.empty()) {
    std::printf("\nchannels (what was sent)\n");
    rows = {{"channel", "items", "bytes", "frames", "items/frame"}};
    for (auto &c : channels) {
      char per[32];
      std::snprintf(per, sizeof per, "%.1f", c.frames ? static_cast<double>(c.items) / static_cast<double>(c.frames) : 0.0);
      rows.push_back({c.name, grouped(c.items), grouped(c.bytes), grouped(c.frames), per});
    }
    printTable(rows, 1);
  }
  return kExitOk;
}

std::vector<std::string> analysisNames() { return passes::analysisNames(); }
std::vector<std::string> transformNames() { return passes::transformNames(); }

int listDiagnosticKinds() {
  for (unsigned i = 0; i < numDiagKinds(); ++i) {
    const DiagKindInfo &k = diagKindInfo(static_cast<DiagID>(i));
    std::printf("%s %s\n", k.name, severityName(k.severity));
  }
  return kExitOk;
}

} // namespace dfir::driver
