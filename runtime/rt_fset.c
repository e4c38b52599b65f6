/* Sets of fixed-width keys (one or two 64-bit words: integers, and tuples
 * of two), probed by generated code inline (docs/runtime.md, "Fixed-width
 * sets"): open addressing with linear probing over slots of a tag word and
 * the key's words. A tag is the key's hash with its low bit set (0: an empty
 * slot), and a key's first slot is the tag's top bits; the generated code hashes, probes and inserts, and calls here only
 * to make room, to empty the set and to free it. */
#include "dfir_rt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(dfir_fset, slots) == 0, "fset layout");
_Static_assert(offsetof(dfir_fset, mask) == 8, "fset layout");
_Static_assert(offsetof(dfir_fset, count) == 16, "fset layout");
_Static_assert(offsetof(dfir_fset, limit) == 24, "fset layout");
_Static_assert(offsetof(dfir_fset, shift) == 32, "fset layout");

/* Twice the room, every key moved to its slot in the new index (a tag's top
 * bits are its place: the hash). Grows while at most half full. */
void dfir_rt_fset_grow(dfir_fset *s, uint64_t words) {
  uint64_t stride = words + 1;
  uint64_t old = s->slots ? s->mask + 1 : 0;
  uint64_t cap = old ? old * 2 : 16;
  if (cap > (UINT64_MAX / 8) / stride) dfir_rt_error("runtime", 0, "a set grew past the memory of this machine");
  uint64_t *slots = (uint64_t *)calloc(cap * stride, sizeof(uint64_t));
  if (!slots) dfir_rt_error("runtime", 0, "out of memory in a set");
  uint64_t mask = cap - 1, shift = 64;
  for (uint64_t c = cap; c > 1; c >>= 1) --shift;
  for (uint64_t i = 0; i < old; ++i) {
    const uint64_t *from = s->slots + i * stride;
    if (!from[0]) continue;
    uint64_t j = from[0] >> shift;
    while (slots[j * stride]) j = (j + 1) & mask;
    for (uint64_t w = 0; w < stride; ++w) slots[j * stride + w] = from[w]; /* a few words: no call */
  }
  free(s->slots);
  s->slots = slots;
  s->mask = mask;
  s->shift = shift;
  s->limit = cap / 2;
}

uint64_t *dfir_rt_fset_add(dfir_fset *s, uint64_t words, uint64_t keys, uint64_t tag, uint64_t k0, uint64_t k1) {
  if (s->count >= s->limit) dfir_rt_fset_grow(s, words);
  uint64_t stride = words + 1, i = tag >> s->shift;
  while (s->slots[i * stride]) i = (i + 1) & s->mask;
  uint64_t *slot = s->slots + i * stride;
  slot[0] = tag;
  slot[1] = k0;
  if (keys > 1) slot[2] = k1;
  s->count++;
  return slot;
}

void dfir_rt_fset_clear(dfir_fset *s, uint64_t words) {
  if (!s->count) return;
  memset(s->slots, 0, (s->mask + 1) * (words + 1) * sizeof(uint64_t));
  s->count = 0;
}

void dfir_rt_fset_free(dfir_fset *s) {
  free(s->slots);
  memset(s, 0, sizeof *s);
}
