/* Periodic timers (source_interval), on the monotonic clock. */
#include "dfir_rt.h"

#include <time.h>

#include "rt_internal.h"

enum { kMaxTimers = 1 << 16 };

static struct {
  uint64_t period_ms, next_ms;
  uint32_t owner;
  int stopped; /* its owner crashed (dfirc sim): it never fires again */
} timers[kMaxTimers];
static uint32_t timer_count, stopped_count;
uint32_t dfir_rt_timer_owner;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint32_t dfir_rt_timer_add(uint64_t period_ms) {
  if (timer_count == kMaxTimers) dfir_rt_error("source_interval", 0, "too many timers");
  if (period_ms == 0) period_ms = 1;
  timers[timer_count].period_ms = period_ms;
  timers[timer_count].next_ms = now_ms() + period_ms;
  timers[timer_count].owner = dfir_rt_timer_owner;
  timers[timer_count].stopped = 0;
  return timer_count++;
}

uint64_t dfir_rt_timer_take(uint32_t id) {
  uint64_t now = now_ms(), n = 0;
  while (timers[id].next_ms <= now) {
    timers[id].next_ms += timers[id].period_ms;
    ++n;
  }
  return n;
}

/* For the tick loop: whether any timer exists, and ms until the next fires
 * (0 if one is due). */
int dfir_rt_timers_active(void) { return timer_count > stopped_count; }

void dfir_rt_timers_stop(uint32_t owner) {
  for (uint32_t i = 0; i < timer_count; ++i)
    if (timers[i].owner == owner && !timers[i].stopped) {
      timers[i].stopped = 1;
      ++stopped_count;
    }
}

uint64_t dfir_rt_timers_wait_ms(void) {
  uint64_t now = now_ms(), best = UINT64_MAX;
  for (uint32_t i = 0; i < timer_count; ++i) {
    if (timers[i].stopped) continue;
    uint64_t wait = timers[i].next_ms > now ? timers[i].next_ms - now : 0;
    if (wait < best) best = wait;
  }
  return best;
}

int dfir_rt_timers_due_for(uint32_t owner) {
  uint64_t now = now_ms();
  for (uint32_t i = 0; i < timer_count; ++i)
    if (timers[i].owner == owner && !timers[i].stopped && timers[i].next_ms <= now) return 1;
  return 0;
}

void dfir_rt_sleep_ms(uint64_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}
