/* Runtime-internal interfaces between the runtime's own files (not ABI). */
#ifndef DFIR_RT_INTERNAL_H
#define DFIR_RT_INTERNAL_H

#include "dfir_rt.h"

typedef struct dfir_arenas dfir_arenas;
dfir_arenas *dfir_rt_arenas_new(void);
void dfir_rt_arenas_use(dfir_arenas *a);

int dfir_rt_stdin_batch(int wait_ms);
int dfir_rt_stdin_done(void);
int dfir_rt_timers_active(void);
uint64_t dfir_rt_timers_wait_ms(void);
void dfir_rt_sleep_ms(uint64_t ms);

#endif
