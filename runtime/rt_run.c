/* Runtime errors and the tick loop of one location instance. */
#include "dfir_rt.h"

int dfir_rt_stdin_batch(int wait);
int dfir_rt_stdin_done(void);

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DFIR_RT_NORETURN void dfir_rt_error(const char *op, uint32_t line, const char *message) {
  dfir_rt_flush();
  fprintf(stderr, "dfir: runtime error in `%s` (line %u): %s\n", op, (unsigned)line, message);
  exit(1);
}

int dfir_rt_run(const dfir_location *location) {
  void *state = calloc(1, location->state_size ? location->state_size : 1);
  if (!state) {
    fprintf(stderr, "dfir: out of memory allocating the state of `%s`\n", location->name);
    return 1;
  }
  location->init(state);
  /* The first tick runs the bounded sources; later ticks run while the
   * location has deferred data for them or standard input remains. */
  int first = 1, more = 0;
  for (;;) {
    /* Wait for input only when nothing else would make a tick run. */
    int lines = location->reads_stdin && !dfir_rt_stdin_done() ? dfir_rt_stdin_batch(!first && !more) : 0;
    if (!first && !more && !lines) break;
    more = location->tick(state);
    dfir_rt_tick_done();
    first = 0;
  }
  if (location->fini) location->fini(state);
  free(state);
  dfir_rt_flush();
  return 0;
}
