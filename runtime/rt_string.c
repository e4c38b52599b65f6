/* String builtins of the closure language. Results live in tick memory. */
#include "dfir_rt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int matches(const char *s, const char *t, uint64_t tlen) { return memcmp(s, t, tlen) == 0; }

static int continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

void dfir_rt_str_split(const char *s, uint64_t len, const char *sep, uint64_t seplen, dfir_str **items,
                       uint64_t *count) {
  /* Like Rust's str::split: n separators give n + 1 pieces; an empty
   * separator splits between characters (and at both ends). */
  uint64_t n = 1;
  if (seplen == 0) {
    n = 2;
    for (uint64_t i = 0; i < len; ++i) n += !continuation(s[i]);
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
    uint64_t k = 0;
    out[k].ptr = s;
    out[k++].len = 0;
    for (uint64_t i = 0; i < len;) {
      uint64_t j = i + 1;
      while (j < len && continuation(s[j])) ++j;
      out[k].ptr = s + i;
      out[k++].len = j - i;
      i = j;
    }
    out[k].ptr = s + len;
    out[k].len = 0;
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

int dfir_rt_parse_i64(const char *s, uint64_t len, int64_t *out) {
  uint64_t i = 0;
  int neg = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == len) return 0;
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
  for (; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return 0;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (limit - d) / 10) return 0;
    v = v * 10 + d;
  }
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 1;
}

static int parse_float_text(const char *buf, double *out);

int dfir_rt_parse_f64(const char *s, uint64_t len, double *out) {
  /* A NUL inside is not part of a number (and would end the C string). */
  if (len == 0 || memchr(s, 0, len)) return 0;
  char small[401];
  char *buf = len < sizeof small ? small : (char *)malloc(len + 1);
  if (!buf) dfir_rt_error("parse_f64", 0, "out of memory");
  memcpy(buf, s, len);
  buf[len] = 0;
  int ok = parse_float_text(buf, out);
  if (buf != small) free(buf);
  return ok;
}

/* Parses a NUL-terminated candidate as Rust's f64::from_str would. */
static int parse_float_text(const char *buf, double *out) {
  const char *p = buf + (buf[0] == '+' || buf[0] == '-');
  /* As Rust's f64::from_str: inf, infinity and nan in any case. */
  char lower[16] = {0};
  for (int i = 0; i < 15 && p[i]; ++i) lower[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
  if (strlen(p) < 15 && (!strcmp(lower, "inf") || !strcmp(lower, "infinity") || !strcmp(lower, "nan"))) {
    double v = lower[0] == 'n' ? NAN : INFINITY;
    *out = buf[0] == '-' ? -v : v;
    return 1;
  }
  /* Only digits, one dot, one exponent: no hex, no spaces, no other names. */
  int digits = 0;
  for (const char *q = p; *q; ++q) {
    if (*q >= '0' && *q <= '9') digits = 1;
    else if (*q != '.' && *q != 'e' && *q != 'E' && *q != '+' && *q != '-') return 0;
  }
  if (!digits) return 0;
  char *end;
  double v = strtod(buf, &end);
  if (*end) return 0;
  *out = v;
  return 1;
}
