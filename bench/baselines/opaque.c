/* Linked into every benchmark program, dfirc's and the baseline's, as its
 * own translation unit: neither optimizer sees through it, so sizes are not
 * compile-time constants and no loop is folded into a formula. Every size
 * is multiplied by $BENCH_SCALE (default 1), which bench/run chooses per
 * shape so that a run computes for long enough; BENCH_SCALE=0 leaves only
 * start-up. */
#include <stdint.h>
#include <stdlib.h>

int64_t bench_n(int64_t n) {
  static int64_t scale = -1;
  if (scale < 0) {
    const char *s = getenv("BENCH_SCALE");
    scale = s ? atoll(s) : 1;
    if (scale < 0) scale = 1;
  }
  return n * scale;
}
