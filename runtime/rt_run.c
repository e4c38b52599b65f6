/* Runtime errors and the tick loop of one location instance. */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "dfir_rt.h"

#include "rt_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DFIR_RT_NORETURN void dfir_rt_error(const char *op, uint32_t line, const char *message) {
  dfir_rt_flush();
  fprintf(stderr, "dfir: runtime error in `%s` (line %u): %s\n", op, (unsigned)line, message);
  exit(DFIR_RT_EXIT_RUNTIME_ERROR);
}

uint64_t dfir_rt_stack_floor;

/* Room kept below the floor: enough for the error report (stdio, a
 * message) after a function's frame stopped at it. */
enum { kStackReserve = 256 * 1024 };

void dfir_rt_stack_guard(void) {
  pthread_attr_t attr;
  void *low = NULL;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  if (pthread_attr_getstack(&attr, &low, &size) == 0 && size > 2 * (size_t)kStackReserve)
    dfir_rt_stack_floor = (uint64_t)(uintptr_t)low + kStackReserve;
  pthread_attr_destroy(&attr);
}

static const char *tick_location = "";
static uint64_t tick_number;

void dfir_rt_tick_begin(const char *location, uint64_t tick) {
  tick_location = location;
  tick_number = tick;
}

DFIR_RT_NORETURN void dfir_rt_assert_failed(const char *op, uint32_t line, const char *message, uint64_t len) {
  dfir_rt_flush();
  fprintf(stderr, "dfir: assertion failed in `%s` (line %u) at `%s`, member %u, tick %llu: %.*s\n", op,
          (unsigned)line, tick_location, (unsigned)dfir_rt_member_id(), (unsigned long long)tick_number,
          (int)(len > 4096 ? 4096 : len), message);
  exit(DFIR_RT_EXIT_RUNTIME_ERROR);
}

void dfir_rt_window_report(const char *op, uint32_t line, const char *location, uint64_t late, uint64_t open) {
  dfir_rt_flush();
  if (late)
    fprintf(stderr, "dfir: `%s` (line %u) at `%s`, member %u: %llu late item%s dropped (every window %s fell in had fired)\n",
            op, (unsigned)line, location, (unsigned)dfir_rt_member_id(), (unsigned long long)late,
            late == 1 ? "" : "s", late == 1 ? "it" : "they");
  if (open)
    fprintf(stderr, "dfir: `%s` (line %u) at `%s`, member %u: %llu item%s in windows still open when it ended, not emitted "
            "(nothing flushed them)\n",
            op, (unsigned)line, location, (unsigned)dfir_rt_member_id(), (unsigned long long)open,
            open == 1 ? "" : "s");
}

int dfir_rt_run(const dfir_location *location) {
  dfir_rt_stack_guard();
  void *state = calloc(1, location->state_size ? location->state_size : 1);
  if (!state) {
    fprintf(stderr, "dfir: out of memory allocating the state of `%s`\n", location->name);
    return DFIR_RT_EXIT_RUNTIME_ERROR;
  }
  dfir_prof *prof = dfir_rt_profile_attach(location, 0, state);
  location->init(state);
  /* The first tick runs the bounded sources; later ticks run while the
   * location has deferred data for them or standard input remains. */
  int first = 1, more = 0, open = 0, flush = 0;
  for (;;) {
    /* Wait for input or a timer only when nothing else would make a tick
     * run; with a timer, waiting for input lasts until it is due. */
    int idle = !first && !more;
    int timers = dfir_rt_timers_active();
    uint64_t timer_wait = timers ? dfir_rt_timers_wait_ms() : 0;
    int stdin_open = location->reads_stdin && !dfir_rt_stdin_done();
    int wait = !idle ? 0 : timers ? (int)(timer_wait > 1000000 ? 1000000 : timer_wait) : -1;
    int lines = stdin_open ? dfir_rt_stdin_batch(wait) : 0;
    if (idle && !lines) {
      if (!timers) {
        /* Nothing deferred, input ended, no timer: finished, once the
         * windows still open have fired. */
        if (!open) break;
        flush = 1;
      } else {
        if (!stdin_open) dfir_rt_sleep_ms(dfir_rt_timers_wait_ms());
        if (dfir_rt_timers_wait_ms() > 0) continue;
      }
    }
    dfir_rt_profile_tick(prof, 1);
    dfir_rt_windows_begin_tick(flush);
    more = location->tick(state);
    open = dfir_rt_windows_end_tick();
    flush = 0;
    dfir_rt_profile_tick(prof, 0);
    dfir_rt_tick_done();
    /* A tick's output is seen when the tick ends (a long-running location
     * must not hold it back). */
    dfir_rt_flush();
    first = 0;
  }
  dfir_rt_profile_detach(prof);
  if (location->fini) location->fini(state);
  free(state);
  dfir_rt_flush();
  return 0;
}

static int usage(const char *argv0, const char *problem, const char *arg) {
  if (problem) fprintf(stderr, "%s: error: %s%s%s%s\n", argv0, problem, arg ? " `" : "", arg ? arg : "", arg ? "`" : "");
  fprintf(problem ? stderr : stdout,
          "usage: %s [--seed N] [--profile FILE] [--deploy FILE --location NAME --id N [--metrics-port P]]\n"
          "  --seed N         seed rand_u64() and rand_f64() (random otherwise), and the\n"
          "                   order in which a cluster's members tick\n"
          "  --deploy FILE    run as one instance of a deployment (docs/deployment.md):\n"
          "  --location NAME  the location this executable runs, and\n"
          "  --id N           its instance number (or a name ending in -N: a pod's)\n"
          "  --metrics-port P serve /metrics (Prometheus), /healthz and /readyz over HTTP\n"
          "                   on port P of the instance's host\n"
          "  --profile FILE   write a profile of the run to FILE (an executable built with\n"
          "                   `dfirc build --profile`)\n",
          argv0);
  return problem ? 2 : 0;
}

static int parse_u64(const char *s, unsigned long long *out) {
  char *end = NULL;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return !errno && end && !*end && s[0] != '-' && s[0] != 0;
}

/* The N of a name ending in -N: a StatefulSet pod's ordinal (`worker-3`),
 * so that a Kubernetes manifest can pass `--id $(POD_NAME)`. */
static int pod_ordinal(const char *s, unsigned long long *out) {
  const char *dash = strrchr(s, '-');
  return dash && dash != s && dash[1] >= '0' && dash[1] <= '9' && parse_u64(dash + 1, out);
}

static int run_location(const dfir_location *location, const char *argv0, const char *deploy, const char *name,
                        const unsigned long long *id, unsigned long long seed);

int dfir_rt_main(const dfir_location *location, int argc, char **argv) {
  const char *argv0 = argc > 0 ? argv[0] : location->name;
  const char *deploy = NULL, *name = NULL, *profile = NULL;
  unsigned long long id = 0, seed = 0, metrics_port = 0;
  int has_id = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) return usage(argv0, NULL, NULL);
    int takes = strcmp(arg, "--seed") == 0 || strcmp(arg, "--deploy") == 0 || strcmp(arg, "--location") == 0 ||
                strcmp(arg, "--id") == 0 || strcmp(arg, "--profile") == 0 || strcmp(arg, "--metrics-port") == 0;
    if (!takes) return usage(argv0, "unknown argument", arg);
    if (i + 1 >= argc) return usage(argv0, "missing value after", arg);
    const char *value = argv[++i];
    unsigned long long n = 0;
    if (strcmp(arg, "--deploy") == 0) deploy = value;
    else if (strcmp(arg, "--profile") == 0) profile = value;
    else if (strcmp(arg, "--location") == 0) name = value;
    else if (strcmp(arg, "--id") == 0 && !parse_u64(value, &n) && !pod_ordinal(value, &n))
      return usage(argv0, "expected an instance id (N, or a name ending in -N such as a pod's), found", value);
    else if (strcmp(arg, "--id") != 0 && !parse_u64(value, &n))
      return usage(argv0, "expected a non-negative integer, found", value);
    else if (strcmp(arg, "--metrics-port") == 0) {
      if (n == 0 || n > 65535) return usage(argv0, "expected a port from 1 to 65535, found", value);
      metrics_port = n;
    }
    else if (strcmp(arg, "--seed") == 0) {
      dfir_rt_seed_random(n);
      seed = n;
    }
    else {
      id = n;
      has_id = 1;
    }
  }
  if ((deploy || name || has_id) && !(deploy && name && has_id))
    return usage(argv0, "--deploy, --location and --id go together", NULL);
  if (metrics_port && !deploy) return usage(argv0, "--metrics-port is for an instance of a deployment (--deploy)", NULL);
  dfir_rt_net_set_metrics_port((uint32_t)metrics_port);
  if (profile) {
    if (!location->profile) {
      fprintf(stderr, "%s: error: `--profile`: this executable was built without profiling; build it with `dfirc build "
                      "--profiling`\n", argv0);
      return 2;
    }
    if (dfir_rt_profile_open(profile) != 0) return 1;
  }
  int status = run_location(location, argv0, deploy, name, has_id ? &id : NULL, seed);
  dfir_rt_profile_close();
  return status;
}

static int run_location(const dfir_location *location, const char *argv0, const char *deploy, const char *name,
                        const unsigned long long *id, unsigned long long seed) {
  if (deploy && name && id) {
    if (*id > UINT32_MAX) return usage(argv0, "instance id out of range:", name);
    return dfir_rt_net_run(location, deploy, name, (uint32_t)*id);
  }
  if (location->nlocations > 1) {
    fprintf(stderr,
            "%s: error: location `%s` is one of %u locations of its program: run it with --deploy FILE "
            "--location %s --id N, or run them all with `dfirc launch DIR/deploy.json`\n",
            argv0, location->name, location->nlocations, location->name);
    return 2;
  }
  if (location->nchannels > 0 || location->cluster_size > 0) {
    /* A process that sends to itself, or the members of a cluster: a
     * system of instances, as `dfirc run` runs it. */
    uint32_t count = location->cluster_size > 0 ? location->cluster_size : 1;
    return dfir_rt_run_system(&location, &count, 1, location->nchannels, seed);
  }
  return dfir_rt_run(location);
}
