/* Hash sets and multimaps over canonically encoded byte strings. A small
 * open-addressing index over a dense array of entries, so
 * iteration follows insertion order. Keys, values and value arrays live in
 * per-table chunks, so key and value pointers handed out stay valid until the
 * table is cleared (a map_put may overwrite its key's value in place); entry
 * pointers only until the next insert. */
#include "dfir_rt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
  char *key;
  uint64_t hash;  /* key_hash of the key: compared before the key, and what growth re-places */
  uint64_t count;
  char **values;  /* `cap` pointers to each value's bytes, then `cap` lengths (uint64_t) */
  uint32_t klen;
  uint32_t cap;
  uint32_t vcap;  /* bytes available at values[0], for map_put to reuse (0: unknown) */
  uint32_t dead;  /* removed (dfir_rt_table_remove): no values, skipped by iteration */
} entry;
_Static_assert(sizeof(entry) == 48, "entry layout");

/* Generated code reads `count` and `values` directly (dfir_rt.h). */
_Static_assert(offsetof(entry, count) == DFIR_RT_ENTRY_COUNT_OFFSET, "entry layout");
_Static_assert(offsetof(entry, values) == DFIR_RT_ENTRY_VALUES_OFFSET, "entry layout");

/* What dfir_rt_map_find returns for an absent key: no values. */
static const entry absent;

/* The lengths of an entry's values, after its value pointers. */
static inline uint64_t *value_lens(const entry *e) { return (uint64_t *)(e->values + e->cap); }

/* One slot of the index, 8 bytes: 1 + the entry's position in the dense
 * entry array in the low half (0: empty), a check of the key's hash above
 * it (the top half of the hash times an odd constant, so keys that differ
 * only in their low bits, like small integers, still differ there).
 * Small slots keep probing in cache and the index small (it is most of a
 * large table's memory); a slot whose check matches is confirmed
 * against the entry, which the caller reads anyway. The dense array makes
 * iteration follow insertion order. */
typedef uint64_t slot;

/* An entry's `vcap` for `room` bytes: 0 (unknown, so the next map_put
 * makes room afresh) when it does not fit. */
static inline uint32_t room_of(uint64_t room) { return room <= UINT32_MAX ? (uint32_t)room : 0; }

static inline uint32_t slot_index(slot s) { return (uint32_t)s; }
static inline uint64_t slot_check(uint64_t hash) { return (hash * 0x9E3779B97F4A7C15ull) & ~(uint64_t)UINT32_MAX; }
static inline slot make_slot(uint64_t hash, uint32_t index) { return slot_check(hash) | index; }

/* Keys, values and the per-entry value arrays live in chunks that are only
 * released when the table is cleared or freed. */
typedef struct chunk {
  struct chunk *next;
  uint64_t used, cap;
  char bytes[];
} chunk;

struct dfir_table {
  slot *slots;
  uint64_t cap; /* a power of two */
  entry *entries;
  uint64_t used, entries_cap;
  uint64_t dead; /* removed entries still in `entries` */
  chunk *chunks;
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

static void *arena_alloc(dfir_table *t, uint64_t len) {
  uint64_t need = (len + 7) & ~(uint64_t)7;
  if (!t->chunks || t->chunks->cap - t->chunks->used < need) {
    uint64_t cap = t->chunks ? t->chunks->cap * 2 : 4096;
    if (cap > (1u << 20)) cap = 1u << 20;
    if (cap < need) cap = need;
    chunk *c = (chunk *)checked(malloc(sizeof(chunk) + cap));
    c->next = t->chunks;
    c->used = 0;
    c->cap = cap;
    t->chunks = c;
  }
  char *p = t->chunks->bytes + t->chunks->used;
  t->chunks->used += need;
  return p;
}

static char *copy(dfir_table *t, const void *bytes, uint64_t len) {
  char *p = (char *)arena_alloc(t, len);
  if (len) memcpy(p, bytes, len);
  return p;
}

/* The index hash of a key. Keys of at most 8 bytes (integers, small tuples)
 * hash to their own bits, so nearby keys land in nearby slots; the probe
 * sequence below mixes in the high bits, so regular patterns (multiples of
 * the capacity) still spread out. Longer keys use the portable hash. */
static inline uint64_t key_hash(const void *key, uint64_t len) {
  uint64_t v = 0;
  if (len == 8) { /* the common case (64-bit integers): one load */
    memcpy(&v, key, 8);
    return v;
  }
  if (len > 8) return dfir_rt_hash_bytes(key, len);
  const unsigned char *p = (const unsigned char *)key; /* little-endian, as a load would read them */
  for (uint64_t i = 0; i < len; ++i) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* Open addressing with a perturbed probe sequence: the first slot is the
 * hash's low bits, later ones fold in the hash's remaining bits. */
#define FOR_EACH_PROBE(i, hash, mask) \
  for (uint64_t i = (hash) & (mask), perturb_ = (hash);; perturb_ >>= 5, i = (i * 5 + 1 + perturb_) & (mask))

/* The slot holding `key`, or the empty slot where it would go. */
static inline slot *probe(dfir_table *t, const void *key, uint64_t len, uint64_t hash) {
  uint64_t mask = t->cap - 1, check = slot_check(hash);
  FOR_EACH_PROBE(i, hash, mask) {
    slot *s = &t->slots[i];
    if (!slot_index(*s)) return s;
    if ((*s & ~(uint64_t)UINT32_MAX) != check) continue;
    const entry *e = &t->entries[slot_index(*s) - 1];
    if (e->hash != hash || e->klen != len) continue;
    /* Keys of at most 8 bytes and equal length have equal hashes only when
     * they are equal (key_hash), so only longer keys are compared. */
    if (len <= 8 || memcmp(e->key, key, len) == 0) return s;
  }
}

/* Twice the slots, every entry (removed ones too: they can come back)
 * placed again from its hash. The index grows in place, so only its new
 * half is memory the table has not touched before. */
static void grow(dfir_table *t) {
  t->cap = t->cap ? t->cap * 2 : 16;
  if (t->cap > UINT64_MAX / sizeof(slot)) dfir_rt_error("runtime", 0, "a hash table grew past the memory of this machine");
  t->slots = (slot *)checked(realloc(t->slots, t->cap * sizeof(slot)));
  memset(t->slots, 0, t->cap * sizeof(slot));
  uint64_t mask = t->cap - 1;
  for (uint64_t e = 0; e < t->used; ++e) {
    uint64_t hash = t->entries[e].hash;
    FOR_EACH_PROBE(j, hash, mask) {
      if (!slot_index(t->slots[j])) {
        t->slots[j] = make_slot(hash, (uint32_t)(e + 1));
        break;
      }
    }
  }
}

static inline entry *find_or_add(dfir_table **table, const void *key, uint64_t len, int *added) {
  if (!*table) *table = (dfir_table *)checked(calloc(1, sizeof(dfir_table)));
  dfir_table *t = *table;
  if ((t->used + 1) * 4 > t->cap * 3) grow(t);
  uint64_t hash = key_hash(key, len);
  slot *s = probe(t, key, len, hash);
  *added = !slot_index(*s);
  if (slot_index(*s)) {
    entry *e = &t->entries[slot_index(*s) - 1];
    if (e->dead) { /* a removed key comes back (at its old place in the order) */
      e->dead = 0;
      --t->dead;
      *added = 1;
    }
    return e;
  }
  if (t->used == UINT32_MAX) dfir_rt_error("runtime", 0, "a hash table holds more than 4294967295 keys");
  if (len > UINT32_MAX) dfir_rt_error("runtime", 0, "a hash table key is longer than 4294967295 bytes");
  if (t->used == t->entries_cap) {
    t->entries_cap = t->entries_cap ? t->entries_cap * 2 : 8;
    t->entries = (entry *)checked(realloc(t->entries, t->entries_cap * sizeof(entry)));
  }
  entry *e = &t->entries[t->used];
  memset(e, 0, sizeof *e);
  e->klen = (uint32_t)len;
  e->hash = hash;
  e->key = copy(t, key, len);
  *s = make_slot(hash, (uint32_t)++t->used);
  return e;
}

int dfir_rt_set_insert(dfir_table **set, const void *key, uint64_t len) {
  int added;
  find_or_add(set, key, len, &added);
  return added;
}

/* Room for at least one more value in `e`'s array (an old array stays in
 * the chunks; old arrays are at most as large as the new one together). */
static void reserve_value(dfir_table *t, entry *e) {
  if (e->count < e->cap) return;
  if (e->cap == UINT32_MAX / 2 + 1) dfir_rt_error("runtime", 0, "a key of a hash table has more than 2147483648 values");
  uint32_t cap = e->cap ? e->cap * 2 : 1;
  char **values = (char **)arena_alloc(t, cap * (sizeof(char *) + sizeof(uint64_t)));
  if (e->count) {
    memcpy(values, e->values, e->count * sizeof(char *));
    memcpy(values + cap, value_lens(e), e->count * sizeof(uint64_t));
  }
  e->values = values;
  e->cap = cap;
}

/* Appends a copy of `value` to `e`'s values. */
static void append_value(dfir_table *t, entry *e, const void *value, uint64_t vlen) {
  reserve_value(t, e);
  e->values[e->count] = copy(t, value, vlen);
  value_lens(e)[e->count] = vlen;
  e->count += 1;
}

int dfir_rt_map_insert(dfir_table **map, const void *key, uint64_t klen, const void *value, uint64_t vlen,
                       int multiset) {
  int added;
  entry *e = find_or_add(map, key, klen, &added);
  if (!multiset && e->count) { /* (an entry without values may have no array) */
    const uint64_t *lens = value_lens(e);
    for (uint64_t i = 0; i < e->count; ++i)
      if (lens[i] == vlen && memcmp(e->values[i], value, vlen) == 0) return 0;
  }
  if (e->count == 0) e->vcap = room_of(vlen);
  append_value(*map, e, value, vlen);
  return 1;
}

static inline entry *lookup(dfir_table *t, const void *key, uint64_t len) {
  if (!t || !t->used) return NULL;
  slot s = *probe(t, key, len, key_hash(key, len));
  return slot_index(s) ? &t->entries[slot_index(s) - 1] : NULL;
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

const void *dfir_rt_map_find(dfir_table *map, const void *key, uint64_t klen) {
  entry *e = lookup(map, key, klen);
  return e ? e : &absent;
}

uint64_t dfir_rt_entry_count(const void *e) { return e ? ((const entry *)e)->count : 0; }

const void *dfir_rt_entry_value(const void *e, uint64_t index, uint64_t *vlen) {
  const entry *en = (const entry *)e;
  *vlen = value_lens(en)[index];
  return en->values[index];
}

void dfir_rt_map_put(dfir_table **map, const void *key, uint64_t klen, const void *value, uint64_t vlen) {
  int added;
  entry *e = find_or_add(map, key, klen, &added);
  if (e->count == 0 || e->vcap < vlen) {
    /* A growing value (a string accumulator) gets room to double, so
     * repeated puts use space proportional to the final value. */
    uint64_t room = (uint64_t)e->vcap * 2 > vlen ? (uint64_t)e->vcap * 2 : vlen;
    if (!e->cap) reserve_value(*map, e);
    e->values[0] = (char *)arena_alloc(*map, room);
    e->vcap = room_of(room);
  }
  if (vlen) memcpy(e->values[0], value, vlen);
  value_lens(e)[0] = vlen;
  e->count = 1;
}

const void *dfir_rt_table_next(dfir_table *t, uint64_t *cursor) {
  if (!t) return NULL;
  while (*cursor < t->used && t->entries[*cursor].dead) ++*cursor;
  return *cursor < t->used ? &t->entries[(*cursor)++] : NULL;
}

static void release(dfir_table *t) {
  while (t->chunks) {
    chunk *next = t->chunks->next;
    free(t->chunks);
    t->chunks = next;
  }
}

/* Rebuilds `t` with its live entries only, in their order: what removed
 * keys and values held is given back. */
static void compact(dfir_table *t) {
  dfir_table *fresh = NULL;
  for (uint64_t i = 0; i < t->used; ++i) {
    entry *e = &t->entries[i];
    if (e->dead) continue;
    int added;
    entry *n = find_or_add(&fresh, e->key, e->klen, &added);
    for (uint64_t v = 0; v < e->count; ++v) append_value(fresh, n, e->values[v], value_lens(e)[v]);
    n->vcap = n->count ? room_of(value_lens(n)[0]) : 0;
  }
  release(t);
  free(t->slots);
  free(t->entries);
  if (fresh) {
    *t = *fresh;
    free(fresh);
  } else {
    memset(t, 0, sizeof *t);
  }
}

int dfir_rt_table_remove(dfir_table *t, const void *key, uint64_t len) {
  entry *e = lookup(t, key, len);
  if (!e || e->dead) return 0;
  e->dead = 1;
  e->count = 0;
  e->cap = 0; /* its arrays stay in the chunks until a compaction */
  e->vcap = 0;
  ++t->dead;
  if (t->dead > 64 && t->dead * 2 > t->used) compact(t);
  return 1;
}

const void *dfir_rt_entry_key(const void *e, uint64_t *klen) {
  *klen = ((const entry *)e)->klen;
  return ((const entry *)e)->key;
}

void dfir_rt_table_clear(dfir_table *t) {
  if (!t) return;
  release(t);
  memset(t->slots, 0, t->cap * sizeof(slot));
  t->used = 0;
  t->dead = 0;
}

void dfir_rt_table_free(dfir_table **table) {
  if (!*table) return;
  release(*table);
  free((*table)->slots);
  free((*table)->entries);
  free(*table);
  *table = NULL;
}
