#include "support/Diagnostics.h"
#include "support/Json.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace dfir {

static const DiagKindInfo kDiagKinds[] = {
#define DIAG(ID, SEVERITY, FORMAT) {#ID, Severity::SEVERITY, FORMAT},
#include "support/DiagnosticKinds.def"
};

const DiagKindInfo &diagKindInfo(DiagID id) { return kDiagKinds[static_cast<unsigned>(id)]; }
unsigned numDiagKinds() { return static_cast<unsigned>(DiagID::NumKinds); }

const char *severityName(Severity s) {
  switch (s) {
  case Severity::Note: return "note";
  case Severity::Warning: return "warning";
  case Severity::Error: return "error";
  }
  return "error";
}

static std::string formatMessage(const char *format, const std::vector<std::string> &args) {
  std::string out;
  for (const char *p = format; *p; ++p) {
    if (p[0] == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}') {
      unsigned i = static_cast<unsigned>(p[1] - '0');
      out += i < args.size() ? args[i] : std::string("<?>");
      p += 2;
    } else {
      out += *p;
    }
  }
  return out;
}

DiagBuilder::DiagBuilder(DiagnosticEngine &engine, DiagID id, SourceRange range)
    : engine_(&engine) {
  diag_.id = id;
  diag_.severity = diagKindInfo(id).severity;
  diag_.range = range;
  current_ = &diag_;
}

DiagBuilder::DiagBuilder(DiagBuilder &&other) noexcept
    : engine_(other.engine_), diag_(std::move(other.diag_)), args_(std::move(other.args_)) {
  current_ = diag_.notes.empty() ? &diag_ : &diag_.notes.back();
  other.engine_ = nullptr;
}

DiagBuilder &DiagBuilder::operator<<(std::string_view arg) {
  args_.emplace_back(arg);
  return *this;
}

void DiagBuilder::flushArgs() {
  current_->message = formatMessage(diagKindInfo(current_->id).format, args_);
  args_.clear();
}

DiagBuilder &DiagBuilder::note(DiagID id, SourceRange range) {
  flushArgs();
  Diagnostic n;
  n.id = id;
  n.severity = Severity::Note;
  n.range = range;
  diag_.notes.push_back(std::move(n));
  current_ = &diag_.notes.back();
  return *this;
}

DiagBuilder::~DiagBuilder() {
  if (!engine_) return;
  flushArgs();
  engine_->emit(std::move(diag_));
}

void DiagnosticEngine::emit(Diagnostic d) {
  // One mistake, one report: drop exact repeats (same place, same message).
  auto key = std::make_tuple(d.range.begin.file, d.range.begin.offset, d.message);
  if (!seen_.insert(key).second) return;
  if (d.severity == Severity::Warning && warningsAsErrors_) {
    d.severity = Severity::Error;
    d.message += " [-Werror]";
  }
  if (d.severity == Severity::Error) ++errors_;
  if (d.severity == Severity::Warning) ++warnings_;
  emitted_.insert(d.id);
  for (auto &n : d.notes) emitted_.insert(n.id);
  for (auto *c : consumers_) c->handle(d);
}

void DiagnosticEngine::finish() {
  for (auto *c : consumers_) c->finish();
}

// ----------------------------------------------------------------- text --

namespace {
const char *kBold = "\033[1m";
const char *kReset = "\033[0m";
const char *severityColor(Severity s) {
  switch (s) {
  case Severity::Error: return "\033[1;31m";
  case Severity::Warning: return "\033[1;35m";
  case Severity::Note: return "\033[1;36m";
  }
  return "";
}
} // namespace

void TextDiagnosticPrinter::handle(const Diagnostic &d) {
  print(d);
  for (auto &n : d.notes) print(n);
}

void TextDiagnosticPrinter::print(const Diagnostic &d) {
  std::string out;
  if (color_) out += kBold;
  if (d.range.valid()) {
    LineCol lc = sm_.lineCol(d.range.begin);
    out += sm_.name(d.range.begin.file) + ":" + std::to_string(lc.line) + ":" +
           std::to_string(lc.column) + ": ";
  } else {
    out += "dfirc: ";
  }
  if (color_) out += severityColor(d.severity);
  out += severityName(d.severity);
  out += ": ";
  if (color_) {
    out += kReset;
    out += kBold;
  }
  out += d.message;
  if (color_) out += kReset;
  out += "\n";
  if (d.range.valid()) {
    LineCol lc = sm_.lineCol(d.range.begin);
    ShownLine shown = showLine(sm_.lineText(d.range.begin), lc.column - 1, d.range.end - d.range.begin.offset);
    out += shown.text;
    out += "\n";
    const std::string &caret = shown.caret;
    if (color_) out += "\033[1;32m";
    out += caret;
    if (color_) out += kReset;
    out += "\n";
  }
  std::fputs(out.c_str(), out_);
}

// ----------------------------------------------------------------- json --

void JsonDiagnosticPrinter::write(llvm::json::OStream &o, const Diagnostic &d) const {
  o.object([&] {
    o.attribute("severity", severityName(d.severity));
    o.attribute("kind", diagKindInfo(d.id).name);
    o.attribute("message", jsonString(d.message));
    if (d.range.valid()) {
      LineCol b = sm_.lineCol(d.range.begin);
      LineCol e = sm_.lineCol(SourceLoc{d.range.begin.file, d.range.end});
      o.attribute("file", jsonString(sm_.name(d.range.begin.file)));
      o.attribute("line", static_cast<int64_t>(b.line));
      o.attribute("column", static_cast<int64_t>(b.column));
      o.attribute("end_line", static_cast<int64_t>(e.line));
      o.attribute("end_column", static_cast<int64_t>(e.column));
    }
    if (!d.notes.empty())
      o.attributeArray("notes", [&] {
        for (const Diagnostic &n : d.notes) write(o, n);
      });
  });
}

void JsonDiagnosticPrinter::handle(const Diagnostic &d) {
  std::string line;
  {
    llvm::raw_string_ostream os(line);
    llvm::json::OStream o(os);
    write(o, d);
  }
  line += "\n";
  std::fputs(line.c_str(), out_);
}

} // namespace dfir
