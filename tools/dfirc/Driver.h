//===- Driver.h - What each dfirc subcommand does, without the CLI --------===//
//
// main.cpp parses the command line (CLI11 lives only there) and calls these.
// Each returns the process exit code; exit codes are decided only in tools/.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>

namespace dfir::driver {

enum ExitCode : int {
  kExitOk = 0,
  kExitUserError = 1,  // diagnostics were reported, or verification failed
  kExitUsage = 2,      // bad command line
  kExitInternal = 70,  // a compiler bug (EX_SOFTWARE)
};

struct DiagOptions {
  bool noColor = false;
  std::string format = "text"; // text | json
  bool warningsAsErrors = false;
  bool verify = false;
  bool splitInputFile = false;
};

struct CheckOptions {
  std::string input;
  std::string emit; // "" | tokens | ast
  DiagOptions diag;
};

int runCheck(const CheckOptions &opts);
int listDiagnosticKinds();

/// Installs handlers that turn crashes into an "internal compiler error"
/// message and exit code kExitInternal.
void installCrashHandlers();
[[noreturn]] void internalError(const std::string &message);

} // namespace dfir::driver
