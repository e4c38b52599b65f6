/* Runtime-internal interfaces between the runtime's own files (not ABI). */
#ifndef DFIR_RT_INTERNAL_H
#define DFIR_RT_INTERNAL_H

#include "dfir_rt.h"

#include <stddef.h>

typedef struct dfir_arenas dfir_arenas;
dfir_arenas *dfir_rt_arenas_new(void);
void dfir_rt_arenas_use(dfir_arenas *a);
void dfir_rt_arenas_free(dfir_arenas *a);

/* Sets dfir_rt_stack_floor for the calling thread's stack. */
void dfir_rt_stack_guard(void);

int dfir_rt_stdin_batch(int wait_ms);
int dfir_rt_stdin_done(void);
/* Windows (rt_window.c): a tick starts (a flush tick or not); it ended:
 * whether a window operator still holds items. */
void dfir_rt_windows_begin_tick(int flush);
int dfir_rt_windows_end_tick(void);
/* Reports the late items a window operator dropped, and the items it
 * still held when it ended, which no window emitted (rt_run.c). */
void dfir_rt_window_report(const char *op, uint32_t line, const char *location, uint64_t late, uint64_t open);
int dfir_rt_timers_active(void);
uint64_t dfir_rt_timers_wait_ms(void);
/* Embedded runs: the instance whose init is running owns the timers it
 * adds; whether one of `owner`'s timers is due. */
extern uint32_t dfir_rt_timer_owner;
int dfir_rt_timers_due_for(uint32_t owner);
/* The timers of `owner` never fire again (a simulated crash; a restart
 * makes new ones). */
void dfir_rt_timers_stop(uint32_t owner);
void dfir_rt_sleep_ms(uint64_t ms);

/* Labels every line of standard output and error with `prefix` (NULL: none). */
void dfir_rt_output_prefix(const char *prefix);

/* A parsed JSON value (deploy files). */
enum { DFIR_JSON_NULL, DFIR_JSON_BOOL, DFIR_JSON_NUMBER, DFIR_JSON_STRING, DFIR_JSON_ARRAY, DFIR_JSON_OBJECT };
typedef struct dfir_json {
  int kind;
  double number; /* numbers; 0/1 for booleans */
  char *string;
  uint32_t count;          /* arrays and objects */
  struct dfir_json *items; /* their elements (or members' values) */
  char **keys;             /* objects: the members' names */
} dfir_json;
/* NULL with a message naming the line in `error` when `text` is not JSON. */
dfir_json *dfir_rt_json_parse(const char *text, size_t len, char *error, size_t error_size);
/* The member `key` of an object, or NULL. */
const dfir_json *dfir_rt_json_get(const dfir_json *object, const char *key);
/* Frees a parsed value (NULL: nothing). */
void dfir_rt_json_free(dfir_json *json);

/* Deployed runs (rt_net.h and its files): when active, send/recv, member_id and
 * cluster_size go over TCP instead of the in-memory system. */
extern int dfir_rt_net_active;
void dfir_rt_net_send(uint32_t channel, const char *name, uint32_t line, uint32_t to, uint64_t member,
                      const void *bytes, uint64_t len);
void dfir_rt_net_send_batch(uint32_t channel, const char *name, uint32_t line, uint32_t to, const void *items,
                            uint64_t size, uint64_t count);
int dfir_rt_net_recv(uint32_t channel, const void **bytes, uint64_t *len, uint32_t *sender);
uint32_t dfir_rt_net_member_id(void);
uint32_t dfir_rt_net_cluster_size(uint32_t location);
/* The port of the instance's metrics endpoint (rt_metrics.c; 0: none). */
void dfir_rt_net_set_metrics_port(uint32_t port);
/* Runs `location` as instance `id` of the deploy file `path`. */
int dfir_rt_net_run(const dfir_location *location, const char *path, const char *location_name, uint32_t id);

/* The embedding host (rt_host.c) of a deployed instance: its pushed items
 * become the next tick's (called before each tick), and whether it pushed
 * any since the last tick. */
void dfir_rt_host_before_tick(void);
int dfir_rt_host_pending(void);

/* Received items (rt_wire.c): 1 if `bytes[0, len)` is exactly one
 * well-formed value of the type of wire schema `schema` (dfir_rt.h); else 0
 * and the reason in `*why`. */
int dfir_rt_wire_check(const uint32_t *schema, const void *bytes, uint64_t len, const char **why);
/* Checks the body of a frame (after its header) of `count` items, each a
 * u32 length and that many bytes, against `schema`: NULL if every item is
 * well-formed and they fill it exactly, else the reason. */
const char *dfir_rt_frame_check(const uint32_t *schema, const char *body, uint64_t size, uint32_t count);

/* Profiles (rt_profile.c): each run mode attaches the instances it starts
 * (NULL when not profiling), marks their ticks, and detaches them before
 * their state is freed; sends are counted for the running instance. */
typedef struct dfir_prof dfir_prof;
extern int dfir_rt_profiling;
dfir_prof *dfir_rt_profile_attach(const dfir_location *location, uint32_t member, void *state);
void dfir_rt_profile_tick(dfir_prof *p, int begin);
void dfir_rt_profile_detach(dfir_prof *p);
void dfir_rt_profile_sent(uint32_t channel, uint64_t items, uint64_t bytes, uint64_t frames);

#endif
