//===- Diagnostics.h - The one channel for user-facing errors -------------===//
//
// Every user mistake is reported through a DiagnosticEngine as a registered
// kind (DiagnosticKinds.def) with a source range and optional notes. Consumers
// decide how diagnostics look: text with a caret (optionally coloured), JSON
// lines, or collected for `--verify-diagnostics`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceManager.h"

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace llvm::json {
class OStream;
}

namespace dfir {

enum class Severity { Note, Warning, Error };

enum class DiagID : uint16_t {
#define DIAG(ID, SEVERITY, FORMAT) ID,
#include "support/DiagnosticKinds.def"
  NumKinds
};

struct DiagKindInfo {
  const char *name;
  Severity severity;
  const char *format; // `{0}`, `{1}`... are replaced by the arguments
};
const DiagKindInfo &diagKindInfo(DiagID id);
unsigned numDiagKinds();

struct Diagnostic {
  DiagID id;
  Severity severity;
  SourceRange range;
  std::string message;
  std::vector<Diagnostic> notes;
};

/// Receives finished diagnostics.
class DiagnosticConsumer {
public:
  virtual ~DiagnosticConsumer() = default;
  virtual void handle(const Diagnostic &d) = 0;
  virtual void finish() {}
};

class DiagnosticEngine;

/// Built by DiagnosticEngine::report; emits itself when it goes out of scope.
/// Arguments fill the placeholders of the most recent diagnostic or note.
class DiagBuilder {
public:
  DiagBuilder(DiagnosticEngine &engine, DiagID id, SourceRange range);
  DiagBuilder(DiagBuilder &&other) noexcept;
  DiagBuilder(const DiagBuilder &) = delete;
  ~DiagBuilder();

  DiagBuilder &operator<<(std::string_view arg);
  DiagBuilder &operator<<(const std::string &arg) { return *this << std::string_view(arg); }
  DiagBuilder &operator<<(const char *arg) { return *this << std::string_view(arg); }
  DiagBuilder &operator<<(long long arg) { return *this << std::to_string(arg); }
  DiagBuilder &operator<<(unsigned long arg) { return *this << std::to_string(arg); }
  DiagBuilder &operator<<(int arg) { return *this << std::to_string(arg); }
  DiagBuilder &operator<<(unsigned arg) { return *this << std::to_string(arg); }
  DiagBuilder &note(DiagID id, SourceRange range);

private:
  void flushArgs();
  DiagnosticEngine *engine_;
  Diagnostic diag_;
  Diagnostic *current_;
  std::vector<std::string> args_;
};

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sm) : sm_(sm) {}

  DiagBuilder report(DiagID id, SourceRange range) { return DiagBuilder(*this, id, range); }

  void addConsumer(DiagnosticConsumer *c) { consumers_.push_back(c); }
  void setWarningsAsErrors(bool on) { warningsAsErrors_ = on; }
  void finish();

  unsigned errorCount() const { return errors_; }
  unsigned warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ != 0; }
  const SourceManager &sourceManager() const { return sm_; }

  /// Every kind emitted so far (for the coverage test of DiagnosticKinds.def).
  const std::set<DiagID> &emittedKinds() const { return emitted_; }

private:
  friend class DiagBuilder;
  void emit(Diagnostic d);

  const SourceManager &sm_;
  std::vector<DiagnosticConsumer *> consumers_;
  bool warningsAsErrors_ = false;
  unsigned errors_ = 0;
  unsigned warnings_ = 0;
  std::set<DiagID> emitted_;
  std::set<std::tuple<uint32_t, uint32_t, std::string>> seen_;
};

/// Renders `file:line:col: error: message`, the source line and a caret range.
class TextDiagnosticPrinter : public DiagnosticConsumer {
public:
  TextDiagnosticPrinter(const SourceManager &sm, std::FILE *out, bool color)
      : sm_(sm), out_(out), color_(color) {}
  void handle(const Diagnostic &d) override;

private:
  void print(const Diagnostic &d);
  const SourceManager &sm_;
  std::FILE *out_;
  bool color_;
};

/// One JSON object per diagnostic per line (notes nested).
class JsonDiagnosticPrinter : public DiagnosticConsumer {
public:
  JsonDiagnosticPrinter(const SourceManager &sm, std::FILE *out) : sm_(sm), out_(out) {}
  void handle(const Diagnostic &d) override;

private:
  void write(llvm::json::OStream &o, const Diagnostic &d) const;
  const SourceManager &sm_;
  std::FILE *out_;
};

/// Collects diagnostics (used by --verify-diagnostics and unit tests).
class CollectingConsumer : public DiagnosticConsumer {
public:
  void handle(const Diagnostic &d) override { diags.push_back(d); }
  std::vector<Diagnostic> diags;
};

const char *severityName(Severity s);

} // namespace dfir
