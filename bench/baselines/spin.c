/* CPU-bound work per message for bench/rewrites: `rounds` steps of a
 * 64-bit mixing function (an LCG step and an xorshift), opaque to the
 * optimizer of the program that calls it. */
#include <stdint.h>

int64_t spin(int64_t x, int64_t rounds) {
  uint64_t v = (uint64_t)x;
  for (int64_t i = 0; i < rounds; ++i) {
    v = v * 6364136223846793005ull + 1442695040888963407ull;
    v ^= v >> 33;
  }
  return (int64_t)(v >> 1);
}
