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
  int first, more, crashed;
  int open, flush; /* windows hold items; its next tick fires them all */
  uint32_t held; /* delayed messages it gets in its tick after next */
  uint64_t *seen; /* coverage: its operators' counters after its last tick */
} instance;

static instance *instances;
static uint32_t ninstances, nlocs, nchans;
static uint32_t *offsets, *sizes; /* per location */
static inbox *inboxes;            /* per receiving instance */
static inbound **ready_queues;    /* gather's scratch: the non-empty queues of one channel */
static uint32_t ready_cap;
static message **batch;           /* this tick's messages of the running instance, per channel */
static instance *running;
static uint8_t *feeds; /* nlocs x nlocs: whether location a has sent to location b (flush order) */
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

/* A simulated run's options (dfir_rt_simulate) and what it did. */
static struct {
  dfir_sim_options o;
  uint32_t faults_used;
  int blocked, bounded;
  uint64_t crashes_done;
  uint32_t *raw_choices, *raw_arities; /* under the reduction: the choices as numbered without it */
  uint32_t raw_len, raw_cap;
  uint8_t *asleep;      /* per instance: in the sleep set */
  uint32_t *group;      /* per location: the least location joined to it by dependencies */
  uint32_t *in_flight;  /* per sending instance and channel: its messages not yet delivered */
  struct fault_event {
    uint32_t channel, sender, kind;
  } *log;               /* this tick's faults, for the trace */
  uint32_t log_len, log_cap;
  struct requeue {
    message *m;
    uint32_t channel, sender, receiver;
    uint32_t held; /* 0: a copy, queued after this tick's; 1: delayed, queued after the next tick's; 2: delayed now */
  } *later;
  uint32_t later_len, later_cap;
} sim;

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

void dfir_rt_simulate(const dfir_sim_options *options) {
  memset(&sim.o, 0, sizeof sim.o);
  if (options) sim.o = *options;
}

void dfir_rt_sim_outcome(dfir_sim_outcome *out) {
  int reduced = sim.o.dependent != NULL;
  out->raw_choices = reduced ? sim.raw_choices : sched.choices;
  out->raw_arities = reduced ? sim.raw_arities : sched.arities;
  out->raw_len = reduced ? sim.raw_len : sched.len;
  out->faults = sim.faults_used;
  out->blocked = sim.blocked;
  out->bounded = sim.bounded;
  out->crashes_done = sim.crashes_done;
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
  if (json) fputc('}', stderr);
  static const char *const kinds[] = {"", "lost", "duplicated", "", "delayed"};
  for (uint32_t i = 0; i < sim.log_len; ++i) {
    const char *name = sched.channel_names ? sched.channel_names[sim.log[i].channel] : "?";
    if (json)
      fprintf(stderr, "%s{\"channel\": \"%s\", \"from\": %u, \"fault\": \"%s\"}", i ? ", " : ", \"faults\": [",
              name, sim.log[i].sender, kinds[sim.log[i].kind]);
    else
      fprintf(stderr, "%s%s from %u %s", i ? ", " : "; faults: ", name, sim.log[i].sender, kinds[sim.log[i].kind]);
  }
  if (json && sim.log_len) fputc(']', stderr);
  fprintf(stderr, json ? "}\n" : "\n");
}

/* Appends choice `c` of `n` alternatives to a record. */
static void record(uint32_t **choices, uint32_t **arities, uint32_t *len, uint32_t *cap, uint32_t c, uint32_t n) {
  if (*len == *cap) {
    uint32_t grown = *cap ? 2 * *cap : 256;
    uint32_t *ch = (uint32_t *)realloc(*choices, (size_t)grown * sizeof(uint32_t));
    if (ch) *choices = ch;
    uint32_t *ar = ch ? (uint32_t *)realloc(*arities, (size_t)grown * sizeof(uint32_t)) : NULL;
    if (!ch || !ar) out_of_memory("recording the schedule");
    *arities = ar;
    *cap = grown;
  }
  (*choices)[*len] = c;
  (*arities)[*len] = n;
  ++*len;
}

static void record_raw(uint32_t c, uint32_t n) {
  if (sim.o.dependent && n > 1) record(&sim.raw_choices, &sim.raw_arities, &sim.raw_len, &sim.raw_cap, c, n);
}

/* One choice among `n` alternatives (the same numbering with or without
 * the reduction: record_raw's and this record's agree). */
static uint32_t pick(uint32_t n) {
  if (n <= 1) return 0;
  uint32_t c;
  if (sched.pos < sched.prefix_len) {
    c = sched.prefix[sched.pos];
    if (c >= n && sim.o.lenient) c %= n; /* a prefix being minimized, or drawn by a fuzzer */
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
  if (sched.recording) record(&sched.choices, &sched.arities, &sched.len, &sched.cap, c, n);
  ++sched.pos;
  return c;
}

static uint32_t choose(uint32_t n) {
  uint32_t c = pick(n);
  record_raw(c, n);
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

static void enqueue(uint32_t receiver, uint32_t channel, uint32_t sender, message *m);

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
  uint32_t receiver = offsets[to] + (uint32_t)member;
  if (instances[receiver].crashed) return; /* a simulated crash: lost */
  message *m = (message *)malloc(sizeof(message) + len);
  if (!m) dfir_rt_error(name, line, "out of memory sending a message");
  if (dfir_rt_profiling) dfir_rt_profile_sent(channel, 1, len, 1); /* in memory, each message is its own frame */
  m->sender = running->member;
  m->len = len;
  memcpy(m->bytes, bytes, len);
  enqueue(receiver, channel, (uint32_t)(running - instances), m);
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

static int pending(uint32_t r) { return inboxes[r].queued != 0 || instances[r].held != 0; }

static void enqueue(uint32_t receiver, uint32_t channel, uint32_t sender, message *m) {
  m->next = NULL;
  if (feeds) feeds[(size_t)instances[sender].loc * nlocs + instances[receiver].loc] = 1;
  queue *qu = inbound_queue(receiver, channel, sender);
  if (qu->tail) qu->tail->next = m;
  else qu->head = m;
  qu->tail = m;
  ++inboxes[receiver].queued;
  if (sim.in_flight) ++sim.in_flight[(size_t)sender * nchans + channel];
}

/* `items` (of `len` used out of `*cap`, each `size` bytes) with room for
 * one more. */
static void *room(void *items, uint32_t len, uint32_t *cap, size_t size, const char *what) {
  if (len < *cap) return items;
  uint32_t grown = *cap ? 2 * *cap : 16;
  void *moved = realloc(items, (size_t)grown * size);
  if (!moved) out_of_memory(what);
  *cap = grown;
  return moved;
}

/* The fault a delivery on `channel` suffers: 0, or one of DFIR_FAULT_*,
 * chosen like any other alternative while the run's faults last. */
static uint32_t fault_for(uint32_t channel, uint32_t sender) {
  uint32_t allowed = sim.o.faults ? sim.o.faults[channel] : 0;
  if (!allowed || sim.faults_used >= sim.o.max_faults) return 0;
  uint32_t kinds[3], n = 0;
  for (uint32_t bit = DFIR_FAULT_LOSE; bit <= DFIR_FAULT_DELAY; bit <<= 1)
    if (allowed & bit) kinds[n++] = bit;
  uint32_t c = choose(n + 1);
  if (!c) return 0;
  ++sim.faults_used;
  if (sched.trace || sim.o.coverage) {
    sim.log = room(sim.log, sim.log_len, &sim.log_cap, sizeof *sim.log, "tracing a fault");
    sim.log[sim.log_len].channel = channel;
    sim.log[sim.log_len].sender = instances[sender].member;
    sim.log[sim.log_len].kind = kinds[c - 1];
    ++sim.log_len;
  }
  return kinds[c - 1];
}

/* Moves every queued message for instance `r` into this tick's batch,
 * interleaving senders as the seed says (each sender's order is kept): each
 * message comes from the k-th non-empty sender in sender order, k drawn at
 * random among them. A simulated fault loses a message, delivers it and
 * queues a copy for the next tick, or holds it back until the tick after
 * next (so that messages sent after it, by its sender or others, can come
 * first). */
static message **gather(uint32_t r, message **all) {
  for (uint32_t c = 0; c < nchans; ++c) batch[c] = all[c] = NULL;
  sim.log_len = 0;
  inbox *b = &inboxes[r];
  if (b->count > ready_cap) {
    inbound **grown = (inbound **)realloc(ready_queues, (size_t)b->count * sizeof(inbound *));
    if (!grown) out_of_memory("receiving messages");
    ready_queues = grown;
    ready_cap = b->count;
  }
  for (uint32_t i = 0, next; i < b->count; i = next) {
    uint32_t c = b->items[i].channel, ready = 0;
    for (next = i; next < b->count && b->items[next].channel == c; ++next)
      if (b->items[next].q.head) ready_queues[ready++] = &b->items[next];
    message *first = NULL, **tail = &first;
    while (ready) {
      uint64_t pick = choose(ready);
      inbound *from = ready_queues[pick];
      message *m = from->q.head;
      from->q.head = m->next;
      if (!from->q.head) {
        from->q.tail = NULL;
        memmove(&ready_queues[pick], &ready_queues[pick + 1], (size_t)(ready - pick - 1) * sizeof(inbound *));
        --ready;
      }
      --b->queued;
      if (sim.in_flight) --sim.in_flight[(size_t)from->sender * nchans + c];
      uint32_t fault = fault_for(c, from->sender);
      if (fault == DFIR_FAULT_LOSE) {
        free(m);
        continue;
      }
      if (fault) { /* the copy, or the message itself, comes again in a later tick */
        message *again = m;
        if (fault == DFIR_FAULT_DUP) {
          again = (message *)malloc(sizeof(message) + m->len);
          if (!again) out_of_memory("duplicating a message");
          memcpy(again, m, sizeof(message) + m->len);
        }
        sim.later = room(sim.later, sim.later_len, &sim.later_cap, sizeof *sim.later, "delaying a message");
        sim.later[sim.later_len].m = again;
        sim.later[sim.later_len].channel = c;
        sim.later[sim.later_len].sender = from->sender;
        sim.later[sim.later_len].receiver = r;
        sim.later[sim.later_len].held = fault == DFIR_FAULT_DELAY ? 2 : 0;
        ++sim.later_len;
        if (fault == DFIR_FAULT_DELAY) continue;
      }
      m->next = NULL;
      *tail = m;
      tail = &m->next;
    }
    batch[c] = first;
    all[c] = first;
  }
  /* After every queue is drained (the inbox may grow here): this tick's
   * copies, and what was delayed in the tick before, come in the next
   * tick; what was delayed now, in the one after. */
  uint32_t kept = 0;
  instances[r].held = 0;
  for (uint32_t i = 0; i < sim.later_len; ++i) {
    struct requeue *e = &sim.later[i];
    if (e->receiver == r && e->held != 2) {
      enqueue(r, e->channel, e->sender, e->m);
      continue;
    }
    if (e->receiver == r) {
      e->held = 1;
      ++instances[r].held;
    }
    sim.later[kept++] = *e;
  }
  sim.later_len = kept;
  return all;
}

static void drop_inbox(uint32_t r) {
  inbox *b = &inboxes[r];
  for (uint32_t i = 0; i < b->count; ++i) {
    for (message *m = b->items[i].q.head, *next; m; m = next) {
      next = m->next;
      free(m);
      if (sim.in_flight) --sim.in_flight[(size_t)b->items[i].sender * nchans + b->items[i].channel];
    }
    b->items[i].q.head = b->items[i].q.tail = NULL;
  }
  b->queued = 0;
  uint32_t kept = 0;
  for (uint32_t i = 0; i < sim.later_len; ++i)
    if (sim.later[i].receiver == r) free(sim.later[i].m);
    else sim.later[kept++] = sim.later[i];
  sim.later_len = kept;
  instances[r].held = 0;
}

/* The simulated crashes and restarts due at this step; `idle`: nothing
 * else would run, so a pending restart happens now. Returns how many took
 * place. */
static int apply_crashes(int idle) {
  int applied = 0;
  for (uint32_t i = 0; i < sim.o.ncrashes && i < 32; ++i) {
    const dfir_crash *c = &sim.o.crashes[i];
    if (c->location >= nlocs || c->member >= sizes[c->location]) continue;
    uint32_t k = offsets[c->location] + c->member;
    instance *in = &instances[k];
    uint64_t down = 1ull << (2 * i), up = 1ull << (2 * i + 1);
    if (!(sim.crashes_done & down)) {
      if (idle || sched.steps < c->step) continue;
      sim.crashes_done |= down;
      in->crashed = 1;
      in->first = in->more = 0;
      drop_inbox(k);
      dfir_rt_timers_stop(k);
      if (sched.trace) {
        dfir_rt_flush();
        fprintf(stderr, sched.trace == 2 ? "{\"step\": %llu, \"location\": \"%s\", \"member\": %u, \"crash\": true}\n"
                                         : "trace: step %llu: %s/%u crashes\n",
                (unsigned long long)sched.steps, in->location->name, in->member);
      }
      ++applied;
    } else if (c->restart_step && !(sim.crashes_done & up) && (idle || sched.steps >= c->restart_step)) {
      sim.crashes_done |= up;
      running = in;
      dfir_rt_arenas_use(in->arenas);
      dfir_rt_timer_owner = k;
      if (in->location->fini) in->location->fini(in->state);
      memset(in->state, 0, in->location->state_size ? in->location->state_size : 1);
      in->location->init(in->state);
      free(in->seen);
      in->seen = NULL;
      in->crashed = 0;
      in->first = 1;
      in->open = in->flush = 0;
      if (sched.trace) {
        dfir_rt_flush();
        fprintf(stderr, sched.trace == 2 ? "{\"step\": %llu, \"location\": \"%s\", \"member\": %u, \"restart\": true}\n"
                                         : "trace: step %llu: %s/%u restarts from its initial state\n",
                (unsigned long long)sched.steps, in->location->name, in->member);
      }
      ++applied;
    }
  }
  return applied;
}

/* The instance that ticks next among the `n` ready ones: chosen, under the
 * reduction, among those not asleep (NULL when every one is: the run is
 * blocked), and the sleep set carried past it. */
static instance *next_instance(uint32_t *ready, uint32_t n) {
  if (sim.in_flight) { /* instances with too many messages waiting on a channel hold back, if others can run */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t *f = &sim.in_flight[(size_t)ready[i] * nchans];
      int full = 0;
      for (uint32_t c = 0; c < nchans && !full; ++c) full = f[c] >= sim.o.max_in_flight;
      if (!full) ready[kept++] = ready[i];
    }
    if (kept) n = kept;
  }
  if (!sim.o.dependent) return &instances[ready[choose(n)]];
  /* A persistent set: the ready instances of one group of locations that
   * channels join (one with an awake instance). Nothing outside it
   * can ever affect it, so the others need not be tried here: their ticks
   * commute with whatever it does, and come later. Of it, those awake. */
  uint32_t group = 0, awake = 0, k, least = n;
  /* The group of the awake instance that has ticked least (so that under a
   * bound every group gets its turn); field 0 of a state counts its ticks. */
  for (k = 0; k < n; ++k)
    if (!sim.asleep[ready[k]] &&
        (least == n || *(const uint64_t *)instances[ready[k]].state < *(const uint64_t *)instances[ready[least]].state))
      least = k;
  if (least == n) {
    sim.blocked = 1;
    return NULL;
  }
  group = sim.group[instances[ready[least]].loc];
  for (uint32_t i = 0; i < n; ++i)
    if (!sim.asleep[ready[i]] && sim.group[instances[ready[i]].loc] == group) ++awake;
  uint32_t c = pick(awake);
  for (k = 0; k < n; ++k) {
    if (sim.asleep[ready[k]] || sim.group[instances[ready[k]].loc] != group) continue;
    if (!c) break;
    sim.asleep[ready[k]] = 1; /* explored before this alternative */
    --c;
  }
  record_raw(k, n);
  uint32_t chosen = ready[k], lc = instances[chosen].loc;
  for (uint32_t u = 0; u < ninstances; ++u)
    if (sim.asleep[u] && (u == chosen || sim.o.dependent[(size_t)instances[u].loc * nlocs + lc])) sim.asleep[u] = 0;
  return &instances[chosen];
}

/* Coverage (dfir_sim_options.coverage): a counter per hashed feature. */
static uint32_t bucket(uint64_t n) {
  uint32_t b = 0;
  while (n && b < 12) {
    n >>= 1;
    ++b;
  }
  return b;
}

static void cover(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  uint64_t parts[4] = {a, b, c, d};
  for (int i = 0; i < 4; ++i) {
    h ^= parts[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
  }
  uint8_t *slot = &sim.o.coverage[(h ^ (h >> 29)) % sim.o.coverage_size];
  if (*slot != 0xff) ++*slot;
}

static void cover_tick(instance *in, message *const *delivered) {
  uint64_t loc = in->loc;
  for (uint32_t c = 0; c < nchans; ++c) {
    uint64_t n = 0;
    for (const message *m = delivered[c]; m; m = m->next) ++n;
    if (n) cover(1, loc, c, bucket(n));
  }
  for (uint32_t i = 0; i < sim.log_len; ++i) cover(2, sim.log[i].channel, sim.log[i].kind, loc);
  const dfir_profile_info *info = in->location->profile;
  if (!info) return;
  const uint64_t *now = (const uint64_t *)((const char *)in->state + info->counters_offset);
  size_t n = 2 * (size_t)info->nops;
  if (!in->seen && !(in->seen = (uint64_t *)calloc(n ? n : 1, sizeof(uint64_t)))) out_of_memory("measuring coverage");
  for (size_t j = 0; j < n; ++j) {
    if (now[j] == in->seen[j]) continue;
    cover(3, loc, j, bucket(now[j] - in->seen[j])); /* items this tick */
    cover(4, loc, j, bucket(now[j]));               /* items so far */
    in->seen[j] = now[j];
  }
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
  feeds = (uint8_t *)calloc(nlocs ? (size_t)nlocs * nlocs : 1, 1);
  sim.faults_used = 0;
  sim.later_len = 0;
  sim.blocked = sim.bounded = 0;
  sim.crashes_done = 0;
  sim.raw_len = 0;
  sim.asleep = sim.o.dependent ? (uint8_t *)calloc(ninstances ? ninstances : 1, 1) : NULL;
  sim.group = sim.o.dependent ? (uint32_t *)calloc(nlocs ? nlocs : 1, sizeof(uint32_t)) : NULL;
  if (sim.group) { /* connected groups of the dependency relation, by repeated relaxation */
    for (uint32_t l = 0; l < nlocs; ++l) sim.group[l] = l;
    for (int changed = 1; changed;) {
      changed = 0;
      for (uint32_t a = 0; a < nlocs; ++a)
        for (uint32_t b = 0; b < nlocs; ++b)
          if (sim.o.dependent[(size_t)a * nlocs + b] && sim.group[b] < sim.group[a]) {
            sim.group[a] = sim.group[b];
            changed = 1;
          }
    }
  }
  sim.in_flight = sim.o.max_in_flight ? (uint32_t *)calloc((size_t)(ninstances ? ninstances : 1) * (nchans ? nchans : 1),
                                                           sizeof(uint32_t))
                                      : NULL;
  if (!offsets || !sizes || !instances || !inboxes || !batch || !delivered || !ready ||
      (sim.o.dependent && (!sim.asleep || !sim.group)) || (sim.o.max_in_flight && !sim.in_flight)) {
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
    /* Crashes first: a crash stops its member's timers, which decides
     * whether a timer is left to wait for. */
    if (sim.o.ncrashes) apply_crashes(0);
    int stdin_open = reads_stdin && !dfir_rt_stdin_done();
    int timers = dfir_rt_timers_active();
    if (stdin_open && !lines) lines = dfir_rt_stdin_batch(0);
    uint32_t n = 0;
    for (uint32_t i = 0; i < ninstances; ++i)
      if (!instances[i].crashed &&
          (instances[i].first || instances[i].more || pending(i) || (lines && instances[i].location->reads_stdin) ||
           (timers && dfir_rt_timers_due_for(i))))
        ready[n++] = i;
    if (!n && !stdin_open && !timers && !(sim.o.ncrashes && apply_crashes(1))) {
      /* Nothing left to do: instances whose windows hold items fire them,
       * upstream first: not one whose location another location with open
       * windows has sent to (what that one fires may still reach it),
       * unless every one is (a cycle). */
      for (int pass = 0; pass < 2 && !n; ++pass)
        for (uint32_t i = 0; i < ninstances; ++i) {
          if (instances[i].crashed || !instances[i].open) continue;
          int fed = 0;
          for (uint32_t j = 0; pass == 0 && j < ninstances && !fed; ++j)
            fed = j != i && !instances[j].crashed && instances[j].open && instances[j].loc != instances[i].loc &&
                  (!feeds || feeds[(size_t)instances[j].loc * nlocs + instances[i].loc]);
          if (fed) continue;
          instances[i].flush = 1;
          ready[n++] = i;
        }
      if (!n) break;
    }
    if (!n) {
      /* Wait for input, or until the next timer is due. */
      uint64_t wait = timers ? dfir_rt_timers_wait_ms() : 0;
      if (stdin_open) lines = dfir_rt_stdin_batch(timers ? (int)(wait > 1000000 ? 1000000 : wait) : -1);
      else if (wait != UINT64_MAX) dfir_rt_sleep_ms(wait); /* UINT64_MAX: no timer left */
      continue;
    }
    if ((sched.limit && sched.pos >= sched.limit) || (sim.o.max_ticks && sched.steps >= sim.o.max_ticks)) {
      sim.bounded = 1; /* the bounds of a simulated run */
      break;
    }
    instance *in = next_instance(ready, n);
    if (!in) break; /* every alternative asleep: this run repeats one explored already */
    /* A reader's tick takes the whole batch (the next reader the next one). */
    if (in->location->reads_stdin) lines = 0;
    running = in;
    dfir_rt_arenas_use(in->arenas);
    if (labelled) dfir_rt_output_prefix(in->label);
    gather((uint32_t)(in - instances), delivered);
    if (sched.trace) trace_tick(in, delivered);
    ++sched.steps;
    dfir_rt_profile_tick(in->prof, 1);
    dfir_rt_windows_begin_tick(in->flush);
    in->more = in->location->tick(in->state);
    in->open = dfir_rt_windows_end_tick();
    in->flush = 0;
    dfir_rt_profile_tick(in->prof, 0);
    if (sim.o.coverage) cover_tick(in, delivered);
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
  free(sim.asleep);
  free(sim.group);
  free(sim.in_flight);
  sim.asleep = NULL;
  sim.group = NULL;
  sim.in_flight = NULL;
  free(ready_queues);
  ready_queues = NULL;
  ready_cap = 0;
  free(delivered);
  free(ready);
  free(feeds);
  feeds = NULL;
  running = NULL;
  dfir_rt_arenas_use(NULL);
  dfir_rt_output_prefix(NULL); /* ends a last partial line */
  dfir_rt_flush();
  return 0;
}
