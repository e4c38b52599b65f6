/* C functions called from test/e2e/externs.dfir through extern fn. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  const char *ptr;
  uint64_t len;
} str;

/* CRC-32 (IEEE), bitwise. */
uint32_t crc32(const char *p, uint64_t n) {
  uint32_t c = 0xffffffffu;
  for (uint64_t i = 0; i < n; ++i) {
    c ^= (unsigned char)p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

int8_t clamp8(int64_t x) { return x > 127 ? 127 : x < -128 ? -128 : (int8_t)x; }
bool is_even(uint16_t x) { return x % 2 == 0; }
double scale(double x, float k) { return x * k; }

/* Returns a view of a static buffer: dfirc copies it at once. */
str shout(const char *p, uint64_t n) {
  static char buf[64];
  uint64_t m = n < 62 ? n : 62;
  for (uint64_t i = 0; i < m; ++i) buf[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
  buf[m] = '!';
  return (str){buf, m + 1};
}

static int64_t total;
void note(int64_t x) { total += x; }
int64_t noted(void) { return total; }

/* Composites: by pointer to their C struct; a composite result through a last `out` parameter. */
typedef struct {
  int64_t x;
  double y;
} pair; /* (i64, f64) */
typedef struct {
  str name;
  bool ok;
  uint32_t votes;
} ballot; /* struct Ballot { name: str, ok: bool, votes: u32 } */
typedef struct {
  const str *data;
  uint64_t len;
} str_list; /* [str] */
typedef struct {
  bool has;
  int64_t value;
} opt_i64; /* Option<i64> */

double dot(const pair *a, const pair *b) { return (double)a->x * (double)b->x + a->y * b->y; }

uint64_t total_len(const str_list *l) {
  uint64_t n = 0;
  for (uint64_t i = 0; i < l->len; ++i) n += l->data[i].len;
  return n;
}

/* Returns strings and a list that live in static memory: dfirc copies them. */
void tally(const ballot *b, ballot *out) {
  static char name[32];
  size_t n = b->name.len < 30 ? b->name.len : 30;
  memcpy(name, b->name.ptr, n);
  name[n] = '+';
  *out = (ballot){{name, n + 1}, !b->ok, b->votes + 1};
}

void words(const char *p, uint64_t n, str_list *out) {
  static str parts[2];
  parts[0] = (str){p, n / 2};
  parts[1] = (str){p + n / 2, n - n / 2};
  *out = (str_list){parts, 2};
}

void half(int64_t x, opt_i64 *out) { *out = (opt_i64){x % 2 == 0, x / 2}; }
