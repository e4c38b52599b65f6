/* Tick memory: two arenas used in turn, so values made in one tick stay
 * valid through the next (deferred items may point into them). */
#include "dfir_rt.h"

#include <stdlib.h>

typedef struct chunk {
  struct chunk *next;
  uint64_t used, cap;
  char bytes[];
} chunk;

static chunk *arenas[2];
static int current;

void *dfir_rt_alloc(uint64_t size) {
  size = (size + 15) & ~(uint64_t)15;
  chunk *c = arenas[current];
  if (!c || c->used + size > c->cap) {
    uint64_t cap = size > (1u << 16) ? size : (1u << 16);
    chunk *fresh = (chunk *)malloc(sizeof(chunk) + cap);
    if (!fresh) dfir_rt_error("runtime", 0, "out of memory");
    fresh->next = c;
    fresh->used = 0;
    fresh->cap = cap;
    arenas[current] = c = fresh;
  }
  void *p = c->bytes + c->used;
  c->used += size;
  return p;
}

void dfir_rt_tick_done(void) {
  /* The arena of the tick before this one is no longer referenced. */
  current ^= 1;
  chunk *c = arenas[current];
  while (c) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
  arenas[current] = NULL;
}
