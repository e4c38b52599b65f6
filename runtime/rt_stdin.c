/* Standard input, read in batches: before each tick, the complete lines
 * that are available (waiting for one when the location has nothing else
 * to do), plus a last line without a newline at the end of input. */
#include "dfir_rt.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *data;
static uint64_t start, used, cap, batch_end;
static int at_eof;

static int readable_within(int timeout_ms) {
  struct pollfd p = {0, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0;
}

static int readable(void) { return readable_within(0); }

/* Reads once; returns 0 at end of input. */
static int read_some(void) {
  if (used == cap) {
    cap = cap ? cap * 2 : 1 << 16;
    data = (char *)realloc(data, cap);
    if (!data) dfir_rt_error("source_stdin", 0, "out of memory reading standard input");
  }
  for (;;) {
    ssize_t n = read(0, data + used, cap - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    used += (uint64_t)n;
    return 1;
  }
}

static int has_line(void) { return used > start && memchr(data + start, '\n', used - start) != NULL; }

/* Prepares the next batch, waiting up to `wait_ms` for a line (-1: as long
 * as it takes, 0: not at all). Returns 1 if the batch has a line. */
int dfir_rt_stdin_batch(int wait_ms) {
  if (start > 0) {
    memmove(data, data + start, used - start);
    used -= start;
    start = 0;
  }
  if (wait_ms < 0) {
    while (!at_eof && !has_line())
      if (!read_some()) at_eof = 1;
  } else if (wait_ms > 0 && !at_eof && !has_line() && readable_within(wait_ms)) {
    if (!read_some()) at_eof = 1;
  }
  while (!at_eof && readable() && used < (1u << 24))
    if (!read_some()) at_eof = 1;
  batch_end = used;
  if (!at_eof)
    while (batch_end > 0 && data[batch_end - 1] != '\n') --batch_end;
  return batch_end > 0;
}

int dfir_rt_stdin_done(void) { return at_eof && start == used; }

int dfir_rt_stdin_next(const char **line, uint64_t *len) {
  if (start >= batch_end) return 0;
  char *nl = (char *)memchr(data + start, '\n', batch_end - start);
  uint64_t end = nl ? (uint64_t)(nl - data) : batch_end;
  uint64_t l = end - start;
  if (l && data[start + l - 1] == '\r') --l;
  /* Lines must outlive the next refill: copy them to tick memory. */
  char *copy = (char *)dfir_rt_alloc(l ? l : 1);
  if (l) memcpy(copy, data + start, l);
  *line = copy;
  *len = l;
  start = nl ? end + 1 : end;
  return 1;
}
