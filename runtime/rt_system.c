/* Embedded runs: every instance of every location in one process, with
 * in-memory channels and a seeded, deterministic scheduler. */
#include "dfir_rt.h"
#include "rt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct message {
  struct message *next;
  uint32_t sender; /* member id of the sending instance */
  uint64_t len;
  char bytes[];
} message;

typedef struct {
  message *head, *tail;
} queue;

/* The messages from one sender on one channel to one receiver. */
typedef struct {
  uint32_t channel, sender; /* sender: index of the sending instance */
  queue q;
} inbound;

/* What one instance receives: a queue per (channel, sender) that has ever
 * sent to it, created on the first send and sorted by (channel, sender), so
 * memory follows the channels actually used (a table of every channel by
 * every pair of instances took channels x instances^2: 128 GB for 2000
 * processes). */
typedef struct {
  inbound *items;
  uint32_t count, cap;
  uint64_t queued; /* messages waiting in all of them */
} inbox;

typedef struct {
  const dfir_location *location;
  char label[96]; /* `[location/id] ` */
  uint32_t loc, member;
  void *state;
  dfir_arenas *arenas;
  dfir_prof *prof;
  int first, more;
} instance;

static instance *instances;
static uint32_t ninstances, nlocs, nchans;
static uint32_t *offsets, *sizes; /* per location */
static inbox *inboxes;            /* per receiving instance */
static queue **ready_queues;      /* gather's scratch: the non-empty queues of one channel */
static uint32_t ready_cap;
static message **batch;           /* this tick's messages of the running instance, per channel */
static instance *running;
static uint64_t rng;
static int labelled;

/* The schedule (docs/simulation.md): every choice the scheduler makes
 * between two or more alternatives (which ready instance ticks, which
 * sender's message is delivered next), taken from `prefix` while it lasts,
 * then the first alternative or the seeded generator; recorded with how
 * many alternatives there were. */
static struct {
  const uint32_t *prefix;
  uint32_t prefix_len, pos, limit;
  int then_first, recording, trace; /* trace: 1 text, 2 JSON lines */
  const char *const *channel_names;
  uint64_t steps;
  uint32_t *choices, *arities;
  uint32_t len, cap;
} sched;

void dfir_rt_label_output(int on) { labelled = on; }

static uint64_t next_random(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void out_of_memory(const char *what) {
  fprintf(stderr, "dfir: out of memory %s\n", what);
  exit(DFIR_RT_EXIT_RUNTIME_ERROR);
}

void dfir_rt_schedule_use(const uint32_t *prefix, uint32_t len, int then_first, uint32_t limit) {
  sched.prefix = prefix;
  sched.prefix_len = prefix ? len : 0;
  sched.then_first = then_first;
  sched.limit = limit;
  sched.pos = 0;
  sched.recording = 1;
  sched.len = 0;
  sched.steps = 0;
}

void dfir_rt_schedule_recorded(const uint32_t **choices, const uint32_t **arities, uint32_t *len, uint64_t *ticks) {
  *choices = sched.choices;
  *arities = sched.arities;
  *len = sched.len;
  *ticks = sched.steps;
}

void dfir_rt_trace(int mode, const char *const *channel_names) {
  sched.trace = mode;
  sched.channel_names = channel_names;
}

/* One line on standard error per tick: who ticks, and what it receives
 * from whom, in delivery order. */
static void trace_tick(const instance *in, message *const *delivered) {
  dfir_rt_flush();
  uint64_t tick = *(const uint64_t *)in->state; /* field 0 of every state: ticks run so far */
  int json = sched.trace == 2;
  if (json)
    fprintf(stderr, "{\"step\": %llu, \"location\": \"%s\", \"member\": %u, \"tick\": %llu, \"receives\": {",
            (unsigned long long)sched.steps, in->location->name, in->member, (unsigned long long)tick);
  else
    fprintf(stderr, "trace: step %llu: %s/%u runs its tick %llu", (unsigned long long)sched.steps, in->location->name,
            in->member, (unsigned long long)tick);
  int first = 1;
  for (uint32_t c = 0; c < nchans; ++c) {
    if (!delivered[c]) continue;
    const char *name = sched.channel_names ? sched.channel_names[c] : "?";
    fprintf(stderr, json ? "%s\"%s\": [" : "%s%s from [", first ? (json ? "" : ", receiving ") : ", ", name);
    for (const message *m = delivered[c]; m; m = m->next) fprintf(stderr, "%s%u", m == delivered[c] ? "" : ", ", m->sender);
    fputc(']', stderr);
    first = 0;
  }
  fprintf(stderr, json ? "}}\n" : "\n");
}

/* One choice among `n` alternatives. */
static uint32_t choose(uint32_t n) {
  if (n <= 1) return 0;
  uint32_t c;
  if (sched.pos < sched.prefix_len) {
    c = sched.prefix[sched.pos];
    if (c >= n) {
      dfir_rt_flush();
      fprintf(stderr,
              "dfir: error: the schedule does not apply to this run: its choice %u is alternative %u, and there are %u "
              "(was it made for another version of the program?)\n",
              sched.pos + 1, c + 1, n);
      exit(1);
    }
  } else {
    c = sched.then_first ? 0 : (uint32_t)(next_random() % n);
  }
  if (sched.recording) {
    if (sched.len == sched.cap) {
      uint32_t cap = sched.cap ? 2 * sched.cap : 256;
      uint32_t *ch = (uint32_t *)realloc(sched.choices, (size_t)cap * sizeof(uint32_t));
      uint32_t *ar = ch ? (uint32_t *)realloc(sched.arities, (size_t)cap * sizeof(uint32_t)) : NULL;
      if (ch) sched.choices = ch;
      if (!ch || !ar) out_of_memory("recording the schedule");
      sched.arities = ar;
      sched.cap = cap;
    }
    sched.choices[sched.len] = c;
    sched.arities[sched.len] = n;
    ++sched.len;
  }
  ++sched.pos;
  return c;
}

static uint64_t inbound_key(uint32_t channel, uint32_t sender) { return ((uint64_t)channel << 32) | sender; }

/* The queue from `sender` on `channel` into `receiver`'s inbox, created if
 * new; valid until the next call (the inbox may move). */
static queue *inbound_queue(uint32_t receiver, uint32_t channel, uint32_t sender) {
  inbox *b = &inboxes[receiver];
  uint64_t key = inbound_key(channel, sender);
  uint32_t lo = 0, hi = b->count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (inbound_key(b->items[mid].channel, b->items[mid].sender) < key) lo = mid + 1;
    else hi = mid;
  }
  if (lo < b->count && inbound_key(b->items[lo].channel, b->items[lo].sender) == key) return &b->items[lo].q;
  if (b->count == b->cap) {
    uint32_t cap = b->cap ? 2 * b->cap : 4;
    inbound *items = (inbound *)realloc(b->items, (size_t)cap * sizeof(inbound));
    if (!items) out_of_memory("queueing a message");
    b->items = items;
    b->cap = cap;
  }
  memmove(&b->items[lo + 1], &b->items[lo], (size_t)(b->count - lo) * sizeof(inbound));
  b->items[lo].channel = channel;
  b->items[lo].sender = sender;
  b->items[lo].q.head = b->items[lo].q.tail = NULL;
  ++b->count;
  return &b->items[lo].q;
}

void dfir_rt_send(uint32_t channel, const char *name, uint32_t line, uint32_t to, uint64_t member, const void *bytes,
                  uint64_t len) {
  if (dfir_rt_net_active) {
    dfir_rt_net_send(channel, name, line, to, member, bytes, len);
    return;
  }
  if (member >= sizes[to]) {
    char msg[256];
    snprintf(msg, sizeof msg, "destination member %llu does not exist (the cluster has %u members)",
             (unsigned long long)member, sizes[to]);
    dfir_rt_error(name, line, msg);
  }
  message *m = (message *)malloc(sizeof(message) + len);
  if (!m) dfir_rt_error(name, line, "out of memory sending a message");
  if (dfir_rt_profiling) dfir_rt_profile_sent(channel, 1, len, 1); /* in memory, each message is its own frame */
  m->next = NULL;
  m->sender = running->member;
  m->len = len;
  memcpy(m->bytes, bytes, len);
  uint32_t receiver = offsets[to] + (uint32_t)member;
  queue *qu = inbound_queue(receiver, channel, (uint32_t)(running - instances));
  if (qu->tail) qu->tail->next = m;
  else qu->head = m;
  qu->tail = m;
  ++inboxes[receiver].queued;
}

void dfir_rt_send_batch(uint32_t channel, const char *name, uint32_t line, uint32_t to, const void *items,
                        uint64_t size, uint64_t count) {
  if (dfir_rt_net_active) {
    dfir_rt_net_send_batch(channel, name, line, to, items, size, count);
    return;
  }
  for (uint32_t member = 0; member < sizes[to]; ++member) {
    const char *p = (const char *)items;
    for (uint64_t i = 0; i < count; ++i) {
      uint32_t len;
      memcpy(&len, p, 4);
      dfir_rt_send(channel, name, line, to, member, p + 4, len);
      p += 4 + (uint64_t)len;
    }
  }
  (void)size;
}

int dfir_rt_recv(uint32_t channel, const void **bytes, uint64_t *len, uint32_t *sender) {
  if (dfir_rt_net_active) return dfir_rt_net_recv(channel, bytes, len, sender);
  message *m = batch[channel];
  if (!m) return 0;
  batch[channel] = m->next;
  /* Freed after the tick: decoding copied what it needs to tick memory. */
  *bytes = m->bytes;
  *len = m->len;
  *sender = m->sender;
  return 1;
}

uint32_t dfir_rt_member_id(void) {
  if (dfir_rt_net_active) return dfir_rt_net_member_id();
  return running ? running->member : 0;
}
uint32_t dfir_rt_cluster_size(uint32_t location) {
  if (dfir_rt_net_active) return dfir_rt_net_cluster_size(location);
  return sizes ? sizes[location] : 1;
}

static int pending(uint32_t r) { return inboxes[r].queued != 0; }

/* Moves every queued message for instance `r` into this tick's batch,
 * interleaving senders as the seed says (each sender's order is kept): each
 * message comes from the k-th non-empty sender in sender order, k drawn at
 * random among them. */
static message **gather(uint32_t r, message **all) {
  for (uint32_t c = 0; c < nchans; ++c) batch[c] = all[c] = NULL;
  inbox *b = &inboxes[r];
  if (b->count > ready_cap) {
    queue **grown = (queue **)realloc(ready_queues, (size_t)b->count * sizeof(queue *));
    if (!grown) out_of_memory("receiving messages");
    ready_queues = grown;
    ready_cap = b->count;
  }
  for (uint32_t i = 0, next; i < b->count; i = next) {
    uint32_t c = b->items[i].channel, ready = 0;
    for (next = i; next < b->count && b->items[next].channel == c; ++next)
      if (b->items[next].q.head) ready_queues[ready++] = &b->items[next].q;
    message *first = NULL, **tail = &first;
    while (ready) {
      uint64_t pick = choose(ready);
      queue *qu = ready_queues[pick];
      message *m = qu->head;
      qu->head = m->next;
      if (!qu->head) {
        qu->tail = NULL;
        memmove(&ready_queues[pick], &ready_queues[pick + 1], (size_t)(ready - pick - 1) * sizeof(queue *));
        --ready;
      }
      m->next = NULL;
      *tail = m;
      tail = &m->next;
      --b->queued;
    }
    batch[c] = first;
    all[c] = first;
  }
  return all;
}

int dfir_rt_run_system(const dfir_location *const *locations, const uint32_t *counts, uint32_t nlocations,
                       uint32_t nchannels, uint64_t seed) {
  dfir_rt_stack_guard();
  nlocs = nlocations;
  nchans = nchannels;
  rng = seed;
  offsets = (uint32_t *)calloc(nlocs, sizeof(uint32_t));
  sizes = (uint32_t *)calloc(nlocs, sizeof(uint32_t));
  ninstances = 0;
  for (uint32_t l = 0; l < nlocs; ++l) {
    offsets[l] = ninstances;
    sizes[l] = counts[l];
    ninstances += counts[l];
  }
  instances = (instance *)calloc(ninstances ? ninstances : 1, sizeof(instance));
  inboxes = (inbox *)calloc(ninstances ? ninstances : 1, sizeof(inbox));
  batch = (message **)calloc(nchans ? nchans : 1, sizeof(message *));
  message **delivered = (message **)calloc(nchans ? nchans : 1, sizeof(message *));
  uint32_t *ready = (uint32_t *)calloc(ninstances ? ninstances : 1, sizeof(uint32_t));
  if (!offsets || !sizes || !instances || !inboxes || !batch || !delivered || !ready) {
    fprintf(stderr, "dfir: out of memory starting the system\n");
    return 1;
  }
  for (uint32_t l = 0, k = 0; l < nlocs; ++l) {
    for (uint32_t m = 0; m < counts[l]; ++m, ++k) {
      instance *in = &instances[k];
      in->location = locations[l];
      in->loc = l;
      in->member = m;
      in->first = 1;
      snprintf(in->label, sizeof in->label, "[%s/%u] ", locations[l]->name, m);
      in->arenas = dfir_rt_arenas_new();
      in->state = calloc(1, locations[l]->state_size ? locations[l]->state_size : 1);
      if (!in->state) {
        fprintf(stderr, "dfir: out of memory allocating the state of `%s`\n", locations[l]->name);
        return 1;
      }
      running = in;
      dfir_rt_arenas_use(in->arenas);
      dfir_rt_timer_owner = k;
      in->prof = dfir_rt_profile_attach(in->location, m, in->state);
      in->location->init(in->state);
    }
  }
  int reads_stdin = 0;
  for (uint32_t l = 0; l < nlocs; ++l) reads_stdin |= locations[l]->reads_stdin != 0;
  int lines = 0; /* a batch of standard input waits for a reader's tick */
  /* Until quiescent: no instance has a first tick to run, deferred work, a
   * message waiting, input to read or a timer that will fire. */
  for (;;) {
    int stdin_open = reads_stdin && !dfir_rt_stdin_done();
    int timers = dfir_rt_timers_active();
    if (stdin_open && !lines) lines = dfir_rt_stdin_batch(0);
    uint32_t n = 0;
    for (uint32_t i = 0; i < ninstances; ++i)
      if (instances[i].first || instances[i].more || pending(i) || (lines && instances[i].location->reads_stdin) ||
          (timers && dfir_rt_timers_due_for(i)))
        ready[n++] = i;
    if (!n) {
      if (!stdin_open && !timers) break;
      /* Wait for input, or until the next timer is due. */
      uint64_t wait = timers ? dfir_rt_timers_wait_ms() : 0;
      if (stdin_open) lines = dfir_rt_stdin_batch(timers ? (int)(wait > 1000000 ? 1000000 : wait) : -1);
      else dfir_rt_sleep_ms(wait);
      continue;
    }
    if (sched.limit && sched.pos >= sched.limit) break; /* the bound of a simulated run */
    instance *in = &instances[ready[choose(n)]];
    /* A reader's tick takes the whole batch (the next reader the next one). */
    if (in->location->reads_stdin) lines = 0;
    running = in;
    dfir_rt_arenas_use(in->arenas);
    if (labelled) dfir_rt_output_prefix(in->label);
    gather((uint32_t)(in - instances), delivered);
    if (sched.trace) trace_tick(in, delivered);
    ++sched.steps;
    dfir_rt_profile_tick(in->prof, 1);
    in->more = in->location->tick(in->state);
    dfir_rt_profile_tick(in->prof, 0);
    in->first = 0;
    for (uint32_t c = 0; c < nchans; ++c) {
      message *m = delivered[c];
      while (m) {
        message *next = m->next;
        free(m);
        m = next;
      }
      batch[c] = NULL;
    }
    dfir_rt_tick_done();
    dfir_rt_flush();
  }
  for (uint32_t i = 0; i < ninstances; ++i) {
    running = &instances[i];
    dfir_rt_profile_detach(instances[i].prof);
    if (instances[i].location->fini) instances[i].location->fini(instances[i].state);
    free(instances[i].state);
    free(inboxes[i].items);
  }
  free(ready_queues);
  ready_queues = NULL;
  ready_cap = 0;
  free(delivered);
  free(ready);
  running = NULL;
  dfir_rt_arenas_use(NULL);
  dfir_rt_output_prefix(NULL); /* ends a last partial line */
  dfir_rt_flush();
  return 0;
}
