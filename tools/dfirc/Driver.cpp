#include "tools/dfirc/Driver.h"

#include "frontend/Parser.h"
#include "frontend/Sema.h"
#include "frontend/VerifyDiagnostics.h"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

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
bool processBuffer(const CheckOptions &opts, const SourceManager &sm, uint32_t file,
                   DiagnosticEngine &diags) {
  if (opts.emit == "tokens") {
    std::string out;
    bool ok = dumpTokens(sm, file, diags, out);
    std::fputs(out.c_str(), stdout);
    return ok;
  }
  auto program = parseProgram(sm, file, diags);
  if (!program) return false;
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

int listDiagnosticKinds() {
  for (unsigned i = 0; i < numDiagKinds(); ++i) {
    const DiagKindInfo &k = diagKindInfo(static_cast<DiagID>(i));
    std::printf("%s %s\n", k.name, severityName(k.severity));
  }
  return kExitOk;
}

} // namespace dfir::driver
