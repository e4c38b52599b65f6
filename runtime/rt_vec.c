/* Growable buffers for deferred items and handoffs. */
#include "dfir_rt.h"

#include <stdlib.h>
#include <string.h>

void *dfir_rt_vec_grow(void *data, uint64_t cap, uint64_t size) {
  uint64_t grown = DFIR_RT_VEC_GROWN(cap), unit = size ? size : 1;
  if (grown < cap || grown > UINT64_MAX / unit) dfir_rt_error("runtime", 0, "a buffer grew past the memory of this machine");
  data = realloc(data, grown * unit);
  if (!data) dfir_rt_error("runtime", 0, "out of memory growing a buffer");
  return data;
}

void dfir_rt_vec_push(dfir_vec *v, const void *item, uint64_t size) {
  if (v->len == v->cap) {
    v->data = dfir_rt_vec_grow(v->data, v->cap, size);
    v->cap = DFIR_RT_VEC_GROWN(v->cap);
  }
  if (size) memcpy((char *)v->data + v->len * size, item, size);
  v->len += 1;
}

void dfir_rt_vec_swap(dfir_vec *a, dfir_vec *b) {
  dfir_vec tmp = *a;
  *a = *b;
  *b = tmp;
  b->len = 0;
}

void dfir_rt_vec_move(dfir_vec *to, dfir_vec *from, uint64_t size) {
  if (to->len == 0) {
    dfir_rt_vec_swap(to, from);
    return;
  }
  for (uint64_t i = 0; i < from->len; ++i) dfir_rt_vec_push(to, (char *)from->data + i * size, size);
  from->len = 0;
}

void dfir_rt_vec_trade_empty(dfir_vec *a, dfir_vec *b) {
  if (a->len || b->len) return;
  dfir_vec tmp = *a;
  *a = *b;
  *b = tmp;
}

void dfir_rt_vec_reserve(dfir_vec *v, uint64_t more) {
  if (v->len + more <= v->cap) return;
  uint64_t cap = v->cap ? v->cap * 2 : 4096;
  while (cap < v->len + more) cap *= 2;
  void *data = realloc(v->data, cap);
  if (!data) dfir_rt_error("runtime", 0, "out of memory growing a buffer");
  v->data = data;
  v->cap = cap;
}

void dfir_rt_vec_free(dfir_vec *v) {
  free(v->data);
  v->data = NULL;
  v->len = v->cap = 0;
}
