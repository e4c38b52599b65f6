#include "ir/Check.h"

#include <cstdio>
#include <cstdlib>

namespace dfir {
void checkFailed(const char *file, int line, const char *cond, const char *msg) {
  std::fprintf(stderr, "dfirc: check failed at %s:%d: `%s`: %s\n", file, line, cond, msg);
  std::abort();
}
} // namespace dfir
