//===- Check.h - DFIR_CHECK for compiler bugs -----------------------------===//
//
// User mistakes go to the DiagnosticEngine; a DFIR_CHECK failure is a bug in
// dfirc. It prints what failed and where, then aborts (the driver turns the
// abort into an "internal compiler error" with a backtrace and exit code 70).
//
//===----------------------------------------------------------------------===//
#pragma once

namespace dfir {
[[noreturn]] void checkFailed(const char *file, int line, const char *cond, const char *msg);
}

#define DFIR_CHECK(cond, msg)                                                          \
  do {                                                                                 \
    if (!(cond)) ::dfir::checkFailed(__FILE__, __LINE__, #cond, msg);                  \
  } while (0)
