/* The server of server.dfir, done by a host that joins the deployment:
 * `dfirc launch` starts it as `server --deploy FILE --location server --id N`. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dfir_instance *inst;

static void on_asked(void *context, const server_asked_item *x) {
  (void)context;
  char text[32];
  int n = snprintf(text, sizeof text, "square %lld", (long long)(*x * *x));
  server_answers_item answer = {*x, {text, (uint64_t)n}};
  server_push_answers(inst, &answer);
}

int main(int argc, char **argv) {
  if (argc != 7 || strcmp(argv[1], "--deploy") != 0 || strcmp(argv[5], "--id") != 0) {
    fprintf(stderr, "usage: %s --deploy FILE --location server --id N\n", argv[0]);
    return 2;
  }
  inst = server_create();
  if (!inst) {
    fprintf(stderr, "server: %s\n", dfir_last_error());
    return 1;
  }
  server_on_asked(inst, on_asked, NULL);
  printf("standalone tick: %d (%s)\n", dfir_instance_tick(inst), dfir_last_error());
  fflush(stdout);
  int status = dfir_instance_join(inst, argv[2], (uint32_t)atoi(argv[6]));
  dfir_instance_free(inst);
  return status;
}
