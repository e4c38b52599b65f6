/* Profiles (docs/profiling.md): per instance its ticks, busy time, and per
 * operator the items in and out (counters the generated code of a location
 * built with profiling keeps in its state) and the CPU time spent, sampled:
 * SIGPROF, every millisecond of CPU time the process uses, charges one
 * sample to the operator the running instance names as running (the
 * generated code writes it on entering and leaving each operator), to the
 * instance's tick outside any operator, or to the runtime between ticks.
 * Per channel, what each instance sent: items, bytes and frames. The file
 * is JSON, written when the run ends (also after a runtime error). */
#define _GNU_SOURCE
#include "dfir_rt.h"
#include "rt_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

enum { kSampleMicros = 1000 };

typedef struct {
  uint64_t items, bytes, frames;
} chan_stats;

struct dfir_prof {
  const dfir_location *location;
  uint32_t member;
  void *state;          /* while the instance lives */
  uint64_t *counters;   /* 2 per operator: in, out; copied out of the state when it goes */
  uint64_t *samples;    /* per operator, then one for the tick outside any operator */
  chan_stats *channels; /* what this instance sent, per channel of the program */
  uint64_t ticks, busy_ns, tick_start;
};

int dfir_rt_profiling;
static char *profile_path;
static dfir_prof **instances;
static uint32_t ninstances, capacity;
static dfir_prof *volatile running; /* the instance ticking, for the sampler */
static volatile uint64_t runtime_samples;
static uint64_t started_ns, started_cpu_ns;
static int written;

static uint64_t clock_ns(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static void on_sample(int sig) {
  (void)sig;
  dfir_prof *p = running;
  if (!p) {
    runtime_samples = runtime_samples + 1;
    return;
  }
  const dfir_profile_info *info = p->location->profile;
  int32_t current = *(volatile int32_t *)((char *)p->state + info->current_offset);
  uint32_t slot = current >= 0 && (uint32_t)current < info->nops ? (uint32_t)current : info->nops;
  p->samples[slot] = p->samples[slot] + 1;
}

static void write_profile(void);

int dfir_rt_profile_open(const char *path) {
  if (!path || !*path) return -1;
  FILE *probe = fopen(path, "w"); /* fail now, not after the run */
  if (!probe) {
    fprintf(stderr, "dfir: error: cannot write the profile `%s`: %s\n", path, strerror(errno));
    return -1;
  }
  fclose(probe);
  free(profile_path);
  profile_path = strdup(path);
  if (!profile_path) return -1;
  dfir_rt_profiling = 1;
  written = 0;
  started_ns = now_ns();
  started_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sample;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGPROF, &sa, NULL);
  struct itimerval every = {{0, kSampleMicros}, {0, kSampleMicros}};
  setitimer(ITIMER_PROF, &every, NULL);
  static int registered;
  if (!registered) atexit(write_profile); /* a runtime error exits: keep what was measured */
  registered = 1;
  return 0;
}

static DFIR_RT_NORETURN void out_of_memory(void) {
  fprintf(stderr, "dfir: out of memory recording the profile\n");
  exit(DFIR_RT_EXIT_RUNTIME_ERROR);
}

static void *zeroed(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size);
  if (!p) out_of_memory();
  return p;
}

dfir_prof *dfir_rt_profile_attach(const dfir_location *location, uint32_t member, void *state) {
  if (!dfir_rt_profiling || !location->profile) return NULL;
  const dfir_profile_info *info = location->profile;
  dfir_prof *p = (dfir_prof *)zeroed(1, sizeof(dfir_prof));
  p->location = location;
  p->member = member;
  p->state = state;
  p->samples = (uint64_t *)zeroed(info->nops + 1, sizeof(uint64_t));
  p->counters = (uint64_t *)zeroed(2 * (size_t)info->nops, sizeof(uint64_t));
  p->channels = (chan_stats *)zeroed(info->nchannels, sizeof(chan_stats));
  if (ninstances == capacity) {
    capacity = capacity ? 2 * capacity : 8;
    dfir_prof **grown = (dfir_prof **)realloc(instances, capacity * sizeof(dfir_prof *));
    if (!grown) out_of_memory();
    instances = grown;
  }
  instances[ninstances++] = p;
  return p;
}

void dfir_rt_profile_tick(dfir_prof *p, int begin) {
  if (!p) return;
  if (begin) {
    p->tick_start = now_ns();
    running = p;
    return;
  }
  running = NULL;
  p->busy_ns += now_ns() - p->tick_start;
  ++p->ticks;
}

static void copy_counters(dfir_prof *p) {
  if (!p->state) return;
  const dfir_profile_info *info = p->location->profile;
  memcpy(p->counters, (char *)p->state + info->counters_offset, 2 * (size_t)info->nops * sizeof(uint64_t));
}

void dfir_rt_profile_detach(dfir_prof *p) {
  if (!p) return;
  copy_counters(p);
  if (running == p) running = NULL;
  p->state = NULL;
}

void dfir_rt_profile_sent(uint32_t channel, uint64_t items, uint64_t bytes, uint64_t frames) {
  dfir_prof *p = running ? running : ninstances == 1 ? instances[0] : NULL;
  if (!p || channel >= p->location->profile->nchannels) return;
  p->channels[channel].items += items;
  p->channels[channel].bytes += bytes;
  p->channels[channel].frames += frames;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void write_profile(void) {
  if (!dfir_rt_profiling || written || !profile_path) return;
  written = 1;
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_PROF, &off, NULL);
  running = NULL;
  FILE *f = fopen(profile_path, "w");
  if (!f) {
    fprintf(stderr, "dfir: error: cannot write the profile `%s`: %s\n", profile_path, strerror(errno));
    return;
  }
  uint64_t fingerprint = ninstances ? instances[0]->location->fingerprint : 0;
  fprintf(f, "{\n  \"dfir_profile\": 1,\n  \"fingerprint\": \"%016llx\",\n  \"sample_us\": %d,\n",
          (unsigned long long)fingerprint, kSampleMicros);
  fprintf(f, "  \"wall_ns\": %llu,\n  \"cpu_ns\": %llu,\n  \"runtime_samples\": %llu,\n  \"deployed\": %s,\n"
          "  \"instances\": [",
          (unsigned long long)(now_ns() - started_ns),
          (unsigned long long)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - started_cpu_ns), (unsigned long long)runtime_samples,
          dfir_rt_net_active ? "true" : "false");
  for (uint32_t i = 0; i < ninstances; ++i) {
    dfir_prof *p = instances[i];
    const dfir_profile_info *info = p->location->profile;
    copy_counters(p);
    fprintf(f, "%s\n    {\"location\": ", i ? "," : "");
    json_string(f, p->location->name);
    fprintf(f, ", \"member\": %u, \"ticks\": %llu, \"busy_ns\": %llu, \"tick_samples\": %llu,\n     \"operators\": [",
            (unsigned)p->member, (unsigned long long)p->ticks, (unsigned long long)p->busy_ns,
            (unsigned long long)p->samples[info->nops]);
    for (uint32_t o = 0; o < info->nops; ++o) {
      fprintf(f, "%s\n       {\"name\": ", o ? "," : "");
      json_string(f, info->op_names[o]);
      fprintf(f, ", \"op\": ");
      json_string(f, info->op_kinds[o]);
      fprintf(f, ", \"line\": %u, \"in\": %llu, \"out\": %llu, \"samples\": %llu}", (unsigned)info->op_lines[o],
              (unsigned long long)p->counters[2 * o], (unsigned long long)p->counters[2 * o + 1],
              (unsigned long long)p->samples[o]);
    }
    fprintf(f, "],\n     \"channels\": [");
    int first = 1;
    for (uint32_t c = 0; c < info->nchannels; ++c) {
      const chan_stats *s = &p->channels[c];
      if (!s->items && !s->frames) continue;
      fprintf(f, "%s\n       {\"name\": ", first ? "" : ",");
      json_string(f, info->channel_names[c]);
      fprintf(f, ", \"items\": %llu, \"bytes\": %llu, \"frames\": %llu}", (unsigned long long)s->items,
              (unsigned long long)s->bytes, (unsigned long long)s->frames);
      first = 0;
    }
    fprintf(f, "]}");
  }
  fprintf(f, "\n  ]\n}\n");
  if (fclose(f) != 0) fprintf(stderr, "dfir: error: cannot write the profile `%s`: %s\n", profile_path, strerror(errno));
}

int dfir_rt_profile_close(void) {
  if (!dfir_rt_profiling) return 0;
  write_profile();
  for (uint32_t i = 0; i < ninstances; ++i) {
    free(instances[i]->samples);
    free(instances[i]->counters);
    free(instances[i]->channels);
    free(instances[i]);
  }
  free(instances);
  instances = NULL;
  ninstances = capacity = 0;
  dfir_rt_profiling = 0;
  signal(SIGPROF, SIG_IGN);
  return 0;
}
