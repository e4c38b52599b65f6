/* Checks items received from the network against their channel's wire
 * schema (dfir_rt.h, docs/runtime.md) before any generated decoder reads
 * them: every length and count is checked against the bytes that remain,
 * every tag against the tags the type has, and nesting is bounded, so that
 * a decoder only ever reads bytes of the item it was given. */
#include "rt_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const uint32_t *schema;
  uint32_t words;
  const unsigned char *p;
  uint64_t len, at;
  const char *why;
} checker;

static int fail(checker *c, const char *why) {
  c->why = why;
  return 0;
}

static uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* The node at `node`'s word `k`, or 0 (no node kind) past the schema. */
static uint32_t word(const checker *c, uint32_t node, uint32_t k) {
  return (uint64_t)node + k < c->words ? c->schema[node + k] : 0;
}

/* The fewest bytes a value of `node` encodes to (bounded, for list counts). */
static uint64_t min_size(const checker *c, uint32_t node, int depth) {
  if (depth > 8) return 0;
  switch (word(c, node, 0)) {
  case DFIR_WIRE_BOOL: return 1;
  case DFIR_WIRE_FIXED: return word(c, node, 1);
  case DFIR_WIRE_STR:
  case DFIR_WIRE_LIST: return 8;
  case DFIR_WIRE_OPTION: return 1 + min_size(c, word(c, node, 1), depth + 1);
  case DFIR_WIRE_ENUM: return 4;
  case DFIR_WIRE_TUPLE: {
    uint64_t total = 0;
    for (uint32_t i = 0; i < word(c, node, 1); ++i) total += min_size(c, word(c, node, 2 + i), depth + 1);
    return total;
  }
  default: return 0;
  }
}

/* The size of every value of `node` when there is nothing to check in it
 * but its length (integers, floats, units and tuples of them); else -1. */
static int64_t plain_size(const checker *c, uint32_t node, int depth) {
  if (depth > 8) return -1;
  switch (word(c, node, 0)) {
  case DFIR_WIRE_UNIT: return 0;
  case DFIR_WIRE_FIXED: return word(c, node, 1);
  case DFIR_WIRE_TUPLE: {
    int64_t total = 0;
    for (uint32_t i = 0; i < word(c, node, 1); ++i) {
      int64_t k = plain_size(c, word(c, node, 2 + i), depth + 1);
      if (k < 0) return -1;
      total += k;
    }
    return total;
  }
  default: return -1;
  }
}

static int check(checker *c, uint32_t node, int depth) {
  if (depth > DFIR_WIRE_MAX_DEPTH) return fail(c, "a value nested too deeply");
  uint64_t left = c->len - c->at;
  switch (word(c, node, 0)) {
  case DFIR_WIRE_UNIT: return 1;
  case DFIR_WIRE_BOOL:
    if (left < 1) return fail(c, "an item shorter than its type");
    if (c->p[c->at] > 1) return fail(c, "a boolean that is neither 0 nor 1");
    c->at += 1;
    return 1;
  case DFIR_WIRE_FIXED:
    if (left < word(c, node, 1)) return fail(c, "an item shorter than its type");
    c->at += word(c, node, 1);
    return 1;
  case DFIR_WIRE_STR: {
    if (left < 8) return fail(c, "an item shorter than its type");
    uint64_t n = load64(c->p + c->at);
    if (n > left - 8) return fail(c, "a string longer than its item");
    c->at += 8 + n;
    return 1;
  }
  case DFIR_WIRE_OPTION:
    if (left < 1) return fail(c, "an item shorter than its type");
    if (c->p[c->at] > 1) return fail(c, "an option tag that is neither 0 nor 1");
    c->at += 1;
    return check(c, word(c, node, 1), depth + 1);
  case DFIR_WIRE_LIST: {
    if (left < 8) return fail(c, "an item shorter than its type");
    uint64_t n = load64(c->p + c->at), each = min_size(c, word(c, node, 1), 0);
    c->at += 8;
    /* Every element takes at least `each` bytes; elements of no bytes
     * (units) are bounded on their own: a few bytes must not make the
     * receiver loop for long. */
    if (each == 0 ? n > DFIR_WIRE_MAX_EMPTY : n > DFIR_WIRE_MAX_COUNT || n > (left - 8) / each)
      return fail(c, "a list count larger than its item");
    int64_t plain = plain_size(c, word(c, node, 1), 0);
    if (plain >= 0) { /* nothing to check but the bytes they take */
      c->at += n * (uint64_t)plain;
      return 1;
    }
    for (uint64_t i = 0; i < n; ++i)
      if (!check(c, word(c, node, 1), depth + 1)) return 0;
    return 1;
  }
  case DFIR_WIRE_TUPLE:
    for (uint32_t i = 0; i < word(c, node, 1); ++i)
      if (!check(c, word(c, node, 2 + i), depth + 1)) return 0;
    return 1;
  case DFIR_WIRE_ENUM: {
    if (left < 4) return fail(c, "an item shorter than its type");
    uint32_t tag;
    memcpy(&tag, c->p + c->at, 4);
    if (tag >= word(c, node, 1)) return fail(c, "an enum tag its type does not have");
    c->at += 4;
    return check(c, word(c, node, 2 + tag), depth + 1);
  }
  default: return fail(c, "a malformed wire schema (internal error)");
  }
}

int dfir_rt_wire_check(const uint32_t *schema, const void *bytes, uint64_t len, const char **why) {
  checker c = {schema, schema[0], (const unsigned char *)bytes, len, 0, NULL};
  if (schema[1] != DFIR_WIRE_VARIABLE) {
    if (len == schema[1]) return 1;
    *why = len < schema[1] ? "an item shorter than its type" : "bytes after an item's value";
    return 0;
  }
  if (!check(&c, schema[2], 0)) {
    *why = c.why;
    return 0;
  }
  if (c.at != len) {
    *why = "bytes after an item's value";
    return 0;
  }
  return 1;
}

static uint32_t load32(const char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Whether the `count` items of `body` all have the size of the first and
 * fill it exactly: the common case (items of a fixed-size type), checked
 * with loads that do not wait for each other. */
static int same_size_items(const char *body, uint64_t size, uint32_t count) {
  if (count == 0 || size < 4) return count == 0 && size == 0;
  uint64_t first = load32(body), stride = 4 + first;
  if (first > size - 4 || (uint64_t)count * stride != size) return 0;
  uint32_t mismatched = 0;
  for (uint64_t i = 1; i < count; ++i) mismatched |= load32(body + i * stride) ^ (uint32_t)first;
  return mismatched == 0;
}

const char *dfir_rt_frame_check(const uint32_t *schema, const char *body, uint64_t size, uint32_t count) {
  const char *why = NULL;
  if (same_size_items(body, size, count)) {
    /* One length for all: when it is the type's fixed size, that is all. */
    if (count > 0 && (schema[1] == DFIR_WIRE_VARIABLE || load32(body) != schema[1]))
      for (uint64_t i = 0, at = 0; i < count && !why; ++i, at += 4 + (uint64_t)load32(body))
        dfir_rt_wire_check(schema, body + at + 4, load32(body + at), &why);
    return why;
  }
  uint64_t at = 0;
  for (uint32_t i = 0; i < count && !why; ++i) {
    if (at + 4 > size || load32(body + at) > size - at - 4) return "items overrun it";
    dfir_rt_wire_check(schema, body + at + 4, load32(body + at), &why);
    at += 4 + (uint64_t)load32(body + at);
  }
  if (!why && at != size) return "bytes after its items";
  return why;
}
