/* String builtins of the closure language. Results live in tick memory. */
#include "dfir_rt.h"

#include <string.h>

static int matches(const char *s, const char *t, uint64_t tlen) { return memcmp(s, t, tlen) == 0; }

void dfir_rt_str_split(const char *s, uint64_t len, const char *sep, uint64_t seplen, dfir_str **items,
                       uint64_t *count) {
  /* Like Rust's str::split: n separators give n + 1 pieces; an empty
   * separator splits between every byte (and at both ends). */
  uint64_t n = 1;
  if (seplen == 0) {
    n = len + 2;
  } else {
    for (uint64_t i = 0; i + seplen <= len;) {
      if (matches(s + i, sep, seplen)) {
        ++n;
        i += seplen;
      } else {
        ++i;
      }
    }
  }
  dfir_str *out = (dfir_str *)dfir_rt_alloc(n * sizeof(dfir_str));
  if (seplen == 0) {
    out[0].ptr = s;
    out[0].len = 0;
    for (uint64_t i = 0; i < len; ++i) {
      out[i + 1].ptr = s + i;
      out[i + 1].len = 1;
    }
    out[len + 1].ptr = s + len;
    out[len + 1].len = 0;
  } else {
    uint64_t k = 0, start = 0;
    for (uint64_t i = 0; i + seplen <= len;) {
      if (matches(s + i, sep, seplen)) {
        out[k].ptr = s + start;
        out[k].len = i - start;
        ++k;
        i += seplen;
        start = i;
      } else {
        ++i;
      }
    }
    out[k].ptr = s + start;
    out[k].len = len - start;
  }
  *items = out;
  *count = n;
}

static int space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

void dfir_rt_str_trim(const char *s, uint64_t len, const char **out, uint64_t *outlen) {
  uint64_t b = 0, e = len;
  while (b < e && space(s[b])) ++b;
  while (e > b && space(s[e - 1])) --e;
  *out = s + b;
  *outlen = e - b;
}

static void map_case(const char *s, uint64_t len, const char **out, uint64_t *outlen, int upper) {
  char *r = (char *)dfir_rt_alloc(len);
  for (uint64_t i = 0; i < len; ++i) {
    char c = s[i];
    if (upper && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    r[i] = c;
  }
  *out = r;
  *outlen = len;
}

void dfir_rt_str_lower(const char *s, uint64_t len, const char **out, uint64_t *outlen) {
  map_case(s, len, out, outlen, 0);
}

void dfir_rt_str_upper(const char *s, uint64_t len, const char **out, uint64_t *outlen) {
  map_case(s, len, out, outlen, 1);
}

void dfir_rt_str_concat(const char *a, uint64_t alen, const char *b, uint64_t blen, const char **out,
                        uint64_t *outlen) {
  char *r = (char *)dfir_rt_alloc(alen + blen);
  if (alen) memcpy(r, a, alen);
  if (blen) memcpy(r + alen, b, blen);
  *out = r;
  *outlen = alen + blen;
}

int dfir_rt_str_contains(const char *s, uint64_t len, const char *t, uint64_t tlen) {
  if (tlen == 0) return 1;
  for (uint64_t i = 0; i + tlen <= len; ++i)
    if (matches(s + i, t, tlen)) return 1;
  return 0;
}

int dfir_rt_str_starts_with(const char *s, uint64_t len, const char *t, uint64_t tlen) {
  return tlen <= len && matches(s, t, tlen);
}

int dfir_rt_str_ends_with(const char *s, uint64_t len, const char *t, uint64_t tlen) {
  return tlen <= len && matches(s + len - tlen, t, tlen);
}

int dfir_rt_str_compare(const char *a, uint64_t alen, const char *b, uint64_t blen) {
  uint64_t n = alen < blen ? alen : blen;
  int c = n ? memcmp(a, b, n) : 0;
  if (c) return c;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}
