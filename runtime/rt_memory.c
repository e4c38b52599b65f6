/* Tick memory: two arenas used in turn, so values made in one tick stay
 * valid through the next (deferred items may point into them). Each
 * instance of a location has its own pair (see rt_system.c). */
#include "dfir_rt.h"
#include "rt_internal.h"

#include <stdlib.h>

typedef struct chunk {
  struct chunk *next;
  uint64_t used, cap;
  char bytes[];
} chunk;

struct dfir_arenas {
  chunk *arenas[2];
  chunk *spare; /* a default-sized chunk given back by dfir_rt_release */
  int current;
};

enum { CHUNK_SIZE = 1 << 16 };

static dfir_arenas default_arenas;
static dfir_arenas *active = &default_arenas;

dfir_arenas *dfir_rt_arenas_new(void) {
  dfir_arenas *a = (dfir_arenas *)calloc(1, sizeof(dfir_arenas));
  if (!a) dfir_rt_error("runtime", 0, "out of memory");
  return a;
}

void dfir_rt_arenas_use(dfir_arenas *a) { active = a ? a : &default_arenas; }

static void free_chunks(chunk *c) {
  while (c) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
}

void dfir_rt_arenas_free(dfir_arenas *a) {
  if (!a || a == &default_arenas) return;
  if (active == a) active = &default_arenas;
  free_chunks(a->arenas[0]);
  free_chunks(a->arenas[1]);
  free(a->spare);
  free(a);
}

void *dfir_rt_alloc(uint64_t size) {
  size = (size + 15) & ~(uint64_t)15;
  chunk *c = active->arenas[active->current];
  if (!c || c->used + size > c->cap) {
    uint64_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
    chunk *fresh = cap == CHUNK_SIZE ? active->spare : NULL;
    if (fresh) {
      active->spare = NULL;
    } else {
      fresh = (chunk *)malloc(sizeof(chunk) + cap);
      if (!fresh) dfir_rt_error("runtime", 0, "out of memory");
    }
    fresh->next = c;
    fresh->used = 0;
    fresh->cap = cap;
    active->arenas[active->current] = c = fresh;
  }
  void *p = c->bytes + c->used;
  c->used += size;
  return p;
}

void *dfir_rt_mark(void) {
  chunk *c = active->arenas[active->current];
  return c ? c->bytes + c->used : NULL;
}

static int holds(const chunk *c, const void *mark) {
  uintptr_t m = (uintptr_t)mark, start = (uintptr_t)c->bytes;
  return m >= start && m <= start + c->cap;
}

void dfir_rt_release(void *mark) {
  chunk **top = &active->arenas[active->current];
  chunk *c;
  /* Chunks started after the mark go; the first one is kept for reuse. */
  while ((c = *top) && !(mark && holds(c, mark))) {
    *top = c->next;
    if (!active->spare && c->cap == CHUNK_SIZE) {
      active->spare = c;
    } else {
      free(c);
    }
  }
  if (c) c->used = (uint64_t)((char *)mark - c->bytes);
}

void dfir_rt_tick_done(void) {
  /* The arena of the tick before this one is no longer referenced. */
  active->current ^= 1;
  free_chunks(active->arenas[active->current]);
  active->arenas[active->current] = NULL;
}
