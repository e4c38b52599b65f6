/* rand_u64(), rand_f64(), now_ms() and now_us(). */
#include "dfir_rt.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state;
static int rng_seeded;

void dfir_rt_seed_random(uint64_t seed) {
  rng_state = seed;
  rng_seeded = 1;
}

/* splitmix64: every seed gives a full-period stream of well-mixed values. */
uint64_t dfir_rt_rand_u64(void) {
  if (!rng_seeded) {
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
    }
    dfir_rt_seed_random(seed);
  }
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double dfir_rt_rand_f64(void) { return (double)(dfir_rt_rand_u64() >> 11) * 0x1.0p-53; }

uint64_t dfir_rt_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t dfir_rt_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
