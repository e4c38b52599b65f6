/* A C host of counters.dfir (test/cli/embedding.test). */
#include "counters.h"

#include <stdio.h>
#include <string.h>

static dfir_instance *inst;

static void on_change(void *context, const counters_changes_item *c) {
  printf("%s: %.*s", (const char *)context, (int)c->key.len, c->key.ptr);
  if (c->total.has) printf(" = %lld", (long long)c->total.value);
  for (uint64_t i = 0; i < c->tags.len; ++i) printf(" #%.*s", (int)c->tags.data[i].len, c->tags.data[i].ptr);
  printf("\n");
  /* From a callback: a push waits for the next tick; a tick is refused. */
  if (c->key.len == 1 && c->key.ptr[0] == '*') {
    counters_words_item w = {7, {"from-callback", 13}};
    printf("push from callback: %d\n", counters_push_words(inst, &w));
    printf("tick from callback: %d (%s)\n", dfir_instance_tick(inst), dfir_last_error());
  }
}

static void on_later(void *context, const counters_later_item *w) {
  (void)context;
  printf("later: %.*s %llu\n", (int)w->_0.len, w->_0.ptr, (unsigned long long)w->_1);
}

static void on_pings(void *context, const counters_pings_item *n) {
  ++*(int *)context;
  printf("pings: %llu\n", (unsigned long long)*n);
}

int main(void) {
  inst = counters_create();
  if (!inst) {
    fprintf(stderr, "host: %s\n", dfir_last_error());
    return 1;
  }
  int ticks = 0;
  counters_on_changes(inst, on_change, "change");
  counters_on_later(inst, on_later, NULL);
  counters_on_pings(inst, on_pings, &ticks);

  char key[8];
  strcpy(key, "apples");
  counters_Cmd cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.tag = counters_Cmd_Add;
  cmd.as.Add._0 = (dfir_str){key, 6};
  cmd.as.Add._1 = -3;
  counters_push_commands(inst, &cmd);
  strcpy(key, "XXXXXX"); /* the push took a copy */
  cmd.tag = counters_Cmd_Remove;
  cmd.as.Remove._0 = (dfir_str){"pears", 5};
  counters_push_commands(inst, &cmd);
  counters_words_item w = {21, {"plums", 5}};
  counters_push_words(inst, &w);
  counters_push_ping(inst);
  counters_push_ping(inst);
  printf("tick 1: %d\n", dfir_instance_tick(inst));
  printf("tick 2: %d\n", dfir_instance_tick(inst));
  printf("tick 3: %d\n", dfir_instance_tick(inst));
  cmd.tag = counters_Cmd_Dump;
  counters_push_commands(inst, &cmd);
  printf("run: %d\n", dfir_instance_run(inst));
  printf("ticks seen by the pings sink: %d\n", ticks);

  /* Names the header does not know: errors, not crashes. */
  printf("push nope: %d (%s)\n", dfir_instance_push(inst, "nope", &w), dfir_last_error());
  printf("on nope: %d (%s)\n", dfir_instance_on(inst, "nope", NULL, NULL), dfir_last_error());
  printf("push no item: %d (%s)\n", dfir_instance_push(inst, "words", NULL), dfir_last_error());
  printf("tick no instance: %d (%s)\n", dfir_instance_tick(NULL), dfir_last_error());
  /* Without a callback, a sink prints as println would. */
  counters_on_changes(inst, NULL, NULL);
  cmd.tag = counters_Cmd_Add;
  cmd.as.Add._0 = (dfir_str){"figs", 4};
  cmd.as.Add._1 = 9;
  counters_push_commands(inst, &cmd);
  fflush(stdout);
  dfir_instance_run(inst);
  printf("join after ticks: %d (%s)\n", dfir_instance_join(inst, "deploy.json", 0), dfir_last_error());
  /* An unsorted map with a repeated key; its sink has no callback: printed. */
  __typeof__(*((counters_tallies_item *)0)->data) entries[] = {
      {{"c", 1}, 1}, {{"a", 1}, 2}, {{"b", 1}, 3}, {{"a", 1}, 4}};
  counters_tallies_item tallies = {entries, 4};
  counters_push_tallies(inst, &tallies);
  fflush(stdout);
  dfir_instance_run(inst);
  /* An unsorted set with repeated elements (a SetUnion is laid out as its list). */
  int64_t voters[] = {5, 1, 3, 1, 5};
  counters_voters_item set = {voters, 5};
  counters_push_voters(inst, &set);
  fflush(stdout);
  dfir_instance_run(inst);
  /* Readings at seconds 3, 14, 5 (late: [0, 10) has fired), 17: [0, 10)
   * fires as 14 arrives; [10, 20) only when the host says the input is over. */
  int64_t times[] = {3, 14, 5, 17};
  for (int i = 0; i < 4; ++i) {
    counters_readings_item r = {times[i], 100 + i};
    counters_push_readings(inst, &r);
    dfir_instance_run(inst);
    fflush(stdout);
  }
  fflush(stdout);
  printf("flush: %d\n", dfir_instance_flush(inst));
  fflush(stdout);
  /* A reading the host never flushes: reported when the instance is freed. */
  counters_readings_item unflushed = {40, 200};
  counters_push_readings(inst, &unflushed);
  dfir_instance_run(inst);
  fflush(stdout);
  dfir_instance_free(inst);
  return 0;
}
