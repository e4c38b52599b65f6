/* Host channels and embedding: a location run tick by tick inside a host
 * program (docs/embedding.md). */
#include "dfir_rt.h"
#include "rt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  dfir_sink_call call;
  dfir_any_fn fn;
  void *context;
} sink;

struct dfir_instance {
  const dfir_location *location;
  void *state;
  dfir_arenas *arenas;
  uint32_t timer_owner;
  int started, more, joined;
  dfir_vec *queued;  /* per stream: pushed since the last tick (a 4-byte length, then the encoding, per item) */
  dfir_vec *current; /* per stream: this tick's */
  uint64_t *at;      /* per stream: the next item in `current` */
  sink *sinks;
};

/* The instance whose tick runs (or that joined a deployment): where
 * dfir_rt_stream_next and dfir_rt_sink look. */
static dfir_instance *host;
static uint32_t next_owner = 1u << 30; /* timer owners apart from embedded systems' instance numbers */
static char last_error[512];

static int fail(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  return -1;
}

const char *dfir_last_error(void) { return last_error; }

dfir_instance *dfir_instance_new(const dfir_location *location, uint64_t fingerprint) {
  if (!location) {
    fail("no location given");
    return NULL;
  }
  if (location->fingerprint != fingerprint) {
    fail("the header of location `%s` was generated from another build of its program than the object linked "
         "(fingerprint %016llx, the object's %016llx): generate both from the same source and options",
         location->name, (unsigned long long)fingerprint, (unsigned long long)location->fingerprint);
    return NULL;
  }
  dfir_instance *inst = (dfir_instance *)calloc(1, sizeof(dfir_instance));
  uint32_t n = location->nstreams ? location->nstreams : 1;
  if (inst) {
    inst->location = location;
    inst->state = calloc(1, location->state_size ? location->state_size : 1);
    inst->queued = (dfir_vec *)calloc(n, sizeof(dfir_vec));
    inst->current = (dfir_vec *)calloc(n, sizeof(dfir_vec));
    inst->at = (uint64_t *)calloc(n, sizeof(uint64_t));
    inst->sinks = (sink *)calloc(location->nsinks ? location->nsinks : 1, sizeof(sink));
    inst->arenas = dfir_rt_arenas_new();
    inst->timer_owner = next_owner++;
  }
  if (!inst || !inst->state || !inst->queued || !inst->current || !inst->at || !inst->sinks || !inst->arenas) {
    dfir_instance_free(inst);
    fail("out of memory creating an instance of `%s`", location->name);
    return NULL;
  }
  return inst;
}

void dfir_instance_free(dfir_instance *inst) {
  if (!inst) return;
  if (host == inst) return; /* from its own callback: misuse, ignored */
  if (inst->started && inst->location->fini && inst->state) {
    dfir_rt_arenas_use(inst->arenas);
    inst->location->fini(inst->state);
    dfir_rt_arenas_use(NULL);
    dfir_rt_flush();
  }
  for (uint32_t s = 0; s < inst->location->nstreams && inst->queued && inst->current; ++s) {
    dfir_rt_vec_free(&inst->queued[s]);
    dfir_rt_vec_free(&inst->current[s]);
  }
  free(inst->queued);
  free(inst->current);
  free(inst->at);
  free(inst->sinks);
  free(inst->state);
  dfir_rt_arenas_free(inst->arenas);
  free(inst);
}

static int find(const char *const *names, uint32_t count, size_t stride, const char *name) {
  for (uint32_t i = 0; i < count; ++i) {
    const char *n = *(const char *const *)((const char *)names + (size_t)i * stride);
    if (strcmp(n, name) == 0) return (int)i;
  }
  return -1;
}

/* "a, b, c" or "none". */
static void list_names(const char *const *names, uint32_t count, size_t stride, char *out, size_t size) {
  snprintf(out, size, "%s", count ? "" : "none");
  for (uint32_t i = 0; i < count; ++i) {
    size_t used = strlen(out);
    const char *n = *(const char *const *)((const char *)names + (size_t)i * stride);
    snprintf(out + used, size - used, "%s`%s`", i ? ", " : "", n);
  }
}

int dfir_instance_push(dfir_instance *inst, const char *stream, const void *item) {
  if (!inst || !stream) return fail("no instance or no stream name given");
  const dfir_location *loc = inst->location;
  int s = find((const char *const *)&loc->streams[0].name, loc->nstreams, sizeof(dfir_host_stream), stream);
  if (s < 0) {
    char names[256];
    list_names((const char *const *)&loc->streams[0].name, loc->nstreams, sizeof(dfir_host_stream), names,
               sizeof names);
    return fail("location `%s` has no `source_stream` named `%s` (its streams: %s)", loc->name, stream, names);
  }
  if (!item) return fail("no item given for stream `%s`", stream);
  dfir_vec *q = &inst->queued[s];
  uint64_t before = q->len;
  loc->streams[s].push(item, q);
  /* Each queued item is a 4-byte length and its encoding: one whose
   * encoding does not fit that length is refused, not cut. */
  uint32_t n;
  memcpy(&n, (const char *)q->data + before, 4);
  if (q->len - before - 4 != (uint64_t)n) {
    q->len = before;
    return fail("an item pushed into stream `%s` is too large (over 4 GiB encoded)", stream);
  }
  return 0;
}

/* An untyped callback, called with its own type. */
static void call_untyped(dfir_any_fn fn, void *context, const void *item) { ((dfir_sink_fn)fn)(context, item); }

int dfir_instance_on(dfir_instance *inst, const char *name, dfir_sink_fn fn, void *context) {
  return dfir_instance_on_call(inst, name, call_untyped, (dfir_any_fn)fn, context);
}

int dfir_instance_on_call(dfir_instance *inst, const char *name, dfir_sink_call call, dfir_any_fn fn,
                          void *context) {
  if (!inst || !name) return fail("no instance or no sink name given");
  const dfir_location *loc = inst->location;
  int s = find(loc->sinks, loc->nsinks, sizeof(const char *), name);
  if (s < 0) {
    char names[256];
    list_names(loc->sinks, loc->nsinks, sizeof(const char *), names, sizeof names);
    return fail("location `%s` has no `dest_sink` named `%s` (its sinks: %s)", loc->name, name, names);
  }
  inst->sinks[s].call = call;
  inst->sinks[s].fn = fn;
  inst->sinks[s].context = context;
  return 0;
}

static int pushed(const dfir_instance *inst) {
  for (uint32_t s = 0; s < inst->location->nstreams; ++s)
    if (inst->queued[s].len) return 1;
  return 0;
}

/* Before a tick: what was pushed since the last one becomes this tick's. */
static void take_pushed(dfir_instance *inst) {
  for (uint32_t s = 0; s < inst->location->nstreams; ++s) {
    dfir_vec t = inst->current[s];
    inst->current[s] = inst->queued[s];
    inst->queued[s] = t;
    inst->queued[s].len = 0;
    inst->at[s] = 0;
  }
}

void dfir_rt_host_before_tick(void) {
  if (host) take_pushed(host);
}

int dfir_rt_host_pending(void) { return host && pushed(host); }

int dfir_rt_stream_next(uint32_t stream, const void **bytes, uint64_t *len) {
  if (!host || stream >= host->location->nstreams) return 0;
  dfir_vec *v = &host->current[stream];
  uint64_t at = host->at[stream];
  if (at >= v->len) return 0;
  uint32_t n;
  memcpy(&n, (const char *)v->data + at, 4);
  *bytes = (const char *)v->data + at + 4;
  *len = n;
  host->at[stream] = at + 4 + n;
  return 1;
}

int dfir_rt_sink(uint32_t index, const void *item) {
  if (!host || index >= host->location->nsinks || !host->sinks[index].fn || !host->sinks[index].call) return 0;
  /* What the callback prints comes after what the tick printed before. */
  dfir_rt_flush();
  host->sinks[index].call(host->sinks[index].fn, host->sinks[index].context, item);
  return 1;
}

/* Why `inst` cannot run on its own, or NULL. */
static const char *not_standalone(const dfir_instance *inst) {
  const dfir_location *loc = inst->location;
  if (loc->nlocations > 1 || loc->nchannels > 0)
    return "it exchanges messages with other instances: join a deployment with dfir_instance_join";
  if (loc->cluster_size > 0) return "it is a member of a cluster: join a deployment with dfir_instance_join";
  return NULL;
}

static int tick(dfir_instance *inst, int flush) {
  if (!inst) return fail("no instance given");
  if (host) return fail("an instance cannot tick while `%s` is ticking (from a sink callback)", host->location->name);
  if (inst->joined) return fail("the instance of `%s` has joined a deployment", inst->location->name);
  const char *why = not_standalone(inst);
  if (why) return fail("location `%s` cannot tick in a host alone: %s", inst->location->name, why);
  dfir_rt_stack_guard(); /* this thread's stack */
  dfir_rt_arenas_use(inst->arenas);
  uint32_t owner = dfir_rt_timer_owner;
  dfir_rt_timer_owner = inst->timer_owner;
  if (!inst->started) {
    inst->location->init(inst->state);
    inst->started = 1;
  }
  if (inst->location->reads_stdin && !dfir_rt_stdin_done()) dfir_rt_stdin_batch(0);
  take_pushed(inst);
  host = inst;
  dfir_rt_windows_begin_tick(flush);
  inst->more = inst->location->tick(inst->state);
  dfir_rt_windows_end_tick();
  host = NULL;
  dfir_rt_tick_done();
  dfir_rt_timer_owner = owner;
  dfir_rt_arenas_use(NULL);
  dfir_rt_flush();
  return inst->more || pushed(inst);
}

int dfir_instance_tick(dfir_instance *inst) { return tick(inst, 0); }

int dfir_instance_flush(dfir_instance *inst) {
  if (tick(inst, 1) < 0) return -1;
  return dfir_instance_run(inst);
}

int dfir_instance_run(dfir_instance *inst) {
  int more;
  do more = dfir_instance_tick(inst);
  while (more > 0);
  return more < 0 ? -1 : 0;
}

int dfir_instance_join(dfir_instance *inst, const char *deploy, uint32_t id) {
  if (!inst || !deploy) return fail("no instance or no deploy file given");
  if (host) return fail("an instance cannot join a deployment while `%s` is ticking", host->location->name);
  if (inst->started || inst->joined)
    return fail("the instance of `%s` has already run; a new instance joins a deployment", inst->location->name);
  inst->joined = 1;
  host = inst;
  int status = dfir_rt_net_run(inst->location, deploy, inst->location->name, id);
  host = NULL;
  return status;
}
