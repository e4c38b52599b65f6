/* A C program that embeds two DFIR locations (examples/embed-make):
 * it pushes log lines into `parse`, forwards the records it gets back into
 * `stats`, and checks the summaries `stats` hands it. */
#include "parse.h"
#include "stats.h"

#include <stdio.h>
#include <string.h>

static dfir_instance *parse, *stats;

/* The latest summary of each service (stats re-emits them every tick). */
static struct {
  char service[32];
  uint64_t count;
  int64_t total_ms, max_ms;
} summaries[8];
static int nsummaries, rejected;

static void on_record(void *context, const parse_records_item *r) {
  (void)context;
  stats_samples_item sample = {r->_0, r->_1}; /* stats copies the string */
  stats_push_samples(stats, &sample);
}

static void on_rejected(void *context, const parse_rejected_item *fields) {
  (void)context;
  printf("rejected a line of %llu fields\n", (unsigned long long)*fields);
  ++rejected;
}

static void on_summary(void *context, const stats_Summary *s) {
  (void)context;
  int i = 0;
  while (i < nsummaries && (strlen(summaries[i].service) != s->service.len ||
                            memcmp(summaries[i].service, s->service.ptr, s->service.len) != 0))
    ++i;
  if (i == nsummaries) {
    if (nsummaries == 8 || s->service.len >= sizeof summaries[0].service) return;
    memcpy(summaries[i].service, s->service.ptr, s->service.len);
    summaries[i].service[s->service.len] = 0;
    ++nsummaries;
  }
  summaries[i].count = s->count;
  summaries[i].total_ms = s->total_ms;
  summaries[i].max_ms = s->max_ms;
}

int main(void) {
  parse = parse_create();
  stats = stats_create();
  if (!parse || !stats) {
    fprintf(stderr, "host: %s\n", dfir_last_error());
    return 1;
  }
  parse_on_records(parse, on_record, NULL);
  parse_on_rejected(parse, on_rejected, NULL);
  stats_on_summaries(stats, on_summary, NULL);

  const char *log[] = {"api 12", "db 40", "api 30", "garbled line here", "db 7", "api 3"};
  for (size_t i = 0; i < sizeof log / sizeof log[0]; ++i) {
    dfir_str line = {log[i], strlen(log[i])};
    parse_push_lines(parse, &line);
  }
  /* Each runs until it is idle; a callback's pushes wait for the next tick. */
  if (dfir_instance_run(parse) != 0 || dfir_instance_run(stats) != 0) {
    fprintf(stderr, "host: %s\n", dfir_last_error());
    return 1;
  }
  int ok = rejected == 1 && nsummaries == 2;
  for (int i = 0; i < nsummaries; ++i) {
    printf("%s: %llu samples, %lld ms in all, at most %lld ms\n", summaries[i].service,
           (unsigned long long)summaries[i].count, (long long)summaries[i].total_ms, (long long)summaries[i].max_ms);
    if (strcmp(summaries[i].service, "api") == 0)
      ok = ok && summaries[i].count == 3 && summaries[i].total_ms == 45 && summaries[i].max_ms == 30;
    else
      ok = ok && strcmp(summaries[i].service, "db") == 0 && summaries[i].count == 2 &&
           summaries[i].total_ms == 47 && summaries[i].max_ms == 40;
  }
  dfir_instance_free(parse);
  dfir_instance_free(stats);
  printf("%s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
