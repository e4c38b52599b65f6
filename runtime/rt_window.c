/* Windows (docs/operators.md, "Windows"): the items a window operator
 * holds until their window is complete. Fixed windows (kind 0) are
 * [s, s + size) for every s that is a multiple of `slide` (tumbling when
 * slide == size); an item is kept once per window it falls in. Session
 * windows (kind 1) are per key: the items of a key whose times are less
 * than `size` (the gap) apart, from the first item's time to the last
 * one's plus the gap; sessions are found when windows fire.
 *
 * Times are ticks (lateness < 0: the caller says what is complete) or
 * event times (lateness >= 0: what is complete follows the largest time
 * seen, `lateness` behind it). An event-time item none of whose windows
 * is still open is late: dropped and counted. */
#include "dfir_rt.h"
#include "rt_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How many windows one item may fall in (size / slide): each holds a copy. */
#define DFIR_WINDOW_MAX_OVERLAP 65536

typedef struct {
  int64_t start, end, time;
  uint64_t seq;
  uint8_t *key, *item;
  uint64_t klen, len;
} held;

struct dfir_window {
  int32_t kind;
  int64_t size, slide, lateness;
  int64_t max_time, fired; /* fired: every window ending at or before it has fired */
  int have_time;
  uint64_t seq, late;
  held *open;
  uint64_t nopen, capopen;
  held *out; /* the last fire's, freed by the next */
  uint64_t nout;
  dfir_window_fired *records;
};

static void *grow(void *p, uint64_t *cap, uint64_t need, size_t elem) {
  if (need <= *cap) return p;
  uint64_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *q = realloc(p, c * elem);
  if (!q) dfir_rt_error("window", 0, "out of memory holding a window's items");
  *cap = c;
  return q;
}

static uint8_t *copy(const uint8_t *p, uint64_t n) {
  uint8_t *q = malloc(n ? n : 1);
  if (!q) dfir_rt_error("window", 0, "out of memory holding a window's items");
  if (n) memcpy(q, p, n);
  return q;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

static void hold(dfir_window *w, int64_t start, int64_t end, int64_t time, const uint8_t *key, uint64_t klen,
                 const uint8_t *item, uint64_t len) {
  w->open = grow(w->open, &w->capopen, w->nopen + 1, sizeof(held));
  held *h = &w->open[w->nopen++];
  h->start = start;
  h->end = end;
  h->time = time;
  h->seq = w->seq++;
  h->key = copy(key, klen);
  h->klen = klen;
  h->item = copy(item, len);
  h->len = len;
}

static int same_key(const held *a, const uint8_t *key, uint64_t klen) {
  return a->klen == klen && (klen == 0 || memcmp(a->key, key, klen) == 0);
}

int dfir_rt_window_add(dfir_window **slot, int32_t kind, int64_t size, int64_t slide, int64_t lateness, int64_t time,
                       const uint8_t *key, uint64_t klen, const uint8_t *item, uint64_t len) {
  dfir_window *w = *slot;
  if (!w) {
    if (size <= 0 || (kind == 0 && (slide <= 0 || slide > size || size / slide > DFIR_WINDOW_MAX_OVERLAP)))
      dfir_rt_error("window", 0, "a window's size, slide and gap must be positive, the slide at most the size, "
                                 "and the size at most 65536 slides");
    w = calloc(1, sizeof *w);
    if (!w) dfir_rt_error("window", 0, "out of memory holding a window's items");
    w->kind = kind;
    w->size = size;
    w->slide = kind == 0 ? slide : size;
    w->lateness = lateness;
    w->fired = INT64_MIN;
    *slot = w;
  }
  if (w->lateness >= 0 && (!w->have_time || time > w->max_time)) {
    w->max_time = time;
    w->have_time = 1;
  }
  if (w->kind == 1) {
    /* Behind the watermark, it must join an open session of its key (an
     * open item less than a gap away); otherwise it is late. */
    int64_t end = sat_add(time, w->size);
    if (time < w->fired) {
      int joins = 0;
      for (uint64_t i = 0; i < w->nopen && !joins; ++i) {
        const held *h = &w->open[i];
        joins = same_key(h, key, klen) && h->time < end && time < sat_add(h->time, w->size);
      }
      if (!joins) {
        ++w->late;
        return 1;
      }
    }
    hold(w, time, end, time, key, klen, item, len);
    return 0;
  }
  /* Every window [s, s + size) with s a multiple of the slide and
   * s <= time < s + size, that has not fired. */
  __int128 last = (__int128)floor_div(time, w->slide) * w->slide; /* may lie below INT64_MIN */
  int kept = 0;
  for (__int128 s = last; s > (__int128)time - w->size; s -= w->slide) {
    /* Times are i64: a window reaching past either end is cut there. */
    __int128 e = s + w->size;
    int64_t start = s < INT64_MIN ? INT64_MIN : (int64_t)s, end = e > INT64_MAX ? INT64_MAX : (int64_t)e;
    if (end <= w->fired) break; /* this one and earlier ones have fired */
    hold(w, start, end, time, key, klen, item, len);
    kept = 1;
  }
  if (!kept) ++w->late;
  return !kept;
}

static int by_window(const void *a, const void *b) {
  const held *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_seq(const void *a, const void *b) {
  const held *x = a, *y = b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_key_time(const void *a, const void *b) {
  const held *x = a, *y = b;
  uint64_t n = x->klen < y->klen ? x->klen : y->klen;
  int c = n ? memcmp(x->key, y->key, n) : 0;
  if (c) return c;
  if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
  if (x->time != y->time) return x->time < y->time ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void free_out(dfir_window *w) {
  for (uint64_t i = 0; i < w->nout; ++i) {
    free(w->out[i].key);
    free(w->out[i].item);
  }
  free(w->out);
  free(w->records);
  w->out = NULL;
  w->records = NULL;
  w->nout = 0;
}

uint64_t dfir_rt_window_fire(dfir_window **slot, int64_t complete, int32_t flush, const dfir_window_fired **out) {
  dfir_window *w = *slot;
  *out = NULL;
  if (!w) return 0;
  free_out(w);
  /* Event time: complete up to `lateness` behind the largest time seen. */
  if (w->lateness >= 0) complete = w->have_time ? sat_add(w->max_time, -w->lateness) : INT64_MIN;
  int64_t limit = flush ? INT64_MAX : complete;
  if (w->kind == 1 && w->nopen) {
    /* Sessions: per key, by time, split where the next item is a gap away. */
    qsort(w->open, w->nopen, sizeof(held), by_key_time);
    for (uint64_t i = 0; i < w->nopen;) {
      uint64_t j = i + 1;
      while (j < w->nopen && same_key(&w->open[j], w->open[i].key, w->open[i].klen) &&
             w->open[j].time < sat_add(w->open[j - 1].time, w->size))
        ++j;
      int64_t start = w->open[i].time, end = sat_add(w->open[j - 1].time, w->size);
      for (uint64_t k = i; k < j; ++k) {
        w->open[k].start = start;
        w->open[k].end = end;
      }
      i = j;
    }
  }
  /* Move what fires to `out`, keep the rest in arrival order. */
  uint64_t kept = 0, nfire = 0;
  for (uint64_t i = 0; i < w->nopen; ++i) nfire += w->open[i].end <= limit;
  if (nfire) {
    w->out = malloc(nfire * sizeof(held));
    w->records = malloc(nfire * sizeof(dfir_window_fired));
    if (!w->out || !w->records) dfir_rt_error("window", 0, "out of memory firing a window");
  }
  for (uint64_t i = 0; i < w->nopen; ++i) {
    if (w->open[i].end <= limit) w->out[w->nout++] = w->open[i];
    else w->open[kept++] = w->open[i];
  }
  w->nopen = kept;
  if (w->kind == 1 && kept) qsort(w->open, kept, sizeof(held), by_seq); /* back to arrival order */
  if (w->nout) qsort(w->out, w->nout, sizeof(held), by_window);
  for (uint64_t i = 0; i < w->nout; ++i) {
    w->records[i].start = w->out[i].start;
    w->records[i].end = w->out[i].end;
    w->records[i].item = w->out[i].item;
    w->records[i].len = w->out[i].len;
  }
  /* A flush fires what is open without moving the lateness bound: what
   * arrives after it makes new windows, fired by the next flush. */
  if (!flush && complete > w->fired) w->fired = complete;
  *out = w->records;
  return w->nout;
}

uint64_t dfir_rt_window_open(const dfir_window *w) { return w ? w->nopen : 0; }

void dfir_rt_window_free(dfir_window **slot, const char *op, uint32_t line, const char *location) {
  dfir_window *w = *slot;
  if (!w) return;
  if (w->late || w->nopen) dfir_rt_window_report(op, line, location, w->late, w->nopen);
  free_out(w);
  for (uint64_t i = 0; i < w->nopen; ++i) {
    free(w->open[i].key);
    free(w->open[i].item);
  }
  free(w->open);
  free(w);
  *slot = NULL;
}

static int flushing, pending;

void dfir_rt_window_pending(void) { pending = 1; }
int32_t dfir_rt_flushing(void) { return flushing; }

void dfir_rt_windows_begin_tick(int flush) {
  flushing = flush;
  pending = 0;
}

int dfir_rt_windows_end_tick(void) {
  flushing = 0;
  return pending;
}
