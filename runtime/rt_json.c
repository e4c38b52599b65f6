/* A small JSON reader for deploy files: objects, arrays, strings (with
 * escapes), numbers, true/false/null. Errors name the line. */
#include "rt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *text, *at, *end;
  char error[200];
} reader;

static int line_of(const reader *r) {
  int line = 1;
  for (const char *p = r->text; p < r->at && p < r->end; ++p) line += *p == '\n';
  return line;
}

static dfir_json *fail(reader *r, const char *what) {
  if (!r->error[0]) snprintf(r->error, sizeof r->error, "line %d: %s", line_of(r), what);
  return NULL;
}

static void skip_space(reader *r) {
  while (r->at < r->end && (*r->at == ' ' || *r->at == '\t' || *r->at == '\n' || *r->at == '\r')) ++r->at;
}

static dfir_json *node(int kind) {
  dfir_json *j = (dfir_json *)calloc(1, sizeof(dfir_json));
  if (j) j->kind = kind;
  return j;
}

static char *read_string(reader *r) {
  /* r->at is at the opening quote. */
  ++r->at;
  size_t cap = 16, n = 0;
  char *s = (char *)malloc(cap);
  if (!s) return NULL;
  while (r->at < r->end && *r->at != '"') {
    char c = *r->at++;
    if ((unsigned char)c < 0x20) {
      free(s);
      fail(r, "control character in a string");
      return NULL;
    }
    if (c == '\\') {
      if (r->at >= r->end) break;
      char e = *r->at++;
      switch (e) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case '"':
      case '\\':
      case '/': c = e; break;
      default:
        free(s);
        fail(r, "unsupported escape in a string");
        return NULL;
      }
    }
    if (n + 2 > cap) {
      char *t = (char *)realloc(s, cap *= 2);
      if (!t) {
        free(s);
        return NULL;
      }
      s = t;
    }
    s[n++] = c;
  }
  if (r->at >= r->end) {
    free(s);
    fail(r, "unterminated string");
    return NULL;
  }
  ++r->at;
  s[n] = 0;
  return s;
}

static dfir_json *read_value(reader *r, int depth);

/* Frees what a value owns (not the value itself). */
static void free_contents(dfir_json *j) {
  for (uint32_t i = 0; i < j->count; ++i) {
    free_contents(&j->items[i]);
    if (j->keys) free(j->keys[i]);
  }
  free(j->items);
  free(j->keys);
  free(j->string);
}

void dfir_rt_json_free(dfir_json *j) {
  if (!j) return;
  free_contents(j);
  free(j);
}

/* A failure inside a container: what was read of it goes. */
static dfir_json *fail_in(reader *r, const char *what, dfir_json *j, char *key) {
  free(key);
  dfir_rt_json_free(j);
  return fail(r, what);
}

static int append(dfir_json *j, dfir_json *item, char *key) {
  dfir_json *items = (dfir_json *)realloc(j->items, (j->count + 1) * sizeof(dfir_json));
  char **keys = (char **)realloc(j->keys, (j->count + 1) * sizeof(char *));
  if (items) j->items = items;
  if (keys) j->keys = keys;
  if (!items || !keys) return 0;
  j->items[j->count] = *item;
  j->keys[j->count] = key;
  ++j->count;
  free(item);
  return 1;
}

static dfir_json *read_container(reader *r, int depth, int object) {
  dfir_json *j = node(object ? DFIR_JSON_OBJECT : DFIR_JSON_ARRAY);
  if (!j) return fail(r, "out of memory");
  ++r->at;
  skip_space(r);
  char close = object ? '}' : ']';
  if (r->at < r->end && *r->at == close) {
    ++r->at;
    return j;
  }
  for (;;) {
    char *key = NULL;
    skip_space(r);
    if (object) {
      if (r->at >= r->end || *r->at != '"') return fail_in(r, "expected a string key", j, NULL);
      if (!(key = read_string(r))) return fail_in(r, "bad key", j, NULL);
      skip_space(r);
      if (r->at >= r->end || *r->at != ':') return fail_in(r, "expected `:`", j, key);
      ++r->at;
    }
    dfir_json *item = read_value(r, depth + 1);
    if (!item) return fail_in(r, "expected a value", j, key);
    if (!append(j, item, key)) {
      dfir_rt_json_free(item);
      return fail_in(r, "out of memory", j, key);
    }
    skip_space(r);
    if (r->at < r->end && *r->at == ',') {
      ++r->at;
      continue;
    }
    if (r->at < r->end && *r->at == close) {
      ++r->at;
      return j;
    }
    return fail_in(r, object ? "expected `,` or `}`" : "expected `,` or `]`", j, NULL);
  }
}

static dfir_json *read_value(reader *r, int depth) {
  if (depth > 64) return fail(r, "nesting too deep");
  skip_space(r);
  if (r->at >= r->end) return fail(r, "unexpected end of file");
  char c = *r->at;
  if (c == '{' || c == '[') return read_container(r, depth, c == '{');
  if (c == '"') {
    dfir_json *j = node(DFIR_JSON_STRING);
    if (!j || !(j->string = read_string(r))) return fail_in(r, "bad string", j, NULL);
    return j;
  }
  static const struct {
    const char *word;
    int kind, value;
  } words[] = {{"true", DFIR_JSON_BOOL, 1}, {"false", DFIR_JSON_BOOL, 0}, {"null", DFIR_JSON_NULL, 0}};
  for (unsigned i = 0; i < 3; ++i) {
    size_t n = strlen(words[i].word);
    if ((size_t)(r->end - r->at) >= n && memcmp(r->at, words[i].word, n) == 0) {
      r->at += n;
      dfir_json *j = node(words[i].kind);
      if (j) j->number = words[i].value;
      return j ? j : fail(r, "out of memory");
    }
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    char buf[64];
    size_t n = 0;
    while (r->at < r->end && n + 1 < sizeof buf && strchr("+-0123456789.eE", *r->at)) buf[n++] = *r->at++;
    buf[n] = 0;
    char *end = NULL;
    double v = strtod(buf, &end);
    if (!end || *end) return fail(r, "bad number");
    dfir_json *j = node(DFIR_JSON_NUMBER);
    if (j) j->number = v;
    return j ? j : fail(r, "out of memory");
  }
  return fail(r, "expected a value");
}

dfir_json *dfir_rt_json_parse(const char *text, size_t len, char *error, size_t error_size) {
  reader r = {text, text, text + len, {0}};
  dfir_json *j = read_value(&r, 0);
  if (j) {
    skip_space(&r);
    if (r.at != r.end) j = fail_in(&r, "unexpected text after the value", j, NULL);
  }
  if (!j) snprintf(error, error_size, "%s", r.error[0] ? r.error : "out of memory");
  return j;
}

const dfir_json *dfir_rt_json_get(const dfir_json *object, const char *key) {
  if (!object || object->kind != DFIR_JSON_OBJECT) return NULL;
  for (uint32_t i = 0; i < object->count; ++i)
    if (strcmp(object->keys[i], key) == 0) return &object->items[i];
  return NULL;
}
