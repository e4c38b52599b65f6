#include "support/VerifyDiagnostics.h"

#include <regex>
#include <string>

namespace dfir {

namespace {
/// The line of a diagnostic in a `<command line>` buffer (a transform's
/// flag), expected with `expected-error@cli`.
constexpr unsigned kCommandLine = ~0u;

struct Expectation {
  Severity severity;
  unsigned line;      // line the diagnostic must be reported on
  unsigned written;   // line the comment is written on
  std::string text;
  unsigned remaining;
};

struct Seen {
  Severity severity;
  unsigned line;
  std::string message;
};

std::vector<Expectation> parseExpectations(const SourceManager &sm, uint32_t file) {
  static const std::regex re(
      R"(expected-(error|warning|note)(@(cli|([+-]?)([0-9]+)))?[ \t]*([0-9]+)?[ \t]*\{\{(.*?)\}\})");
  std::vector<Expectation> out;
  std::string_view text = sm.text(file);
  unsigned line = sm.firstLine(file);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string l(text.substr(pos, nl - pos));
    for (auto it = std::sregex_iterator(l.begin(), l.end(), re); it != std::sregex_iterator(); ++it) {
      const std::smatch &m = *it;
      Expectation e;
      e.severity = m[1] == "error" ? Severity::Error
                   : m[1] == "warning" ? Severity::Warning
                                        : Severity::Note;
      e.written = line;
      e.line = line;
      if (m[3] == "cli") {
        e.line = kCommandLine;
      } else if (m[2].matched) {
        long n = std::stol(m[5].str());
        if (m[4] == "+") e.line = line + static_cast<unsigned>(n);
        else if (m[4] == "-") e.line = line - static_cast<unsigned>(n);
        else e.line = static_cast<unsigned>(n);
      }
      e.remaining = m[6].matched ? static_cast<unsigned>(std::stoul(m[6].str())) : 1;
      e.text = m[7].str();
      out.push_back(e);
    }
    pos = nl + 1;
    ++line;
  }
  return out;
}
} // namespace

bool verifyDiagnostics(const SourceManager &sm, uint32_t file,
                       const std::vector<Diagnostic> &produced, std::FILE *out) {
  std::vector<Expectation> expected = parseExpectations(sm, file);
  std::vector<Seen> unexpected;
  auto match = [&](const Diagnostic &d) {
    unsigned line = !d.range.valid()                                      ? 0
                    : sm.name(d.range.begin.file) == "<command line>" ? kCommandLine
                                                                      : sm.lineCol(d.range.begin).line;
    for (auto &e : expected) {
      if (e.remaining && e.severity == d.severity && e.line == line &&
          d.message.find(e.text) != std::string::npos) {
        --e.remaining;
        return;
      }
    }
    unexpected.push_back({d.severity, line, d.message});
  };
  for (const auto &d : produced) {
    match(d);
    for (const auto &n : d.notes) match(n);
  }
  bool ok = true;
  const std::string &name = sm.name(file);
  for (Severity s : {Severity::Error, Severity::Warning, Severity::Note}) {
    bool header = false;
    for (auto &e : expected) {
      if (e.severity != s || !e.remaining) continue;
      if (!header) {
        std::fprintf(out, "error: '%s' diagnostics expected but not seen:\n", severityName(s));
        header = true;
      }
      if (e.line == kCommandLine)
        std::fprintf(out, "  <command line> (written on line %u): %s\n", e.written, e.text.c_str());
      else
        std::fprintf(out, "  %s:%u (written on line %u): %s\n", name.c_str(), e.line, e.written, e.text.c_str());
      ok = false;
    }
    header = false;
    for (auto &u : unexpected) {
      if (u.severity != s) continue;
      if (!header) {
        std::fprintf(out, "error: '%s' diagnostics seen but not expected:\n", severityName(s));
        header = true;
      }
      if (u.line == kCommandLine)
        std::fprintf(out, "  <command line>: %s\n", u.message.c_str());
      else
        std::fprintf(out, "  %s:%u: %s\n", name.c_str(), u.line, u.message.c_str());
      ok = false;
    }
  }
  return ok;
}

} // namespace dfir
