/* Hash sets and multimaps over canonically encoded byte strings. Open
 * addressing with linear probing; every key and value lives in its own
 * allocation, so pointers handed out stay valid until the table is cleared. */
#include "dfir_rt.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  uint64_t hash;
  uint64_t klen;
  char *key; /* NULL: empty slot */
  uint64_t count, cap;
  char **values;
  uint64_t *vlens;
} entry;

struct dfir_table {
  entry *slots;
  uint64_t cap; /* a power of two */
  uint64_t used;
};

uint64_t dfir_rt_hash_bytes(const void *bytes, uint64_t len) {
  /* FNV-1a, then a final avalanche (splitmix64): stable and portable. */
  const unsigned char *p = (const unsigned char *)bytes;
  uint64_t h = 1469598103934665603ull;
  for (uint64_t i = 0; i < len; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

static void *checked(void *p) {
  if (!p) dfir_rt_error("runtime", 0, "out of memory in a hash table");
  return p;
}

static char *copy(const void *bytes, uint64_t len) {
  char *p = (char *)checked(malloc(len ? len : 1));
  if (len) memcpy(p, bytes, len);
  return p;
}

static entry *probe(dfir_table *t, const void *key, uint64_t len, uint64_t hash) {
  uint64_t mask = t->cap - 1;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    entry *e = &t->slots[i];
    if (!e->key) return e;
    if (e->hash == hash && e->klen == len && memcmp(e->key, key, len) == 0) return e;
  }
}

static void grow(dfir_table *t) {
  uint64_t old = t->cap;
  entry *slots = t->slots;
  t->cap = old ? old * 2 : 16;
  t->slots = (entry *)checked(calloc(t->cap, sizeof(entry)));
  for (uint64_t i = 0; i < old; ++i)
    if (slots[i].key) *probe(t, slots[i].key, slots[i].klen, slots[i].hash) = slots[i];
  free(slots);
}

static entry *find_or_add(dfir_table **table, const void *key, uint64_t len, int *added) {
  if (!*table) *table = (dfir_table *)checked(calloc(1, sizeof(dfir_table)));
  dfir_table *t = *table;
  if ((t->used + 1) * 4 > t->cap * 3) grow(t);
  uint64_t hash = dfir_rt_hash_bytes(key, len);
  entry *e = probe(t, key, len, hash);
  *added = !e->key;
  if (!e->key) {
    e->hash = hash;
    e->klen = len;
    e->key = copy(key, len);
    t->used += 1;
  }
  return e;
}

int dfir_rt_set_insert(dfir_table **set, const void *key, uint64_t len) {
  int added;
  find_or_add(set, key, len, &added);
  return added;
}

int dfir_rt_map_insert(dfir_table **map, const void *key, uint64_t klen, const void *value, uint64_t vlen,
                       int multiset) {
  int added;
  entry *e = find_or_add(map, key, klen, &added);
  if (!multiset)
    for (uint64_t i = 0; i < e->count; ++i)
      if (e->vlens[i] == vlen && memcmp(e->values[i], value, vlen) == 0) return 0;
  if (e->count == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 2;
    e->values = (char **)checked(realloc(e->values, e->cap * sizeof(char *)));
    e->vlens = (uint64_t *)checked(realloc(e->vlens, e->cap * sizeof(uint64_t)));
  }
  e->values[e->count] = copy(value, vlen);
  e->vlens[e->count] = vlen;
  e->count += 1;
  return 1;
}


static entry *lookup(dfir_table *t, const void *key, uint64_t len) {
  if (!t || !t->used) return NULL;
  entry *e = probe(t, key, len, dfir_rt_hash_bytes(key, len));
  return e->key ? e : NULL;
}

int dfir_rt_set_contains(dfir_table *set, const void *key, uint64_t len) { return lookup(set, key, len) != NULL; }

void *dfir_rt_scratch(uint32_t slot, uint64_t size) {
  static void *buffers[4];
  static uint64_t sizes[4];
  if (slot >= 4) dfir_rt_error("runtime", 0, "bad scratch slot");
  if (size > sizes[slot]) {
    uint64_t cap = sizes[slot] ? sizes[slot] : 64;
    while (cap < size) cap *= 2;
    buffers[slot] = checked(realloc(buffers[slot], cap));
    sizes[slot] = cap;
  }
  return buffers[slot];
}

const void *dfir_rt_map_find(dfir_table *map, const void *key, uint64_t klen) { return lookup(map, key, klen); }

uint64_t dfir_rt_entry_count(const void *e) { return e ? ((const entry *)e)->count : 0; }

const void *dfir_rt_entry_value(const void *e, uint64_t index, uint64_t *vlen) {
  const entry *en = (const entry *)e;
  *vlen = en->vlens[index];
  return en->values[index];
}

void dfir_rt_map_put(dfir_table **map, const void *key, uint64_t klen, const void *value, uint64_t vlen) {
  int added;
  entry *e = find_or_add(map, key, klen, &added);
  for (uint64_t k = 0; k < e->count; ++k) free(e->values[k]);
  e->count = 0;
  dfir_rt_map_insert(map, key, klen, value, vlen, 1);
}

const void *dfir_rt_table_next(dfir_table *t, uint64_t *cursor) {
  if (!t) return NULL;
  while (*cursor < t->cap) {
    entry *e = &t->slots[(*cursor)++];
    if (e->key) return e;
  }
  return NULL;
}

const void *dfir_rt_entry_key(const void *e, uint64_t *klen) {
  *klen = ((const entry *)e)->klen;
  return ((const entry *)e)->key;
}

static void release(dfir_table *t) {
  for (uint64_t i = 0; i < t->cap; ++i) {
    entry *e = &t->slots[i];
    if (!e->key) continue;
    for (uint64_t k = 0; k < e->count; ++k) free(e->values[k]);
    free(e->values);
    free(e->vlens);
    free(e->key);
  }
}

void dfir_rt_table_clear(dfir_table *t) {
  if (!t) return;
  release(t);
  memset(t->slots, 0, t->cap * sizeof(entry));
  t->used = 0;
}

void dfir_rt_table_free(dfir_table **table) {
  if (!*table) return;
  release(*table);
  free((*table)->slots);
  free(*table);
  *table = NULL;
}
