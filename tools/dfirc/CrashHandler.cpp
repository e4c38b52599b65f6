//===- CrashHandler.cpp - Compiler bugs get a distinct exit code ----------===//
#include "tools/dfirc/Driver.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <execinfo.h>
#include <unistd.h>

namespace dfir::driver {

static void writeStr(const char *s) {
  ssize_t r = write(STDERR_FILENO, s, std::strlen(s));
  (void)r;
}

static void printBacktrace() {
  void *frames[64];
  int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

[[noreturn]] static void die(const char *what) {
  writeStr("dfirc: internal compiler error: ");
  writeStr(what);
  writeStr("\nthis is a bug in dfirc, not in your program; please report it with the input "
           "file.\n");
  printBacktrace();
  _exit(kExitInternal);
}

static void onSignal(int sig) {
  switch (sig) {
  case SIGSEGV: die("segmentation fault");
  case SIGBUS: die("bus error");
  case SIGFPE: die("arithmetic exception");
  case SIGILL: die("illegal instruction");
  case SIGABRT: die("aborted");
  default: die("fatal signal");
  }
}

void installCrashHandlers() {
  // Run handlers on their own stack so a stack overflow is reported too.
  static char altStack[1 << 16];
  stack_t ss{};
  ss.ss_sp = altStack;
  ss.ss_size = sizeof altStack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_ONSTACK;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
}

void internalError(const std::string &message) { die(message.c_str()); }

} // namespace dfir::driver
