/* Sorting and files. */
#include "dfir_rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Stable merge sort over fixed-size items. */
void dfir_rt_sort(dfir_vec *v, uint64_t size, int (*cmp)(const void *, const void *)) {
  uint64_t n = v->len;
  if (n < 2 || size == 0) return;
  char *a = (char *)v->data;
  char *tmp = (char *)malloc(n * size);
  if (!tmp) dfir_rt_error("sort", 0, "out of memory");
  for (uint64_t width = 1; width < n; width *= 2) {
    for (uint64_t lo = 0; lo < n; lo += 2 * width) {
      uint64_t mid = lo + width < n ? lo + width : n;
      uint64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      uint64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (cmp(a + j * size, a + i * size) < 0) memcpy(tmp + (k++) * size, a + (j++) * size, size);
        else memcpy(tmp + (k++) * size, a + (i++) * size, size);
      }
      while (i < mid) memcpy(tmp + (k++) * size, a + (i++) * size, size);
      while (j < hi) memcpy(tmp + (k++) * size, a + (j++) * size, size);
    }
    memcpy(a, tmp, n * size);
  }
  free(tmp);
}

/* The same merge sort, specialised: 64-bit keys compared directly. */
void dfir_rt_sort_i64(dfir_vec *v, int is_signed) {
  uint64_t n = v->len;
  if (n < 2) return;
  uint64_t *a = (uint64_t *)v->data;
  uint64_t *tmp = (uint64_t *)malloc(n * sizeof(uint64_t));
  if (!tmp) dfir_rt_error("sort", 0, "out of memory");
  /* Signed order is unsigned order with the sign bit flipped. */
  uint64_t flip = is_signed ? (uint64_t)1 << 63 : 0;
  for (uint64_t i = 0; i < n; ++i) a[i] ^= flip;
  for (uint64_t width = 1; width < n; width *= 2) {
    for (uint64_t lo = 0; lo < n; lo += 2 * width) {
      uint64_t mid = lo + width < n ? lo + width : n;
      uint64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      uint64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    uint64_t *t = a;
    a = tmp;
    tmp = t;
  }
  /* The sorted run is in `a`: in the vector's memory, or copied back. */
  if (a != (uint64_t *)v->data) {
    memcpy(v->data, a, n * sizeof(uint64_t));
    tmp = a;
  }
  uint64_t *out = (uint64_t *)v->data;
  for (uint64_t i = 0; i < n; ++i) out[i] ^= flip;
  free(tmp);
}

static char *cpath(const char *path, uint64_t len) {
  char *p = (char *)dfir_rt_alloc(len + 1);
  memcpy(p, path, len);
  p[len] = 0;
  return p;
}

/* Opens a file the program names, or stops with a runtime error naming the
 * operator, the file and the reason. */
static FILE *open_file(const char *path, uint64_t pathlen, const char *mode, const char *verb, const char *op,
                       uint32_t line) {
  char *name = cpath(path, pathlen);
  FILE *f = fopen(name, mode);
  if (!f) {
    char msg[512];
    snprintf(msg, sizeof msg, "cannot %s `%s`: %s", verb, name, strerror(errno));
    dfir_rt_error(op, line, msg);
  }
  return f;
}

void dfir_rt_file_read_lines(const char *path, uint64_t pathlen, dfir_str **lines, uint64_t *count,
                             const char *op, uint32_t line) {
  FILE *f = open_file(path, pathlen, "rb", "read", op, line);
  /* Read straight into the tick's memory when the size is known (a regular
   * file); otherwise (a pipe, a device) collect it in a growing buffer. */
  struct stat st;
  uint64_t used = 0;
  char *text = NULL;
  if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
    uint64_t size = (uint64_t)st.st_size;
    text = (char *)dfir_rt_alloc(size ? size : 1);
    size_t n;
    while (used < size && (n = fread(text + used, 1, size - used, f)) > 0) used += n;
  } else {
    uint64_t cap = 1 << 16;
    char *data = (char *)malloc(cap);
    size_t n;
    while (data && (n = fread(data + used, 1, cap - used, f)) > 0) {
      used += n;
      if (used == cap) data = (char *)realloc(data, cap *= 2);
    }
    if (!data) dfir_rt_error(op, line, "out of memory reading a file");
    text = (char *)dfir_rt_alloc(used ? used : 1);
    memcpy(text, data, used);
    free(data);
  }
  if (ferror(f)) { /* a directory, an I/O error: not an empty file */
    int err = errno;
    fclose(f);
    char msg[512];
    snprintf(msg, sizeof msg, "cannot read `%.*s`: %s", (int)(pathlen < 400 ? pathlen : 400), path, strerror(err));
    dfir_rt_error(op, line, msg);
  }
  fclose(f);
  uint64_t total = 0;
  for (const char *p = text, *end = text + used; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; ++p) ++total;
  if (used && text[used - 1] != '\n') total += 1;
  dfir_str *out = (dfir_str *)dfir_rt_alloc((total ? total : 1) * sizeof(dfir_str));
  uint64_t k = 0, start = 0;
  while (start < used) {
    const char *nl = memchr(text + start, '\n', (size_t)(used - start));
    uint64_t stop = nl ? (uint64_t)(nl - text) : used;
    uint64_t end = stop;
    if (end > start && text[end - 1] == '\r') --end;
    out[k].ptr = text + start;
    out[k].len = end - start;
    ++k;
    start = stop + 1;
  }
  *lines = out;
  *count = k;
}

void *dfir_rt_file_open(const char *path, uint64_t pathlen, const char *op, uint32_t line) {
  FILE *f = open_file(path, pathlen, "wb", "write", op, line);
  return f;
}

void dfir_rt_file_write_line(void *file, const char *bytes, uint64_t len) {
  fwrite(bytes, 1, len, (FILE *)file);
  fputc('\n', (FILE *)file);
}

void dfir_rt_file_close(void *file) {
  if (file) fclose((FILE *)file);
}
