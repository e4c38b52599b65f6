/* Buffered output and the display of scalar values. */
#include "dfir_rt.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kBufferSize = 1 << 16 };

typedef struct {
  int fd;
  uint64_t used;
  char bytes[kBufferSize];
} out_buffer;

static out_buffer out_stdout = {1, 0, {0}};
static out_buffer out_stderr = {2, 0, {0}};

static void drain(out_buffer *b) {
  uint64_t off = 0;
  while (off < b->used) {
    ssize_t n = write(b->fd, b->bytes + off, b->used - off);
    if (n <= 0) break; /* a closed pipe: drop the output, keep running */
    off += (uint64_t)n;
  }
  b->used = 0;
}

static out_buffer *stream_buffer(int stream) { return stream == 2 ? &out_stderr : &out_stdout; }

/* Stream 3: the string builder. */
static char *builder;
static uint64_t builder_len, builder_cap;

static void build(const char *bytes, uint64_t len) {
  if (!len) return; /* nothing to add (the builder may have no buffer yet) */
  if (builder_len + len > builder_cap) {
    uint64_t cap = builder_cap ? builder_cap : 256;
    while (cap < builder_len + len) cap *= 2;
    char *grown = (char *)realloc(builder, cap);
    if (!grown) dfir_rt_error("runtime", 0, "out of memory building a string");
    builder = grown;
    builder_cap = cap;
  }
  memcpy(builder + builder_len, bytes, len);
  builder_len += len;
}

void dfir_rt_take_string(const char **ptr, uint64_t *len) {
  char *copy = (char *)dfir_rt_alloc(builder_len);
  if (builder_len) memcpy(copy, builder, builder_len);
  *ptr = copy;
  *len = builder_len;
  builder_len = 0;
}

/* Embedded runs with labels: the running instance's `[location/id] `,
 * written at the start of every line of standard output and error. */
static const char *line_prefix;
static int mid_line[2];
static const char *mid_owner[2]; /* whose partial line it is */

static void append(out_buffer *b, const char *bytes, uint64_t len);

/* A partial line (written without its newline) of another instance, or at
 * the end of a labelled run, is ended first: each line has one label, as
 * `dfirc launch` shows them. */
static void end_partial_lines(const char *next) {
  for (int i = 0; i < 2; ++i)
    if (mid_line[i] && mid_owner[i] != next) {
      append(stream_buffer(i == 0 ? 1 : 2), "\n", 1);
      mid_line[i] = 0;
    }
}

void dfir_rt_output_prefix(const char *prefix) {
  if (line_prefix) end_partial_lines(prefix);
  line_prefix = prefix;
}

void dfir_rt_write(int stream, const char *bytes, uint64_t len) {
  if (stream == 3) {
    build(bytes, len);
    return;
  }
  out_buffer *b = stream_buffer(stream);
  if (!line_prefix) {
    append(b, bytes, len);
  } else {
    int *mid = &mid_line[stream == 2];
    while (len > 0) {
      if (!*mid) append(b, line_prefix, strlen(line_prefix));
      const char *nl = (const char *)memchr(bytes, '\n', len);
      uint64_t n = nl ? (uint64_t)(nl - bytes) + 1 : len;
      append(b, bytes, n);
      *mid = !nl;
      mid_owner[stream == 2] = line_prefix;
      bytes += n;
      len -= n;
    }
  }
  /* Errors are seen at once, as a terminal user expects. */
  if (stream == 2) drain(b);
}

static void append(out_buffer *b, const char *bytes, uint64_t len) {
  while (len > 0) {
    if (b->used == kBufferSize) drain(b);
    uint64_t room = kBufferSize - b->used;
    uint64_t n = len < room ? len : room;
    memcpy(b->bytes + b->used, bytes, n);
    b->used += n;
    bytes += n;
    len -= n;
  }
}

void dfir_rt_write_str(int stream, dfir_str s) { dfir_rt_write(stream, s.ptr, s.len); }

void dfir_rt_write_i64(int stream, int64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRId64, v);
  dfir_rt_write(stream, buf, (uint64_t)n);
}

void dfir_rt_write_u64(int stream, uint64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
  dfir_rt_write(stream, buf, (uint64_t)n);
}

/* Writes the fewest significant digits that read back as the same value
 * (as a double, or as a float when `single`), in positional notation with
 * `.0` when integral; NaN, inf and -inf as written. */
static void write_float(int stream, double v, int single) {
  if (isnan(v)) {
    dfir_rt_write(stream, "NaN", 3);
    return;
  }
  if (isinf(v)) {
    if (v < 0) dfir_rt_write(stream, "-inf", 4);
    else dfir_rt_write(stream, "inf", 3);
    return;
  }
  char buf[64];
  int max = single ? 9 : 17;
  for (int prec = 1; prec <= max; ++prec) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    double back = strtod(buf, NULL);
    if (single ? (float)back == (float)v : back == v) break;
  }
  /* buf is [-]d[.ddd]e[+-]xx: collect the digits and the exponent. */
  char digits[32];
  int n = 0, neg = buf[0] == '-';
  char *p = buf + neg;
  for (; *p && *p != 'e'; ++p)
    if (*p >= '0' && *p <= '9') digits[n++] = *p;
  int exp = atoi(p + 1);
  while (n > 1 && digits[n - 1] == '0') --n; /* trailing zeros of the mantissa */
  char out[400];
  int k = 0;
  if (neg) out[k++] = '-';
  int point = exp + 1; /* digits before the decimal point */
  if (point <= 0) {
    out[k++] = '0';
    out[k++] = '.';
    for (int i = 0; i < -point; ++i) out[k++] = '0';
    for (int i = 0; i < n; ++i) out[k++] = digits[i];
  } else if (point >= n) {
    for (int i = 0; i < n; ++i) out[k++] = digits[i];
    for (int i = n; i < point; ++i) out[k++] = '0';
    out[k++] = '.';
    out[k++] = '0';
  } else {
    for (int i = 0; i < point; ++i) out[k++] = digits[i];
    out[k++] = '.';
    for (int i = point; i < n; ++i) out[k++] = digits[i];
  }
  dfir_rt_write(stream, out, (uint64_t)k);
}

void dfir_rt_write_f64(int stream, double v) { write_float(stream, v, 0); }

void dfir_rt_write_f64_fixed(int stream, double v, int32_t digits) {
  if (isnan(v) || isinf(v) || digits < 0 || digits > DFIR_RT_MAX_FLOAT_DIGITS) {
    write_float(stream, v, 0);
    return;
  }
  char buf[400]; /* the largest double has 309 digits before the point */
  int n = snprintf(buf, sizeof buf, "%.*f", (int)digits, v);
  if (n < 0) return;
  dfir_rt_write(stream, buf, (uint64_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1));
}
void dfir_rt_write_f32(int stream, float v) { write_float(stream, v, 1); }

void dfir_rt_write_quoted(int stream, dfir_str s) {
  dfir_rt_write(stream, "\"", 1);
  for (uint64_t i = 0; i < s.len; ++i) {
    unsigned char c = (unsigned char)s.ptr[i];
    const char *esc = NULL;
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\n': esc = "\\n"; break;
    case '\t': esc = "\\t"; break;
    case '\r': esc = "\\r"; break;
    case '\0': esc = "\\0"; break;
    default: break;
    }
    if (esc) {
      dfir_rt_write(stream, esc, strlen(esc));
    } else if (c < 0x20 || c == 0x7f) {
      char buf[16];
      int n = snprintf(buf, sizeof buf, "\\u{%x}", c);
      dfir_rt_write(stream, buf, (uint64_t)n);
    } else {
      dfir_rt_write(stream, (const char *)&c, 1);
    }
  }
  dfir_rt_write(stream, "\"", 1);
}

void dfir_rt_write_quoted_parts(int stream, const char *ptr, uint64_t len) {
  dfir_str s = {ptr, len};
  dfir_rt_write_quoted(stream, s);
}

void dfir_rt_flush(void) {
  drain(&out_stdout);
  drain(&out_stderr);
}
