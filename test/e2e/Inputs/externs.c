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
